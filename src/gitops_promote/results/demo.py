"""What `gitops demo` returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitops_promote.results.plan import PlanResult
from gitops_promote.results.promote import PromoteResult


@dataclass
class DemoResult:
    path: Path
    plan: PlanResult
    promotion: PromoteResult
