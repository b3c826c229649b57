"""`gitops backport ENV`: a hotfix made directly on prd brought home to dev (docs/backport.md)."""

from __future__ import annotations

import pytest
from conftest import GitopsRepo, RemoteSetup, git, run_cli

VALUES = """\
replicaCount: 1
image:
  repository: ghcr.io/example/api
  tag: "{tag}"
service:
  port: 8080
resources:
  requests:
    cpu: 50m
env:
  LOG_LEVEL: {level}
"""
PATH = "apps/api/values.yaml"


def values(tag: str = "1.1.0", level: str = "info") -> str:
    return VALUES.format(tag=tag, level=level)


@pytest.fixture
def hotfixed(gitops_repo: GitopsRepo) -> GitopsRepo:
    """api 1.1.0 promoted to prd, then a hotfix committed directly on prd."""
    repo = gitops_repo
    repo.commit("dev", {PATH: values()}, "api 1.1.0")
    for source, target in (("dev", "stg"), ("stg", "prd")):
        assert run_cli(repo.path, "promote", source, target).exit_code == 0
    repo.commit("prd", {PATH: values(tag="1.1.1")}, "INC-42: api 1.1.1 hotfix")
    return repo


def test_a_prd_hotfix_reaches_dev_and_the_next_promotions_pass(hotfixed: GitopsRepo) -> None:
    repo = hotfixed
    hotfix = repo.head("prd")
    refused = run_cli(repo.path, "promote", "stg", "prd")
    assert refused.exit_code == 1 and "gitops backport prd" in refused.stderr
    plan = run_cli(repo.path, "plan", "stg", "prd")
    assert "gitops backport prd" in plan.stdout

    result = run_cli(repo.path, "backport", "prd", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["source"] == "prd" and data["target"] == "dev" and data["backported"] is True
    assert data["files"] == [{"path": PATH, "action": "take"}]
    assert [c["sha"] for c in data["commits"]] == [hotfix]
    dev = repo.head("dev")
    assert dev == data["target_commit"]
    assert git(repo.path, "rev-list", "--count", f"{data['target_commit_before']}..{dev}") == "1"  # one commit
    message = git(repo.path, "log", "-1", "--format=%B", dev)
    assert message.startswith("Backport prd hotfixes to dev")
    assert message.rstrip().endswith(f"Backported-From: prd\nBackported-Commits: {hotfix}")
    assert repo.read("dev", PATH) == values(tag="1.1.1").encode()

    prd_tree = repo.tree("prd")
    for source, target in (("dev", "stg"), ("stg", "prd")):
        step = run_cli(repo.path, "promote", source, target, "-o", "json")
        assert step.exit_code == 0, step.stderr  # no --discard-drift needed
        assert step.json()["drift"] == []
    assert repo.tree("prd") == prd_tree  # prd keeps its hotfix, byte for byte
    status = run_cli(repo.path, "status", "-o", "json").json()
    assert all(e["drift"] == [] for e in status["environments"])
    nothing = run_cli(repo.path, "backport", "prd")
    assert nothing.exit_code == 0 and "nothing to backport: prd has no direct changes" in nothing.stderr


def test_the_backport_merges_three_way_and_the_drift_guard_still_sees_it_upstream(hotfixed: GitopsRepo) -> None:
    repo = hotfixed
    repo.commit("dev", {PATH: values(level="debug")}, "dev: debug logging")  # another line of the same file
    result = run_cli(repo.path, "backport", "prd", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["files"] == [{"path": PATH, "action": "merge"}]
    merged = values(tag="1.1.1", level="debug").encode()
    assert repo.read("dev", PATH) == merged
    for source, target in (("dev", "stg"), ("stg", "prd")):
        step = run_cli(repo.path, "promote", source, target)
        assert step.exit_code == 0, step.stderr
    assert repo.read("prd", PATH) == merged  # the hotfix is still in what prd runs


def test_a_change_that_does_not_apply_cleanly_is_refused_and_nothing_is_written(hotfixed: GitopsRepo) -> None:
    repo = hotfixed
    repo.commit("dev", {PATH: values(tag="1.2.0")}, "api 1.2.0")  # the same line as the hotfix
    dev = repo.head("dev")
    objects = git(repo.path, "count-objects", "-v")
    result = run_cli(repo.path, "backport", "prd")
    assert result.exit_code == 1
    assert f"cannot backport prd to dev: 1 path(s) do not apply cleanly (changed on dev too):\n  {PATH}" in (
        result.stderr
    )
    assert repo.head("dev") == dev
    assert git(repo.path, "count-objects", "-v") == objects


def test_deleted_and_added_files_and_dry_run(hotfixed: GitopsRepo) -> None:
    repo = hotfixed
    repo.commit("prd", {"apps/web/templates/service.yaml": None, "apps/api/extra.yaml": "a: 1\n"}, "prd: more")
    dev = repo.head("dev")
    dry = run_cli(repo.path, "backport", "prd", "--dry-run", "-o", "json")
    assert dry.exit_code == 0, dry.stderr
    assert {f["path"]: f["action"] for f in dry.json()["files"]} == {
        PATH: "take",
        "apps/api/extra.yaml": "take",
        "apps/web/templates/service.yaml": "take",
    }
    assert len(dry.json()["commits"]) == 2 and repo.head("dev") == dev
    assert run_cli(repo.path, "backport", "prd").exit_code == 0
    tree = repo.tree("dev")
    assert "apps/web/templates/service.yaml" not in tree and "apps/api/extra.yaml" in tree
    again = run_cli(repo.path, "backport", "prd")
    assert again.exit_code == 0 and "already has prd's hotfixes" in again.stderr


def test_to_another_environment_and_usage_errors(hotfixed: GitopsRepo) -> None:
    repo = hotfixed
    dev = repo.head("dev")
    to_stg = run_cli(repo.path, "backport", "prd", "--to", "stg", "-o", "json")
    assert to_stg.exit_code == 0, to_stg.stderr
    assert repo.read("stg", PATH) == values(tag="1.1.1").encode() and repo.head("dev") == dev
    assert run_cli(repo.path, "promote", "stg", "prd").exit_code == 0  # prd's drift is upstream now
    first = run_cli(repo.path, "backport", "dev")
    assert first.exit_code == 2 and "dev is the first environment" in first.stderr
    downstream = run_cli(repo.path, "backport", "stg", "--to", "prd")
    assert downstream.exit_code == 2 and "a backport goes upstream" in downstream.stderr
    # stg's backport commit is itself a direct change against dev: bring it on home
    chain = run_cli(repo.path, "backport", "stg")
    assert chain.exit_code == 0, chain.stderr
    assert repo.read("dev", PATH) == values(tag="1.1.1").encode()
    assert run_cli(repo.path, "promote", "dev", "stg", "-o", "json").json()["drift"] == []


def test_pr_pushes_a_review_branch(remote_setup: RemoteSetup) -> None:
    remote, clone = remote_setup.remote, remote_setup.clone
    remote.commit("prd", {PATH: values(tag="1.0.1")}, "hotfix")
    dev = remote.head("dev")
    result = run_cli(clone.path, "backport", "prd", "--pr", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["pr_branch"] == "backport/prd-to-dev"
    assert remote.head("dev") == dev
    review = remote.head("backport/prd-to-dev")
    assert remote.read(review, PATH) == values(tag="1.0.1").encode()
    assert git(remote.path, "rev-parse", f"{review}^") == dev


def test_a_trailer_alone_does_not_hide_drift(hotfixed: GitopsRepo) -> None:
    """A commit upstream that names the hotfix but does not carry its path discharges nothing."""
    repo = hotfixed
    hotfix = repo.head("prd")
    repo.commit(
        "dev", {"README.md": "# unrelated\n"}, f"unrelated\n\nBackported-From: prd\nBackported-Commits: {hotfix}"
    )
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0
    refused = run_cli(repo.path, "promote", "stg", "prd")
    assert refused.exit_code == 1 and PATH in refused.stderr
    assert repo.head("prd") == hotfix


def test_a_hotfix_where_dev_has_a_file_or_a_directory_is_refused_and_writes_nothing(hotfixed: GitopsRepo) -> None:
    """Taking a drifted path must not replace dev's directory (or dev's file above it): the
    backport is refused naming the path, and dev stays as it was."""
    repo = hotfixed
    repo.commit("prd", {"apps/api/extra/hotfix.yaml": "a: 1\n", "apps/api/conf": "b: 2\n"}, "INC-43: two files")
    repo.commit("dev", {"apps/api/extra": "a file on dev\n", "apps/api/conf/dev.yaml": "c: 3\n"}, "dev: clash")
    dev = repo.head("dev")
    result = run_cli(repo.path, "backport", "prd")
    assert result.exit_code == 1, result.stderr
    assert "apps/api/conf" in result.stderr and "apps/api/extra/hotfix.yaml" in result.stderr
    assert repo.head("dev") == dev
    assert repo.read("dev", "apps/api/conf/dev.yaml") == b"c: 3\n"
