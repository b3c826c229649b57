"""`gitops backport ENV`: the decisions, as pure functions over tree entries.

For every path the drift guard reports on ENV (a direct change since the last promotion), three
versions meet: *base*, the path as the last promotion left it on ENV; *theirs*, ENV's version
now (the hotfix); *ours*, the version on the environment the fix is brought home to. The fix
applies when ours is still base (take theirs), is already there when ours equals theirs, and
needs a three-way merge of the contents when both moved. Anything else (a deletion against an
edit, two different additions, a mode or a symlink that changed on both sides) is a conflict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from gitops_promote.core.drift import Drift
from gitops_promote.core.tree import TreeEntry

BACKPORTED_FROM = "Backported-From"
BACKPORTED_COMMITS = "Backported-Commits"
TAKE, ALREADY, MERGE, CONFLICT = "take", "already", "merge", "conflict"
REGULAR = ("100644", "100755")


class PathChange(NamedTuple):
    path: str
    base: TreeEntry | None
    theirs: TreeEntry | None  # the environment's version now (the hotfix)
    ours: TreeEntry | None  # the version on the environment receiving the backport

    @property
    def decision(self) -> str:
        return decide(self.base, self.ours, self.theirs)


def decide(base: TreeEntry | None, ours: TreeEntry | None, theirs: TreeEntry | None) -> str:
    if ours == theirs:
        return ALREADY
    if ours == base:
        return TAKE
    if base is None or ours is None or theirs is None:
        return CONFLICT
    if not (base.mode == ours.mode == theirs.mode and base.mode in REGULAR):
        return CONFLICT
    return MERGE


def changes(
    drift: Iterable[Drift],
    base: Mapping[str, TreeEntry],
    theirs: Mapping[str, TreeEntry],
    ours: Mapping[str, TreeEntry],
) -> list[PathChange]:
    return [PathChange(d.path, base.get(d.path), theirs.get(d.path), ours.get(d.path)) for d in drift]


def hotfix_commits(drift: Iterable[Drift], newest_first: Iterable[str]) -> list[str]:
    """The commits behind the drift, oldest first (the order they were made in)."""
    wanted = {c for d in drift for c in d.commits}
    return [c for c in reversed(list(newest_first)) if c in wanted]


def parse_commits(value: str) -> set[str]:
    return {c for c in value.replace(",", " ").split() if c}


def without_backported(drift: list[Drift], backported: Mapping[str, set[str]]) -> list[Drift]:
    """Drift whose every commit was backported upstream is upstream now: not drift any more.

    `backported` maps a hotfix commit to the paths the backport commits naming it changed: a
    trailer alone, on a commit that did not carry the path, discharges nothing.
    """
    return [d for d in drift if not all(d.path in backported.get(c, set()) for c in d.commits)]
