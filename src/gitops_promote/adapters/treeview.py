"""A commit's tree read by path, on demand: what a step needs without listing 140,000 files.

`pair()` starts from one `diff-tree -r -t` between the source and the target: every path it
names is known on both sides, and every path it does not name is the same on both, so one
lookup (through the run's cat-file session, `Repository.entries_at`) answers for both views.
Iterating a view lists its whole tree once (`ls-tree -r`): only commands that show every file
(`--app` discovery, `verify`, `backport`) do that, and the git-process tests count it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from gitops_promote.core.tree import TreeEntry, iter_parents
from gitops_promote.core.treediff import MODE_TREE, DiffRecord

if TYPE_CHECKING:
    from gitops_promote.adapters.git import Repository


class TreeView(Mapping[str, TreeEntry]):
    """Files (blobs, symlinks, gitlinks) of `commit` by path; directories only via `is_dir`."""

    def __init__(
        self,
        repo: Repository,
        commit: str,
        known: dict[str, TreeEntry | None] | None = None,
        shared: dict[str, TreeEntry | None] | None = None,
        present: dict[str, bool] | None = None,
    ) -> None:
        self.repo, self.commit = repo, commit
        self._known = known if known is not None else {}  # this side of the differing paths
        self._shared = shared if shared is not None else {}  # paths equal on both sides
        self._present = present if present is not None else {}  # the same, whether a file is there
        self._listing: dict[str, TreeEntry] | None = None

    # ---- lookups --------------------------------------------------------------------------
    def prefetch(self, paths: Iterable[str]) -> None:
        """Look up many paths in one round (directories on the way are read once)."""
        missing = [p for p in dict.fromkeys(paths) if p not in self._known and p not in self._shared]
        if missing and self._listing is not None:
            self._shared.update((p, self._listing.get(p)) for p in missing)
        elif missing:
            self._shared.update(self._looked_up(missing))

    def prefetch_presence(self, paths: Iterable[str]) -> None:
        """Find out whether a file is at each of `paths` (for `in`), without reading a tree in
        Python where the diff names the path's directory: git answers `<tree id>:<name>` in
        the batch-check session (20,000 apps' Chart.yaml: a third of the time of reading
        their directories). Other paths, and answers that could be a submodule whose commit
        is not here ("missing"), are looked up as `prefetch` does."""
        asked: dict[tuple[str, str], str] = {}
        rest = []
        for path in dict.fromkeys(paths):
            if path in self._known or path in self._shared or path in self._present:
                continue
            parent, _, name = path.rpartition("/")
            directory = self._known.get(parent) if parent else None
            if directory is not None and directory.mode == MODE_TREE:
                asked[(directory.sha, name)] = path
            else:
                rest.append(path)
        types = self.repo.types_in(asked) if asked else {}
        for place, path in asked.items():
            found = types.get(place)
            if found is None:
                rest.append(path)  # nothing there, a submodule, or a name git would not take: looked up
            else:
                self._present[path] = found != "tree"  # a blob (file, symlink) or a commit
        self.prefetch(rest)

    def _looked_up(self, paths: list[str]) -> dict[str, TreeEntry | None]:
        """Paths the diff does not name, each read from the nearest directory on its way that
        the diff names (its tree id is known: the trees above it are never read), else from
        the root. Such a path is the same on both sides, so either side's directory answers."""
        found: dict[str, TreeEntry | None] = {}
        starts: dict[str, str] = {}
        asked = []
        known = self._known
        for path in paths:
            parent = path.rpartition("/")[0]  # the nearest first: most often known itself
            directory = parent if parent in known else next((d for d in iter_parents(parent) if d in known), None)
            entry = self._known[directory] if directory is not None else None
            if directory is None:
                asked.append(path)
            elif entry is None or entry.mode != MODE_TREE:
                found[path] = None  # no such directory on this side (so on neither)
            else:
                starts[directory] = entry.sha
                asked.append(path)
        found.update(self.repo.entries_at(self.commit, asked, starts))
        return found

    def _entry(self, path: str) -> TreeEntry | None:
        if path in self._known:
            return self._known[path]
        if path not in self._shared:
            self.prefetch([path])
        return self._shared[path]

    def get(self, path: str, default: TreeEntry | None = None) -> TreeEntry | None:  # type: ignore[override]
        entry = self._entry(path)
        return default if entry is None or entry.mode == MODE_TREE else entry

    def __getitem__(self, path: str) -> TreeEntry:
        entry = self.get(path)
        if entry is None:
            raise KeyError(path)
        return entry

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        if path not in self._known and path not in self._shared and path in self._present:
            return self._present[path]
        return self.get(path) is not None

    def is_dir(self, path: str) -> bool:
        entry = self._entry(path)
        return entry is not None and entry.mode == MODE_TREE

    def differing_directories(self) -> dict[str, TreeEntry]:
        """This side's directories among the paths the diff names (each with its tree id)."""
        return {p: e for p, e in self._known.items() if e is not None and e.mode == MODE_TREE}

    # ---- the whole tree (explicitly expensive) --------------------------------------------------
    def listing(self) -> dict[str, TreeEntry]:
        if self._listing is None:
            self._listing = self.repo.ls_tree(self.commit)
        return self._listing

    def __iter__(self) -> Iterator[str]:
        return iter(self.listing())

    def __len__(self) -> int:
        return len(self.listing())


def pair(
    repo: Repository, source: str, target: str, since: str | None = None, target_since: str | None = None
) -> tuple[list[DiffRecord], TreeView, TreeView]:
    """The differences between two commits' trees, and a view of each that shares lookups.
    With `since` (`target_since`), the same git process also finds which files the source
    (the target) changed since that commit (`Repository.tree_diff`)."""
    records = repo.tree_diff(source, target, since, target_since)
    shared: dict[str, TreeEntry | None] = {}
    present: dict[str, bool] = {}
    source_side: dict[str, TreeEntry | None] = {}
    target_side: dict[str, TreeEntry | None] = {}
    # a file on one side and a directory on the other is two records: what a side has wins
    for path, in_source, in_target in records:
        if in_source is not None or path not in source_side:
            source_side[path] = in_source
        if in_target is not None or path not in target_side:
            target_side[path] = in_target
    source_view = TreeView(repo, source, source_side, shared, present)
    return records, source_view, TreeView(repo, target, target_side, shared, present)
