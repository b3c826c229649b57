"""The promotion rules, as a pure function from two tree listings to the new tree.

Rules (docs/promotion-rules.md), for the target environment's owned (env-specific) paths:
  a. present in the target: the target's entry is kept byte for byte (same blob id);
  b. present only in the source: seeded from the source, reported for review;
  c. present in the target while its directory has no file at all in the source: orphaned,
     removed with the app it belonged to;
  d. every other path is the source's: added, modified or deleted.
With a scope (`--app`, docs/per-app.md), rules a-d apply to the paths in scope only; every path
outside it keeps the target's entry (or stays absent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from gitops_promote.core.tree import TreeEntry
from gitops_promote.errors import RefusedError

ADDED, MODIFIED, DELETED, KEPT, SEEDED, ORPHANED = "added", "modified", "deleted", "kept", "seeded", "orphaned"
ACTIONS = (ADDED, MODIFIED, DELETED, KEPT, SEEDED, ORPHANED)
CLASH_HINT = (
    "an environment-specific file of the target sits where the source now has a "
    "directory; move or delete it on the target branch, then promote again"
)
SCOPED_CLASH_HINT = (
    "a file of the target outside the apps promoted sits where an app now has a directory; "
    "promote without --app, or move the file on the target branch first"
)


class FileAction(NamedTuple):
    """What a step (or a commit) does to one path. A tuple: a history lists 140,000 of them
    for a repository's first commit, and a frozen dataclass costs three times as much to make."""

    path: str
    action: str
    # env_specific_keys: keys of this promoted file that kept the target's values
    kept_keys: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"path": self.path, "action": self.action}
        if self.kept_keys:
            data["kept_keys"] = list(self.kept_keys)
        return data


@dataclass
class TreePlan:
    """The tree a promotion writes, and what happens to each path that is not simply equal."""

    entries: dict[str, TreeEntry]
    actions: list[FileAction] = field(default_factory=list)

    def changes_target(self, target: Mapping[str, TreeEntry]) -> bool:
        return self.entries != dict(target)

    def count(self, action: str) -> int:
        return sum(1 for a in self.actions if a.action == action)


def directories_of(tree: Iterable[str]) -> set[str]:
    """Every directory that holds one of the paths (written out: it runs on 14,000 paths)."""
    dirs: set[str] = set()
    for path in tree:
        parent = path.rpartition("/")[0]
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = parent.rpartition("/")[0]
    return dirs


def plan_tree(
    source: Mapping[str, TreeEntry],
    target: Mapping[str, TreeEntry],
    owned: Callable[[str], bool],
    scope: Callable[[str], bool] | None = None,
) -> TreePlan:
    """Apply rules a-d. `owned(path)` says whether the target environment owns `path`;
    `scope(path)`, when given, whether the promotion carries `path` at all."""
    # A path with the same entry on both sides ends up with that entry under every rule (its
    # directory exists in the source, so rule c cannot apply): only differing paths need rules.
    entries = {path: entry for path, entry in source.items() if target.get(path) == entry}
    differing = sorted(path for path in {*source, *target} if path not in entries)
    source_dirs = _LazyDirectories(source)
    actions: list[FileAction] = []
    for path in differing:
        in_source, in_target = source.get(path), target.get(path)
        if scope is not None and not scope(path):
            if in_target is not None:
                entries[path] = in_target  # outside the apps promoted: the target's, untouched
            continue
        if owned(path):
            action = _owned_path(path, in_source, in_target, source_dirs, entries)
        else:
            action = _common_path(path, in_source, in_target, entries)
        if action:
            actions.append(FileAction(path, action))
    if scope is None:
        _refuse_conflicts(entries, source, source_dirs)
    else:
        _refuse_clashes_in(entries)
    return TreePlan(entries, actions)


def _refuse_clashes_in(entries: Mapping[str, TreeEntry]) -> None:
    """With a scope, the target's files outside it can clash too: check the whole result."""
    dirs = directories_of(entries)
    clashes = sorted(p for p in entries if p in dirs)
    if clashes:
        raise RefusedError(
            "the promotion would need both a file and a directory at " + ", ".join(repr(c) for c in clashes[:5]),
            hint=SCOPED_CLASH_HINT,
        )


class _LazyDirectories:
    """The source's directories, computed the first time rule c or the conflict check asks."""

    def __init__(self, tree: Mapping[str, TreeEntry]) -> None:
        self._tree = tree
        self._dirs: set[str] | None = None

    def get(self) -> set[str]:
        if self._dirs is None:
            self._dirs = directories_of(self._tree)
        return self._dirs

    def __contains__(self, directory: object) -> bool:
        return directory in self.get()


def _owned_path(
    path: str,
    in_source: TreeEntry | None,
    in_target: TreeEntry | None,
    source_dirs: _LazyDirectories,
    entries: dict[str, TreeEntry],
) -> str | None:
    if in_target is None:
        assert in_source is not None
        entries[path] = in_source
        return SEEDED
    directory = path.rsplit("/", 1)[0] if "/" in path else ""
    if directory and directory not in source_dirs:
        return ORPHANED  # rule c: the app's directory is gone upstream
    entries[path] = in_target
    return KEPT if in_source != in_target else None


def _common_path(
    path: str, in_source: TreeEntry | None, in_target: TreeEntry | None, entries: dict[str, TreeEntry]
) -> str | None:
    if in_source is None:
        return DELETED
    entries[path] = in_source
    if in_target is None:
        return ADDED
    return MODIFIED if in_source != in_target else None


def _refuse_conflicts(
    entries: Mapping[str, TreeEntry], source: Mapping[str, TreeEntry], source_dirs: _LazyDirectories
) -> None:
    """A kept file where the source now has a directory (or the reverse) cannot be merged.

    Every entry not taken from the source is a target file kept (rule a); only those can clash.
    """
    kept = {p: e for p, e in entries.items() if source.get(p) != e}
    if not kept:
        return
    dirs = source_dirs.get() | directories_of(kept)
    clashes = sorted(p for p in entries if p in dirs)
    if clashes:
        raise RefusedError(
            "the promotion would need both a file and a directory at " + ", ".join(repr(c) for c in clashes[:5]),
            hint=CLASH_HINT,
        )
