"""`gitops verify` recomputes promotions with every rule `promote` applies, so that real
promotions are never reported: env-specific keys, the target's own registry entry, apps removed
upstream (their Applications orphaned). Each test promotes with the tool, then verifies."""

from __future__ import annotations

from pathlib import Path

from conftest import REGISTRY, make_gitops_repo, run_cli
from test_env_keys import APP, KEYS_REGISTRY
from test_step_model import remove_app_on_dev, scaffolded


def _clean(path: Path, env: str) -> None:
    result = run_cli(path, "verify", env, "-o", "json")
    assert result.exit_code == 0, result.stdout
    assert [c["kind"] for c in result.json()["commits"]].count("promotion") >= 1


def test_promotions_with_env_specific_keys_verify(tmp_path: Path) -> None:
    repo = make_gitops_repo(
        tmp_path / "repo", {"environments.yaml": KEYS_REGISTRY, "argocd/api.yaml": APP.format(branch="dev")}
    )
    repo.commit("stg", {"argocd/api.yaml": APP.format(branch="stg")}, "stg tracks stg")
    repo.commit("dev", {"argocd/api.yaml": APP.format(branch="dev").replace("prune: true", "prune: false")}, "no prune")
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0
    _clean(repo.path, "stg")
    # and a hand edit of a kept key after the fact is drift, not a broken promotion
    repo.commit("stg", {"argocd/api.yaml": APP.format(branch="stg").replace("api-stg", "elsewhere")}, "move ns")
    findings = run_cli(repo.path, "verify", "stg", "-o", "json").json()["findings"]
    assert [f["kind"] for f in findings] == ["drift"]


def test_promotions_that_keep_the_targets_registry_entry_verify(tmp_path: Path) -> None:
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    proposal = REGISTRY.replace('availability: "90%"', 'availability: "95%"')
    repo.commit("dev", {"environments.yaml": proposal, "apps/api/values.yaml": "replicas: 2\n"}, "propose 95%")
    result = run_cli(repo.path, "promote", "dev", "stg")
    assert result.exit_code == 0, result.stderr
    assert b'availability: "90%"' in repo.read("stg", "environments.yaml")  # stg's own entry kept
    _clean(repo.path, "stg")


def test_app_removal_downstream_verifies(tmp_path: Path) -> None:
    path = scaffolded(tmp_path)
    remove_app_on_dev(path, "web")
    for source, target in (("dev", "stg"), ("stg", "prd")):
        assert run_cli(path, "promote", source, target).exit_code == 0
    _clean(path, "stg")
    _clean(path, "prd")
