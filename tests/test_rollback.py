"""`gitops rollback ENV`: a new commit restoring an earlier promotion's common content."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import GitopsRepo, RemoteSetup, git, make_gitops_repo, run_cli

from gitops_promote.adapters.git import parse_trailers

V1 = 'image:\n  repository: ghcr.io/example/api\n  tag: "1.1.0"\n'
V2 = 'image:\n  repository: ghcr.io/example/api\n  tag: "1.2.0-bad"\n'
V3 = 'image:\n  repository: ghcr.io/example/api\n  tag: "1.3.0"\n'
STG_ENV = "replicaCount: 5\n"


@dataclass
class Promoted:
    repo: GitopsRepo  # where the CLI runs (a clone, or the repository itself)
    server: GitopsRepo  # where commits are made and branches read (the remote, or the same)
    first: str  # stg's first promotion commit (api 1.1.0)
    second: str  # stg's second promotion commit (api 1.2.0-bad)


def promote_twice(cli: GitopsRepo, server: GitopsRepo) -> Promoted:
    """Two promotions dev→stg, then a direct change of stg's own env file."""
    server.commit("dev", {"apps/api/values.yaml": V1, "apps/web/templates/extra.yaml": "# v1\n"}, "api 1.1.0")
    assert run_cli(cli.path, "promote", "dev", "stg").exit_code == 0
    first = server.head("stg")
    server.commit("dev", {"apps/api/values.yaml": V2, "apps/web/templates/extra.yaml": None}, "api 1.2.0-bad")
    assert run_cli(cli.path, "promote", "dev", "stg").exit_code == 0
    second = server.head("stg")
    server.commit("stg", {"apps/api/values-stg.yaml": STG_ENV}, "stg: more replicas")
    return Promoted(cli, server, first, second)


@pytest.fixture
def local(tmp_path: Path) -> Promoted:
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    return promote_twice(repo, repo)


@pytest.fixture
def remote(remote_setup: RemoteSetup) -> Promoted:
    return promote_twice(remote_setup.clone, remote_setup.remote)


def message(repo: GitopsRepo, rev: str) -> str:
    return git(repo.path, "log", "-1", "--format=%B", rev)


def test_rollback_restores_common_files_keeps_env_files_and_pushes(remote: Promoted) -> None:
    server = remote.server
    before = server.head("stg")
    result = run_cli(remote.repo.path, "rollback", "stg", "--reason", "api 1.2.0 crashes", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["rolled_back"] is True and data["pushed"] is True
    assert data["rolled_back_to"]["commit"] == remote.first
    assert data["commit_before"] == before
    new = server.head("stg")  # on the remote
    assert data["commit"] == new
    # a new commit on top: history is kept
    assert git(server.path, "rev-list", "--parents", "-n", "1", new).split() == [new, before]
    # common content as promoted by the first promotion ...
    assert server.read(new, "apps/api/values.yaml") == V1.encode()
    assert server.read(new, "apps/web/templates/extra.yaml") == b"# v1\n"
    # ... while stg's own file keeps its current content
    assert server.read(new, "apps/api/values-stg.yaml") == STG_ENV.encode()
    trailers = parse_trailers(message(server, new))
    assert trailers["Rolled-Back-To"] == [remote.first]
    assert trailers["Rollback-Reason"] == ["api 1.2.0 crashes"]
    assert {"path": "apps/web/templates/extra.yaml", "action": "added"} in data["files"]
    # the clone's remote-tracking ref followed
    assert git(remote.repo.path, "rev-parse", "refs/remotes/origin/stg") == new


def test_next_promotion_is_not_blocked_as_drift(remote: Promoted) -> None:
    assert run_cli(remote.repo.path, "rollback", "stg").exit_code == 0
    remote.server.commit("dev", {"apps/api/values.yaml": V3}, "api 1.3.0 (the fix)")
    result = run_cli(remote.repo.path, "promote", "dev", "stg", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["drift"] == []
    stg = remote.server.head("stg")
    assert remote.server.read(stg, "apps/api/values.yaml") == V3.encode()
    assert remote.server.read(stg, "apps/api/values-stg.yaml") == STG_ENV.encode()


def test_a_hand_made_revert_without_the_trailer_is_drift(local: Promoted) -> None:
    """Why the engine must skip Rolled-Back-To commits: the same change made by hand is drift."""
    repo = local.repo
    repo.commit("stg", {"apps/api/values.yaml": V1}, "revert api by hand")
    result = run_cli(repo.path, "promote", "dev", "stg", "--dry-run")
    assert result.exit_code == 1
    assert "apps/api/values.yaml" in result.stderr


def test_with_env_files_restores_them_too(local: Promoted) -> None:
    result = run_cli(local.repo.path, "rollback", "stg", "--with-env-files", "--to", local.first[:10])
    assert result.exit_code == 0, result.stderr
    stg = local.repo.head("stg")
    assert local.repo.tree(stg) == local.repo.tree(local.first)
    assert "restored too" in message(local.repo, stg)


def test_dry_run_writes_nothing(local: Promoted) -> None:
    before = local.repo.head("stg")
    result = run_cli(local.repo.path, "rollback", "stg", "--dry-run", "-o", "json")
    assert result.exit_code == 0
    assert result.json()["dry_run"] is True and result.json()["rolled_back"] is False
    assert local.repo.head("stg") == before


def test_only_earlier_promotions_are_targets(local: Promoted) -> None:
    dev = local.repo.head("dev")
    result = run_cli(local.repo.path, "rollback", "stg", "--to", dev)
    assert result.exit_code == 2
    assert "not an earlier promotion commit of stg" in result.stderr
    assert local.first[:12] in result.stderr and local.second[:12] in result.stderr  # the valid ones
    assert run_cli(local.repo.path, "rollback", "stg", "--steps", "5").exit_code == 2
    assert run_cli(local.repo.path, "rollback", "stg", "--steps", "0").exit_code == 2
    both = run_cli(local.repo.path, "rollback", "stg", "--steps", "1", "--to", local.first)
    assert both.exit_code == 2
    never = run_cli(local.repo.path, "rollback", "prd")
    assert never.exit_code == 2 and "no earlier promotion" in never.stderr


def test_steps_count_promotions_still_in_effect(local: Promoted) -> None:
    """After rolling back to the first promotion, one more step goes before it, not to the second."""
    repo = local.repo
    repo.commit("dev", {"apps/api/values.yaml": V3}, "api 1.3.0")
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0
    third = repo.head("stg")
    # --steps 2 from [third, second, first] goes to first
    result = run_cli(repo.path, "rollback", "stg", "--steps", "2", "-o", "json")
    assert result.json()["rolled_back_to"]["commit"] == local.first
    # first is now in effect: nothing earlier is a promotion
    again = run_cli(repo.path, "rollback", "stg")
    assert again.exit_code == 2 and "no promotion 1 step(s) back" in again.stderr
    # but any promotion commit stays a valid --to target
    back = run_cli(repo.path, "rollback", "stg", "--to", third, "-o", "json")
    assert back.exit_code == 0 and back.json()["rolled_back_to"]["commit"] == third


def test_no_push_moves_only_the_local_branch(remote: Promoted) -> None:
    server_before = remote.server.head("stg")
    git(remote.repo.path, "branch", "stg", "origin/stg")
    result = run_cli(remote.repo.path, "rollback", "stg", "--no-push", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["pushed"] is False
    assert remote.server.head("stg") == server_before
    assert remote.repo.head("stg") == result.json()["commit"]


def test_rollback_to_the_content_it_already_has_is_a_no_op(local: Promoted) -> None:
    repo = local.repo
    assert run_cli(repo.path, "rollback", "stg", "--with-env-files", "--to", local.first).exit_code == 0
    head = repo.head("stg")
    result = run_cli(repo.path, "rollback", "stg", "--with-env-files", "--to", local.first)
    assert result.exit_code == 0 and "nothing to roll back" in result.stderr
    assert repo.head("stg") == head


def test_history_and_status_mark_the_rollback(local: Promoted, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # 12-character commit ids from 100 columns on
    assert run_cli(local.repo.path, "rollback", "stg", "--reason", "bad").exit_code == 0
    stg = run_cli(local.repo.path, "status", "-o", "json").json()["environments"][1]
    assert stg["last_promotion"]["commit"] == local.second
    assert stg["rollback"]["rolled_back_to"] == local.first and stg["drift"] == []
    assert {f["path"] for f in stg["pending"]["files"]} == {"apps/api/values.yaml", "apps/web/templates/extra.yaml"}
    entries = run_cli(local.repo.path, "history", "stg", "-o", "json").json()["entries"]
    assert entries[0]["kind"] == "rollback" and entries[0]["rolled_back_to"] == local.first
    assert entries[0]["reason"] == "bad"
    text = run_cli(local.repo.path, "history", "stg").stdout
    assert "rollback" in text and local.first[:12] in text
