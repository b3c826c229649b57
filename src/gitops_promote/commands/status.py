"""`gitops status`: where every environment stands, in one table.

Per environment: its registry entry, head commit, the last promotion into it, what a promotion
from its upstream would change (*pending*, computed by the same `prepare()` as `promote`),
direct changes a promotion would refuse to overwrite (*drift*), and its freeze windows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gitops_promote.adapters.git import CommitInfo, Repository
from gitops_promote.commands import history
from gitops_promote.commands._context import BranchRefs, bootstrap_registry, check_remote_name, registry_at
from gitops_promote.commands._engine import Prepared, PromotionRequest, current_time, prepare
from gitops_promote.core.apps import discover, group_by_app
from gitops_promote.core.drift import Drift
from gitops_promote.core.freeze import Occurrence, current_and_next
from gitops_promote.core.promotion import KEPT, FileAction
from gitops_promote.core.registry import Environment, Registry


@dataclass
class Pending:
    """What promoting `upstream` into the environment would change."""

    upstream: str
    upstream_commit: str
    files: list[FileAction]
    commits: list[CommitInfo]
    apps: dict[str, int] = field(default_factory=dict)  # app directory -> its files pending

    def to_json(self) -> dict[str, Any]:
        return {
            "upstream": self.upstream,
            "upstream_commit": self.upstream_commit,
            "files": [f.to_json() for f in self.files],
            "apps": self.apps,
            "commits": [{"sha": c.sha, "subject": c.subject, "author": c.author, "date": c.date} for c in self.commits],
        }


@dataclass
class Freeze:
    current: list[Occurrence] = field(default_factory=list)
    next: Occurrence | None = None

    @property
    def frozen(self) -> bool:
        return any(o.window.kind == "freeze" for o in self.current)

    def to_json(self) -> dict[str, Any]:
        return {
            "frozen": self.frozen,
            "current": [o.to_json() for o in self.current],
            "next": self.next.to_json() if self.next else None,
        }


@dataclass
class EnvStatus:
    environment: Environment
    ref: str | None
    head: CommitInfo | None
    last_promotion: history.Entry | None = None
    rollback: history.Entry | None = None  # a rollback made after the last promotion
    pending: Pending | None = None  # None: first environment, or a branch is missing
    drift: list[Drift] = field(default_factory=list)
    freeze: Freeze = field(default_factory=Freeze)

    def to_json(self) -> dict[str, Any]:
        head = self.head
        return {
            **self.environment.to_json(),
            "ref": self.ref,
            "head": None
            if head is None
            else {"sha": head.sha, "subject": head.subject, "author": head.author, "date": head.date},
            "last_promotion": self.last_promotion.to_json() if self.last_promotion else None,
            "rollback": self.rollback.to_json() if self.rollback else None,
            "pending": self.pending.to_json() if self.pending else None,
            "drift": [d.to_json() for d in self.drift],
            "freeze": self.freeze.to_json(),
        }


@dataclass
class StatusResult:
    registry: Registry
    remote: str | None
    now: datetime
    environments: list[EnvStatus]

    def to_json(self) -> dict[str, Any]:
        return {
            "registry": self.registry.source,
            "remote": self.remote,
            "now": self.now.isoformat(),
            "order": list(self.registry.order),
            "positions": [list(group) for group in self.registry.positions],
            "environments": [e.to_json() for e in self.environments],
        }


def sync_existing(repo: Repository, remote: str | None, branches: list[str]) -> BranchRefs:
    """Fetch the environment branches that exist on the remote; a missing one is not an error."""
    name = check_remote_name(repo, remote)
    if name is not None:
        present = [b for b in branches if b in repo.remote_heads(name, branches)]
        if present:
            repo.fetch(name, present)
    return BranchRefs(name)


def run(repo_path: Path, registry_file: Path | None = None, remote: str | None = None) -> StatusResult:
    now = current_time()
    with Repository(repo_path) as repo:
        registry = bootstrap_registry(repo, registry_file, [])
        envs = registry.ordered()
        refs = sync_existing(repo, remote, [e.branch for e in envs])
        rows = [_row(repo, registry, refs, env) for env in envs]
        heads = {row.environment.codename: row.head for row in rows}
        for row in rows:
            # With several upstreams (a group before this position), the first one is compared.
            upstream = next(iter(registry.upstream_of(row.environment.codename)), None)
            if upstream is not None and heads[upstream.codename] and row.head:
                prepared = prepare_step(repo, upstream, row.environment, refs, registry_file, remote)
                row.pending = pending_of(prepared)
                row.drift = prepared.drift
            row.freeze = _freeze(repo, registry, row, now)
        return StatusResult(registry, refs.remote, now, rows)


def prepare_step(
    repo: Repository,
    upstream: Environment,
    env: Environment,
    refs: BranchRefs,
    registry_file: Path | None,
    remote: str | None,
) -> Prepared:
    request = PromotionRequest(upstream.codename, env.codename, None, registry_file, remote, fetch=False)
    return prepare(repo, request, refs=refs)


def pending_of(prepared: Prepared) -> Pending:
    changes = [a for a in prepared.plan.actions if a.action != KEPT]
    apps = discover(prepared.source_tree, prepared.target_tree)
    by_app = {app: len(paths) for app, paths in group_by_app((a.path for a in changes), apps).items() if app}
    return Pending(prepared.source.codename, prepared.source_commit, changes, prepared.commits, by_app)


def _row(repo: Repository, registry: Registry, refs: BranchRefs, env: Environment) -> EnvStatus:
    ref = refs.ref(env.branch)
    head = repo.resolve_commit(ref)
    if head is None:
        return EnvStatus(env, None, None)
    commit = repo.log([head], limit=1)[0]
    last = history.last_promotion(repo, head)
    since = history.entries(repo, head, since=last.commit) if last else []
    rollback = next((e for e in since if e.kind == history.ROLLBACK), None)
    return EnvStatus(env, ref, commit, last, rollback)


def _freeze(repo: Repository, registry: Registry, row: EnvStatus, now: datetime) -> Freeze:
    """Windows as the environment's own branch declares them (else as the registry read)."""
    own = registry_at(repo, row.head.sha, row.environment.branch) if row.head else None
    env = (own.get(row.environment.codename) if own else None) or row.environment
    current, upcoming = current_and_next(env, now, (own or registry).source)
    return Freeze(current, upcoming)
