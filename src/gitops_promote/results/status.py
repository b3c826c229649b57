"""What `gitops status` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gitops_promote.adapters.git import CommitInfo
from gitops_promote.core.drift import Drift
from gitops_promote.core.freeze import FreezeDecision, Occurrence
from gitops_promote.core.notices import Warning
from gitops_promote.core.promotion import FileAction
from gitops_promote.core.registry import Environment, Registry
from gitops_promote.results.history import Entry


@dataclass
class Pending:
    """What promoting `upstream` into the environment would change."""

    upstream: str
    upstream_commit: str
    files: list[FileAction]
    commits: list[CommitInfo]
    apps: dict[str, int] = field(default_factory=dict)  # app directory -> its files pending

    def to_json(self) -> dict[str, Any]:
        return {
            "upstream": self.upstream,
            "upstream_commit": self.upstream_commit,
            "files": [f.to_json() for f in self.files],
            "apps": self.apps,
            "commits": [{"sha": c.sha, "subject": c.subject, "author": c.author, "date": c.date} for c in self.commits],
        }


@dataclass
class Freeze:
    current: list[Occurrence] = field(default_factory=list)
    next: Occurrence | None = None

    @property
    def frozen(self) -> bool:
        return any(o.window.kind == "freeze" for o in self.current)

    def to_json(self) -> dict[str, Any]:
        return {
            "frozen": self.frozen,
            "current": [o.to_json() for o in self.current],
            "next": self.next.to_json() if self.next else None,
        }


@dataclass
class EnvStatus:
    environment: Environment
    ref: str | None
    head: CommitInfo | None
    last_promotion: Entry | None = None
    rollback: Entry | None = None  # a rollback made after the last promotion
    pending: Pending | None = None  # None: first environment, or a branch is missing
    drift: list[Drift] = field(default_factory=list)
    freeze: Freeze = field(default_factory=Freeze)
    decision: FreezeDecision | None = None  # would a promotion into it be allowed now
    warnings: list[Warning] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        head = self.head
        return {
            **self.environment.to_json(),
            "ref": self.ref,
            "head": None
            if head is None
            else {"sha": head.sha, "subject": head.subject, "author": head.author, "date": head.date},
            "last_promotion": self.last_promotion.to_json() if self.last_promotion else None,
            "rollback": self.rollback.to_json() if self.rollback else None,
            "pending": self.pending.to_json() if self.pending else None,
            "drift": [d.to_json() for d in self.drift],
            "freeze": self.freeze.to_json(),
            "promotion_allowed": self.decision.to_json() if self.decision else None,
            "warnings": [w.to_json() for w in self.warnings],
        }


@dataclass
class StatusResult:
    registry: Registry
    remote: str | None
    now: datetime
    environments: list[EnvStatus]
    review_branches: list[str] = field(default_factory=list)  # open promote/* branches (--pr)

    def to_json(self) -> dict[str, Any]:
        return {
            "registry": self.registry.source,
            "remote": self.remote,
            "now": self.now.isoformat(),
            "order": list(self.registry.order),
            "positions": [list(group) for group in self.registry.positions],
            "environments": [e.to_json() for e in self.environments],
            "review_branches": self.review_branches,
        }
