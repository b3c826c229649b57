"""What `gitops backport` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BackportFile:
    path: str
    action: str  # take | merge | already

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "action": self.action}


@dataclass
class BackportResult:
    source: str  # the environment the hotfixes are on
    target: str  # the environment they are brought to
    source_commit: str
    target_commit_before: str
    target_commit: str | None
    commits: list[dict[str, str]]
    files: list[BackportFile]
    backported: bool = False
    pushed: bool = False
    dry_run: bool = False
    remote: str | None = None
    pr_branch: str | None = None
    compare_url: str | None = None
    attempts: int = 1
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "source_commit": self.source_commit,
            "target_commit_before": self.target_commit_before,
            "target_commit": self.target_commit,
            "commits": self.commits,
            "files": [f.to_json() for f in self.files],
            "backported": self.backported,
            "pushed": self.pushed,
            "dry_run": self.dry_run,
            "remote": self.remote,
            "pr_branch": self.pr_branch,
            "compare_url": self.compare_url,
            "attempts": self.attempts,
            "notes": self.notes,
        }
