"""`gitops validate` on big trees (issue 12: 100,000 files in one directory took 16.5 s): a blob
several branches share is read once, and per-app rules look at the app's own paths."""

from __future__ import annotations

from conftest import GitopsRepo, run_cli

from gitops_promote.adapters.git import Repository
from gitops_promote.commands.validate import tree_files
from gitops_promote.core.validation.files import Files


def test_files_under_a_directory_is_exactly_the_prefix_match() -> None:
    """Per-app rules read `Files.under(app_dir)` (a bisection) instead of scanning every path
    per app: it gives what the scan gave."""
    paths = ["apps/a/x.yaml", "apps/a-b/y.yaml", "apps/a0/z.yaml", "apps/a/t/u.yaml", "apps/ab.yaml", "b", "apps/a"]
    files = Files(dict.fromkeys(paths, b""))
    for directory in ("apps/a", "apps", "apps/a/t", "apps/none", ""):
        expected = sorted(p for p in paths if not directory or p.startswith(directory + "/"))
        assert files.under(directory) == expected, directory


def test_blobs_shared_by_branches_are_read_once(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit("dev", {"apps/api/values.yaml": "replicas: 2\n"})
    blobs: dict[str, bytes] = {}
    with Repository(gitops_repo.path) as repo:
        dev = tree_files(repo, gitops_repo.head("dev"), blobs)
        read_for_dev = len(blobs)
        stg = tree_files(repo, gitops_repo.head("stg"), blobs)
    assert len(blobs) == read_for_dev + 1  # only stg's own values.yaml was new
    assert dev["apps/web/values.yaml"] is stg["apps/web/values.yaml"]  # the same bytes, not a second read
    assert dev["apps/api/values.yaml"] != stg["apps/api/values.yaml"]


def test_validate_of_every_branch_still_reports_each_branch(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit("stg", {"apps/api/values-stg.yaml": None})
    result = run_cli(gitops_repo.path, "validate", "-o", "json")
    assert result.exit_code == 1, result.stderr
    errors = {env["env"]: env["errors"] for env in result.json()["environments"]}
    assert errors == {"dev": 0, "stg": 1, "prd": 0}
