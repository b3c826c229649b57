from __future__ import annotations

from pathlib import Path

from conftest import GitopsRepo, run_cli


def test_promote_dev_to_stg_locally(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit("dev", {"apps/api/values.yaml": "image:\n  tag: '1.1.0'\n"}, "api 1.1.0")
    result = run_cli(gitops_repo.path, "promote", "dev", "stg", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["promoted"] is True
    assert {"path": "apps/api/values.yaml", "action": "modified"} in data["files"]
    assert gitops_repo.head("stg") == data["target_commit"]


def test_help_lists_commands(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--help")
    assert result.exit_code == 0
    assert "promote" in result.stdout
