"""The diff model: what `gitops diff` found, as plain data every renderer draws from.

Values in `Change.old` / `Change.new` are already masked (see core/secrets.py) unless the
caller asked for `show_secrets`; renderers never decide what is secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from gitops_promote.core.secrets import MASK as MASK  # re-exported: the renderers read it here
from gitops_promote.errors import Problem

Segment = str | int
ChangeOp = Literal["changed", "added", "removed", "moved"]
FileKind = Literal["yaml", "text", "binary"]
FileStatus = Literal["added", "modified", "deleted", "kept", "seeded", "orphaned", "formatting-only"]

# A mapping key that can be written as `.key` in a display path; anything else is bracketed.
_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*\Z")


@dataclass
class Change:
    """One structural change.

    `path` is concrete: mapping keys (str) and list indexes (int) into the *new* document
    (the *old* one for `removed`). For a multi-document file the first segment names the
    document (`Deployment/ns/name`, or `#2` for a document without identity).
    `ids` maps a position in `path` to the identity a list item was matched by
    (`name=app`), so that `display_path()` survives reordering.
    `moved`: `old` and `new` are the item's old and new indexes.
    `masked`: old/new were replaced by `***` because they are secret.
    """

    path: list[Segment]
    op: ChangeOp
    old: Any = None
    new: Any = None
    ids: dict[int, str] = field(default_factory=dict)
    masked: bool = False

    def json_pointer(self) -> str:
        """RFC 6901: `/image/tag`; `~` -> `~0` and `/` -> `~1` inside a segment."""
        return _json_pointer(tuple(self.path))

    def display_path(self) -> str:
        """`spec.containers[name=app].image`; the root is `(root)`."""
        return _display_path(tuple(self.path), tuple(sorted(self.ids.items())) if self.ids else ())


# Both are asked for every change, and the same few paths recur in every file of a big diff
# (`image.tag` 20,000 times): each is spelled once.
@lru_cache(maxsize=4096)
def _json_pointer(path: tuple[Segment, ...]) -> str:
    parts = (str(s).replace("~", "~0").replace("/", "~1") for s in path)
    return "".join("/" + p for p in parts)


@lru_cache(maxsize=4096)
def _display_path(path: tuple[Segment, ...], ids: tuple[tuple[int, str], ...]) -> str:
    idents = dict(ids)
    out: list[str] = []
    for i, seg in enumerate(path):
        out.append(_display_segment(i, seg, idents.get(i)))
    text = "".join(out).lstrip(".")
    return text or "(root)"


def _display_segment(index: int, seg: Segment, ident: str | None) -> str:
    if ident is not None:
        return f"[{ident}]"
    if isinstance(seg, int):
        return f"[{seg}]"
    if index == 0 or _PLAIN_KEY.match(seg):
        # The first segment may be a document label (`Deployment/ns/name`): keep it bare.
        return f".{seg}" if index else seg
    escaped = seg.replace("\\", "\\\\").replace('"', '\\"')
    return f'["{escaped}"]'


@dataclass
class FileDiff:
    """The difference between two versions of one file (either may be None: added/deleted)."""

    path: str
    kind: FileKind
    changes: list[Change] = field(default_factory=list)
    text_diff: str = ""
    formatting_only: bool = False
    errors: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    old_size: int | None = None
    new_size: int | None = None

    @property
    def binary_summary(self) -> str:
        """`binary, 10 bytes → 12 bytes` (a missing side reads `absent`)."""
        return f"binary, {_size(self.old_size)} → {_size(self.new_size)}"

    @property
    def is_empty(self) -> bool:
        return not (self.changes or self.text_diff or self.errors or self.formatting_only)


def _size(n: int | None) -> str:
    return "absent" if n is None else f"{n} bytes"


@dataclass
class FileReport:
    """One file of a promotion: its status and, when it changes, its diff."""

    path: str
    app: str
    status: FileStatus
    diff: FileDiff | None = None


@dataclass
class DiffReport:
    """What promoting `source` onto `target` would change, file by file."""

    source: str
    target: str
    source_commit: str
    target_commit: str
    files: list[FileReport] = field(default_factory=list)

    def sorted_files(self) -> list[FileReport]:
        """Deterministic order for every renderer: by app, then path."""
        return sorted(self.files, key=lambda f: (f.app, f.path))
