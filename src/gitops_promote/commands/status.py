"""`gitops status`: where every environment stands, in one table.

Per environment: its registry entry (from its own branch), head commit, the last promotion
into it, what a promotion from its upstream would change (*pending*), direct changes a
promotion would refuse to overwrite (*drift*), its freeze windows and the warnings of the
step: all read from the one model of the step (`_engine.prepare`), as `promote` sees it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._branchlog import classify, entries
from gitops_promote.commands._context import BranchRefs, bootstrap_registry, registry_at
from gitops_promote.commands._engine import (
    BASE_SEARCH_LIMIT,
    BranchSync,
    Prepared,
    StartedStep,
    apps_holding,
    current_time,
    prepare_step,
    start_step,
    sync_existing,
)
from gitops_promote.core.apps import group_by_app
from gitops_promote.core.forge import open_review_branches, pr_branch
from gitops_promote.core.freeze import current_and_next
from gitops_promote.core.promotion import KEPT
from gitops_promote.core.registry import Environment, Registry
from gitops_promote.results.history import PROMOTION as PROMOTION_ENTRY
from gitops_promote.results.history import Entry
from gitops_promote.results.status import EnvStatus, Freeze, Pending, StatusResult
from gitops_promote.results.steps import HAND_MERGE, PROMOTION


def run(
    repo_path: Path, registry_file: Path | None = None, remote: str | None = None, fetch: bool = True
) -> StatusResult:
    now = current_time()
    with Repository(repo_path) as repo:
        registry = bootstrap_registry(repo, registry_file, [])
        envs = registry.ordered()
        synced = sync_existing(repo, remote, [e.branch for e in envs], fetch)
        rows = _rows(repo, synced, envs)
        heads = {row.environment.codename: row.head for row in rows}
        steps: dict[str, tuple[Environment, StartedStep | None]] = {}
        for row in rows:
            # With several upstreams (a group before this position), the first one is compared.
            upstream = next(iter(registry.upstream_of(row.environment.codename)), None)
            if upstream is not None and heads[upstream.codename] and row.head:
                # every step's trees compared by git at once, while the first steps are planned
                steps[row.environment.codename] = (
                    upstream,
                    start_step(repo, upstream, row.environment, synced, registry_file),
                )
        for row in rows:
            if row.environment.codename in steps:
                upstream, started = steps[row.environment.codename]
                prepared = prepare_step(repo, upstream, row.environment, synced, registry_file, remote, started)
                _fill_from_step(repo, row, prepared)
            row.freeze = _freeze(repo, registry, row, now)
        return StatusResult(
            registry, synced.refs.remote, now, rows, _review_branches(repo, registry, synced.refs, rows, fetch)
        )


def _review_branches(
    repo: Repository, registry: Registry, refs: BranchRefs, rows: list[EnvStatus], fetch: bool
) -> list[str]:
    """Open promote/* branches; with --no-fetch, as the remote-tracking refs last saw them."""
    remote = refs.remote
    if remote is None:
        return []
    branch = {e.codename: e.branch for e in registry.environments}
    steps = [(branch[src], branch[dst]) for src, dst in registry.allowed_steps()]
    tips = {row.environment.branch: row.head.sha for row in rows if row.head}
    names = [pr_branch(src, dst) for src, dst in steps]
    if fetch:
        heads = repo.remote_heads(remote, names)
    else:
        known = {name: repo.resolve_commit(f"refs/remotes/{remote}/{name}") for name in names}
        heads = {name: sha for name, sha in known.items() if sha}

    def merged(commit: str, target: str) -> bool:
        tip = tips.get(target)
        return tip is not None and repo.resolve_commit(commit) is not None and repo.is_ancestor(commit, tip)

    return open_review_branches(steps, heads, merged)


def pending_of(prepared: Prepared) -> Pending:
    changes = [a for a in prepared.plan.actions if a.action != KEPT]
    apps = apps_holding(prepared, (a.path for a in changes))
    by_app = {app: len(paths) for app, paths in group_by_app((a.path for a in changes), apps).items() if app}
    return Pending(prepared.source.codename, prepared.source_commit, changes, list(prepared.commits), by_app)


def _fill_from_step(repo: Repository, row: EnvStatus, prepared: Prepared) -> None:
    row.environment = prepared.target
    row.pending = pending_of(prepared)
    row.drift = list(prepared.drift)
    row.decision = prepared.freeze
    row.warnings = [w for w in prepared.warnings if w.branch in ("", row.environment.branch)]
    base = prepared.base
    partial = _newer_partial_promotion(repo, prepared)
    if partial is not None:
        row.last_promotion = partial
    if base is None or base.kind not in (PROMOTION, HAND_MERGE):
        return
    entry = classify(base.record or repo.commit_infos([base.commit])[base.commit])
    if base.kind == HAND_MERGE:
        entry.source, entry.source_commit = prepared.source.codename, base.source_commit
    row.last_promotion = partial or entry
    if base.rollback:
        row.rollback = classify(repo.commit_infos([base.rollback])[base.rollback])


def _newer_partial_promotion(repo: Repository, prepared: Prepared) -> Entry | None:
    """A promotion of some apps (--app) after the step's base: the newest promotion here,
    though the whole branch's base is older (docs/per-app.md)."""
    since = prepared.base.commit if prepared.base else None
    if since == prepared.target_commit:
        return None  # nothing was committed here after the base: no log to ask
    for entry in entries(repo, prepared.target_commit, since=since, limit=BASE_SEARCH_LIMIT):
        if entry.kind == PROMOTION_ENTRY and entry.apps is not None and entry.source == prepared.source.codename:
            return entry
    return None


def _rows(repo: Repository, synced: BranchSync, envs: list[Environment]) -> list[EnvStatus]:
    """One row per environment, every head commit read in one round of the cat-file session."""
    refs = {env.codename: synced.refs.ref(env.branch) for env in envs}
    heads = {name: repo.resolve_commit(ref) for name, ref in refs.items()}
    wanted = list(dict.fromkeys(sha for sha in heads.values() if sha))
    infos = repo.commit_infos(wanted)
    rows = []
    for env in envs:
        head = heads[env.codename]
        if head is None:
            rows.append(EnvStatus(env, None, None))
            continue
        mine = [w for w in synced.warnings if w.branch == env.branch]
        rows.append(EnvStatus(env, refs[env.codename], infos[head], warnings=mine))
    return rows


def _freeze(repo: Repository, registry: Registry, row: EnvStatus, now: datetime) -> Freeze:
    """Windows as the environment's own branch declares them (else as the registry read)."""
    own = registry_at(repo, row.head.sha, row.environment.branch) if row.head else None
    env = (own.get(row.environment.codename) if own else None) or row.environment
    current, upcoming = current_and_next(env, now, (own or registry).source)
    return Freeze(current, upcoming)
