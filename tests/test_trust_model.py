"""Who decides a step (docs/registry.md): the target's own registry, never a commit upstream."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REGISTRY, GitopsRepo, RemoteSetup, git, make_gitops_repo, run_cli, standard_files

FREEZE_ALWAYS = (
    "    freeze:\n"
    '      - {from: "2020-01-01T00:00:00Z", to: "2099-01-01T00:00:00Z", reason: "prd frozen by its owner"}\n'
)
PRD_ENTRY_END = "    backups: {enabled: true, policy: TBD}\n"


def swapped_branches(registry: str) -> str:
    """stg's entry says branch prd and prd's entry says branch stg: one innocent-looking commit."""
    text = registry.replace("  - codename: stg\n", "  - codename: stg\n    branch: prd\n")
    return text.replace("  - codename: prd\n", "  - codename: prd\n    branch: stg\n")


def heads(repo: GitopsRepo) -> dict[str, str]:
    return {b: repo.head(b) for b in ("dev", "stg", "prd")}


def test_swapping_branches_on_dev_cannot_redirect_a_promotion(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit("dev", {"environments.yaml": swapped_branches(REGISTRY)}, "tidy the registry")
    gitops_repo.commit("dev", {"apps/api/values.yaml": "image:\n  tag: evil\n"}, "api evil")
    before = heads(gitops_repo)
    result = run_cli(gitops_repo.path, "promote", "dev", "stg")
    assert result.exit_code == 2, result.stderr
    assert "disagree on which branch is stg" in result.stderr
    assert "dev:environments.yaml" in result.stderr and "prd:environments.yaml" in result.stderr
    assert heads(gitops_repo) == before
    assert run_cli(gitops_repo.path, "plan", "dev", "stg").exit_code == 2


def test_swapping_branches_is_refused_from_a_clone_on_dev_too(remote_setup: RemoteSetup) -> None:
    """The working tree holds dev's registry: it still must agree with the branches'."""
    server, clone = remote_setup.remote, remote_setup.clone
    server.commit("dev", {"environments.yaml": swapped_branches(REGISTRY)}, "tidy the registry")
    git(clone.path, "pull", "--quiet", "--ff-only")
    before = heads(server)
    result = run_cli(clone.path, "promote", "dev", "stg")
    assert result.exit_code == 2 and "disagree" in result.stderr
    assert heads(server) == before


def test_an_order_committed_on_dev_cannot_skip_stg(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit(
        "dev", {"environments.yaml": REGISTRY.replace("order: [dev, stg, prd]", "order: [dev, prd, stg]")}, "order"
    )
    before = heads(gitops_repo)
    result = run_cli(gitops_repo.path, "promote", "dev", "prd")
    assert result.exit_code == 2
    assert "skips an environment" in result.stderr and "prd:environments.yaml" in result.stderr
    assert heads(gitops_repo) == before


def test_a_freeze_committed_on_prd_is_honoured_and_is_not_drift(
    gitops_repo: GitopsRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen = REGISTRY.replace(PRD_ENTRY_END, PRD_ENTRY_END + FREEZE_ALWAYS)
    gitops_repo.commit("prd", {"environments.yaml": frozen}, "freeze prd")
    renamed = REGISTRY.replace("name: Development", "name: Development area")
    gitops_repo.commit("dev", {"environments.yaml": renamed, "apps/api/values.yaml": "x: 1\n"}, "rename dev")
    assert run_cli(gitops_repo.path, "promote", "dev", "stg").exit_code == 0

    plan = run_cli(gitops_repo.path, "plan", "stg", "prd", "-o", "json").json()
    assert plan["drift"] == []
    assert plan["freeze"]["allowed"] is False and "prd frozen by its owner" in plan["freeze"]["message"]
    text_plan = run_cli(gitops_repo.path, "plan", "stg", "prd")
    assert "Freeze: prd is frozen" in text_plan.stdout
    before = gitops_repo.head("prd")
    refused = run_cli(gitops_repo.path, "promote", "stg", "prd")
    assert refused.exit_code == 1 and "frozen" in refused.stderr
    assert gitops_repo.head("prd") == before

    done = run_cli(gitops_repo.path, "promote", "stg", "prd", "--override-freeze", "--reason", "INC-1")
    assert done.exit_code == 0, done.stderr
    written = gitops_repo.read("prd", "environments.yaml").decode()
    assert "prd frozen by its owner" in written, "prd keeps its own entry"
    assert "name: Development area" in written, "the rest of the registry is promoted"
    assert written == renamed.replace(PRD_ENTRY_END, PRD_ENTRY_END + FREEZE_ALWAYS)


def test_a_freeze_lifted_upstream_is_a_proposal_only(gitops_repo: GitopsRepo) -> None:
    frozen = REGISTRY.replace(PRD_ENTRY_END, PRD_ENTRY_END + FREEZE_ALWAYS)
    for branch in ("dev", "stg", "prd"):
        gitops_repo.commit(branch, {"environments.yaml": frozen}, "freeze prd")
    gitops_repo.commit("stg", {"environments.yaml": REGISTRY, "apps/api/values.yaml": "x: 2\n"}, "lift it")
    plan = run_cli(gitops_repo.path, "plan", "stg", "prd", "-o", "json").json()
    kinds = {w["kind"] for w in plan["warnings"]}
    assert "registry-proposal" in kinds
    assert plan["freeze"]["allowed"] is False
    assert run_cli(gitops_repo.path, "promote", "stg", "prd").exit_code == 1


def test_registry_override_says_it_replaces_the_branches_registries(gitops_repo: GitopsRepo, tmp_path: Path) -> None:
    registry = tmp_path / "registry.yaml"
    registry.write_text(REGISTRY)
    gitops_repo.commit("dev", {"apps/api/values.yaml": "x: 3\n"}, "change")
    result = run_cli(gitops_repo.path, "promote", "dev", "stg", "--registry", str(registry), "--dry-run")
    assert result.exit_code == 0
    assert "replaces the registries committed on dev and stg" in result.stderr


def test_bootstrap_first_promotion_into_a_branch_without_a_registry(tmp_path: Path) -> None:
    """The branches exist before the tool is adopted: dev commits the registry first."""
    files = {k: v for k, v in standard_files().items() if k != "environments.yaml"}
    repo = make_gitops_repo(tmp_path / "repo", files, bare=True)
    repo.commit("dev", {"environments.yaml": REGISTRY}, "adopt gitops-promote")
    plan = run_cli(repo.path, "plan", "dev", "stg", "-o", "json").json()
    assert any(w["kind"] == "bootstrap" for w in plan["warnings"])
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0
    assert repo.read("stg", "environments.yaml").decode() == REGISTRY
    second = run_cli(repo.path, "plan", "stg", "prd", "-o", "json").json()
    assert any(w["kind"] == "bootstrap" for w in second["warnings"])


def test_promote_dev_into_itself_says_so(gitops_repo: GitopsRepo) -> None:
    result = run_cli(gitops_repo.path, "promote", "dev", "dev")
    assert result.exit_code == 2 and "into itself" in result.stderr and "backwards" not in result.stderr


def test_the_kept_entry_follows_the_source_indentation(gitops_repo: GitopsRepo) -> None:
    """dev re-indents its registry (`- codename` at column 0): prd's own entry still fits in."""
    frozen = REGISTRY.replace(PRD_ENTRY_END, PRD_ENTRY_END + FREEZE_ALWAYS)
    gitops_repo.commit("prd", {"environments.yaml": frozen}, "freeze prd")
    flat = REGISTRY.replace("\n  - codename", "\n- codename").replace("\n    ", "\n  ")
    gitops_repo.commit("stg", {"environments.yaml": flat, "apps/api/values.yaml": "x: 5\n"}, "re-indent")
    result = run_cli(gitops_repo.path, "promote", "stg", "prd", "--override-freeze", "--reason", "test")
    assert result.exit_code == 0, result.stderr
    written = gitops_repo.read("prd", "environments.yaml").decode()
    assert "prd frozen by its owner" in written and written.startswith(flat.split("- codename: prd")[0])
    plan = run_cli(gitops_repo.path, "plan", "stg", "prd", "-o", "json").json()
    assert plan["freeze"]["allowed"] is False
