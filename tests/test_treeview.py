"""Tree views of a step (adapters/treeview.py): lookups instead of listings, with real git."""

from __future__ import annotations

import os
import subprocess
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


def _commit_of(repo: Path, entries: dict[str, tuple[str, str]]) -> str:
    """A commit of exactly `entries` (path -> (mode, object id)), built with a scratch index
    (a submodule's commit need not exist for its entry to be written)."""
    env = {**os.environ, "GIT_INDEX_FILE": str(repo / "scratch-index")}
    index = "".join(f"{mode} {oid}\t{path}\n" for path, (mode, oid) in entries.items())

    def run(*args: str, stdin: bytes | None = None) -> str:
        done = subprocess.run(["git", *args], cwd=repo, input=stdin, env=env, capture_output=True, check=True)
        return done.stdout.decode().strip()

    run("read-tree", "--empty")
    run("update-index", "--add", "--index-info", stdin=index.encode())
    return run("-c", "user.name=t", "-c", "user.email=t@example.com", "commit-tree", run("write-tree"), "-m", "entries")


def test_presence_is_what_the_entries_say_for_every_kind_of_entry(tmp_path: Path) -> None:
    """`prefetch_presence` asks git `<tree>:<name>` instead of reading directories: a file, an
    executable, a symlink and a submodule (its commit absent here) are present; a directory
    and nothing are not; each answer is what `get` says on a fresh view, on both sides."""
    repo = tmp_path / "repo.git"
    git(tmp_path, "init", "--quiet", "--bare", str(repo))
    blob = git(repo, "hash-object", "-w", "--stdin", input=b"name: chart\n")
    values = {side: git(repo, "hash-object", "-w", "--stdin", input=f"side: {side}\n".encode()) for side in "ab"}
    missing_commit = "1" * 40
    charts = {
        "file": ("100644", blob),
        "exec": ("100755", blob),
        "link": ("120000", blob),
        "module": ("160000", missing_commit),
        "dir": None,  # Chart.yaml/ is a directory here
        "none": (),  # no Chart.yaml at all
    }

    def side(name: str) -> dict[str, tuple[str, str]]:
        entries = {}
        for app, chart in charts.items():
            entries[f"apps/{app}/values.yaml"] = ("100644", values[name])  # the directory differs
            if chart is None:
                entries[f"apps/{app}/Chart.yaml/inside.yaml"] = ("100644", blob)
            elif chart:
                entries[f"apps/{app}/Chart.yaml"] = chart
        return entries

    dev, stg = _commit_of(repo, side("a")), _commit_of(repo, side("b"))
    paths = [f"apps/{app}/Chart.yaml" for app in charts] + ["Chart.yaml", "apps/Chart.yaml"]
    with Repository(repo) as git_repo:
        _records, source, target = treeview.pair(git_repo, dev, stg)
        source.prefetch_presence(paths)
        target.prefetch_presence(paths)  # answered from what the source's lookups found
        _records, fresh_source, fresh_target = treeview.pair(git_repo, dev, stg)
        for path in paths:
            expected = fresh_source.get(path) is not None
            assert (path in source, path in target) == (expected, fresh_target.get(path) is not None), path
        present = [f"apps/{app}/Chart.yaml" for app in ("file", "exec", "link", "module")]
        assert [p for p in paths if p in source] == present
        assert source._present  # answered by git's `<tree>:<name>`, not by reading the directories
