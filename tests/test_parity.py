"""`gitops parity`: the version matrix, key gaps, and pending vs drift with exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GitopsRepo, RemoteSetup, make_gitops_repo, run_cli

from gitops_promote.adapters.git import Repository
from gitops_promote.adapters.scaffold import set_branch
from gitops_promote.core.helm import deep_merge, leaf_keys
from gitops_promote.core.parity import image_tag, key_gaps

CHART = 'apiVersion: v2\nname: api\nversion: {version}\nappVersion: "{app}"\n'
VALUES = 'image:\n  repository: ghcr.io/example/api\n  tag: "{tag}"\n'


@pytest.fixture
def repo(tmp_path: Path) -> GitopsRepo:
    return make_gitops_repo(tmp_path / "repo", bare=True)


def release(repo: GitopsRepo, version: str, tag: str) -> str:
    return repo.commit(
        "dev",
        {"apps/api/Chart.yaml": CHART.format(version=version, app=tag), "apps/api/values.yaml": VALUES.format(tag=tag)},
        f"api {tag}",
    )


def test_in_parity_exits_0(repo: GitopsRepo) -> None:
    result = run_cli(repo.path, "parity", "--strict", "-o", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    data = result.json()
    assert data["state"] == "same"
    assert [p["state"] for p in data["pairs"]] == ["same", "same"]


def test_only_pending_exits_0_and_1_with_strict(repo: GitopsRepo) -> None:
    commit = release(repo, "0.2.0", "1.1.0")
    result = run_cli(repo.path, "parity", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    dev_stg = data["pairs"][0]
    assert dev_stg["state"] == "pending" and dev_stg["pending_commits"] == [commit]
    assert {d["path"]: d["class"] for d in dev_stg["differences"]} == {
        "apps/api/Chart.yaml": "pending",
        "apps/api/values.yaml": "pending",
    }
    assert data["apps"]["apps/api"]["stg"]["state"] == "pending"
    assert data["apps"]["apps/web"]["stg"]["state"] == "same"

    strict = run_cli(repo.path, "parity", "--strict")
    assert strict.exit_code == 1
    assert "pending" in strict.stdout


def test_direct_hotfix_in_prd_is_drift_naming_file_and_commit(repo: GitopsRepo) -> None:
    release(repo, "0.2.0", "1.1.0")  # pending elsewhere does not hide the drift
    hotfix = repo.commit("prd", {"apps/web/values.yaml": "image:\n  tag: '2.0.1-hotfix'\n"}, "hotfix web in prd")
    result = run_cli(repo.path, "parity")
    assert result.exit_code == 1
    assert "apps/web/values.yaml" in result.stdout and hotfix[:12] in result.stdout
    assert "drift" in result.stdout.lower()

    data = run_cli(repo.path, "parity", "-o", "json").json()
    stg_prd = data["pairs"][1]
    assert stg_prd["state"] == "drift"
    assert stg_prd["drift"] == [{"path": "apps/web/values.yaml", "commits": [hotfix]}]
    assert data["apps"]["apps/web"]["prd"]["state"] == "drift"
    assert data["apps"]["apps/web"]["prd"]["image_tag"] == "2.0.1-hotfix"


def test_version_matrix_uses_effective_values(repo: GitopsRepo) -> None:
    release(repo, "0.2.0", "1.1.0")
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0
    # prd pins its own tag in its env file: the effective value wins over values.yaml
    repo.commit("prd", {"apps/api/values-prd.yaml": 'replicaCount: 3\nimage:\n  tag: "0.9.9"\n'}, "prd pins api")
    data = run_cli(repo.path, "parity", "-o", "json").json()
    api = data["apps"]["apps/api"]
    assert (api["dev"]["chart_version"], api["dev"]["app_version"], api["dev"]["image_tag"]) == (
        "0.2.0",
        "1.1.0",
        "1.1.0",
    )
    assert (api["stg"]["chart_version"], api["stg"]["image_tag"]) == ("0.2.0", "1.1.0")
    assert (api["prd"]["chart_version"], api["prd"]["app_version"], api["prd"]["image_tag"]) == (
        "0.1.0",
        "1.0.0",
        "0.9.9",
    )
    assert data["apps"]["apps/web"]["prd"]["image_tag"] == "2.0.0"
    text = run_cli(repo.path, "parity").stdout
    assert "chart 0.2.0" in text and "tag 0.9.9" in text


def test_absent_app_and_key_gaps(repo: GitopsRepo) -> None:
    repo.commit(
        "dev",
        {
            "apps/jobs/Chart.yaml": "name: jobs\nversion: 1.0.0\n",
            "apps/jobs/values.yaml": "image:\n  tag: j1\n",
        },
        "new app jobs",
    )
    # dev and prd set env.FEATURE; stg forgot it
    repo.commit(
        "dev", {"apps/api/values-dev.yaml": "replicaCount: 1\nenv:\n  LOG_LEVEL: debug\n  FEATURE: on\n"}, "feature dev"
    )
    repo.commit(
        "prd", {"apps/api/values-prd.yaml": "replicaCount: 3\nenv:\n  LOG_LEVEL: warn\n  FEATURE: off\n"}, "feature prd"
    )
    result = run_cli(repo.path, "parity", "-o", "json")
    data = result.json()
    assert data["apps"]["apps/jobs"]["dev"]["present"] is True
    assert data["apps"]["apps/jobs"]["stg"] == {
        "present": False,
        "chart_version": None,
        "app_version": None,
        "image_tag": None,
        "state": "pending",
        "problems": [],
    }
    gaps = [g for g in data["key_gaps"] if g["app"] == "apps/api"]
    assert {"app": "apps/api", "key": "env.FEATURE", "present_in": ["dev", "prd"], "missing_in": ["stg"]} in gaps
    assert not any(g["key"].startswith("resources") for g in gaps)  # prd-only keys are prd's business
    text = run_cli(repo.path, "parity")
    assert "key 'env.FEATURE' is set in dev, prd but not in stg" in text.stderr


def test_hand_merge_is_recognised_as_the_last_promotion(repo: GitopsRepo) -> None:
    """`git merge stg` on prd, outside the tool: the merge took stg's content, so it counts as
    the last promotion; parity, status and plan agree that nothing is pending and nothing drifts."""
    repo.commit("dev", {"apps/api/values.yaml": VALUES.format(tag="1.0.1")}, "api 1.0.1")
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0
    with Repository(repo.path) as git_repo:
        stg, prd = repo.head("stg"), repo.head("prd")
        merge = git_repo.commit_tree(git_repo.tree_of(stg), [prd, stg], "Merge branch 'stg' into prd\n")
        set_branch(git_repo, "prd", merge)
    result = run_cli(repo.path, "parity", "-o", "json")
    assert result.exit_code == 0, result.stdout
    pair = result.json()["pairs"][1]
    assert pair["drift"] == [] and pair["differences"] == [] and pair["state"] == "same"
    status = run_cli(repo.path, "status", "-o", "json").json()
    prd_row = next(e for e in status["environments"] if e["codename"] == "prd")
    assert prd_row["last_promotion"]["commit"] == merge and prd_row["drift"] == []
    plan = run_cli(repo.path, "plan", "stg", "prd", "-o", "json").json()
    assert plan["changes_target"] is False and plan["last_promotion"]["kind"] == "hand-merge"


def test_markdown_output(repo: GitopsRepo) -> None:
    release(repo, "0.2.0", "1.1.0")
    result = run_cli(repo.path, "parity", "-o", "markdown")
    assert result.exit_code == 0
    assert result.stdout.startswith("## Environment parity")
    assert "| app | dev | stg | prd |" in result.stdout
    assert "| <code>apps/api</code> | chart 0.2.0 · app 1.1.0 · tag 1.1.0 |" in result.stdout


def test_parity_fetches_from_the_remote(remote_setup: RemoteSetup) -> None:
    hotfix = remote_setup.remote.commit("prd", {"apps/api/values.yaml": "image:\n  tag: x\n"}, "hotfix on the server")
    result = run_cli(remote_setup.clone.path, "parity", "-o", "json")
    assert result.exit_code == 1
    assert result.json()["pairs"][1]["drift"][0]["commits"] == [hotfix]


# ---- the pure model ---------------------------------------------------------------------------


def test_deep_merge_follows_helm() -> None:
    base = {"image": {"repository": "r", "tag": "1"}, "env": {"A": 1, "B": 2}, "list": [1, 2]}
    overlay = {"image": {"tag": "2"}, "env": {"B": None}, "list": [3]}
    assert deep_merge(base, overlay) == {"image": {"repository": "r", "tag": "2"}, "env": {"A": 1}, "list": [3]}
    assert image_tag(deep_merge(base, overlay)) == "2"
    assert image_tag({"image": "nginx:1"}) is None


def test_leaf_keys_and_gaps() -> None:
    assert leaf_keys({"a": {"b": 1, "c": {}}, "d": [1]}) == {"a.b", "a.c", "d"}
    gaps = key_gaps("x", {"dev": {"a", "b"}, "stg": {"a"}, "prd": {"a", "b", "c"}}, ["dev", "stg", "prd"])
    assert [(g.key, g.present_in, g.missing_in) for g in gaps] == [("b", ("dev", "prd"), ("stg",))]
