"""Freeze windows through the CLI: refusals, overrides recorded as trailers, timezones, syntax."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GitopsRepo, RemoteSetup, git, init_repo, make_gitops_repo, run_cli, standard_files

from gitops_promote.adapters.git import Repository, parse_trailers
from gitops_promote.adapters.scaffold import commit_files, set_branch

HOLIDAYS = '    freeze:\n      - {from: "2026-12-24T00:00:00Z", to: "2026-12-27T00:00:00Z", reason: holiday freeze}\n'
WEEKEND_BERLIN = (
    "    freeze:\n"
    '      - weekly: {from: "Fri 16:00", to: "Mon 08:00", timezone: Europe/Berlin}\n'
    "        reason: weekend\n"
)
TUESDAYS = (
    '    windows:\n      - weekly: {from: "Tue 09:00", to: "Tue 12:00", timezone: UTC}\n        reason: change window\n'
)


def prd_registry(extra: str) -> str:
    registry = str(standard_files()["environments.yaml"])
    anchor = "    backups: {enabled: true, policy: TBD}\n"
    assert registry.count(anchor) == 1
    return registry.replace(anchor, anchor + extra)


def repo_with(tmp_path: Path, extra: str) -> GitopsRepo:
    files = standard_files() | {"environments.yaml": prd_registry(extra)}
    repo = make_gitops_repo(tmp_path / "repo", files, bare=True)
    repo.commit("stg", {"apps/api/values.yaml": "image:\n  tag: '1.1.0'\n"}, "api 1.1.0 on stg")
    return repo


def message(repo: GitopsRepo, rev: str) -> str:
    return git(repo.path, "log", "-1", "--format=%B", rev)


def test_frozen_environment_refuses_naming_the_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repo_with(tmp_path, HOLIDAYS)
    before = repo.head("prd")
    monkeypatch.setenv("GITOPS_NOW", "2026-12-24T10:00:00+01:00")
    result = run_cli(repo.path, "promote", "stg", "prd")
    assert result.exit_code == 1
    assert "prd is frozen until 2026-12-27T00:00:00Z" in result.stderr
    assert "'holiday freeze'" in result.stderr and "--override-freeze --reason TEXT" in result.stderr
    assert repo.head("prd") == before
    # dry runs say so too; other environments are not frozen
    assert run_cli(repo.path, "promote", "stg", "prd", "--dry-run").exit_code == 1
    assert run_cli(repo.path, "promote", "dev", "stg", "--discard-drift", "--dry-run").exit_code == 0


def test_override_is_recorded_as_a_trailer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repo_with(tmp_path, HOLIDAYS)
    monkeypatch.setenv("GITOPS_NOW", "2026-12-25T10:00:00Z")
    result = run_cli(
        repo.path, "promote", "stg", "prd", "--override-freeze", "--reason", "INC-42  hotfix", "-o", "json"
    )
    assert result.exit_code == 0, result.stderr
    assert result.json()["promoted"] is True
    trailers = parse_trailers(message(repo, repo.head("prd")))
    assert trailers["Freeze-Override"] == ["INC-42 hotfix"]
    assert trailers["Promoted-From"] == ["stg"]
    history = run_cli(repo.path, "history", "prd", "-o", "json").json()["entries"]
    assert history[0]["freeze_override"] == "INC-42 hotfix"


def test_override_needs_a_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repo_with(tmp_path, HOLIDAYS)
    monkeypatch.setenv("GITOPS_NOW", "2026-12-25T10:00:00Z")
    result = run_cli(repo.path, "promote", "stg", "prd", "--override-freeze")
    assert result.exit_code == 2 and "--reason" in result.stderr


def test_override_outside_a_freeze_adds_no_trailer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repo_with(tmp_path, HOLIDAYS)
    monkeypatch.setenv("GITOPS_NOW", "2026-12-28T10:00:00Z")
    assert run_cli(repo.path, "promote", "stg", "prd", "--override-freeze", "--reason", "x").exit_code == 0
    assert "Freeze-Override" not in message(repo, repo.head("prd"))


@pytest.mark.parametrize(
    ("now", "frozen"),
    [
        ("2026-11-27T14:59:00Z", False),  # Fri 15:59 in Berlin (CET, UTC+1)
        ("2026-11-27T15:00:00Z", True),  # Fri 16:00 in Berlin: UTC would say 15:00, still open
        ("2026-11-30T06:59:00Z", True),  # Mon 07:59 in Berlin
        ("2026-11-30T07:00:00Z", False),  # Mon 08:00 in Berlin: the end is not inside
        ("2026-07-03T14:00:00Z", True),  # Fri 16:00 in Berlin in summer (CEST, UTC+2)
    ],
)
def test_weekly_windows_honour_their_timezone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: str, frozen: bool
) -> None:
    repo = repo_with(tmp_path, WEEKEND_BERLIN)
    monkeypatch.setenv("GITOPS_NOW", now)
    result = run_cli(repo.path, "promote", "stg", "prd", "--dry-run")
    assert result.exit_code == (1 if frozen else 0), result.stderr
    if frozen:
        assert "'weekend'" in result.stderr


def test_planned_windows_allow_only_inside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repo_with(tmp_path, TUESDAYS)
    monkeypatch.setenv("GITOPS_NOW", "2026-12-01T08:00:00Z")  # Tuesday, before the window
    outside = run_cli(repo.path, "promote", "stg", "prd")
    assert outside.exit_code == 1
    assert "only inside its planned windows" in outside.stderr and "2026-12-01T09:00:00Z" in outside.stderr
    monkeypatch.setenv("GITOPS_NOW", "2026-12-01T10:00:00Z")
    assert run_cli(repo.path, "promote", "stg", "prd").exit_code == 0


def test_rollback_in_a_frozen_environment(remote_setup: RemoteSetup, monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry on the remote's branches freezes prd; rollback is refused, then overridden."""
    server, clone = remote_setup.remote, remote_setup.clone
    for branch in ("dev", "stg", "prd"):
        server.commit(branch, {"environments.yaml": prd_registry(HOLIDAYS)}, "freeze prd for the holidays")
    for tag in ("1.1.0", "1.2.0"):
        server.commit("stg", {"apps/api/values.yaml": f"image:\n  tag: '{tag}'\n"}, f"api {tag}")
        assert run_cli(clone.path, "promote", "stg", "prd").exit_code == 0
    before = server.head("prd")
    monkeypatch.setenv("GITOPS_NOW", "2026-12-24T12:00:00Z")
    refused = run_cli(clone.path, "rollback", "prd")
    assert refused.exit_code == 1 and "frozen" in refused.stderr
    assert server.head("prd") == before
    done = run_cli(clone.path, "rollback", "prd", "--override-freeze", "--reason", "INC-7 bad release", "-o", "json")
    assert done.exit_code == 0, done.stderr
    assert done.json()["freeze_override"] == "INC-7 bad release"
    trailers = parse_trailers(message(server, server.head("prd")))
    assert trailers["Freeze-Override"] == ["INC-7 bad release"]
    assert trailers["Rollback-Reason"] == ["INC-7 bad release"]
    assert "Rolled-Back-To" in trailers


def test_the_target_branch_keeps_its_freeze(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lifting prd's freeze on the source branch does not unfreeze prd: its own registry counts."""
    files = standard_files() | {"environments.yaml": prd_registry(HOLIDAYS)}
    repo = make_gitops_repo(tmp_path / "repo", files, bare=True)
    repo.commit("stg", {"environments.yaml": prd_registry("")}, "stg: lift the prd freeze")
    monkeypatch.setenv("GITOPS_NOW", "2026-12-25T10:00:00Z")
    # Only prd's own entry differs: the promotion keeps prd's entry, so there is nothing to write.
    only_entry = run_cli(repo.path, "promote", "stg", "prd")
    assert only_entry.exit_code == 0 and "nothing to promote" in only_entry.stderr
    assert "proposes another entry for prd" in only_entry.stderr
    repo.commit("stg", {"apps/api/values.yaml": "image:\n  tag: '9.9.9'\n"}, "stg: api 9.9.9")
    refused = run_cli(repo.path, "promote", "stg", "prd")
    assert refused.exit_code == 1 and "frozen" in refused.stderr


def test_registry_freeze_syntax_errors_have_line_numbers(tmp_path: Path) -> None:
    bad = prd_registry(
        "    freeze:\n"
        '      - {from: "2026-12-24", to: "2026-12-27T00:00:00Z"}\n'
        '      - weekly: {from: "Fri 16:00", to: "Mon 08:00", timezone: Mars/Olympus}\n'
    )
    path = init_repo(tmp_path / "repo", bare=True)
    with Repository(path) as repo:
        root = commit_files(repo, standard_files() | {"environments.yaml": bad}, [], "bad freeze")
        for branch in ("dev", "stg", "prd"):
            set_branch(repo, branch, root)
    line = bad.splitlines().index('      - {from: "2026-12-24", to: "2026-12-27T00:00:00Z"}') + 1
    for args in (("status",), ("promote", "stg", "prd")):
        result = run_cli(path, *args)
        assert result.exit_code == 2, args
        assert f"environments.yaml:{line}:" in result.stderr
        assert f"environments.yaml:{line + 1}:" in result.stderr and "Mars/Olympus" in result.stderr


def test_invalid_gitops_now_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repo_with(tmp_path, HOLIDAYS)
    monkeypatch.setenv("GITOPS_NOW", "next tuesday")
    result = run_cli(repo.path, "status")
    assert result.exit_code == 2 and "GITOPS_NOW" in result.stderr
