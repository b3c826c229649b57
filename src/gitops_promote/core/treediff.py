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

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from gitops_promote.core.promotion import ADDED, DELETED, KEPT, MODIFIED, ORPHANED, SEEDED, FileAction
from gitops_promote.core.tree import TreeEntry, iter_parents
from gitops_promote.errors import RefusedError

MODE_TREE = "040000"


@dataclass(frozen=True)
class DiffRecord:
    """One line of `diff-tree -r -t -z`: a path (file or directory) and both sides' entries."""

    path: str
    source: TreeEntry | None  # None: the source has nothing at this path
    target: TreeEntry | None

    @property
    def is_tree_record(self) -> bool:
        return any(e is not None and e.mode == MODE_TREE for e in (self.source, self.target))


@dataclass
class DeltaPlan:
    """What a promotion does, relative to the source's tree."""

    changes: dict[str, TreeEntry | None]  # path -> the entry put into the source's tree (None: removed)
    actions: list[FileAction] = field(default_factory=list)
    changes_target: bool = False
    # the files that differ, both sides: lookups for drift, diff and env-key merging
    files: dict[str, tuple[TreeEntry | None, TreeEntry | None]] = field(default_factory=dict)

    def entry(self, path: str, source: TreeEntry | None) -> TreeEntry | None:
        """The promoted tree's entry at `path`, given the source's entry there."""
        return self.changes[path] if path in self.changes else source


Sides = tuple[TreeEntry | None, TreeEntry | None]  # (source, target)


def split(records: Iterable[DiffRecord]) -> tuple[dict[str, Sides], dict[str, set[str]]]:
    """(the differing files, path -> what the source has there: "tree" and/or "file").

    A path can be both: a file in one tree and a directory in the other is two records.
    """
    files: dict[str, Sides] = {}
    in_source: dict[str, set[str]] = {}
    for record in records:
        if record.source is not None:
            in_source.setdefault(record.path, set()).add("tree" if record.source.mode == MODE_TREE else "file")
        source, target = (None if e is None or e.mode == MODE_TREE else e for e in (record.source, record.target))
        if source is not None or target is not None:
            files[record.path] = (source, target)
    return files, in_source


def plan_delta(records: Iterable[DiffRecord], owned: Callable[[str], bool]) -> DeltaPlan:
    """Rules a-d (docs/promotion-rules.md) over the differing paths only."""
    files, in_source = split(records)
    plan = DeltaPlan({}, files=files)
    for path in sorted(files):
        source, target = files[path]
        action = _owned(path, source, target, in_source, plan) if owned(path) else _common(source, target)
        if action:
            plan.actions.append(FileAction(path, action))
        if plan.entry(path, source) != target:
            plan.changes_target = True
    _refuse_clashes(plan, in_source)
    return plan


def _owned(
    path: str, source: TreeEntry | None, target: TreeEntry | None, in_source: Mapping[str, set[str]], plan: DeltaPlan
) -> str:
    if target is None:
        return SEEDED  # rule b: the source's copy, already in the source's tree
    directory = path.rpartition("/")[0]
    if directory and "tree" not in in_source.get(directory, set()):
        return ORPHANED  # rule c: not in the source, and stays out
    plan.changes[path] = target  # rule a: the target's entry, byte for byte
    return KEPT


def _common(source: TreeEntry | None, target: TreeEntry | None) -> str:
    return DELETED if source is None else ADDED if target is None else MODIFIED


def _refuse_clashes(plan: DeltaPlan, in_source: Mapping[str, set[str]]) -> None:
    """A kept file where the source has a directory, or under a path where it has a file."""
    clashes = []
    for path in plan.changes:
        if "tree" in in_source.get(path, set()):
            clashes.append(path)
        clashes += [parent for parent in iter_parents(path) if "file" in in_source.get(parent, set())]
    if clashes:
        raise RefusedError(
            "the promotion would need both a file and a directory at "
            + ", ".join(repr(c) for c in sorted(set(clashes))[:5]),
            hint="an environment-specific file of the target sits where the source now has a "
            "directory; move or delete it on the target branch, then promote again",
        )
