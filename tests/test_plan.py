"""`gitops plan`: commits, actions, drift, warnings; a saved plan ships exactly what was reviewed."""

from __future__ import annotations

from pathlib import Path

from conftest import GitopsRepo, RemoteSetup, run_cli


def test_plan_lists_commits_actions_drift_and_warnings(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit("stg", {"apps/api/values-stg.yaml": "replicaCount: 2\n"}, "stg tuning")
    hotfix = gitops_repo.commit("stg", {"apps/web/templates/service.yaml": "hotfix: 1\n"}, "hotfix")
    work = gitops_repo.commit("dev", {
        "apps/api/values.yaml": "image:\n  tag: '1.1.0'\n",
        "apps/api/values-stg.yaml": "replicaCount: 2\ndatabase:\n  poolSize: 10\n",
        "apps/new/Chart.yaml": "apiVersion: v2\nname: new\nversion: 0.1.0\n",
        "apps/new/values-stg.yaml": "replicaCount: 1\n",
    }, "api 1.1.0 and a new app")  # fmt: skip
    stg = gitops_repo.head("stg")
    result = run_cli(gitops_repo.path, "plan", "dev", "stg", "-o", "json")
    assert result.exit_code == 0, result.stderr
    plan = result.json()
    assert plan["schema"] == 1 and plan["source_commit"] == work and plan["target_commit"] == stg
    assert [c["sha"] for c in plan["commits"]] == [work]
    assert plan["commits"][0]["subject"] == "api 1.1.0 and a new app"
    assert plan["commits"][0]["author"] == "Test Author <author@example.com>"
    assert {"path": "apps/new/values-stg.yaml", "action": "seeded"} in plan["files"]
    assert {"path": "apps/api/values-stg.yaml", "action": "kept"} in plan["files"]
    assert plan["drift"] == [{"path": "apps/web/templates/service.yaml", "commits": [hotfix]}]
    kinds = {(w["kind"], w["path"]) for w in plan["warnings"]}
    assert ("seeded", "apps/new/values-stg.yaml") in kinds
    assert ("missing-keys", "apps/api/values-stg.yaml") in kinds
    missing = next(w for w in plan["warnings"] if w["kind"] == "missing-keys")
    assert "database.poolSize" in missing["message"]
    assert gitops_repo.head("stg") == stg  # a plan writes nothing

    text = run_cli(gitops_repo.path, "plan", "dev", "stg")
    assert "database.poolSize" in text.stdout and "Drift" in text.stdout
    markdown = run_cli(gitops_repo.path, "plan", "dev", "stg", "-o", "markdown").stdout
    assert (
        markdown.startswith("## Promotion plan: dev → stg")
        and "| seeded | <code>apps/new/values-stg.yaml</code> |" in markdown
    )


def test_saved_plan_applies_exactly(remote_setup: RemoteSetup, tmp_path: Path) -> None:
    remote, clone = remote_setup.remote, remote_setup.clone
    reviewed = remote.commit("dev", {"apps/api/values.yaml": "tag: reviewed\n"}, "reviewed change")
    saved = tmp_path / "plan.json"
    assert run_cli(clone.path, "plan", "dev", "stg", "--save", str(saved)).exit_code == 0
    result = run_cli(clone.path, "promote", "dev", "stg", "--plan", str(saved), "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["source_commit"] == reviewed
    assert remote.read("stg", "apps/api/values.yaml") == b"tag: reviewed\n"


def test_saved_plan_refuses_after_a_branch_moved(remote_setup: RemoteSetup, tmp_path: Path) -> None:
    remote, clone = remote_setup.remote, remote_setup.clone
    remote.commit("dev", {"apps/api/values.yaml": "tag: reviewed\n"}, "reviewed change")
    saved = tmp_path / "plan.json"
    assert run_cli(clone.path, "plan", "dev", "stg", "--save", str(saved)).exit_code == 0
    remote.commit("dev", {"apps/api/values.yaml": "tag: not reviewed\n"}, "sneaked in")
    stg = remote.head("stg")
    refused = run_cli(clone.path, "promote", "dev", "stg", "--plan", str(saved))
    assert refused.exit_code == 1 and "dev moved" in refused.stderr
    assert remote.head("stg") == stg

    assert run_cli(clone.path, "plan", "dev", "stg", "--save", str(saved)).exit_code == 0
    remote.commit("stg", {"apps/api/values-stg.yaml": "replicaCount: 9\n"}, "stg tuned meanwhile")
    refused = run_cli(clone.path, "promote", "dev", "stg", "--plan", str(saved))
    assert refused.exit_code == 1 and "stg moved" in refused.stderr


def test_saved_plan_for_other_step_or_garbage(gitops_repo: GitopsRepo, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    gitops_repo.commit("dev", {"a.yaml": "a: 1\n"})
    assert run_cli(gitops_repo.path, "plan", "dev", "stg", "--save", str(saved)).exit_code == 0
    other = run_cli(gitops_repo.path, "promote", "stg", "prd", "--plan", str(saved))
    assert other.exit_code == 2 and "plans dev → stg, not stg → prd" in other.stderr
    saved.write_text("{not json")
    bad = run_cli(gitops_repo.path, "promote", "dev", "stg", "--plan", str(saved))
    assert bad.exit_code == 2 and "cannot read the saved plan" in bad.stderr
