"""`gitops plan SRC DST`: everything `promote` would do, without doing it.

A plan saved with `--save FILE` records both branches' commits; `gitops promote --plan FILE`
applies exactly that plan and refuses when either branch has moved, so that what a release
manager reviewed is what ships.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._engine import Prepared, PromotionRequest, prepare
from gitops_promote.core.drift import Drift
from gitops_promote.core.promotion import KEPT, ORPHANED, SEEDED, FileAction
from gitops_promote.errors import ConfigError, RefusedError, UsageError

PLAN_SCHEMA = 1


@dataclass(frozen=True)
class Warning:
    kind: str  # seeded | orphaned | missing-keys | drift
    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self.path, "message": self.message}


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
    apps: list[str] | None = None  # --app: the app directories planned (None: the whole branch)

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
            "apps": self.apps,
        }


def run(repo_path: Path, request: PromotionRequest, save: Path | None = None) -> PlanResult:
    with Repository(repo_path) as repo:
        prepared = prepare(repo, request)
        result = from_prepared(prepared)
    if save is not None:
        save.write_text(json.dumps(result.to_json(), indent=2) + "\n")
    return result


def from_prepared(prepared: Prepared) -> PlanResult:
    source_tip = prepared.repo.resolve_commit(prepared.refs.ref(prepared.source.branch)) or prepared.source_commit
    return PlanResult(
        source=prepared.source.codename,
        target=prepared.target.codename,
        source_branch=prepared.source.branch,
        target_branch=prepared.target.branch,
        source_tip=source_tip,
        source_commit=prepared.source_commit,
        target_commit=prepared.target_commit,
        changes_target=prepared.changes_target,
        commits=[{"sha": c.sha, "subject": c.subject, "author": c.author, "date": c.date} for c in prepared.commits],
        files=prepared.plan.actions,
        drift=prepared.drift,
        warnings=warnings(prepared),
        apps=list(prepared.scope.paths) if prepared.scope else None,
    )


def warnings(prepared: Prepared) -> list[Warning]:
    found: list[Warning] = []
    src, dst = prepared.source.codename, prepared.target.codename
    blobs = _kept_file_blobs(prepared)
    for action in prepared.plan.actions:
        if action.action == SEEDED:
            found.append(Warning("seeded", action.path, f"new file seeded from {src}: review its settings for {dst}"))
        elif action.action == ORPHANED:
            found.append(Warning("orphaned", action.path, f"{dst}'s file is removed: its app is gone from {src}"))
        elif action.action == KEPT:
            found += _missing_keys(prepared, action.path, blobs)
    for drift in prepared.drift:
        found.append(
            Warning(
                "drift",
                drift.path,
                f"changed directly on {dst}; blocks the promotion without --discard-drift "
                f"(bring it home with: gitops backport {dst})",
            )
        )
    return found


def _kept_file_blobs(prepared: Prepared) -> dict[str, bytes]:
    """Both copies of every kept YAML env file, read in one batch."""
    from gitops_promote.core.yamldiff import is_yaml_path

    shas = [
        entry.sha
        for action in prepared.plan.actions
        if action.action == KEPT and is_yaml_path(action.path)
        for entry in (prepared.source_tree.get(action.path), prepared.target_tree.get(action.path))
        if entry is not None and entry.kind == "blob"
    ]
    return prepared.repo.read_blobs(shas)


def _missing_keys(prepared: Prepared, path: str, blobs: dict[str, bytes]) -> list[Warning]:
    """Settings the source's copy of the target's env file has and the target's own lacks."""
    from gitops_promote.core.yamlload import load

    source_entry, target_entry = prepared.source_tree.get(path), prepared.target_tree.get(path)
    if source_entry is None or target_entry is None or source_entry.sha not in blobs or target_entry.sha not in blobs:
        return []
    source = load(path, blobs[source_entry.sha])
    target = load(path, blobs[target_entry.sha])
    if source.fatal or target.fatal:
        return []
    missing = sorted(leaf_keys(source.documents) - leaf_keys(target.documents))
    if not missing:
        return []
    src, dst = prepared.source.codename, prepared.target.codename
    listed = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
    return [Warning("missing-keys", path, f"{src}'s copy sets {listed}, which {dst}'s own copy lacks")]


def leaf_keys(documents: list[Any]) -> set[str]:
    """Dotted paths of every leaf setting in a file's documents."""
    from gitops_promote.core.helm import leaf_keys as document_keys

    return set().union(*(document_keys(d) for d in documents)) if documents else set()


# ---- applying a saved plan -------------------------------------------------------------------


@dataclass(frozen=True)
class SavedPlan:
    source: str
    target: str
    source_tip: str
    source_commit: str
    target_commit: str
    apps: tuple[str, ...] = ()  # the app directories planned; () is the whole branch


def load_saved(path: Path, source: str, target: str | None, ref: str | None, apps: tuple[str, ...] = ()) -> SavedPlan:
    """The saved plan, checked against the command line it is applied with (no target: the plan's)."""
    saved = _read_saved(path)
    if apps and set(apps) != set(saved.apps) and not set(apps) <= {a.rsplit("/", 1)[-1] for a in saved.apps}:
        raise UsageError(
            f"--app {', '.join(apps)} and the saved plan ({', '.join(saved.apps) or 'every app'}) disagree",
            hint="a saved plan already names the apps it promotes: drop --app",
        )
    if (saved.source, saved.target) != (source, target or saved.target):
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
        apps = tuple(str(a) for a in data.get("apps") or ())
        return SavedPlan(
            data["source"], data["target"], data["source_tip"], data["source_commit"], data["target_commit"], apps
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
    planned = prepared.scope.paths if prepared.scope else ()
    if planned != saved.apps:
        raise RefusedError(
            f"the saved plan promotes {', '.join(saved.apps) or 'every app'}, not {', '.join(planned) or 'every app'}"
        )
    source_tip = prepared.repo.resolve_commit(prepared.refs.ref(prepared.source.branch))
    moved = []
    if source_tip != saved.source_tip:
        moved.append(f"{prepared.source.branch} moved from {saved.source_tip[:12]} to {(source_tip or 'nothing')[:12]}")
    if prepared.target_commit != saved.target_commit:
        moved.append(f"{prepared.target.branch} moved from {saved.target_commit[:12]} to {prepared.target_commit[:12]}")
    if moved:
        raise RefusedError(
            "refusing to apply the saved plan: " + "; ".join(moved),
            hint="review a new plan (gitops plan --save FILE) and apply that one",
        )
