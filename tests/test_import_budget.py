"""What each run imports: the start-up budget of issue 11, pinned by module, not by the clock.

`gitops --help` must not load rich, the YAML loaders, the diff engine, validation or even
the git adapter; a promotion loads the registry's YAML loader but not the diff engine,
validation, jsonschema, ruamel or (off a terminal) rich; JSON output never loads a text
renderer. Each case runs the real CLI in a fresh interpreter and reads the `sys.modules`
it ended with; the timings live in benchmarks/startup.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import GitopsRepo, git, run_cli

import gitops_promote

SRC = Path(gitops_promote.__file__).resolve().parent.parent

# Runs `gitops ARGS` as the console script does, then prints the modules it loaded (JSON, on
# a stream of its own: fd 3 would need pass_fds, a file is simpler).
RECORD = """\
import atexit, json, sys
out, sys.argv = sys.argv[1], ["gitops", *sys.argv[2:]]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
from gitops_promote.cli import main
main()
"""

HEAVY = ("rich", "ruamel", "yaml", "jsonschema", "referencing")
DIFF_ENGINE = "gitops_promote.core.yamldiff"
VALIDATION = "gitops_promote.core.validation"


def loaded(tmp_path: Path, *args: str) -> tuple[int, set[str], str]:
    """(exit code, modules loaded, stderr) of one `gitops ARGS` run, off a terminal."""
    out = tmp_path / "modules.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    env.pop("FORCE_COLOR", None)
    done = subprocess.run(
        [sys.executable, "-c", RECORD, str(out), *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return done.returncode, set(json.loads(out.read_text())), done.stderr


def under(modules: set[str], *packages: str) -> list[str]:
    """The loaded modules that are one of `packages` or inside one."""
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


@pytest.fixture
def one_change(gitops_repo: GitopsRepo) -> GitopsRepo:
    """dev one changed values.yaml ahead of stg."""
    gitops_repo.commit("dev", {"apps/api/values.yaml": "image:\n  tag: '1.1.0'\n"}, "api 1.1.0")
    return gitops_repo


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["promote", "--help"], ["diff", "--help"]])
def test_help_loads_no_command_and_no_heavy_library(tmp_path: Path, args: list[str]) -> None:
    code, modules, stderr = loaded(tmp_path, *args)
    assert code == 0, stderr
    assert "gitops_promote.cli" in modules and "typer" in modules  # the recording itself works
    assert under(modules, *HEAVY, DIFF_ENGINE, VALIDATION) == []
    # Not even the git adapter or a command module: --help builds the command tree only.
    assert under(modules, "gitops_promote.adapters", "gitops_promote.commands", "gitops_promote.core") == []
    assert under(modules, "gitops_promote.render", "gitops_promote.errors") == []


@pytest.mark.parametrize("args", [["promot", "dev", "stg"], ["promote", "--no-such-option"]])
def test_a_usage_error_is_plain_text_without_rich(tmp_path: Path, args: list[str]) -> None:
    """Typer's rich error panels are off (rich_markup_mode=None): click prints the message."""
    code, modules, stderr = loaded(tmp_path, *args)
    assert code == 2
    assert "Usage: gitops" in stderr and "╭" not in stderr
    assert under(modules, *HEAVY, "gitops_promote.adapters", "gitops_promote.commands") == []


def test_promote_no_push_loads_only_what_it_uses(tmp_path: Path, one_change: GitopsRepo) -> None:
    before = one_change.head("stg")
    code, modules, stderr = loaded(tmp_path, "-C", str(one_change.path), "promote", "dev", "stg", "--no-push")
    assert code == 0, stderr
    assert one_change.head("stg") != before  # it really promoted
    assert "gitops_promote.commands.promote" in modules  # (the registry is YAML: PyYAML may load)
    assert under(modules, "rich", "ruamel", "jsonschema", "referencing", DIFF_ENGINE, VALIDATION) == []
    # Only a fan-out (no TARGET), --pr or a freeze window with a timezone needs these.
    assert under(modules, "gitops_promote.core.fanout", "gitops_promote.render.fanout") == []
    assert under(modules, "gitops_promote.adapters.github", "gitops_promote.core.forge", "zoneinfo") == []
    # Only --plan FILE reads a saved plan; only --pr (or a push, which may finish one) a review branch.
    saved_plan = ("gitops_promote.commands._savedplan", "gitops_promote.core.planfile")
    assert under(modules, *saved_plan, "gitops_promote.commands._review") == []
    # Commit subjects are masked (core.secrets), but nothing is diffed: no diff model.
    assert "gitops_promote.core.secrets" in modules
    assert under(modules, "gitops_promote.core.diffmodel") == []


def test_diff_loads_the_diff_engine(tmp_path: Path, one_change: GitopsRepo) -> None:
    """The other side of the promote test: the engine is loaded where it is used."""
    code, modules, stderr = loaded(tmp_path, "-C", str(one_change.path), "diff", "dev", "stg", "-o", "json")
    assert code == 0, stderr
    assert DIFF_ENGINE in modules
    assert under(modules, "rich") == []


@pytest.mark.parametrize(
    ("args", "renderer"),
    [
        (["status", "--no-fetch"], "gitops_promote.render.status"),
        (["history", "stg", "--no-fetch"], "gitops_promote.render.history"),
        (["envs"], "gitops_promote.render.envs"),
        (["verify", "stg", "--no-fetch"], "gitops_promote.render.verify"),
    ],
)
def test_json_output_loads_no_text_renderer(
    tmp_path: Path, one_change: GitopsRepo, args: list[str], renderer: str
) -> None:
    code, modules, stderr = loaded(tmp_path, "-C", str(one_change.path), *args, "-o", "json")
    assert code in (0, 1), stderr
    assert renderer not in modules
    assert under(modules, "rich") == []
    text_code, text_modules, text_stderr = loaded(tmp_path, "-C", str(one_change.path), *args)
    assert text_code == code, text_stderr
    assert renderer in text_modules  # the text output does draw with it


def test_a_push_to_a_remote_does_not_load_the_github_adapter(tmp_path: Path, one_change: GitopsRepo) -> None:
    """promote with push, to a local bare remote: `gh` is only for --pr."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(one_change.path), str(remote))
    git(one_change.path, "remote", "add", "origin", str(remote))
    git(one_change.path, "fetch", "--quiet", "origin")
    code, modules, stderr = loaded(tmp_path, "-C", str(one_change.path), "promote", "dev", "stg")
    assert code == 0, stderr
    assert git(remote, "rev-parse", "refs/heads/stg") == one_change.head("stg")
    assert under(modules, "rich", DIFF_ENGINE, VALIDATION, "gitops_promote.adapters.github") == []


def test_a_promotion_checks_applications_without_jsonschema(tmp_path: Path) -> None:
    """Removing a file a kept Application names makes promote check the promoted tree's
    Applications (validation loads), but their references only: no schema, so no jsonschema."""
    made = run_cli(tmp_path, "init", "repo")
    assert made.exit_code == 0, made.stderr
    repo = GitopsRepo(tmp_path / "repo")
    repo.commit("dev", {"apps/api/values.yaml": None}, "drop api's values.yaml")
    code, modules, stderr = loaded(tmp_path, "-C", str(repo.path), "promote", "dev", "stg", "--no-push")
    assert code == 1, stderr  # refused: argocd/stg/apps/api.yaml would name a missing file
    assert "would not pass validation" in stderr
    assert VALIDATION in modules
    assert under(modules, "jsonschema", "referencing", "rich", DIFF_ENGINE) == []


@pytest.mark.parametrize(("args", "made"), [(["promote", "--help"], ["promote"]), (["envs", "--help"], ["envs"])])
def test_a_run_makes_only_the_command_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], made: list[str]
) -> None:
    """Typer would make every command's click parameters before parsing (5 ms of each run);
    the group makes one when it is looked up, and `--help` all of them, to list them."""
    import typer.main

    seen: list[str] = []
    make = typer.main.get_command_from_info

    def recording(info: Any, **options: Any) -> Any:
        command = make(info, **options)
        seen.append(command.name)
        return command

    monkeypatch.setattr(typer.main, "get_command_from_info", recording)
    assert run_cli(tmp_path, *args).exit_code == 0
    assert seen == made
    seen.clear()
    assert run_cli(tmp_path, "--help").exit_code == 0
    assert "promote" in seen and "envs" in seen and len(seen) > 10
