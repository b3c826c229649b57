"""`gitops plan SRC DST`: everything `promote` would do, and whether it would be allowed.

The plan is the step's one model (commands/_engine.prepare): the same files, drift, freeze
decision and warnings that `promote` acts on. A plan saved with `--save FILE` is applied by
`gitops promote --plan FILE` (commands/_savedplan.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._engine import Prepared, PromotionRequest, prepare
from gitops_promote.commands._signatures import promotion_findings
from gitops_promote.results.plan import PlanResult


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
        apps=list(prepared.scope.paths) if prepared.scope else None,
        signatures=promotion_findings(prepared),
    )
