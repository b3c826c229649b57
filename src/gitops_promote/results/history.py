"""An environment branch's entries, and what `gitops history` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops_promote.core.notices import Warning
from gitops_promote.core.promotion import FileAction
from gitops_promote.core.registry import Environment

ROLLBACK_REASON = "Rollback-Reason"


PROMOTION, ROLLBACK, MERGE, DIRECT = "promotion", "rollback", "merge", "direct"


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
    files: list[FileAction] | None = None  # None: not computed
    apps: tuple[str, ...] | None = None  # promotion: Promoted-Apps (None: the whole branch)

    def to_json(self) -> dict[str, Any]:
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
            "files": None if self.files is None else [f.to_json() for f in self.files],
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

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment.codename,
            "branch": self.environment.branch,
            "ref": self.branch_ref,
            "head": self.head,
            "limit": self.limit,
            "more": self.more,
            "entries": [e.to_json() for e in self.entries],
            "warnings": [w.to_json() for w in self.warnings],
        }
