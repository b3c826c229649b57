"""Gathering a promotion from git: trees, the last promotion, drift, pending commits.

`prepare()` is shared by `promote`, `plan`, `diff` and `status`: each one sees exactly the same
plan that a promotion would apply. Nothing here writes to the repository.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from gitops_promote.adapters.git import CommitInfo, Repository
from gitops_promote.commands._context import (
    BranchRefs,
    bootstrap_registry,
    check_remote_name,
    promotion_step,
    registry_at,
)
from gitops_promote.commands._envkeys import KeyRules, carry_env_keys, same_ignoring_keys
from gitops_promote.core.drift import (
    PROMOTED_COMMIT,
    PROMOTED_FROM,
    ROLLED_BACK_TO,
    Drift,
    drift_candidates,
    find_drift,
)
from gitops_promote.core.freeze import FreezeDecision, check_promotion_allowed
from gitops_promote.core.paths import EnvSpecificPaths
from gitops_promote.core.promotion import TreePlan, plan_tree
from gitops_promote.core.registry import Environment, Registry
from gitops_promote.core.tree import TreeEntry
from gitops_promote.errors import ConfigError, GitError, RefusedError, UsageError


@dataclass(frozen=True)
class PromotionRequest:
    source: str
    target: str
    ref: str | None = None
    registry_file: Path | None = None
    remote: str | None = None  # None: origin when the repository has it
    fetch: bool = True


@dataclass(frozen=True)
class LastPromotion:
    """The newest promotion commit on the target, and the source commit it promoted."""

    commit: str
    source_commit: str


@dataclass
class Prepared:
    repo: Repository
    registry: Registry
    source: Environment
    target: Environment
    refs: BranchRefs
    source_commit: str
    target_commit: str
    owned: EnvSpecificPaths
    source_tree: dict[str, TreeEntry]
    target_tree: dict[str, TreeEntry]
    plan: TreePlan
    base: LastPromotion | None
    commits: list[CommitInfo] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    key_rules: KeyRules = field(default_factory=KeyRules)
    new_blobs: dict[str, bytes] = field(default_factory=dict)  # merged env-key files, written on apply
    blob_cache: dict[str, bytes] = field(default_factory=dict)  # existing blobs read in a batch
    blob_size_cache: dict[str, int] = field(default_factory=dict)

    @property
    def changes_target(self) -> bool:
        return self.plan.changes_target(self.target_tree)


def sync(repo: Repository, request: PromotionRequest, branches: list[str]) -> BranchRefs:
    """Fetch the branches from the remote when there is one; say where to read them from."""
    remote = check_remote_name(repo, request.remote)
    if remote is None:
        for branch in branches:
            _require_branch(repo, f"refs/heads/{branch}", branch, None)
        return BranchRefs(None)
    if request.fetch:
        heads = repo.remote_heads(remote, branches)
        missing = [b for b in branches if b not in heads]
        if missing:
            raise UsageError(
                f"branch {missing[0]!r} does not exist on remote {remote!r}",
                hint="create and push it first (gitops init sets up dev, stg and prd)",
            )
        repo.fetch(remote, branches)
    refs = BranchRefs(remote)
    for branch in branches:
        _require_branch(repo, refs.ref(branch), branch, remote)
    return refs


def _require_branch(repo: Repository, ref: str, branch: str, remote: str | None) -> str:
    sha = repo.resolve_commit(ref)
    if sha is None:
        where = f"remote {remote!r}" if remote else "this repository"
        raise UsageError(
            f"branch {branch!r} not found in {where}", hint="create it, or check the registry's 'branch' values"
        )
    return sha


def prepare(repo: Repository, request: PromotionRequest, *, refs: BranchRefs | None = None) -> Prepared:
    """Everything a promotion of request.source into request.target would do."""
    bootstrap = bootstrap_registry(repo, request.registry_file, [request.source])
    src, dst = promotion_step(bootstrap, request.source, request.target)
    if refs is None:
        refs = sync(repo, request, [src.branch, dst.branch])
    source_tip = _require_branch(repo, refs.ref(src.branch), src.branch, refs.remote)
    source_commit = _source_commit(repo, request.ref, source_tip, src)
    registry = bootstrap if request.registry_file else registry_at(repo, source_commit, src.branch) or bootstrap
    if registry is not bootstrap:
        src, dst = promotion_step(registry, src.codename, dst.codename)
    target_commit = _require_branch(repo, refs.ref(dst.branch), dst.branch, refs.remote)
    owned = _owned_paths(repo, registry, dst, target_commit, request.registry_file)
    source_tree, target_tree = repo.ls_tree_pair(source_commit, target_commit)
    plan = plan_tree(source_tree, target_tree, owned.owns)
    key_rules = KeyRules.build(registry.env_specific_keys, dst.codename)
    new_blobs = carry_env_keys(repo, key_rules, source_tree, target_tree, plan)
    base = last_promotion(repo, target_commit, source_commit, src.codename)
    prepared = Prepared(
        repo, registry, src, dst, refs, source_commit, target_commit, owned, source_tree, target_tree, plan, base
    )
    prepared.key_rules, prepared.new_blobs = key_rules, new_blobs
    prepared.commits = pending_commits(repo, base, source_commit)
    prepared.drift = detect_drift(prepared, _ignoring_env_keys(prepared))
    return prepared


def _ignoring_env_keys(prepared: Prepared) -> Callable[[str, str | None, set[str | None]], bool] | None:
    if not prepared.key_rules.rules:
        return None
    return lambda path, version, upstream: same_ignoring_keys(
        prepared.repo, prepared.key_rules, path, version, upstream
    )


def _source_commit(repo: Repository, ref: str | None, source_tip: str, src: Environment) -> str:
    if ref is None:
        return source_tip
    if ref.startswith("-"):
        raise UsageError(f"invalid --ref {ref!r}", hint="give a commit id, tag or branch of the source")
    commit = repo.resolve_commit(ref)
    if commit is None:
        raise UsageError(f"--ref {ref!r} does not name a commit")
    if not repo.is_ancestor(commit, source_tip):
        raise UsageError(
            f"--ref {ref!r} ({commit[:12]}) is not on {src.branch}",
            hint=f"only commits reachable from {src.branch} can be promoted from it",
        )
    return commit


def _owned_paths(
    repo: Repository, registry: Registry, dst: Environment, target_commit: str, override: Path | None
) -> EnvSpecificPaths:
    """The source's protection plus the target's own: no promotion can remove its protection."""
    owned = registry.owned_paths(dst.codename)
    if override is None:
        target_registry = registry_at(repo, target_commit, dst.branch)
        if target_registry is not None:
            owned = owned.union(target_registry.env_specific)
    return owned


def last_promotion(repo: Repository, target_commit: str, source_commit: str, source: str) -> LastPromotion | None:
    """The newest promotion from `source` on the target's first-parent line, else the merge base."""
    for commit in repo.log([target_commit], first_parent=True, grep=f"^{PROMOTED_COMMIT}: ", limit=50):
        trailers = commit.trailers()
        promoted = trailers.get(PROMOTED_COMMIT, [])
        if promoted and trailers.get(PROMOTED_FROM, [source])[0] == source:
            if (resolved := repo.resolve_commit(promoted[0])) is not None:
                return LastPromotion(commit.sha, resolved)
    base = repo.merge_base(target_commit, source_commit)
    return LastPromotion(base, base) if base else None


def pending_commits(repo: Repository, base: LastPromotion | None, source_commit: str) -> list[CommitInfo]:
    """Source commits not yet promoted, newest first."""
    exclude = [f"^{base.source_commit}"] if base else []
    return repo.log([*exclude, source_commit])


def detect_drift(
    prepared: Prepared, same_content: Callable[[str, str | None, set[str | None]], bool] | None = None
) -> list[Drift]:
    repo, base = prepared.repo, prepared.base
    since_target = [f"^{base.commit}"] if base else []
    touched_by_commit = repo.touched_paths([*since_target, prepared.target_commit])
    rollbacks = _rollback_commits(repo, since_target, prepared.target_commit) if touched_by_commit else set()
    touched: dict[str, list[str]] = {}
    for commit, paths in touched_by_commit.items():
        if commit in rollbacks:
            continue  # a rollback restores promoted content: never drift
        for path in paths:
            touched.setdefault(path, []).append(commit)
    candidates = drift_candidates(touched, prepared.target_tree, prepared.plan.entries, prepared.owned.owns)
    if not candidates:
        return []
    since_source = [f"^{base.source_commit}"] if base else []
    versions = repo.path_versions([*since_source, prepared.source_commit], candidates)
    if base:
        for path in candidates:
            entry = repo.ls_path(base.source_commit, path)
            versions[path].add(entry.sha if entry else None)
    return find_drift(candidates, prepared.target_tree, versions, same_content)


def _rollback_commits(repo: Repository, since: list[str], tip: str) -> set[str]:
    return {c.sha for c in repo.log([*since, tip], grep=f"^{ROLLED_BACK_TO}: ") if ROLLED_BACK_TO in c.trailers()}


def require_git_identity(repo: Repository) -> None:
    """commit-tree needs an author; say how to set one instead of git's terse message."""
    try:
        # one `git var`: both identities come from the same user.* settings (issue 11)
        repo.run(["var", "GIT_COMMITTER_IDENT"], what="find the committer identity")
    except GitError as exc:
        raise ConfigError(
            "git has no identity to record as the promotion's author",
            hint='set it with git config user.name "…" and git config user.email "…" '
            "(or GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL)",
        ) from exc


# ---- freeze windows (docs/freeze-windows.md) ----------------------------------------------------

NOW_VARIABLE = "GITOPS_NOW"


def current_time() -> datetime:
    """Now, or the instant in GITOPS_NOW (ISO 8601; for tests and what-if questions)."""
    text = os.environ.get(NOW_VARIABLE, "").strip()
    if not text:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
    except ValueError:
        raise UsageError(
            f"{NOW_VARIABLE}={text!r} is not an ISO 8601 date and time",
            hint=f'e.g. {NOW_VARIABLE}="2026-12-24T10:00:00+01:00" (or unset it to use the clock)',
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


class FreezeRefused(RefusedError):
    def __init__(self, decision: FreezeDecision) -> None:
        super().__init__(f"refused: {decision.message}")
        self.decision = decision


def freeze_gate(
    repo: Repository,
    registry: Registry,
    env: Environment,
    env_commit: str,
    registry_file: Path | None,
    override_reason: str | None,
) -> FreezeDecision:
    """May `env` be written now? Raise FreezeRefused when not; the decision carries the trailer.

    Both the registry in use and the one committed on the environment's own branch are
    consulted, so that a source branch cannot lift its target's freeze by editing the registry.
    """
    now = current_time()
    registries = [registry]
    if registry_file is None and (own := registry_at(repo, env_commit, env.branch)) is not None:
        registries.append(own)
    decision: FreezeDecision | None = None
    for reg in registries:
        found = reg.get(env.codename)
        if found is None:
            continue
        decision = check_promotion_allowed(found, now, override_reason, reg.source)
        if not decision.allowed:
            raise FreezeRefused(decision)
        if decision.overridden:
            return decision
    assert decision is not None
    return decision


def override_reason(override_freeze: bool, reason: str | None) -> str | None:
    """The reason an override is made with; --override-freeze without one is a usage error."""
    text = " ".join((reason or "").split())
    if override_freeze and not text:
        raise UsageError("--override-freeze needs --reason TEXT", hint="say why, e.g. --reason 'INC-123 hotfix'")
    return text if override_freeze else None
