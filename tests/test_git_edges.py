"""Git edge cases (issue 12): SHA-256 repositories, shallow clones, any byte but NUL in a path,
a push that succeeded while a local ref was locked, and the one GIT_* scrub list."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import GitopsRepo, RemoteSetup, git, make_gitops_repo, run_cli, standard_files

from gitops_promote.adapters.git import SCRUBBED_ENV, Repository, _parse_touched, git_env
from gitops_promote.adapters.scaffold import commit_changes, commit_files, set_branch


def test_scrub_list_covers_git_local_env_vars() -> None:
    local = git(Path.cwd(), "rev-parse", "--local-env-vars").split()
    assert local and set(local) <= set(SCRUBBED_ENV)


def test_scrubbed_variables_do_not_reach_git(gitops_repo: GitopsRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SCRUBBED_ENV:
        monkeypatch.setenv(name, "/nonexistent")
    env = git_env()
    assert not set(SCRUBBED_ENV) & set(env)
    assert run_cli(gitops_repo.path, "envs", "-o", "json").exit_code == 0


def test_the_scrub_list_lives_in_one_place() -> None:
    src = Path(__file__).resolve().parent.parent / "src"
    homes = [p for p in src.rglob("*.py") if '"GIT_OBJECT_DIRECTORY"' in p.read_text()]
    assert [p.name for p in homes] == ["git.py"]


# ---- SHA-256 --------------------------------------------------------------------------------------


@pytest.fixture
def sha256_repo(tmp_path: Path) -> GitopsRepo:
    path = tmp_path / "repo.git"
    path.mkdir()
    git(path, "init", "-q", "--bare", "--object-format=sha256", "--initial-branch=main")
    with Repository(path) as repo:
        root = commit_files(repo, standard_files(), [], "initial")
        for branch in ("dev", "stg", "prd"):
            set_branch(repo, branch, root)
        set_branch(repo, "dev", commit_changes(repo, root, {"apps/api/values.yaml": "replicas: 3\n"}, "dev change"))
        hotfix = commit_changes(repo, root, {"apps/web/templates/hotfix.yaml": "a: 1\n"}, "prd hotfix")
        set_branch(repo, "prd", hotfix)
    return GitopsRepo(path)


def test_sha256_repository_works_for_every_command(sha256_repo: GitopsRepo) -> None:
    path = sha256_repo.path
    envs = run_cli(path, "envs", "-o", "json")
    assert envs.exit_code == 0 and all(len(r["head"]) == 64 for r in envs.json()["environments"]), envs.stdout
    parity = run_cli(path, "parity", "-o", "json")
    assert parity.exit_code == 1, parity.stdout  # the hotfix on prd is drift, not "in parity"
    assert "apps/web/templates/hotfix.yaml" in parity.stdout
    assert run_cli(path, "diff", "dev", "stg", "-o", "json").json()["files"]
    assert run_cli(path, "plan", "dev", "stg", "-o", "json").json()["changes_target"]
    promoted = run_cli(path, "promote", "dev", "stg", "-o", "json")
    assert promoted.exit_code == 0, promoted.stderr
    assert len(promoted.json()["target_commit"]) == 64
    assert sha256_repo.read("stg", "apps/api/values.yaml") == b"replicas: 3\n"
    history = run_cli(path, "history", "stg", "-o", "json")
    assert history.exit_code == 0 and history.json()["entries"][0]["kind"] == "promotion"
    assert run_cli(path, "status", "-o", "json").exit_code == 0
    assert run_cli(path, "validate", "-o", "json").exit_code == 0
    refused = run_cli(path, "promote", "stg", "prd")
    assert refused.exit_code == 1 and "hotfix.yaml" in refused.stderr


def test_sha256_plan_round_trip(sha256_repo: GitopsRepo, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert run_cli(sha256_repo.path, "plan", "dev", "stg", "--save", str(saved)).exit_code == 0
    assert len(json.loads(saved.read_text())["target_commit"]) == 64
    result = run_cli(sha256_repo.path, "promote", "dev", "stg", "--plan", str(saved))
    assert result.exit_code == 0, result.stderr


# ---- shallow clones -------------------------------------------------------------------------------


def test_shallow_clone_is_refused_naming_fetch_depth(tmp_path: Path) -> None:
    remote = make_gitops_repo(tmp_path / "remote.git", bare=True)
    remote.commit("prd", {"apps/api/values-prd.yaml": "replicaCount: 3\n"}, "prd tuning")
    remote.commit("stg", {"apps/api/values.yaml": "replicas: 2\n"}, "upstream change")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{remote.path}", str(clone))
    for args in (("promote", "stg", "prd", "--dry-run"), ("plan", "stg", "prd"), ("status",), ("parity",)):
        result = run_cli(clone, *args)
        assert result.exit_code == 2, (args, result.exit_code, result.stderr)
        assert "shallow" in result.stderr and "fetch-depth: 0" in result.stderr
        assert "--discard-drift" not in result.stderr
    git(clone, "fetch", "-q", "--unshallow")
    assert run_cli(clone, "promote", "stg", "prd", "--dry-run").exit_code == 0


# ---- odd bytes in paths ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["x\x01y.yaml", "x\ny.yaml", "\nlead.yaml", "e\x1b[2J.yaml"])
def test_direct_commit_to_an_odd_path_is_drift(gitops_repo: GitopsRepo, name: str) -> None:
    gitops_repo.commit("stg", {f"apps/web/templates/{name}": "kind: ConfigMap\n"}, "direct")
    gitops_repo.commit("dev", {"apps/api/values.yaml": "replicas: 2\n"})
    result = run_cli(gitops_repo.path, "promote", "dev", "stg", "-o", "json")
    assert result.exit_code == 1, result.stdout + result.stderr
    assert f"apps/web/templates/{name}" in [d["path"] for d in result.json()["drift"]]


def test_touched_paths_parser_splits_on_nul_only() -> None:
    fields = [b"", b"a" * 40, b"\nx\x01y", b"\nlead", b"", b"b" * 40, b"", b"c" * 40, b"\nz", b""]
    assert _parse_touched(fields) == {"a" * 40: ["x\x01y", "\nlead"], "b" * 40: [], "c" * 40: ["z"]}


# ---- a push that succeeded while a local ref was locked -------------------------------------------


def test_push_succeeds_despite_a_stale_local_lock(remote_setup: RemoteSetup) -> None:
    clone = remote_setup.clone.path
    git(clone, "branch", "stg", "origin/stg")
    new = remote_setup.remote.commit("dev", {"apps/api/values.yaml": "replicas: 2\n"}, "api")
    lock = clone / ".git" / "refs" / "heads" / "stg.lock"
    lock.write_text("stale\n")
    result = run_cli(clone, "promote", "dev", "stg", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["pushed"] and data["promoted"]
    assert any("stg.lock" in note for note in data["notes"]), data["notes"]
    assert remote_setup.remote.read("stg", "apps/api/values.yaml") == b"replicas: 2\n"
    assert new in git(remote_setup.remote.path, "log", "--format=%H", "stg")
    text = run_cli(clone, "promote", "dev", "stg")
    assert "nothing to promote" in text.stderr
    os.unlink(lock)
    assert subprocess.run(["git", "-C", str(clone), "fetch", "-q"], check=False).returncode == 0
