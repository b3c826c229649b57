"""Words that are right: each message a user met that read wrong (issue 15), pinned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import GitopsRepo, RemoteSetup, git, run_cli
from typer.testing import CliRunner

from gitops_promote.cli import _promote_activity, app

NEW_API = {"apps/api/values.yaml": "image:\n  tag: '1.1.0'\n"}


def test_a_mistyped_command_is_suggested_once() -> None:
    result = CliRunner().invoke(app, ["promte", "dev", "stg"])
    assert result.exit_code == 2
    assert result.output.count("Did you mean") == 1 and "Did you mean 'promote'?" in result.output


@pytest.mark.parametrize(("typed", "meant"), [("--format", "'--output'"), ("--json", "'--output json'")])
def test_options_of_other_tools_point_at_output(gitops_repo: GitopsRepo, typed: str, meant: str) -> None:
    result = run_cli(gitops_repo.path, "status", typed, "json")
    assert result.exit_code == 2
    assert f"No such option '{typed}'. Did you mean {meant}?" in result.stderr
    assert "--remote" not in result.stderr


def test_a_command_without_output_gets_no_output_suggestion(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--format", "x"])
    assert result.exit_code == 2 and "--output" not in result.output


def test_a_rollback_refused_by_a_freeze_speaks_of_writing_not_promoting(remote_setup: RemoteSetup) -> None:
    remote, clone = remote_setup.remote, remote_setup.clone
    for change in (NEW_API, {"apps/web/values.yaml": "replicas: 3\n"}):
        remote.commit("dev", change, "a change")
        assert run_cli(clone.path, "promote", "dev", "stg").exit_code == 0
    registry = (Path(__file__).parent.parent / "environments.yaml").read_text()
    window = '      - {from: "2020-01-01T00:00:00Z", to: "2099-01-01T00:00:00Z"}\n'
    frozen = registry.replace("  - codename: stg\n", "  - codename: stg\n    freeze:\n" + window, 1)
    assert frozen != registry
    remote.commit("stg", {"environments.yaml": frozen}, "freeze stg")
    result = run_cli(clone.path, "rollback", "stg", "--dry-run")
    assert result.exit_code == 1, result.stderr
    assert "to write into stg anyway, pass --override-freeze --reason TEXT" in result.stderr
    assert "promote anyway" not in result.stderr


def test_outside_a_repository_the_resolved_path_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["status"], catch_exceptions=False)
    assert result.exit_code == 2
    assert f"{tmp_path.resolve()} is not inside a git repository" in result.stderr
    assert "error: . is not" not in result.stderr


def test_a_missing_registry_names_where_it_looked(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    result = run_cli(tmp_path, "status")
    assert result.exit_code == 2
    assert "no environments.yaml found in the working tree, in HEAD or in any branch" in result.stderr
    assert "branches named" not in result.stderr


def test_the_drift_hint_is_a_whole_command(remote_setup: RemoteSetup) -> None:
    remote, clone = remote_setup.remote, remote_setup.clone
    remote.commit("dev", NEW_API, "api 1.1.0")
    remote.commit("stg", {"apps/api/templates/service.yaml": "hotfix: true\n"}, "hotfix on stg")
    result = run_cli(clone.path, "promote", "dev", "stg")
    assert result.exit_code == 1
    assert "gitops promote dev stg --discard-drift" in result.stderr


def test_a_moved_plan_hint_is_a_whole_command(remote_setup: RemoteSetup, tmp_path: Path) -> None:
    remote, clone = remote_setup.remote, remote_setup.clone
    remote.commit("dev", NEW_API, "api 1.1.0")
    saved = tmp_path / "plan.json"
    assert run_cli(clone.path, "plan", "dev", "stg", "--save", str(saved)).exit_code == 0
    remote.commit("dev", {"apps/web/values.yaml": "replicas: 3\n"}, "web 3")
    result = run_cli(clone.path, "promote", "dev", "stg", "--plan", str(saved))
    assert result.exit_code == 1
    assert "gitops plan dev stg --save" in result.stderr


def test_reapplying_an_applied_plan_says_already_applied(remote_setup: RemoteSetup, tmp_path: Path) -> None:
    remote, clone = remote_setup.remote, remote_setup.clone
    remote.commit("dev", NEW_API, "api 1.1.0")
    saved = tmp_path / "plan.json"
    assert run_cli(clone.path, "plan", "dev", "stg", "--save", str(saved)).exit_code == 0
    assert run_cli(clone.path, "promote", "dev", "stg", "--plan", str(saved)).exit_code == 0
    again = run_cli(clone.path, "promote", "dev", "stg", "--plan", str(saved))
    assert again.exit_code == 1
    assert "the saved plan is already applied" in again.stderr
    assert "refusing to apply" not in again.stderr
    assert json.loads(saved.read_text())["target"] == "stg"


def test_dry_run_spinner_does_not_say_pushing() -> None:
    assert "push" not in _promote_activity("dev", "stg", dry_run=True, push=True, pr=False)
    assert "nothing is written" in _promote_activity("dev", "stg", dry_run=True, push=True, pr=False)
    assert "pushing" not in _promote_activity("dev", "stg", dry_run=False, push=False, pr=False)
    assert "pushing the review branch" in _promote_activity("dev", "stg", dry_run=False, push=True, pr=True)


def test_a_no_push_promotion_then_a_push_notes_the_diverged_local_branch(remote_setup: RemoteSetup) -> None:
    remote, clone = remote_setup.remote, remote_setup.clone
    git(clone.path, "branch", "stg", "origin/stg")
    remote.commit("dev", NEW_API, "api 1.1.0")
    assert run_cli(clone.path, "promote", "dev", "stg", "--no-push").exit_code == 0
    remote.commit("dev", {"apps/web/values.yaml": "replicas: 3\n"}, "web 3")
    result = run_cli(clone.path, "promote", "dev", "stg")
    assert result.exit_code == 0, result.stderr
    assert "local branch stg has 1 commit(s) that are not on origin/stg" in result.stderr
    assert "git branch --force stg origin/stg" in result.stderr


def test_every_gitops_command_named_in_a_message_exists() -> None:
    """Hints are commands to copy: each `gitops WORD` in the source names a real command."""
    import ast
    import re

    import typer.main

    commands = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    src = Path(__file__).resolve().parent.parent / "src" / "gitops_promote"
    # a command where a hint gives one: after ": ", "(", a backtick, "run " or "with "
    named = re.compile(r"(?:^|: |\(|`|run |with )gitops (?:-C \S+ )?([a-z][a-z-]+)\b")
    wrong = []
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.keyword) and node.arg == "hint"):
                continue
            parts = [c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant)]
            text = "".join(p for p in parts if isinstance(p, str))
            wrong += [f"{path.name}: gitops {word}" for word in named.findall(text) if word not in commands | {"from"}]
    assert len(wrong) == 0, wrong


def test_many_things_are_named_by_the_first_few_and_a_count() -> None:
    """One wording for every capped list (apps, steps, paths, keys, refusals)."""
    from gitops_promote.core.words import listed

    assert listed(["a", "b"], 2) == "a, b"
    assert listed(["a", "b", "c"], 2) == "a, b … and 1 more"
    assert listed([f"p{i}" for i in range(1_502)], 2, "\n  ") == "p0\n  p1\n  … and 1,500 more"


def test_a_drift_refusal_names_fifty_paths_and_counts_the_rest(gitops_repo: GitopsRepo) -> None:
    repo = gitops_repo
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0
    repo.commit("stg", {f"apps/api/templates/hotfix{i:03d}.yaml": "a: 1\n" for i in range(120)}, "stg: 120 files")
    repo.commit("dev", NEW_API, "api 1.1.0")
    refused = run_cli(repo.path, "promote", "dev", "stg")
    assert refused.exit_code == 1
    assert "120 path(s) were changed directly on stg" in refused.stderr
    refusal = refused.stderr[refused.stderr.index("error: refusing") :]  # after a warning per path
    assert "hotfix049.yaml" in refusal and "hotfix050.yaml" not in refusal
    assert "… and 70 more" in refusal
    plan = run_cli(repo.path, "plan", "dev", "stg", "-o", "json").json()
    assert len(plan["drift"]) == 120  # the plan lists every one
