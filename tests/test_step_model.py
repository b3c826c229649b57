"""Consequences of the one model of a step: app removal, saved plans, warnings everywhere."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import GitopsRepo, git, run_cli

from gitops_promote.adapters.git import Repository
from gitops_promote.adapters.scaffold import set_branch


def scaffolded(tmp_path: Path) -> Path:
    """A repository as `gitops init` makes it: charts, Argo CD Applications per environment."""
    path = tmp_path / "repo"
    assert run_cli(tmp_path, "init", str(path)).exit_code == 0
    return path


def remove_app_on_dev(path: Path, app: str) -> None:
    git(path, "checkout", "--quiet", "dev")
    git(path, "rm", "-r", "--quiet", f"apps/{app}", *(f"argocd/{e}/apps/{app}.yaml" for e in ("dev", "stg", "prd")))
    git(path, "commit", "--quiet", "-m", f"remove {app}")


def test_removing_an_app_takes_its_applications_out_downstream(tmp_path: Path) -> None:
    path = scaffolded(tmp_path)
    remove_app_on_dev(path, "web")
    plan = run_cli(path, "plan", "dev", "stg", "-o", "json").json()
    actions = {f["path"]: f["action"] for f in plan["files"]}
    assert actions["argocd/stg/apps/web.yaml"] == "orphaned"
    assert any(w["kind"] == "app-removed" and w["path"] == "argocd/stg/apps/web.yaml" for w in plan["warnings"])
    for source, target in (("dev", "stg"), ("stg", "prd")):
        result = run_cli(path, "promote", source, target)
        assert result.exit_code == 0, result.stderr
    for env in ("stg", "prd"):
        assert f"argocd/{env}/apps/web.yaml" not in git(path, "ls-tree", "-r", "--name-only", env)
    validated = run_cli(path, "validate")
    assert validated.exit_code == 0, validated.stdout + validated.stderr


def test_a_promotion_that_would_break_an_application_is_refused(tmp_path: Path) -> None:
    """values.yaml deleted upstream while stg's Application still lists it: refused, nothing moved."""
    path = scaffolded(tmp_path)
    git(path, "checkout", "--quiet", "dev")
    git(path, "rm", "--quiet", "apps/api/values.yaml")
    git(path, "commit", "--quiet", "-m", "drop api's values.yaml")
    before = git(path, "rev-parse", "stg")
    plan = run_cli(path, "plan", "dev", "stg", "-o", "json").json()
    invalid = [w for w in plan["warnings"] if w["kind"] == "invalid-result"]
    assert invalid and invalid[0]["path"] == "argocd/stg/apps/api.yaml"
    result = run_cli(path, "promote", "dev", "stg", "-o", "json")
    assert result.exit_code == 1
    assert result.json()["refused"] == "invalid-result"
    assert "would not pass validation" in result.stderr and "apps/api/values.yaml" in result.stderr
    assert git(path, "rev-parse", "stg") == before


def test_promote_plan_file_without_source_and_target(gitops_repo: GitopsRepo, tmp_path: Path) -> None:
    gitops_repo.commit("dev", {"apps/api/values.yaml": "image:\n  tag: '2.0.0'\n"}, "api 2.0.0")
    saved = tmp_path / "plan.json"
    assert run_cli(gitops_repo.path, "plan", "dev", "stg", "--save", str(saved)).exit_code == 0
    result = run_cli(gitops_repo.path, "promote", "--plan", str(saved))
    assert result.exit_code == 0, result.stderr
    assert gitops_repo.read("stg", "apps/api/values.yaml") == b"image:\n  tag: '2.0.0'\n"
    again = run_cli(gitops_repo.path, "promote", "--plan", str(saved))
    assert again.exit_code == 1 and "already applied" in again.stderr
    mismatch = run_cli(gitops_repo.path, "promote", "stg", "prd", "--plan", str(saved))
    assert mismatch.exit_code == 2 and "plans dev → stg" in mismatch.stderr
    assert run_cli(gitops_repo.path, "promote").exit_code == 2


def test_promote_shows_the_warnings_plan_shows(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit(
        "dev",
        {"apps/api/values-stg.yaml": "replicas: 1\nresources: {cpu: 1}\n", "apps/new/Chart.yaml": "name: new\n"},
        "more settings",
    )
    gitops_repo.commit("dev", {"apps/new/values-stg.yaml": "x: 1\n"}, "new app")
    plan = run_cli(gitops_repo.path, "plan", "dev", "stg", "-o", "json").json()
    dry = run_cli(gitops_repo.path, "promote", "dev", "stg", "--dry-run", "-o", "json").json()
    kinds = sorted(w["kind"] for w in plan["warnings"])
    assert kinds == sorted(w["kind"] for w in dry["warnings"]) and "seeded" in kinds
    text = run_cli(gitops_repo.path, "promote", "dev", "stg")
    assert text.exit_code == 0
    for warning in plan["warnings"]:
        assert warning["message"] in text.stderr


def test_a_refusal_in_json_still_prints_the_json_object(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit("stg", {"apps/api/values.yaml": "hotfix: true\n"}, "hotfix")
    gitops_repo.commit("dev", {"apps/web/values.yaml": "x: 1\n"}, "web")
    result = run_cli(gitops_repo.path, "promote", "dev", "stg", "-o", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["refused"] == "drift" and data["drift"][0]["path"] == "apps/api/values.yaml"
    assert "gitops backport stg" in result.stderr


def test_parity_prints_each_key_gap_once(gitops_repo: GitopsRepo) -> None:
    for branch in ("dev", "prd"):
        gitops_repo.commit(branch, {f"apps/api/values-{branch}.yaml": "replicas: 2\nlimits: {cpu: 2}\n"}, "limits")
    result = run_cli(gitops_repo.path, "parity")
    assert result.stderr.count("key 'limits.cpu'") == 1, result.stderr
    data = run_cli(gitops_repo.path, "parity", "-o", "json").json()
    assert [g["key"] for g in data["key_gaps"]].count("limits.cpu") == 1


def test_a_manual_fast_forward_is_the_last_promotion(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit("dev", {"apps/api/values.yaml": "x: 9\n"}, "x 9")
    with Repository(gitops_repo.path) as repo:
        set_branch(repo, "stg", gitops_repo.head("dev"))
    plan = run_cli(gitops_repo.path, "plan", "dev", "stg", "-o", "json").json()
    assert plan["changes_target"] is False and plan["commits"] == []
    assert plan["last_promotion"]["kind"] == "common-ancestor"
