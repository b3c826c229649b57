"""An environment branch's entries, and what `gitops history` returns."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from gitops_promote.core.notices import Warning
from gitops_promote.core.promotion import FileAction
from gitops_promote.core.registry import Environment

ROLLBACK_REASON = "Rollback-Reason"


PROMOTION, ROLLBACK, MERGE, DIRECT = "promotion", "rollback", "merge", "direct"


class ChangedFiles(Sequence[FileAction]):
    """What a commit did to its files, as two columns sorted by path: a repository's first
    commit adds 140,000, and as columns they are read, counted and written as JSON with no
    object made per file (`columns`, render/console.Records)."""

    __slots__ = ("paths", "actions")

    def __init__(self, paths: list[str], actions: list[str]) -> None:
        self.paths, self.actions = paths, actions

    def __len__(self) -> int:
        return len(self.paths)

    @overload
    def __getitem__(self, index: int) -> FileAction: ...
    @overload
    def __getitem__(self, index: slice) -> ChangedFiles: ...
    def __getitem__(self, index: int | slice) -> FileAction | ChangedFiles:
        if isinstance(index, slice):
            return ChangedFiles(self.paths[index], self.actions[index])
        return FileAction(self.paths[index], self.actions[index])

    def __iter__(self) -> Iterator[FileAction]:
        return map(FileAction, self.paths, self.actions)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ChangedFiles):
            return (self.paths, self.actions) == (other.paths, other.actions)
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # mutable columns, like a list

    def __repr__(self) -> str:
        return f"ChangedFiles({list(self)!r})"

    def columns(self) -> dict[str, Sequence[str]]:
        """The JSON objects of the files (FileAction.to_json: no kept keys here), by column."""
        return {"path": self.paths, "action": self.actions}

    def to_json(self) -> list[dict[str, str]]:
        return [{"path": path, "action": action} for path, action in zip(self.paths, self.actions, strict=True)]


FilesJSON = Callable[[ChangedFiles], Any]


@dataclass
class Entry:
    """One commit of an environment branch's first-parent line."""

    commit: str
    kind: str
    subject: str
    author: str
    date: str
    parents: tuple[str, ...]
    source: str | None = None  # promotion: the environment it came from
    source_commit: str | None = None  # promotion: the commit of the source it promoted
    rolled_back_to: str | None = None
    reason: str | None = None  # rollback: Rollback-Reason
    freeze_override: str | None = None
    files: ChangedFiles | None = None  # None: not computed
    apps: tuple[str, ...] | None = None  # promotion: Promoted-Apps (None: the whole branch)

    def to_json(self, files: FilesJSON = ChangedFiles.to_json) -> dict[str, Any]:
        """As JSON; `files` writes the file lists (render/console.Records: as columns)."""
        return {
            "commit": self.commit,
            "kind": self.kind,
            "subject": self.subject,
            "author": self.author,
            "date": self.date,
            "source": self.source,
            "source_commit": self.source_commit,
            "rolled_back_to": self.rolled_back_to,
            "reason": self.reason,
            "freeze_override": self.freeze_override,
            "files": None if self.files is None else files(self.files),
            "apps": None if self.apps is None else list(self.apps),
        }


DEFAULT_LIMIT = 20


@dataclass
class HistoryResult:
    environment: Environment
    branch_ref: str
    head: str
    entries: list[Entry] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    more: bool = False
    warnings: list[Warning] = field(default_factory=list)

    def to_json(self, files: FilesJSON = ChangedFiles.to_json) -> dict[str, Any]:
        return {
            "environment": self.environment.codename,
            "branch": self.environment.branch,
            "ref": self.branch_ref,
            "head": self.head,
            "limit": self.limit,
            "more": self.more,
            "entries": [e.to_json(files) for e in self.entries],
            "warnings": [w.to_json() for w in self.warnings],
        }
