"""What `gitops rollback` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops_promote.core.promotion import FileAction
from gitops_promote.results.history import Entry


@dataclass
class RollbackResult:
    environment: str
    target: Entry  # the promotion rolled back to
    commit_before: str
    commit: str | None
    rolled_back: bool
    pushed: bool
    dry_run: bool
    remote: str | None
    with_env_files: bool
    reason: str | None
    files: list[FileAction]
    freeze_override: str | None = None
    attempts: int = 1
    notes: list[str] = field(default_factory=list)
    apps: list[str] | None = None  # undoing partial promotions: only their apps (None: everything)

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "rolled_back_to": self.target.to_json(),
            "commit_before": self.commit_before,
            "commit": self.commit,
            "rolled_back": self.rolled_back,
            "pushed": self.pushed,
            "dry_run": self.dry_run,
            "remote": self.remote,
            "with_env_files": self.with_env_files,
            "reason": self.reason,
            "freeze_override": self.freeze_override,
            "files": [f.to_json() for f in self.files],
            "attempts": self.attempts,
            "notes": self.notes,
            "apps": self.apps,
        }
