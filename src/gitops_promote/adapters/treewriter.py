"""A new tree from a base tree and the paths that change, without an index.

A promotion is the source's tree with a few of the target's own files put back. Reading the
whole source into a temporary index and writing every tree again costs the size of the
repository; here only the trees on the changed paths are read (one `cat-file --batch` round
per depth), rebuilt in memory bottom-up, and written by one `git mktree --batch` process. Every
other tree keeps its id. The ids are also computed here (they are hashes of bytes we hold), so
a parent can name its new children before git has answered, and git's answers are checked
against them: a disagreement is a bug, never a silently different tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple

from gitops_promote.core.promotion import directories_of
from gitops_promote.core.tree import TreeEntry

TREE_MODE = b"40000"
# name -> (raw mode, binary object id), as in a git tree object
RawEntries = dict[bytes, tuple[bytes, bytes]]
ReadEntries = Mapping[bytes, tuple[bytes, bytes]]  # a tree object read (LazyEntries), or a dict
ReadTrees = Callable[[Sequence[str]], Mapping[str, "ReadEntries | None"]]  # tree ids -> parsed tree objects


class TreeClash(Exception):
    """A change would put a file where a directory stays (or the reverse): a planning bug."""


class NewTree(NamedTuple):
    directory: str  # "" for the root
    entries: RawEntries
    oid: str


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def read_entries(raw: bytes, id_bytes: int) -> ReadEntries:
    """A tree object's entries, parsed as lookups need them: the 20,000-entry `apps/` tree is
    read to look up `apps/Chart.yaml`, its first entry, and an app's directory to look up its
    Chart.yaml (a capital letter sorts before the rest)."""
    return LazyEntries(raw, id_bytes)


def whole(entries: ReadEntries) -> RawEntries:
    """Every entry, as a dict of its own (a tree's copy to change)."""
    return dict(entries.all_entries()) if isinstance(entries, LazyEntries) else dict(entries)


class LazyEntries(Mapping[bytes, tuple[bytes, bytes]]):
    """A tree object's entries, parsed in order only as far as the names asked for.

    git keeps a tree's entries sorted by name (a directory's name as if it ended in "/"), as
    its own lookups rely on: once an entry sorts after `name/`, `name` is not in the tree.
    Every entry up to the last one parsed is known. Iterating (or asking for the length)
    parses the rest.
    """

    def __init__(self, raw: bytes, id_bytes: int) -> None:
        self._raw, self._id_bytes = raw, id_bytes
        self._entries: RawEntries = {}
        self._pos = 0
        self._last = b""  # the sort key of the last entry parsed

    def _parse_until(self, wanted: bytes | None) -> None:
        """Parse on until `wanted` is found or passed (None: to the end)."""
        raw, pos, end, size, entries = self._raw, self._pos, len(self._raw), self._id_bytes, self._entries
        last, bound = self._last, None if wanted is None else wanted + b"/"
        while pos < end:
            space = raw.index(b" ", pos)
            nul = raw.index(b"\0", space)
            mode, name = raw[pos:space], raw[space + 1 : nul]
            entries[name] = (mode, raw[nul + 1 : nul + 1 + size])
            pos = nul + 1 + size
            last = name + b"/" if mode == TREE_MODE else name
            if bound is not None and (name == wanted or last > bound):
                break  # a name is in a tree once
        self._pos, self._last = pos, last

    def get(self, name: bytes, default: tuple[bytes, bytes] | None = None) -> tuple[bytes, bytes] | None:  # type: ignore[override]
        if name not in self._entries and self._pos < len(self._raw) and self._last <= name + b"/":
            self._parse_until(name)
        return self._entries.get(name, default)

    def __getitem__(self, name: bytes) -> tuple[bytes, bytes]:
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def __contains__(self, name: object) -> bool:
        return isinstance(name, bytes) and self.get(name) is not None

    def all_entries(self) -> RawEntries:
        if self._pos < len(self._raw):
            self._parse_until(None)
        return self._entries

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.all_entries())

    def __len__(self) -> int:
        return len(self.all_entries())


def parse_tree(raw: bytes, id_bytes: int) -> RawEntries:
    """The entries of a raw tree object (`<mode> <name>\\0<binary id>` repeated)."""
    entries: RawEntries = {}
    pos, end = 0, len(raw)
    while pos < end:
        space = raw.index(b" ", pos)
        nul = raw.index(b"\0", space)
        entries[raw[space + 1 : nul]] = (raw[pos:space], raw[nul + 1 : nul + 1 + id_bytes])
        pos = nul + 1 + id_bytes
    return entries


def _sort_key(item: tuple[bytes, tuple[bytes, bytes]]) -> bytes:
    # git orders a tree's entries by name, a directory's name as if it ended in "/"
    name, (mode, _oid) = item
    return name + b"/" if mode == TREE_MODE else name


def tree_bytes(entries: RawEntries) -> bytes:
    return b"".join(mode + b" " + name + b"\0" + oid for name, (mode, oid) in sorted(entries.items(), key=_sort_key))


def tree_id(body: bytes, id_bytes: int) -> bytes:
    import hashlib  # only when a tree is written: OpenSSL's start-up is a few ms of every run

    digest = hashlib.sha1 if id_bytes == 20 else hashlib.sha256  # noqa: S324 - git's object ids
    return digest(b"tree %d\0" % len(body) + body).digest()


def touched_directories(paths: Iterable[str]) -> set[str]:
    """Every directory on the way to a changed path, the root ("") included."""
    return directories_of(paths) | {""}


def _depth(directory: str) -> int:
    return 0 if not directory else directory.count("/") + 1


def base_entries(read_trees: ReadTrees, base_tree: str | Mapping[str, str], dirs: set[str]) -> dict[str, ReadEntries]:
    """The base's entries of each touched directory ({} when the base has no such directory).

    Read one depth at a time: a directory's id is in its parent's entries. `base_tree` is the
    root's id, or the ids of some directories already known (directory -> tree id): `dirs`
    then holds only those and the directories below them that are wanted, so a lookup under
    a known directory never reads the trees above it (the 20,000-entry `apps/` tree).
    """
    found: dict[str, ReadEntries] = {}
    ids = {"": base_tree} if isinstance(base_tree, str) else dict(base_tree)
    by_depth: dict[int, list[str]] = {}
    for directory in dirs:
        by_depth.setdefault(_depth(directory), []).append(directory)
    for depth in range(max(by_depth) + 1):
        level = by_depth.get(depth, [])
        trees = read_trees([ids[d] for d in level if d in ids])
        for directory in level:
            parsed = trees.get(ids[directory]) if directory in ids else None
            found[directory] = parsed if parsed is not None else {}
        for directory in by_depth.get(depth + 1, []):
            if directory in ids:
                continue  # known already: where a lookup starts
            parent, _, name = directory.rpartition("/")
            entry = found.get(parent, {}).get(_encode(name))
            if entry is not None and entry[0] == TREE_MODE:
                ids[directory] = entry[1].hex()
    return found


def rebuild(base: Mapping[str, ReadEntries], changes: Mapping[str, TreeEntry | None], id_bytes: int) -> list[NewTree]:
    """The new trees of every touched directory, deepest first (empty ones are left out)."""
    by_dir: dict[str, list[tuple[str, TreeEntry | None]]] = {}
    for path, entry in changes.items():
        parent, _, name = path.rpartition("/")
        by_dir.setdefault(parent, []).append((name, entry))
    children: dict[str, list[str]] = {}
    for directory in base:
        if directory:
            children.setdefault(directory.rpartition("/")[0], []).append(directory)
    written: list[NewTree] = []
    results: dict[str, NewTree | None] = {}
    for directory in sorted(base, key=_depth, reverse=True):
        entries = whole(base[directory])
        for name, entry in by_dir.get(directory, []):
            if entry is None:
                entries.pop(_encode(name), None)
            else:
                entries[_encode(name)] = (_encode(entry.mode).lstrip(b"0"), bytes.fromhex(entry.sha))
        for child in children.get(directory, []):
            _place_child(entries, child, results[child])
        results[directory] = _finish(directory, entries, id_bytes, written)
    return written


def _place_child(entries: RawEntries, child: str, tree: NewTree | None) -> None:
    name = _encode(child.rpartition("/")[2])
    current = entries.get(name)
    if tree is None:  # emptied: the directory goes, a file put at its name stays
        if current is not None and current[0] == TREE_MODE:
            del entries[name]
        return
    if current is not None and current[0] != TREE_MODE:
        raise TreeClash(f"{child!r} would be both a file and a directory")
    entries[name] = (TREE_MODE, bytes.fromhex(tree.oid))


def _finish(directory: str, entries: RawEntries, id_bytes: int, written: list[NewTree]) -> NewTree | None:
    if not entries and directory:
        return None  # git has no empty directories
    tree = NewTree(directory, entries, tree_id(tree_bytes(entries), id_bytes).hex())
    written.append(tree)
    return tree


def mktree_input(trees: Sequence[NewTree]) -> bytes:
    """`git mktree -z --batch` input: each tree's entries, then an empty record."""
    parts: list[bytes] = []
    for tree in trees:
        for name, (mode, oid) in tree.entries.items():
            kind = b"tree" if mode == TREE_MODE else b"commit" if mode == b"160000" else b"blob"
            parts.append(b"%s %s %s\t%s\0" % (mode, kind, oid.hex().encode(), name))
        parts.append(b"\0")
    return b"".join(parts)
