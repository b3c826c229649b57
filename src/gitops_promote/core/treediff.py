"""The promotion rules planned from the difference between two trees, not from listings.

`core/promotion.plan_tree` takes both full listings (140,000 entries each at 20,000 apps). A
path that is the same on both sides ends up the source's under every rule, so only the
differing paths need deciding; rule c (is the app's directory still in the source?) and the
file/directory clash need only the *directories* on the way to those paths, and every such
directory differs itself, so `git diff-tree -r -t` reports it with the source's side. This
module decides from those records alone: its result is the list of changes to apply to the
source's tree (for `Repository.write_tree_from`) and the same actions `plan_tree` reports.
Pure functions over plain data; tests/test_treediff.py checks it against `plan_tree`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import NamedTuple

from gitops_promote.core.promotion import (
    ADDED,
    CLASH_HINT,
    DELETED,
    KEPT,
    MODIFIED,
    ORPHANED,
    SCOPED_CLASH_HINT,
    SEEDED,
    FileAction,
)
from gitops_promote.core.tree import TreeEntry, iter_parents
from gitops_promote.errors import RefusedError

MODE_TREE = "040000"


class DiffRecord(NamedTuple):
    """One line of `diff-tree -r -t -z`: a path (file or directory) and both sides' entries.
    A named tuple: a step between branches that differ in every app makes 100,000 of them."""

    path: str
    source: TreeEntry | None  # None: the source has nothing at this path
    target: TreeEntry | None

    @property
    def is_tree_record(self) -> bool:
        return any(e is not None and e.mode == MODE_TREE for e in (self.source, self.target))


class ResultTree(MutableMapping[str, TreeEntry]):
    """The tree a promotion writes: the source's tree with the plan's changes applied.

    A lookup is the change at that path, else the source's entry, so reading one path never
    lists a tree. Writing a path (a merged env-key file, the target's registry entry) or
    deleting it (a removed app's Application) records a change. Iterating walks the source's
    whole listing: only commands that show every file do that.
    """

    def __init__(self, source: Mapping[str, TreeEntry], changes: dict[str, TreeEntry | None]) -> None:
        self.source = source
        self.changes = changes

    def __getitem__(self, path: str) -> TreeEntry:
        entry = self.changes[path] if path in self.changes else self.source.get(path)
        if entry is None:
            raise KeyError(path)
        return entry

    def get(self, path: str, default: TreeEntry | None = None) -> TreeEntry | None:  # type: ignore[override]
        entry = self.changes[path] if path in self.changes else self.source.get(path)
        return default if entry is None else entry

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        if path in self.changes:
            return self.changes[path] is not None
        return path in self.source  # the source's own answer (a view may know it without an entry)

    def __setitem__(self, path: str, entry: TreeEntry) -> None:
        self.changes[path] = entry

    def __delitem__(self, path: str) -> None:
        if path not in self:
            raise KeyError(path)
        self.changes[path] = None

    def __iter__(self) -> Iterator[str]:
        for path in self.source:
            if self.changes.get(path, self.source.get(path)) is not None:
                yield path
        yield from (p for p, e in self.changes.items() if e is not None and self.source.get(p) is None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass
class DeltaPlan:
    """What a promotion does, relative to the source's tree, planned from the differing paths."""

    entries: ResultTree  # the promoted tree (lookups, and the place later steps record changes)
    # the files that differ, both sides: lookups for drift, diff and env-key merging
    files: dict[str, tuple[TreeEntry | None, TreeEntry | None]]
    actions: list[FileAction] = field(default_factory=list)

    @property
    def changes(self) -> dict[str, TreeEntry | None]:
        """path -> the entry put into the source's tree (None: removed)."""
        return self.entries.changes

    def entry(self, path: str, source: TreeEntry | None) -> TreeEntry | None:
        """The promoted tree's entry at `path`, given the source's entry there."""
        return self.changes[path] if path in self.changes else source

    def changes_target(self, target: Mapping[str, TreeEntry]) -> bool:
        """Does the promoted tree differ from the target's? Only differing or changed paths can."""
        return any(self.entries.get(p) != target.get(p) for p in {*self.files, *self.changes})

    def count(self, action: str) -> int:
        return sum(1 for a in self.actions if a.action == action)


Sides = tuple[TreeEntry | None, TreeEntry | None]  # (source, target)


def split(records: Iterable[DiffRecord]) -> tuple[dict[str, Sides], set[str]]:
    """(the differing files, the differing paths where the source has a directory).

    A path can be both: a file in one tree and a directory in the other is two records.
    """
    files: dict[str, Sides] = {}
    source_dirs: set[str] = set()
    for path, source, target in records:
        if source is not None and source.mode == MODE_TREE:
            source_dirs.add(path)
            source = None
        if target is not None and target.mode == MODE_TREE:
            target = None
        if source is not None or target is not None:
            files[path] = (source, target)
    return files, source_dirs


def plan_delta(
    records: Iterable[DiffRecord],
    owned: Callable[[str], bool],
    scope: Callable[[str], bool] | None = None,
    source: Mapping[str, TreeEntry] | None = None,
) -> DeltaPlan:
    """Rules a-d (docs/promotion-rules.md) over the differing paths only.

    `scope(path)`, when given, says whether the promotion carries `path` (--app): a differing
    path outside it keeps the target's entry, or stays absent. `source` answers lookups of
    paths that do not differ (the result tree's `get`); without it only the differing paths
    can be looked up.
    """
    files, source_dirs = split(records)
    known = {path: sides[0] for path, sides in files.items() if sides[0] is not None}
    plan = DeltaPlan(ResultTree(source if source is not None else known, {}), files)
    for path in sorted(files):
        in_src, in_dst = files[path]
        if scope is not None and not scope(path):
            plan.changes[path] = in_dst  # outside the apps promoted: the target's, untouched
            continue
        action = _owned(path, in_dst, source_dirs, plan) if owned(path) else _common(in_src, in_dst)
        if action:
            plan.actions.append(FileAction(path, action))
    _refuse_clashes(plan, source_dirs, scoped=scope is not None)
    return plan


def _owned(path: str, target: TreeEntry | None, source_dirs: set[str], plan: DeltaPlan) -> str:
    if target is None:
        return SEEDED  # rule b: the source's copy, already in the source's tree
    directory = path.rpartition("/")[0]
    if directory and directory not in source_dirs:
        return ORPHANED  # rule c: not in the source, and stays out
    plan.changes[path] = target  # rule a: the target's entry, byte for byte
    return KEPT


def _common(source: TreeEntry | None, target: TreeEntry | None) -> str:
    return DELETED if source is None else ADDED if target is None else MODIFIED


def _refuse_clashes(plan: DeltaPlan, source_dirs: set[str], *, scoped: bool) -> None:
    """A file the plan puts where the result still has a directory, or under a path where the
    result has a file. Every such file or directory differs between the trees, so the
    differing paths alone decide (a directory of the source at a kept file's path holds only
    files the target lacks)."""
    differing = sorted(plan.files)
    clashes = []
    for path, entry in plan.changes.items():
        if entry is None:
            continue
        if path in source_dirs and _result_has_file_under(path, differing, plan):
            clashes.append(path)
        clashes += [p for p in iter_parents(path) if p in plan.files and plan.entries.get(p) is not None]
    if clashes:
        raise RefusedError(
            "the promotion would need both a file and a directory at "
            + ", ".join(repr(c) for c in sorted(set(clashes))[:5]),
            hint=SCOPED_CLASH_HINT if scoped else CLASH_HINT,
        )


def _result_has_file_under(directory: str, differing: list[str], plan: DeltaPlan) -> bool:
    prefix = directory + "/"
    start = bisect.bisect_left(differing, prefix)
    for path in differing[start:]:
        if not path.startswith(prefix):
            return False
        if plan.entries.get(path) is not None:
            return True
    return False


def collapsed(
    changes: Mapping[str, TreeEntry | None],
    files: Mapping[str, Sides],
    source: Mapping[str, TreeEntry],
    target_dirs: Mapping[str, TreeEntry],
) -> dict[str, TreeEntry | None]:
    """The same changes to the source's tree, a whole directory at a time where the result's
    directory is the target's own (its tree id, `target_dirs`: the differing directories the
    target has): a promotion that keeps 2,000 apps' env files puts back 2,000 of the
    target's app directories instead of rewriting each (same tree, 2,000 trees fewer).

    A directory is the target's when every path below it that differs between the branches,
    or that the plan changes, ends up with the target's entry: every other path is the same
    on both sides, so the source's entry there is the target's.
    """
    other: set[str] = set()  # directories holding a path whose result is not the target's
    for path in {*files, *changes}:
        result = changes[path] if path in changes else source.get(path)
        target = files[path][1] if path in files else source.get(path)
        if result != target:
            other.update(iter_parents(path))
    whole = {d for d in target_dirs if d not in other}
    top = {d for d in whole if not any(parent in whole for parent in iter_parents(d))}
    if not top:
        return dict(changes)
    kept = {p: e for p, e in changes.items() if not any(parent in top for parent in iter_parents(p))}
    return kept | {d: target_dirs[d] for d in top}
