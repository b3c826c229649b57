"""`gitops history ENV`: promotions with their source commits, rollbacks and direct commits."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RemoteSetup, make_gitops_repo, run_cli

from gitops_promote.core.promotion import ADDED, DELETED, MODIFIED, FileAction
from gitops_promote.core.tree import TreeEntry


def test_history_lists_promotions_newest_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: the table's cells stay on one line
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    one = repo.commit("dev", {"apps/api/values.yaml": "image:\n  tag: '1'\n"}, "api 1")
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0
    first = repo.head("stg")
    direct = repo.commit("stg", {"apps/api/values-stg.yaml": "replicaCount: 4\n"}, "stg: scale up")
    two = repo.commit("dev", {"apps/web/values.yaml": "image:\n  tag: '2'\n", "apps/web/NOTES.txt": "hi\n"}, "web 2")
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0
    second = repo.head("stg")

    result = run_cli(repo.path, "history", "stg", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["head"] == second and data["more"] is False
    entries = data["entries"]
    assert [e["kind"] for e in entries] == ["promotion", "direct", "promotion", "direct"]
    assert [e["commit"] for e in entries[:3]] == [second, direct, first]
    assert (entries[0]["source"], entries[0]["source_commit"]) == ("dev", two)
    assert (entries[2]["source"], entries[2]["source_commit"]) == ("dev", one)
    assert entries[0]["author"].startswith("Test Author") and entries[0]["date"]
    assert {f["path"] for f in entries[0]["files"]} == {"apps/web/values.yaml", "apps/web/NOTES.txt"}
    assert entries[1]["files"] == [{"path": "apps/api/values-stg.yaml", "action": "modified"}]

    text = run_cli(repo.path, "history", "stg").stdout
    assert f"dev@{two[:12]}" in text and "stg: scale up" in text and "direct" in text

    limited = run_cli(repo.path, "history", "stg", "--limit", "1", "-o", "json").json()
    assert [e["commit"] for e in limited["entries"]] == [second] and limited["more"] is True
    every = len(entries)  # down to the first commit: nothing more, though the limit is reached
    exact = run_cli(repo.path, "history", "stg", "--limit", str(every), "-o", "json").json()
    assert len(exact["entries"]) == every and exact["more"] is False
    assert run_cli(repo.path, "history", "stg", "--limit", str(every - 1), "-o", "json").json()["more"] is True
    assert "--limit 0" in run_cli(repo.path, "history", "stg", "--limit", "1").stderr


def test_history_reads_the_remote(remote_setup: RemoteSetup) -> None:
    clone = remote_setup.clone
    remote_setup.remote.commit("dev", {"apps/api/values.yaml": "image:\n  tag: '3'\n"}, "api 3")
    assert run_cli(clone.path, "promote", "dev", "stg").exit_code == 0
    data = run_cli(clone.path, "history", "stg", "-o", "json").json()
    assert data["ref"] == "refs/remotes/origin/stg"
    assert data["entries"][0]["commit"] == remote_setup.remote.head("stg")


def test_history_of_an_unknown_environment_is_a_usage_error(tmp_path: Path) -> None:
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    result = run_cli(repo.path, "history", "prod")
    assert result.exit_code == 2
    assert "did you mean 'prd'" in result.stderr
    assert run_cli(repo.path, "history", "prd", "--limit", "-1").exit_code == 2


def test_files_per_entry_come_from_one_log_and_match_the_tree_comparison(tmp_path: Path) -> None:
    """history's files (one `git log --name-status`) equal a comparison of each commit's tree
    with its first parent's, through promotions (merges), direct commits, deletions, the root,
    and a file whose name looks like the start of a commit's record."""
    from conftest import make_gitops_repo

    from gitops_promote.adapters.git import Repository
    from gitops_promote.commands._branchlog import entries, entries_with_files

    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    repo.commit("dev", {"apps/api/values.yaml": "x: 1\n", "apps/new/a.yaml": "a: 1\n"}, "dev change")
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0
    repo.commit("stg", {"apps/api/values-stg.yaml": "y: 2\n", "apps/web/values.yaml": None}, "direct, deletion")
    repo.commit("stg", {}, "empty")
    repo.commit("stg", {"0123456789abcdef0123456789abcdef01234567\nM": "z: 1\n"}, "a name like a record")
    # names that could pass for the parts of git's output, and names whose bytes sort unlike
    # their text (not UTF-8 beside a character outside the BMP): read and sorted by path
    odd = ["A", "M", "\nD", "apps/x\udcff", "apps/x\U0001f600", 'apps/\t"q"\\']
    repo.commit("stg", {name: "v: 1\n" for name in odd}, "odd names")
    repo.commit("stg", {name: None for name in odd[:3]}, "odd names, some deleted")
    with Repository(repo.path) as git_repo:
        found = entries_with_files(git_repo, repo.head("stg"))
        assert [(e.commit, e.subject, e.parents) for e in found] == [
            (e.commit, e.subject, e.parents) for e in entries(git_repo, repo.head("stg"))
        ]
        assert len(found) >= 7
        assert set(odd) <= {f.path for e in found for f in e.files or ()}
        for entry in found:
            before = git_repo.ls_tree(entry.parents[0]) if entry.parents else {}
            assert entry.files == changed_files(before, git_repo.ls_tree(entry.commit)), entry.subject


def changed_files(before: dict[str, TreeEntry], after: dict[str, TreeEntry]) -> list[FileAction]:
    """The oracle: every file whose entry differs between two listings."""
    actions = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old != new:
            actions.append(FileAction(path, ADDED if old is None else DELETED if new is None else MODIFIED))
    return actions
