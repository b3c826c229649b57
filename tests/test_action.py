"""The composite action's `run:` steps, executed with bash against real local repositories.

action.yml is parsed; each step's `if:`, `env:` and `working-directory:` are evaluated the way
the runner would (a small evaluator for the expressions action.yml uses), and its script runs
with `bash --noprofile --norc -eo pipefail` and the runner's variables (GITHUB_OUTPUT,
GITHUB_STEP_SUMMARY, RUNNER_TEMP, GITHUB_REPOSITORY...). `uses:` steps (setup-python) and the
install step are not run: the gitops under test is this checkout's. The GitHub API is a fake
`gh` (GITOPS_GH) that keeps the pull request's comments in a JSON file: no network.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import RemoteSetup, git

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
MARKER = "<!-- gitops-promote:diff -->"
NEW_API = {"apps/api/values.yaml": "image:\n  repository: ghcr.io/example/api\n  tag: '1.1.0'\n"}


def _missing_commands(*names: str) -> list[str]:
    missing = []
    for name in names:
        proc = subprocess.run(
            [sys.executable, "-m", "gitops_promote", name, "--help"], capture_output=True, check=False
        )
        if proc.returncode != 0:
            missing.append(name)
    return missing


def _needs(*names: str) -> pytest.MarkDecorator:
    missing = _missing_commands(*names)
    reason = f"`gitops {' / '.join(missing)} --help` fails: the command is not built yet"
    return pytest.mark.skipif(bool(missing), reason=reason)


# ---- a tiny runner ------------------------------------------------------------------------

_EXPR = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
_COMPARISON = re.compile(r"^([\w.-]+)\s*(==|!=)\s*'([^']*)'$")


@dataclass
class Runner:
    workspace: Path
    tmp: Path
    inputs: dict[str, str]
    github: dict[str, Any]
    env: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def lookup(self, dotted: str) -> str:
        head, *rest = dotted.split(".")
        if head == "inputs":
            defaults = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
            value: Any = {**defaults, **self.inputs}
        elif head == "github":
            value = self.github
        elif head == "steps":
            value = {k: {"outputs": v} for k, v in self.outputs.items()}
        else:
            raise AssertionError(f"the test's evaluator does not know the context {head!r}")
        for key in rest:
            value = value.get(key, "") if isinstance(value, Mapping) else ""
        return "" if value is None else str(value)

    def condition(self, expr: str) -> bool:
        results = []
        for part in expr.split("&&"):
            match = _COMPARISON.match(part.strip())
            assert match, f"the test's evaluator cannot read {part!r}: extend it"
            lhs, op, literal = match.groups()
            results.append((self.lookup(lhs) == literal) == (op == "=="))
        return all(results)

    def substitute(self, text: str) -> str:
        return _EXPR.sub(lambda m: self.lookup(m.group(1)), text)

    def run_steps(self) -> None:
        for index, step in enumerate(ACTION["runs"]["steps"]):
            if "if" in step and not self.condition(step["if"]):
                continue
            if "uses" in step or step.get("name") == "Install gitops-promote":
                continue
            self._run(index, step)

    def _run(self, index: int, step: dict[str, Any]) -> None:
        assert step.get("shell") == "bash"
        assert "${{" not in step["run"], "run scripts must read inputs from env, never ${{ }}"
        output = self.tmp / f"output-{index}"
        output.write_text("")
        env = {
            **self.env,
            "GITHUB_OUTPUT": str(output),
            **{k: self.substitute(str(v)) for k, v in step.get("env", {}).items()},
        }
        cwd = self.workspace / self.substitute(step.get("working-directory", "."))
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        self.log.append(proc.stdout + proc.stderr)
        assert proc.returncode == 0, f"step {step.get('name')!r} failed:\n{proc.stdout}\n{proc.stderr}"
        if "id" in step:
            lines = [line.partition("=") for line in output.read_text().splitlines() if "=" in line]
            self.outputs[step["id"]] = {k: v for k, _, v in lines}


def _fake_gh(directory: Path) -> Path:
    """gh api for issue comments, kept in comments.json; --jq applied with the real jq."""
    state = directory / "comments.json"
    state.write_text("[]")
    script = directory / "gh"
    script.write_text(
        f"""#!{sys.executable}
import json, subprocess, sys
state = {str(state)!r}
args = sys.argv[1:]
with open({str(directory / "calls.jsonl")!r}, "a") as f:
    f.write(json.dumps(args) + "\\n")
assert args[0] == "api", args
def opt(name, default=None):
    return args[args.index(name) + 1] if name in args else default
comments = json.load(open(state))
method = opt("--method", "GET")
endpoint = [a for a in args[1:] if not a.startswith("-") and a not in (method, opt("--jq"), opt("--input"))][0]
if method == "GET":
    result = comments
else:
    body = json.load(open(opt("--input")))["body"]
    if method == "POST":
        result = {{"id": 1000 + len(comments), "body": body}}
        comments.append(result)
    else:
        cid = int(endpoint.rsplit("/", 1)[1])
        result = next(c for c in comments if c["id"] == cid)
        result["body"] = body
    json.dump(comments, open(state, "w"))
out = json.dumps(result)
if opt("--jq"):
    out = subprocess.run(["jq", "-r", opt("--jq")], input=out, capture_output=True, text=True, check=True).stdout
sys.stdout.write(out)
"""
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return state


def _runner(
    setup: RemoteSetup, tmp_path: Path, inputs: dict[str, str], github: dict[str, Any], run: str = "run-1"
) -> Runner:
    """A fresh runner temp directory per run; one fake GitHub (its comments) per test."""
    temp = tmp_path / run
    temp.mkdir()
    fake = tmp_path / "fake-bin"
    if not fake.exists():
        fake.mkdir()
        _fake_gh(fake)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITOPS_", "GITHUB_"))} | {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        "GITOPS_GH": str(fake / "gh"),
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "acme/deploy",
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_STEP_SUMMARY": str(temp / "summary.md"),
        "RUNNER_TEMP": str(temp),
    }
    return Runner(setup.clone.path, temp, {"install": "false", **inputs}, github, env)


def _comments(tmp_path: Path) -> list[dict[str, Any]]:
    return json.loads((tmp_path / "fake-bin" / "comments.json").read_text())


def _pull_request(number: int, head: str, base: str) -> dict[str, Any]:
    return {"head_ref": head, "base_ref": base, "event": {"pull_request": {"number": number}}, "token": "t"}


# ---- check -------------------------------------------------------------------------------


@_needs("validate", "diff")
def test_check_validates_diffs_and_keeps_one_sticky_comment(remote_setup: RemoteSetup, tmp_path: Path) -> None:
    remote_setup.remote.commit("dev", NEW_API, "api 1.1.0")
    github = _pull_request(12, "promote/dev-to-stg", "stg")

    first = _runner(remote_setup, tmp_path, {"command": "check"}, github)
    first.run_steps()
    assert first.outputs["diff"]["source"] == "dev" and first.outputs["diff"]["target"] == "stg"
    assert first.outputs["diff"]["exit-code"] in ("0", "1")
    summary = (first.tmp / "summary.md").read_text()
    assert "apps/api/values.yaml" in summary
    comments = _comments(tmp_path)
    assert len(comments) == 1
    assert comments[0]["body"].startswith(MARKER + "\n")
    assert "apps/api/values.yaml" in comments[0]["body"]
    assert first.outputs["comment"]["comment-id"] == str(comments[0]["id"])

    remote_setup.remote.commit("dev", {"apps/web/values.yaml": "replicas: 2\n"}, "web: 2 replicas")
    second = _runner(remote_setup, tmp_path, {"command": "check"}, github, run="run-2")
    second.run_steps()
    comments = _comments(tmp_path)
    assert len(comments) == 1, "the comment is edited in place, not added again"
    assert "apps/web/values.yaml" in comments[0]["body"]


@_needs("validate", "diff")
def test_check_keeps_the_comment_within_the_size_budget(remote_setup: RemoteSetup, tmp_path: Path) -> None:
    many = {f"apps/api/templates/config-{i:04}.yaml": f"key: {'x' * 200}{i}\n" for i in range(600)}
    remote_setup.remote.commit("dev", many, "a lot of configuration")
    runner = _runner(
        remote_setup,
        tmp_path,
        {"command": "check", "max-comment-size": "4000"},
        _pull_request(3, "promote/dev-to-stg", "stg"),
    )
    runner.run_steps()
    body = _comments(tmp_path)[0]["body"]
    assert body.startswith(MARKER) and len(body.encode()) <= 4000


@_needs("validate")
def test_check_skips_the_diff_without_a_source(remote_setup: RemoteSetup, tmp_path: Path) -> None:
    runner = _runner(remote_setup, tmp_path, {"command": "check"}, _pull_request(4, "feature/x", "stg"))
    runner.run_steps()
    assert runner.outputs["diff"]["exit-code"] == ""
    assert "diff skipped" in "".join(runner.log)
    assert _comments(tmp_path) == []


# ---- promote -----------------------------------------------------------------------------


def test_promote_step_pushes_the_target(remote_setup: RemoteSetup, tmp_path: Path) -> None:
    remote = remote_setup.remote
    remote.commit("dev", NEW_API, "api 1.1.0")
    stg_before = remote.head("stg")
    runner = _runner(remote_setup, tmp_path, {"command": "promote", "source": "dev", "target": "stg"}, {})
    runner.run_steps()
    assert remote.head("stg") != stg_before
    assert git(remote.path, "rev-parse", "stg^1") == stg_before
    assert remote.read("stg", "apps/api/values.yaml") == NEW_API["apps/api/values.yaml"].encode()


def test_promote_step_with_pr_pushes_the_review_branch(remote_setup: RemoteSetup, tmp_path: Path) -> None:
    remote = remote_setup.remote
    remote.commit("dev", NEW_API, "api 1.1.0")
    stg_before = remote.head("stg")
    inputs = {"command": "promote", "source": "dev", "target": "stg", "pr": "true"}
    runner = _runner(remote_setup, tmp_path, inputs, {})
    runner.run_steps()
    assert remote.head("stg") == stg_before
    assert git(remote.path, "rev-parse", "promote/dev-to-stg^1") == stg_before


def test_promote_step_requires_source_and_target(remote_setup: RemoteSetup, tmp_path: Path) -> None:
    runner = _runner(remote_setup, tmp_path, {"command": "promote"}, {})
    with pytest.raises(AssertionError, match="are required"):
        runner.run_steps()


def test_run_scripts_only_read_declared_inputs() -> None:
    declared = set(ACTION["inputs"])
    used = set(re.findall(r"inputs\.([\w-]+)", (ROOT / "action.yml").read_text()))
    assert used <= declared, used - declared
