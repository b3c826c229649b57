"""`gitops plan SRC DST`: everything `promote` would do, and whether it would be allowed.

The plan is the step's one model (commands/_engine.prepare): the same files, drift, freeze
decision and warnings that `promote` acts on. A plan saved with `--save FILE` is applied by
`gitops promote --plan FILE` (commands/_savedplan.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._engine import LastPromotion, Prepared, PromotionRequest, prepare
from gitops_promote.commands._savedplan import PLAN_SCHEMA
from gitops_promote.commands._signatures import promotion_findings
from gitops_promote.core.drift import Drift
from gitops_promote.core.freeze import FreezeDecision
from gitops_promote.core.notices import Warning
from gitops_promote.core.promotion import FileAction
from gitops_promote.core.signatures import SignatureFinding


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
            "signatures": [f.to_json() for f in self.signatures],
        }

    @property
    def blocked(self) -> bool:
        """Whether `promote` would refuse this plan (drift, freeze, an invalid result, signatures)."""
        from gitops_promote.core.notices import INVALID_RESULT

        frozen = self.freeze is not None and not self.freeze.allowed
        invalid = any(w.kind == INVALID_RESULT for w in self.warnings)
        return self.changes_target and (bool(self.drift) or frozen or invalid or bool(self.signatures))


def run(repo_path: Path, request: PromotionRequest, save: Path | None = None) -> PlanResult:
    with Repository(repo_path) as repo:
        prepared = prepare(repo, request)
        result = from_prepared(prepared)
    if save is not None:
        save.write_text(json.dumps(result.to_json(), indent=2) + "\n")
    return result


def from_prepared(prepared: Prepared) -> PlanResult:
    return PlanResult(
        source=prepared.source.codename,
        target=prepared.target.codename,
        source_branch=prepared.source.branch,
        target_branch=prepared.target.branch,
        source_tip=prepared.source_tip,
        source_commit=prepared.source_commit,
        target_commit=prepared.target_commit,
        changes_target=prepared.changes_target,
        commits=[{"sha": c.sha, "subject": c.subject, "author": c.author, "date": c.date} for c in prepared.commits],
        files=prepared.plan.actions,
        drift=list(prepared.drift),
        warnings=list(prepared.warnings),
        freeze=prepared.freeze,
        last_promotion=prepared.base,
        governed_by=prepared.registry.source,
        signatures=promotion_findings(prepared),
    )
