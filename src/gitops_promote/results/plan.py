"""What `gitops plan` returns (and writes, with --save, as a plan file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops_promote.core import planfile
from gitops_promote.core.drift import Drift
from gitops_promote.core.freeze import FreezeDecision
from gitops_promote.core.notices import Warning
from gitops_promote.core.promotion import FileAction
from gitops_promote.core.signatures import SignatureFinding
from gitops_promote.results.steps import LastPromotion

PLAN_SCHEMA = planfile.PLAN_SCHEMA


@dataclass
class PlanResult:
    source: str
    target: str
    source_branch: str
    target_branch: str
    source_tip: str
    source_commit: str
    target_commit: str
    changes_target: bool
    commits: list[dict[str, str]]
    files: list[FileAction]
    drift: list[Drift]
    warnings: list[Warning] = field(default_factory=list)
    freeze: FreezeDecision | None = None
    last_promotion: LastPromotion | None = None
    governed_by: str = ""  # the registry that decides the step (docs/registry.md, "Who decides")
    apps: list[str] | None = None  # --app: the app directories planned (None: the whole branch)
    signatures: list[SignatureFinding] = field(default_factory=list)  # the target's policy refuses these

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": PLAN_SCHEMA,
            "source": self.source,
            "target": self.target,
            "source_branch": self.source_branch,
            "target_branch": self.target_branch,
            "source_tip": self.source_tip,
            "source_commit": self.source_commit,
            "target_commit": self.target_commit,
            "changes_target": self.changes_target,
            "commits": self.commits,
            "files": [f.to_json() for f in self.files],
            "drift": [d.to_json() for d in self.drift],
            "warnings": [w.to_json() for w in self.warnings],
            "freeze": self.freeze.to_json() if self.freeze else None,
            "last_promotion": self.last_promotion.to_json() if self.last_promotion else None,
            "governed_by": self.governed_by,
            "apps": self.apps,
            "signatures": [f.to_json() for f in self.signatures],
        }

    @property
    def blocked(self) -> bool:
        """Whether `promote` would refuse this plan (drift, freeze, an invalid result, signatures)."""
        from gitops_promote.core.notices import INVALID_RESULT

        frozen = self.freeze is not None and not self.freeze.allowed
        invalid = any(w.kind == INVALID_RESULT for w in self.warnings)
        return self.changes_target and (bool(self.drift) or frozen or invalid or bool(self.signatures))
