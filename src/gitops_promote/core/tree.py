"""Tree listings as plain data: path -> (mode, object id)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import NamedTuple

MODE_GITLINK = "160000"
MODE_SYMLINK = "120000"


class TreeEntry(NamedTuple):
    """A named tuple, not a dataclass: a 14,000-file listing builds 28,000 of them per run."""

    mode: str
    sha: str

    @property
    def kind(self) -> str:
        return "commit" if self.mode == MODE_GITLINK else "blob"


Tree = Mapping[str, TreeEntry]


def iter_parents(path: str) -> Iterator[str]:
    """'a/b/c' -> 'a/b', 'a' (every directory holding the path, innermost first)."""
    while "/" in path:
        path = path.rsplit("/", 1)[0]
        yield path


def app_of(path: str, apps: Collection[str]) -> str:
    """The app a path belongs to: the nearest directory with a Chart.yaml, else the top-level folder."""
    for parent in iter_parents(path):
        if parent in apps:
            return parent
    return path.split("/", 1)[0] if "/" in path else "(root)"
