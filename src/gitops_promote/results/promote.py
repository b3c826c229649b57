"""What `gitops promote` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops_promote.core.drift import Drift
from gitops_promote.core.freeze import FreezeDecision
from gitops_promote.core.notices import Warning
from gitops_promote.core.promotion import SEEDED, FileAction
from gitops_promote.results.steps import LastPromotion


@dataclass
class PromoteResult:
    """One promotion: done, planned (a dry run) or refused. The text report and the JSON
    object (`to_json`, docs/json-output.md) are both drawn from it."""

    source: str
    target: str
    source_commit: str
    target_commit_before: str
    target_commit: str | None
    promoted: bool
    pushed: bool
    dry_run: bool
    remote: str | None
    files: list[FileAction]
    commits: list[dict[str, str]]
    drift: list[Drift]
    drift_discarded: bool = False
    attempts: int = 1
    notes: list[str] = field(default_factory=list)
    pr_branch: str | None = None  # --pr: the review branch pushed instead of the target
    compare_url: str | None = None  # --pr: where to open the pull request (GitHub/GitLab remotes)
    pull_request: str | None = None  # --pr: the pull request gh opened or updated
    warnings: list[Warning] = field(default_factory=list)
    freeze: FreezeDecision | None = None
    last_promotion: LastPromotion | None = None
    refused: str | None = None  # why the promotion was refused (drift, freeze, invalid-result)
    apps: list[str] | None = None  # --app: the app directories promoted (None: the whole branch)

    @property
    def seeded(self) -> list[str]:
        return [f.path for f in self.files if f.action == SEEDED]

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "source_commit": self.source_commit,
            "target_commit_before": self.target_commit_before,
            "target_commit": self.target_commit,
            "promoted": self.promoted,
            "pushed": self.pushed,
            "dry_run": self.dry_run,
            "remote": self.remote,
            "files": [f.to_json() for f in self.files],
            "commits": self.commits,
            "drift": [d.to_json() for d in self.drift],
            "drift_discarded": self.drift_discarded,
            "attempts": self.attempts,
            "notes": self.notes,
            "pr_branch": self.pr_branch,
            "compare_url": self.compare_url,
            "pull_request": self.pull_request,
            "warnings": [w.to_json() for w in self.warnings],
            "freeze": self.freeze.to_json() if self.freeze else None,
            "last_promotion": self.last_promotion.to_json() if self.last_promotion else None,
            "refused": self.refused,
            "apps": self.apps,
        }
