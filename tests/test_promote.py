"""`gitops promote` through a real bare remote and clones: rules a-d, commits, safety, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GitopsRepo, RemoteSetup, git, run_cli

LINK = ("120000", "../api/values.yaml")


def prepare_rules_scenario(remote: GitopsRepo) -> dict[str, str]:
    """stg tunes its env files; dev changes common files, adds and removes apps."""
    remote.commit(
        "stg",
        {"apps/api/values-stg.yaml": "replicaCount: 5\n", "apps/web/values-stg.yaml": "replicaCount: 4\n"},
        "stg tuning",
    )
    remote.commit("dev", {
        "apps/api/values.yaml": "image:\n  tag: '1.1.0'\n",       # d: modified
        "apps/api/values-stg.yaml": "replicaCount: 99\n",         # a: kept (dev's copy differs)
        "apps/api/values-prd.yaml": "replicaCount: 7\n",          # d: another env's file comes from dev
        "apps/worker/Chart.yaml": "apiVersion: v2\nname: worker\nversion: 0.1.0\n",  # d: added
        "apps/worker/values-stg.yaml": "replicaCount: 1\n",       # b: seeded
        "apps/worker/run.sh": ("100755", "#!/bin/sh\necho hi\n"),  # mode kept
        "apps/worker/link.yaml": LINK,                            # symlink kept as a link
        "apps/web/Chart.yaml": None, "apps/web/values.yaml": None, "apps/web/values-dev.yaml": None,
        "apps/web/values-prd.yaml": None, "apps/web/templates/deployment.yaml": None,
        "apps/web/templates/service.yaml": None, "apps/web/values-stg.yaml": None,  # web gone: orphaned
    }, "dev work")  # fmt: skip
    return {"dev": remote.head("dev"), "stg": remote.head("stg")}


def test_rules_a_to_d_through_a_bare_remote(remote_setup: RemoteSetup) -> None:
    remote, clone = remote_setup.remote, remote_setup.clone
    before = prepare_rules_scenario(remote)
    result = run_cli(clone.path, "promote", "dev", "stg", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    actions = {f["path"]: f["action"] for f in data["files"]}
    assert actions["apps/api/values.yaml"] == "modified"
    assert actions["apps/api/values-stg.yaml"] == "kept"
    assert actions["apps/api/values-prd.yaml"] == "modified"
    assert actions["apps/worker/Chart.yaml"] == "added"
    assert actions["apps/worker/values-stg.yaml"] == "seeded"
    assert actions["apps/web/values-stg.yaml"] == "orphaned"
    assert actions["apps/web/values.yaml"] == "deleted"
    assert data["pushed"] is True and data["promoted"] is True
    assert data["source_commit"] == before["dev"] and data["target_commit_before"] == before["stg"]

    new = remote.head("stg")
    assert new == data["target_commit"]
    stg_tree, dev_tree, old_stg = remote.tree("stg"), remote.tree("dev"), remote.tree(before["stg"])
    assert stg_tree["apps/api/values-stg.yaml"] == old_stg["apps/api/values-stg.yaml"]  # same blob id
    assert stg_tree["apps/worker/values-stg.yaml"] == dev_tree["apps/worker/values-stg.yaml"]
    assert "apps/web/values-stg.yaml" not in stg_tree
    assert stg_tree["apps/worker/run.sh"][0] == "100755" and stg_tree["apps/worker/link.yaml"][0] == "120000"
    expected = {p: e for p, e in dev_tree.items() if p != "apps/api/values-stg.yaml"}
    expected["apps/api/values-stg.yaml"] = old_stg["apps/api/values-stg.yaml"]
    assert stg_tree == expected

    parents = git(remote.path, "rev-list", "--parents", "-n1", new).split()[1:]
    assert parents == [before["stg"], before["dev"]]
    message = git(remote.path, "log", "-1", "--format=%B", new)
    assert message.startswith(f"Promote dev {before['dev'][:7]} to stg")
    assert "- dev work" in message
    assert f"Promoted-From: dev\nPromoted-Commit: {before['dev']}" in message
    assert (
        git(remote.path, "log", "-1", "--format=%an <%ae>|%cn", new)
        == "Test Author <author@example.com>|Test Committer"
    )
    assert git(remote.path, "log", "--format=%H", "stg..dev") == ""  # nothing pending


def test_second_run_makes_no_commit(remote_setup: RemoteSetup) -> None:
    prepare_rules_scenario(remote_setup.remote)
    assert run_cli(remote_setup.clone.path, "promote", "dev", "stg").exit_code == 0
    head = remote_setup.remote.head("stg")
    again = run_cli(remote_setup.clone.path, "promote", "dev", "stg", "-o", "json")
    assert again.exit_code == 0
    assert again.json()["promoted"] is False and again.json()["target_commit"] == head
    assert remote_setup.remote.head("stg") == head
    assert "nothing to promote" in run_cli(remote_setup.clone.path, "promote", "dev", "stg").stderr


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("dev", "prd", "skips an environment"),
        ("stg", "dev", "that step goes backwards"),
        ("prd", "stg", "that step goes backwards"),
        ("dev", "dev", "cannot promote dev into itself"),
        ("dev", "qa", "unknown environment 'qa'"),
        ("stgg", "prd", "did you mean 'stg'?"),
    ],
)
def test_only_adjacent_forward_steps(gitops_repo: GitopsRepo, source: str, target: str, message: str) -> None:
    result = run_cli(gitops_repo.path, "promote", source, target)
    assert result.exit_code == 2
    assert message in result.stderr
    if "unknown" not in message and "mean" not in message:
        assert "dev → stg → prd" in result.stderr


def test_drift_is_refused_then_discarded(remote_setup: RemoteSetup) -> None:
    remote, clone = remote_setup.remote, remote_setup.clone
    remote.commit("dev", {"apps/api/values.yaml": "image:\n  tag: '1.1.0'\n"}, "api 1.1.0")
    assert run_cli(clone.path, "promote", "dev", "stg").exit_code == 0
    hotfix = remote.commit("stg", {"apps/api/templates/service.yaml": "hotfix: true\n"}, "hotfix on stg")
    remote.commit("stg", {"apps/api/values-stg.yaml": "replicaCount: 3\n"}, "env tuning is not drift")
    remote.commit("dev", {"apps/web/values.yaml": "image:\n  tag: '2.1.0'\n"}, "web 2.1.0")
    refused = run_cli(clone.path, "promote", "dev", "stg", "-o", "json")
    assert refused.exit_code == 1
    assert "apps/api/templates/service.yaml" in refused.stderr and hotfix[:12] in refused.stderr
    assert "--discard-drift" in refused.stderr
    assert refused.json()["drift"] == [{"path": "apps/api/templates/service.yaml", "commits": [hotfix]}]
    assert remote.head("stg") != refused.json()["source_commit"]
    stg_before = remote.head("stg")
    forced = run_cli(clone.path, "promote", "dev", "stg", "--discard-drift")
    assert forced.exit_code == 0, forced.stderr
    assert remote.head("stg") != stg_before
    assert remote.read("stg", "apps/api/templates/service.yaml") == remote.read(
        "dev", "apps/api/templates/service.yaml"
    )
    assert remote.read("stg", "apps/api/values-stg.yaml") == b"replicaCount: 3\n"


def test_same_fix_on_both_branches_is_not_drift(gitops_repo: GitopsRepo) -> None:
    fix = {"apps/api/templates/service.yaml": "fixed: true\n"}
    gitops_repo.commit("stg", fix, "hotfix on stg")
    gitops_repo.commit("dev", fix, "same fix on dev")
    gitops_repo.commit("dev", {"apps/api/values.yaml": "x: 1\n"}, "more dev work")
    assert run_cli(gitops_repo.path, "promote", "dev", "stg").exit_code == 0


def test_hotfix_later_superseded_upstream_is_not_drift(gitops_repo: GitopsRepo) -> None:
    """The target holds content that dev had at some point since the last promotion."""
    gitops_repo.commit("dev", {"apps/api/values.yaml": "tag: a\n"}, "a")
    gitops_repo.commit("stg", {"apps/api/values.yaml": "tag: a\n"}, "cherry-pick a")
    gitops_repo.commit("dev", {"apps/api/values.yaml": "tag: b\n"}, "b")
    assert run_cli(gitops_repo.path, "promote", "dev", "stg").exit_code == 0


def test_dry_run_writes_nothing(remote_setup: RemoteSetup) -> None:
    prepare_rules_scenario(remote_setup.remote)
    clone = remote_setup.clone
    objects_before = git(clone.path, "count-objects", "-v")
    stg = remote_setup.remote.head("stg")
    result = run_cli(clone.path, "promote", "dev", "stg", "--dry-run", "-o", "json")
    assert result.exit_code == 0 and result.json()["dry_run"] is True and result.json()["promoted"] is False
    assert result.json()["target_commit"] is None and result.json()["files"]
    assert remote_setup.remote.head("stg") == stg
    assert git(clone.path, "rev-parse", "origin/stg") == stg
    assert "count: " in objects_before


def test_no_push_leaves_the_remote_alone(remote_setup: RemoteSetup) -> None:
    prepare_rules_scenario(remote_setup.remote)
    clone, stg = remote_setup.clone, remote_setup.remote.head("stg")
    result = run_cli(clone.path, "promote", "dev", "stg", "--no-push", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["pushed"] is False
    assert remote_setup.remote.head("stg") == stg
    assert clone.head("stg") == result.json()["target_commit"]


def test_ref_promotes_an_earlier_commit(gitops_repo: GitopsRepo) -> None:
    first = gitops_repo.commit("dev", {"apps/api/values.yaml": "tag: '1'\n"}, "one")
    gitops_repo.commit("dev", {"apps/api/values.yaml": "tag: '2'\n"}, "two")
    result = run_cli(gitops_repo.path, "promote", "dev", "stg", "--ref", first[:10], "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["source_commit"] == first
    assert gitops_repo.read("stg", "apps/api/values.yaml") == b"tag: '1'\n"
    assert git(gitops_repo.path, "log", "--format=%s", "stg..dev") == "two"


def test_ref_not_on_source_is_refused(gitops_repo: GitopsRepo) -> None:
    other = gitops_repo.commit("prd", {"apps/api/values-prd.yaml": "x: 1\n"}, "prd only")
    result = run_cli(gitops_repo.path, "promote", "dev", "stg", "--ref", other)
    assert result.exit_code == 2 and "is not on dev" in result.stderr
    assert run_cli(gitops_repo.path, "promote", "dev", "stg", "--ref", "no-such-rev").exit_code == 2


def test_working_tree_index_and_head_untouched(remote_setup: RemoteSetup) -> None:
    prepare_rules_scenario(remote_setup.remote)
    clone = remote_setup.clone.path
    (clone / "apps/api/values.yaml").write_text("uncommitted edit\n")
    (clone / "untracked.txt").write_bytes(b"\x00binary untracked\n")
    git(clone, "add", "apps/api/values.yaml")
    (clone / "apps/api/values.yaml").write_text("edit after staging\n")
    index, head = (clone / ".git/index").read_bytes(), (clone / ".git/HEAD").read_bytes()
    status = git(clone, "status", "--porcelain")
    assert run_cli(clone, "promote", "dev", "stg").exit_code == 0
    assert (clone / ".git/index").read_bytes() == index and (clone / ".git/HEAD").read_bytes() == head
    assert (clone / "apps/api/values.yaml").read_text() == "edit after staging\n"
    assert (clone / "untracked.txt").read_bytes() == b"\x00binary untracked\n"
    assert git(clone, "status", "--porcelain") == status


def test_local_branch_follows_after_push(remote_setup: RemoteSetup) -> None:
    prepare_rules_scenario(remote_setup.remote)
    clone = remote_setup.clone
    git(clone.path, "branch", "stg", "origin/stg")
    result = run_cli(clone.path, "promote", "dev", "stg", "-o", "json")
    assert clone.head("stg") == result.json()["target_commit"] == remote_setup.remote.head("stg")


def test_no_hooks_run(remote_setup: RemoteSetup, tmp_path: Path) -> None:
    prepare_rules_scenario(remote_setup.remote)
    clone = remote_setup.clone.path
    marker = tmp_path / "hook-ran"
    for hook in ("pre-push", "reference-transaction", "post-commit", "pre-commit", "post-update"):
        path = clone / ".git/hooks" / hook
        path.write_text(f"#!/bin/sh\necho {hook} >> {marker}\n")
        path.chmod(0o755)
    assert run_cli(clone, "promote", "dev", "stg").exit_code == 0
    assert not marker.exists()


@pytest.mark.parametrize("name", ["--upload-pack=touch /tmp/pwned", "-stg", "../x", "stg\n"])
def test_option_like_names_never_reach_git(gitops_repo: GitopsRepo, name: str) -> None:
    result = run_cli(gitops_repo.path, "promote", "dev", name)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    result = run_cli(gitops_repo.path, "promote", "dev", "stg", "--remote", name)
    assert result.exit_code == 2


def test_unreachable_remote_is_an_operational_failure(remote_setup: RemoteSetup, tmp_path: Path) -> None:
    clone = remote_setup.clone.path
    git(clone, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    result = run_cli(clone, "promote", "dev", "stg")
    assert result.exit_code == 3
    assert "gone.git" in result.stderr


def test_missing_target_branch(gitops_repo: GitopsRepo) -> None:
    git(gitops_repo.path, "update-ref", "-d", "refs/heads/stg")
    result = run_cli(gitops_repo.path, "promote", "dev", "stg")
    assert result.exit_code == 2 and "branch 'stg' not found" in result.stderr


def test_missing_identity_is_explained(gitops_repo: GitopsRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("EMAIL", "")
    git(gitops_repo.path, "config", "user.useConfigOnly", "true")
    gitops_repo_commit = gitops_repo.path
    monkeypatch.setenv("GIT_AUTHOR_NAME", "a")  # needed for the fixture's own commit below
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "a@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "a")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "a@example.com")
    GitopsRepo(gitops_repo_commit).commit("dev", {"x.yaml": "x: 1\n"})
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key)
    result = run_cli(gitops_repo.path, "promote", "dev", "stg")
    assert result.exit_code == 2 and "git config --global user.name" in result.stderr


def test_registry_union_protects_target_files(gitops_repo: GitopsRepo) -> None:
    """dev drops a pattern from its registry: stg's own registry still protects its files."""
    registry = gitops_repo.read("dev", "environments.yaml").decode()
    gitops_repo.commit(
        "stg",
        {
            "environments.yaml": registry.replace(
                '    - "apps/*/values-{env}.yaml"', '    - "apps/*/values-{env}.yaml"\n    - "secrets/{env}.yaml"'
            ),
            "secrets/stg.yaml": "k: stg\n",
        },
        "stg protects secrets",
    )
    gitops_repo.commit("dev", {"secrets/stg.yaml": "k: dev\n", "apps/api/values.yaml": "x: 2\n"}, "dev")
    result = run_cli(gitops_repo.path, "promote", "dev", "stg", "--discard-drift", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert gitops_repo.read("stg", "secrets/stg.yaml") == b"k: stg\n"
