"""A plan saved by `gitops plan --save FILE`, applied by `gitops promote --plan FILE`.

The plan records both branches' commits; applying it refuses when either branch has moved,
so that what a release manager reviewed is what ships.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitops_promote.commands._engine import Prepared
from gitops_promote.core import planfile
from gitops_promote.errors import RefusedError, UsageError


@dataclass(frozen=True)
class SavedPlan:
    source: str
    target: str
    source_tip: str
    source_commit: str
    target_commit: str
    apps: tuple[str, ...] = ()  # the app directories planned (docs/per-app.md); () is the whole branch


def check_object_format(saved: SavedPlan, id_length: int) -> None:
    """A plan saved in a repository of the other object format names commits that cannot exist
    here: say so (exit 2) before any of them is looked up."""
    planfile.check_object_format((saved.source_tip, saved.source_commit, saved.target_commit), id_length)


def load_saved(
    path: Path, source: str | None, target: str | None, ref: str | None, apps: tuple[str, ...] = ()
) -> SavedPlan:
    """The saved plan, checked against the command line it is applied with (SOURCE TARGET
    may be left out: the plan names them; so may --app)."""
    saved = _read_saved(path)
    named = {a.strip().rstrip("/") for a in apps}
    if named and named != set(saved.apps) and not named <= {a.rsplit("/", 1)[-1] for a in saved.apps}:
        raise UsageError(
            f"--app {', '.join(apps)} and the saved plan ({', '.join(saved.apps) or 'every app'}) disagree",
            hint="a saved plan already names the apps it promotes: drop --app",
        )
    if source is not None and (saved.source, saved.target) != (source, target or saved.target):
        raise UsageError(
            f"{path} plans {saved.source} → {saved.target}, not {source} → {target}",
            hint=f"run gitops promote {saved.source} {saved.target} --plan {path}",
        )
    if ref is not None and ref != saved.source_commit:
        raise UsageError("--ref and --plan disagree", hint="a saved plan already names the commit to promote")
    return saved


def _read_saved(path: Path) -> SavedPlan:
    fields = planfile.read(path)  # bounded and schema-checked: a plan file is untrusted input
    return SavedPlan(
        fields.source, fields.target, fields.source_tip, fields.source_commit, fields.target_commit, fields.apps
    )


def check_unchanged(saved: SavedPlan, prepared: Prepared) -> None:
    """Refuse when what was reviewed is not what would ship."""
    if (saved.source, saved.target) != (prepared.source.codename, prepared.target.codename):
        raise RefusedError(
            f"the saved plan promotes {saved.source} to {saved.target}, not "
            f"{prepared.source.codename} to {prepared.target.codename}"
        )
    planned = prepared.scope.paths if prepared.scope else ()
    if planned != saved.apps:
        raise RefusedError(
            f"the saved plan promotes {', '.join(saved.apps) or 'every app'}, not {', '.join(planned) or 'every app'}"
        )
    source_tip = prepared.source_tip
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
    tip = prepared.repo.commit_infos([prepared.target_commit]).get(prepared.target_commit)
    return tip is not None and tip.parents[:1] == (saved.target_commit,) and saved.source_commit in tip.body
