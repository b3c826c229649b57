"""Writing whole commits from file contents with git plumbing (no checkout, no index of the repo).

Used by `gitops demo`, `gitops init` and the test-suite's repository builders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gitops_promote.adapters.git import Repository
from gitops_promote.core.tree import TreeEntry

FileSpec = bytes | str | tuple[str, bytes | str]  # content, or (mode, content) for links/executables


def _content(spec: bytes | str) -> bytes:
    return spec.encode() if isinstance(spec, str) else spec


def tree_from_files(repo: Repository, files: Mapping[str, FileSpec]) -> dict[str, TreeEntry]:
    specs = [spec if isinstance(spec, tuple) else ("100644", spec) for spec in files.values()]
    shas = repo.write_blobs([_content(content) for _mode, content in specs])
    return {path: TreeEntry(mode, sha) for path, (mode, _content_), sha in zip(files, specs, shas, strict=True)}


def commit_files(repo: Repository, files: Mapping[str, FileSpec], parents: Sequence[str], message: str) -> str:
    """A commit whose tree holds exactly `files`."""
    tree = repo.write_tree(tree_from_files(repo, files))
    return repo.commit_tree(tree, parents, message)


def commit_changes(repo: Repository, parent: str, changes: Mapping[str, FileSpec | None], message: str) -> str:
    """A commit on top of `parent` that writes (or, with None, deletes) the given paths."""
    entries = dict(repo.ls_tree(parent))
    for path in [p for p, spec in changes.items() if spec is None]:
        entries.pop(path, None)
    entries.update(tree_from_files(repo, {p: spec for p, spec in changes.items() if spec is not None}))
    return repo.commit_tree(repo.write_tree(entries), [parent], message)


def set_branch(repo: Repository, branch: str, commit: str) -> None:
    ref = f"refs/heads/{branch}"
    if not repo.update_ref(ref, commit, repo.resolve_commit(ref), "gitops scaffold"):
        raise RuntimeError(f"{ref} moved while it was being set")
