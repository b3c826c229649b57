"""Tree views of a step (adapters/treeview.py): lookups instead of listings, with real git."""

from __future__ import annotations

from pathlib import Path

from conftest import git, make_gitops_repo, run_cli
from test_step_model import scaffolded

from gitops_promote.adapters import treeview
from gitops_promote.adapters.git import Repository


def test_views_answer_like_the_listings_and_share_lookups(tmp_path: Path) -> None:
    repo = make_gitops_repo(tmp_path / "repo.git", bare=True)
    repo.commit("dev", {"apps/api/values.yaml": "image: {tag: '2'}\n", "clash": "a file on dev\n"})
    repo.commit("stg", {"clash/inside.yaml": "a directory on stg\n", "apps/web/values-stg.yaml": "x: 1\n"})
    with Repository(repo.path) as git_repo:
        dev, stg = git_repo.resolve_commit("refs/heads/dev"), git_repo.resolve_commit("refs/heads/stg")
        assert dev and stg
        _records, source, target = treeview.pair(git_repo, dev, stg)
        dev_listing, stg_listing = git_repo.ls_tree(dev), git_repo.ls_tree(stg)
        for path in sorted({*dev_listing, *stg_listing, "clash", "apps", "absent.yaml"}):
            assert source.get(path) == dev_listing.get(path), path
            assert target.get(path) == stg_listing.get(path), path
        assert target.is_dir("clash") and not source.is_dir("clash") and source.get("clash") is not None
        assert source.is_dir("apps/api") and not source.is_dir("apps/api/values.yaml")
        # an equal path looked up on one side is known to the other without asking git again
        source.prefetch(["apps/web/Chart.yaml"])
        assert "apps/web/Chart.yaml" in target._shared
        assert dict(source) == dev_listing and len(target) == len(stg_listing)


def test_an_application_the_source_still_carries_goes_with_its_app(tmp_path: Path) -> None:
    """dev removes apps/web but leaves stg's Application alone: the same bytes on both
    branches, so not among the differing paths; it is found at the layout's place."""
    path = scaffolded(tmp_path)
    git(path, "checkout", "--quiet", "dev")
    git(path, "rm", "-r", "--quiet", "apps/web")
    git(path, "commit", "--quiet", "-m", "remove web, keep the Applications")
    assert git(path, "rev-parse", "dev:argocd/stg/apps/web.yaml") == git(
        path, "rev-parse", "stg:argocd/stg/apps/web.yaml"
    )
    plan = run_cli(path, "plan", "dev", "stg", "-o", "json").json()
    actions = {f["path"]: f["action"] for f in plan["files"]}
    assert actions["argocd/stg/apps/web.yaml"] == "orphaned"
    assert any(w["kind"] == "app-removed" and w["path"] == "argocd/stg/apps/web.yaml" for w in plan["warnings"])
    assert run_cli(path, "promote", "dev", "stg", "--no-push").exit_code == 0
    assert "argocd/stg/apps/web.yaml" not in git(path, "ls-tree", "-r", "--name-only", "stg")
    assert "argocd/stg/apps/api.yaml" in git(path, "ls-tree", "-r", "--name-only", "stg")


def test_an_application_directory_of_the_layout_goes_with_its_app(tmp_path: Path) -> None:
    """`argocd/<env>/apps/<name>/` holding the Application: the one directory is listed."""
    path = scaffolded(tmp_path)
    for branch in ("stg", "dev"):
        git(path, "checkout", "--quiet", branch)
        (path / "argocd/stg/apps/web").mkdir()
        git(path, "mv", "argocd/stg/apps/web.yaml", "argocd/stg/apps/web/application.yaml")
        git(path, "commit", "--quiet", "-m", f"{branch}: the web Application in a directory")
    git(path, "rm", "-r", "--quiet", "apps/web")
    git(path, "commit", "--quiet", "-m", "remove web")
    plan = run_cli(path, "plan", "dev", "stg", "-o", "json").json()
    actions = {f["path"]: f["action"] for f in plan["files"]}
    assert actions["argocd/stg/apps/web/application.yaml"] == "orphaned"
