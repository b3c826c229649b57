"""A plan saved by `gitops plan --save FILE`, applied by `gitops promote --plan FILE`.

The plan records both branches' commits; applying it refuses when either branch has moved,
so that what a release manager reviewed is what ships.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gitops_promote.commands._engine import Prepared
from gitops_promote.errors import ConfigError, RefusedError, UsageError

PLAN_SCHEMA = 1


@dataclass(frozen=True)
class SavedPlan:
    source: str
    target: str
    source_tip: str
    source_commit: str
    target_commit: str


def load_saved(path: Path, source: str | None, target: str | None, ref: str | None) -> SavedPlan:
    """The saved plan, checked against the command line it is applied with (SOURCE TARGET
    may be left out: the plan names them)."""
    saved = _read_saved(path)
    if source is not None and (saved.source, saved.target) != (source, target or saved.target):
        raise UsageError(
            f"{path} plans {saved.source} → {saved.target}, not {source} → {target}",
            hint=f"run gitops promote {saved.source} {saved.target} --plan {path}",
        )
    if ref is not None and ref != saved.source_commit:
        raise UsageError("--ref and --plan disagree", hint="a saved plan already names the commit to promote")
    return saved


def _read_saved(path: Path) -> SavedPlan:
    try:
        data = json.loads(path.read_text())
        if data.get("schema") != PLAN_SCHEMA:
            raise ConfigError(f"{path}: unsupported plan schema {data.get('schema')!r}", hint="save the plan again")
        return SavedPlan(
            data["source"], data["target"], data["source_tip"], data["source_commit"], data["target_commit"]
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"cannot read the saved plan {path}: {exc}", hint="save it with gitops plan --save FILE"
        ) from None


def check_unchanged(saved: SavedPlan, prepared: Prepared) -> None:
    """Refuse when what was reviewed is not what would ship."""
    if (saved.source, saved.target) != (prepared.source.codename, prepared.target.codename):
        raise RefusedError(
            f"the saved plan promotes {saved.source} to {saved.target}, not "
            f"{prepared.source.codename} to {prepared.target.codename}"
        )
    source_tip = prepared.repo.resolve_commit(prepared.refs.ref(prepared.source.branch))
    moved = []
    if source_tip != saved.source_tip:
        moved.append(f"{prepared.source.branch} moved from {saved.source_tip[:12]} to {(source_tip or 'nothing')[:12]}")
    if prepared.target_commit != saved.target_commit:
        moved.append(f"{prepared.target.branch} moved from {saved.target_commit[:12]} to {prepared.target_commit[:12]}")
    if not moved and not prepared.changes_target:
        raise RefusedError(
            f"the saved plan is already applied: {saved.target} has {saved.source} "
            f"{saved.source_commit[:12]}'s content",
            hint="nothing to do; save a new plan for the next promotion",
        )
    if moved and _applied(prepared, saved):
        raise RefusedError(
            f"the saved plan is already applied: {prepared.target.branch} moved to a promotion of "
            f"{saved.source_commit[:12]}",
            hint="nothing to do; save a new plan for the next promotion",
        )
    if moved:
        raise RefusedError(
            "refusing to apply the saved plan: " + "; ".join(moved),
            hint=f"review a new plan (gitops plan {saved.source} {saved.target} --save FILE) and apply that one",
        )


def _applied(prepared: Prepared, saved: SavedPlan) -> bool:
    """The target's tip is the promotion of exactly the planned commit, on the planned tip."""
    tip = prepared.repo.log([prepared.target_commit], limit=1)
    return bool(tip) and tip[0].parents[:1] == (saved.target_commit,) and saved.source_commit in tip[0].body
