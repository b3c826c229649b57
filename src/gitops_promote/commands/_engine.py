"""The one model of a step between two environments: trees, base, drift, freeze, warnings.

`prepare()` is shared by `promote`, `plan`, `diff`, `status` and `parity`: each one reads the
same `Prepared` value that a promotion would apply, so their verdicts on pending work, drift
and freezes cannot disagree. It is built once per step from git objects and never mutated;
nothing here writes to the repository.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

from gitops_promote.adapters import treeview
from gitops_promote.adapters.git import CommitInfo, Repository, glob_escape
from gitops_promote.adapters.treeview import TreeView
from gitops_promote.commands._context import (
    BranchRefs,
    Governance,
    bootstrap_registry,
    check_remote_name,
    environment,
    govern_step,
)
from gitops_promote.commands._envkeys import KeyRules, carry_env_keys, same_ignoring_keys
from gitops_promote.commands._stepfiles import StepTrees
from gitops_promote.core import notices
from gitops_promote.core.apps import (
    PROMOTED_APPS,
    App,
    Scope,
    application_of,
    chart_files_above,
    covers,
    parse_trailer,
    scope_for,
    scope_looked_up,
    touching,
)
from gitops_promote.core.backport import BACKPORTED_COMMITS, parse_commits, without_backported
from gitops_promote.core.drift import (
    PROMOTED_COMMIT,
    PROMOTED_FROM,
    ROLLED_BACK_TO,
    Drift,
    drift_candidates,
    find_drift,
)
from gitops_promote.core.freeze import FreezeDecision, check_promotion_allowed
from gitops_promote.core.helm import chart_dirs
from gitops_promote.core.notices import Warning
from gitops_promote.core.paths import EnvSpecificPaths
from gitops_promote.core.registry import Environment, Registry
from gitops_promote.core.tree import TreeEntry
from gitops_promote.core.treediff import DeltaPlan, DiffRecord, collapsed, plan_delta
from gitops_promote.errors import ConfigError, GitError, GitopsError, RefusedError, UsageError
from gitops_promote.results.steps import COMMON_ANCESTOR, HAND_MERGE, PROMOTION, LastPromotion

BASE_SEARCH_LIMIT = 200  # first-parent commits searched for the last promotion


class PromotionRequest(NamedTuple):
    source: str
    target: str
    ref: str | None = None
    registry_file: Path | None = None
    remote: str | None = None  # None: origin when the repository has it
    fetch: bool = True
    override_reason: str | None = None  # --override-freeze --reason TEXT
    apps: tuple[str, ...] = ()  # --app: only these apps (directories or names); () is everything


class BranchSync(NamedTuple):
    """Where the branches were read from, and what differs between local and remote."""

    refs: BranchRefs
    warnings: tuple[Warning, ...] = ()


@dataclass
class BlobCache:
    """Blob contents and sizes read for a step (passed explicitly, filled by whoever reads)."""

    new: dict[str, bytes] = field(default_factory=dict)  # merged files, written on apply
    contents: dict[str, bytes] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    """One step as every command reads it: its governance, both trees, the plan, its base,
    commits, drift, freeze and warnings."""

    repo: Repository
    registry: Registry  # the registry that governs the step (the target's own, normally)
    governance: Governance
    source: Environment
    target: Environment
    refs: BranchRefs
    source_tip: str
    source_commit: str
    target_commit: str
    owned: EnvSpecificPaths
    source_tree: TreeView
    target_tree: TreeView
    plan: DeltaPlan
    base: LastPromotion | None
    commits: tuple[CommitInfo, ...]
    drift: tuple[Drift, ...]
    key_rules: KeyRules
    freeze: FreezeDecision
    warnings: tuple[Warning, ...]
    blobs: BlobCache
    scope: Scope | None = None  # --app: the apps promoted (None: the whole branch)

    @property
    def changes_target(self) -> bool:
        return self.plan.changes_target(self.target_tree)

    @property
    def new_blobs(self) -> dict[str, bytes]:
        return self.blobs.new


# ---- reading the branches ---------------------------------------------------------------------


def sync(repo: Repository, request: PromotionRequest, branches: list[str]) -> BranchSync:
    """Fetch the branches (unless --no-fetch); say where to read them from and how local differs."""
    remote = check_remote_name(repo, request.remote)
    if remote is None:
        for branch in branches:
            _require_branch(repo, f"refs/heads/{branch}", branch, None)
        return BranchSync(BranchRefs(None))
    found: list[Warning] = []
    if request.fetch:
        fetch_branches(repo, remote, branches, required=True)
    else:
        found.append(stale_refs_warning(repo, remote))
    refs = BranchRefs(remote)
    for branch in branches:
        _require_branch(repo, refs.ref(branch), branch, remote)
        found += local_differences(repo, refs, branch)
    return BranchSync(refs, tuple(found))


def fetch_branches(repo: Repository, remote: str, branches: list[str], *, required: bool) -> list[str]:
    """Fetch those of `branches` the remote has; a missing one is an error when `required`."""
    try:
        heads = repo.remote_heads(remote, branches)
        present = [b for b in branches if b in heads]
        missing = [b for b in branches if b not in heads]
        if missing and required:
            raise UsageError(
                f"branch {missing[0]!r} does not exist on remote {remote!r}",
                hint="create and push it first (gitops init sets up dev, stg and prd)",
            )
        if present:
            repo.fetch(remote, present)
            repo.record_fetch()
        return present
    except GitError as exc:
        raise GitError(
            str(exc),
            hint=(exc.hint + "; " if exc.hint else "") + "to work from the refs already fetched, pass --no-fetch",
        ) from None


def stale_refs_warning(repo: Repository, remote: str) -> Warning:
    when = repo.last_fetch_time()
    if when is None:
        age = "at an unknown time (gitops has not fetched here)"
    else:
        age = _age(time.time() - when) + " ago"
    return Warning(
        notices.STALE_REFS, "", f"--no-fetch: working from the {remote}/* branches as fetched {age}; they may be stale"
    )


def _age(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"


def local_differences(repo: Repository, refs: BranchRefs, branch: str) -> list[Warning]:
    """Plain words for a local branch that differs from its remote branch."""
    assert refs.remote is not None
    local = repo.resolve_commit(f"refs/heads/{branch}")
    remote_tip = repo.resolve_commit(refs.ref(branch))
    if local is None or remote_tip is None or local == remote_tip:
        return []
    ahead, behind = repo.ahead_behind(local, remote_tip)
    found = []
    where = f"{refs.remote}/{branch}"
    if ahead:
        found.append(
            Warning(
                notices.UNPUSHED,
                "",
                f"{branch} is {_count(ahead)} ahead of {where}; they are not in this step (it reads {where}) "
                f"— push them first (git push {refs.remote} {branch})",
                branch,
            )
        )
    if behind:
        found.append(
            Warning(
                notices.BEHIND, "", f"local {branch} is {_count(behind)} behind {where} (gitops reads {where})", branch
            )
        )
    return found


def _count(n: int) -> str:
    return f"{n} commit{'s' if n != 1 else ''}"


def _require_branch(repo: Repository, ref: str, branch: str, remote: str | None) -> str:
    sha = repo.resolve_commit(ref)
    if sha is None:
        where = f"remote {remote!r}" if remote else "this repository"
        raise UsageError(
            f"branch {branch!r} not found in {where}", hint="create it, or check the registry's 'branch' values"
        )
    return sha


def sync_existing(repo: Repository, remote: str | None, branches: list[str], fetch: bool = True) -> BranchSync:
    """Like sync(), for commands that show every environment: a missing branch is not an error."""
    name = check_remote_name(repo, remote)
    if name is None:
        return BranchSync(BranchRefs(None))
    found: list[Warning] = []
    if fetch:
        fetch_branches(repo, name, branches, required=False)
    else:
        found.append(stale_refs_warning(repo, name))
    refs = BranchRefs(name)
    for branch in branches:
        found += local_differences(repo, refs, branch)
    return BranchSync(refs, tuple(found))


# ---- the step ----------------------------------------------------------------------------------


def prepare(
    repo: Repository, request: PromotionRequest, *, synced: BranchSync | None = None, started: StartedStep | None = None
) -> Prepared:
    """Everything a promotion of request.source into request.target would do, and why not.
    `started`: what `start_step` found for this step already (its base)."""
    chosen = bootstrap_registry(repo, request.registry_file, [request.source, request.target])
    src, dst = environment(chosen, request.source), environment(chosen, request.target)
    if src.codename == dst.codename:
        raise UsageError(
            f"cannot promote {src.codename} into itself",
            hint=f"changes travel {chosen.describe_order()} one step at a time, "
            f"e.g. gitops promote {_example_step(chosen)}",
        )
    if synced is None:
        synced = sync(repo, request, [src.branch, dst.branch])
    refs = synced.refs
    source_tip = _require_branch(repo, refs.ref(src.branch), src.branch, refs.remote)
    source_commit = _source_commit(repo, request.ref, source_tip, src)
    target_commit = _require_branch(repo, refs.ref(dst.branch), dst.branch, refs.remote)
    governance = govern_step(
        repo, chosen, request.registry_file is not None, (src, dst), (source_commit, target_commit)
    )
    registry = governance.registry
    src, dst = registry.get(src.codename) or src, registry.get(dst.codename) or dst
    # The whole branch's base is known before the trees are compared (--app's waits for its
    # scope): the one diff-tree also says which files the source changed since then, which
    # the missing-keys warning asks (no tree walked in Python for it, no second process).
    if request.apps:
        early = None
    elif started is not None and (started.source_commit, started.target_commit) == (source_commit, target_commit):
        early = started.base  # found when the step was started (its diff-tree is running)
    else:
        early = last_promotion(repo, target_commit, source_commit, src.codename)
    since, target_since = _compared_since(early, target_commit)
    if not request.apps and target_since is None:
        start_drift_log(repo, early, target_commit)  # git reads it while the trees are compared
    differences = treeview.pair(repo, source_commit, target_commit, since, target_since)  # one diff-tree
    _records, source_tree, target_tree = differences
    step = plan_step(repo, governance, (src, dst), differences, request.apps)
    owned, scope, plan, key_rules, blobs, merge = (
        step.owned,
        step.scope,
        step.plan,
        step.key_rules,
        step.blobs,
        step.trees,
    )
    if request.apps:
        base = last_promotion(repo, target_commit, source_commit, src.codename, scope.paths if scope else ())
    else:
        base = early
    commits = tuple(scoped_commits(repo, scope, base, source_commit, pending_commits(repo, base, source_commit)))
    drift = tuple(detect_drift(repo, base, target_commit, source_commit, target_tree, plan, owned, merge.same_content))
    freeze = check_promotion_allowed(dst, current_time(), request.override_reason, registry.source)
    found = [*synced.warnings, *merge.warnings(base, drift, source_commit)]
    return Prepared(
        repo,
        registry,
        governance,
        src,
        dst,
        refs,
        source_tip,
        source_commit,
        target_commit,
        owned,
        source_tree,
        target_tree,
        plan,
        base,
        commits,
        drift,
        key_rules,
        freeze,
        tuple(found),
        blobs,
        scope,
    )


def prepare_step(
    repo: Repository,
    upstream: Environment,
    env: Environment,
    synced: BranchSync,
    registry_file: Path | None,
    remote: str | None,
    started: StartedStep | None = None,
) -> Prepared:
    """The step upstream → env, exactly as `promote` would compute it (branches already synced)."""
    request = PromotionRequest(upstream.codename, env.codename, None, registry_file, remote, fetch=False)
    mine = [w for w in synced.warnings if w.branch in ("", upstream.branch, env.branch)]
    return prepare(repo, request, synced=BranchSync(synced.refs, tuple(mine)), started=started)


class StartedStep(NamedTuple):
    """A step whose trees git is comparing in the background (`start_step`), and its base."""

    source_commit: str
    target_commit: str
    base: LastPromotion | None


def start_step(
    repo: Repository, upstream: Environment, env: Environment, synced: BranchSync, registry_file: Path | None
) -> StartedStep | None:
    """Begin the step upstream → env: its base is found and git starts comparing its trees,
    so that `status` plans one step while git compares the next (two cores). The same
    commits and base as `prepare` finds; None when the step cannot begin (then
    `prepare_step` says why, as it always did: nothing is raised here)."""
    try:
        chosen = bootstrap_registry(repo, registry_file, [upstream.codename, env.codename])
        src, dst = environment(chosen, upstream.codename), environment(chosen, env.codename)
        source_commit = repo.resolve_commit(synced.refs.ref(src.branch))
        target_commit = repo.resolve_commit(synced.refs.ref(dst.branch))
        if source_commit is None or target_commit is None or src.codename == dst.codename:
            return None
        base = last_promotion(repo, target_commit, source_commit, src.codename)
        repo.start_tree_diff(source_commit, target_commit, *_compared_since(base, target_commit))
    except GitopsError:
        return None
    return StartedStep(source_commit, target_commit, base)


class StepPlan(NamedTuple):
    """The tree a step writes, by the promotion rules and the target's own parts."""

    owned: EnvSpecificPaths
    scope: Scope | None
    plan: DeltaPlan
    key_rules: KeyRules
    blobs: BlobCache
    trees: StepTrees


def plan_step(
    repo: Repository,
    governance: Governance,
    step: tuple[Environment, Environment],
    differences: tuple[list[DiffRecord], TreeView, TreeView],
    apps: tuple[str, ...] = (),
) -> StepPlan:
    """Rules a–d, env-specific keys, the target's own registry entry and a removed app's
    Applications: the one computation `prepare()` and `gitops verify` share.

    Planned from the paths that differ between the two trees (`treeview.pair`): a one-file
    change costs one file, whatever the size of the repository (docs/promotion-rules.md, "How a
    step is computed").
    """
    src, dst = step
    records, source_tree, target_tree = differences
    owned = _owned_paths(governance, dst)
    # --app is looked up (a bare name by git's search for <dir>/<name>/Chart.yaml); only an
    # unknown app lists both trees, for the error's hint
    commits = (source_tree.commit, target_tree.commit)
    scope = scope_looked_up(apps, (source_tree, target_tree), lambda name: _charts_named(repo, commits, [name]))
    scope = scope or scope_for(apps, source_tree, target_tree)
    plan = plan_delta(records, owned.owns, scope.contains if scope else None, source_tree)
    key_rules = KeyRules.build(_key_patterns(governance), dst.codename)
    blobs = BlobCache()
    blobs.new.update(carry_env_keys(repo, key_rules, source_tree, target_tree, plan))
    merge = StepTrees(repo, governance, src, dst, source_tree, target_tree, plan, owned, key_rules, blobs)
    merge.carry_registry_entry()
    merge.remove_orphaned_applications()
    return StepPlan(owned, scope, plan, key_rules, blobs, merge)


def changes_to_write(prepared: Prepared) -> dict[str, TreeEntry | None]:
    """What the promotion changes in the source's tree, for `Repository.write_tree_from`: the
    plan's changes that differ from the source, a directory that ends up the target's own
    put back whole (treediff.collapsed: the kept env files of 2,000 apps are 2,000 of the
    target's directories, not 2,000 trees rewritten)."""
    plan, source = prepared.plan, prepared.source_tree
    changes = {p: e for p, e in plan.changes.items() if e != source.get(p)}
    return collapsed(changes, plan.files, source, prepared.target_tree.differing_directories())


def _charts_named(repo: Repository, commits: tuple[str, ...], names: Iterable[str]) -> list[str]:
    """The `<dir>/<name>/Chart.yaml` files of the commits, for every name: one search by git
    per commit (no listing)."""
    patterns = [f"**/{glob_escape(name)}/Chart.yaml" for name in sorted(set(names))]
    if not patterns:
        return []
    return sorted({path for commit in dict.fromkeys(commits) for path in repo.glob_files(commit, patterns)})


def apps_holding(prepared: Prepared, paths: Iterable[str]) -> list[App]:
    """The apps (as `core.apps.discover` finds them on either side) that hold any of `paths`:
    the Chart.yaml files above them, looked up, and for an Application file named after its
    app (`argocd/<env>/apps/<name>.yaml`) the apps of that name, which git searches for."""
    wanted = list(paths)
    names = {name for path in wanted if (name := application_of(path)) is not None}
    named = _charts_named(prepared.repo, (prepared.source_commit, prepared.target_commit), names)
    trees = (prepared.source_tree, prepared.target_tree)
    return [App(d) for d in chart_dirs(charts_above(prepared, [*wanted, *named], trees))]


def charts_above(prepared: Prepared, paths: Iterable[str], trees: Iterable[Mapping[str, TreeEntry]]) -> list[str]:
    """The Chart.yaml files above `paths` that any of `trees` holds, looked up in one round
    (both views share their lookups; the promoted tree reads through the source's)."""
    charts = chart_files_above(paths)
    prepared.source_tree.prefetch_presence(charts)
    prepared.target_tree.prefetch_presence(charts)
    chosen = list(trees)
    return [c for c in charts if any(c in tree for tree in chosen)]


def _example_step(registry: Registry) -> str:
    steps = registry.allowed_steps()
    return " ".join(steps[0]) if steps else "SOURCE TARGET"


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


def _owned_paths(governance: Governance, dst: Environment) -> EnvSpecificPaths:
    """The governing registry's protection plus the source's proposal: a promotion can add
    protection to the target's files, never remove it."""
    owned = governance.registry.owned_paths(dst.codename)
    for other in (governance.source_registry, governance.target_registry):
        if other is not None and other is not governance.registry and governance.how != "override":
            owned = owned.union(other.env_specific)
    return owned


def _key_patterns(governance: Governance) -> dict[str, tuple[str, ...]]:
    """env_specific_keys of the governing registry and the source's, keys joined per pattern."""
    merged: dict[str, tuple[str, ...]] = dict(governance.registry.env_specific_keys)
    source = governance.source_registry
    if source is not None and governance.how != "override":
        for pattern, keys in source.env_specific_keys.items():
            merged[pattern] = tuple(dict.fromkeys((*merged.get(pattern, ()), *keys)))
    return merged


# ---- the last promotion, pending commits and drift -----------------------------------------------


def last_promotion(
    repo: Repository, target_commit: str, source_commit: str, source: str, apps: tuple[str, ...] = ()
) -> LastPromotion | None:
    """The newest point on the target's first-parent line that took the source's content.

    A partial promotion (Promoted-Apps, docs/per-app.md) counts only for a promotion of some of
    its apps: for the other apps, and for the whole branch, the last promotion that carried them
    is the base, so that a direct change made before the partial promotion is still drift.
    """
    rollback: tuple[str, str] | None = None
    # The first-parent walk stops where the target's line reaches the source's history (a
    # manual fast-forward: the common ancestor), so the merge base is only asked for when no
    # promotion is found on the way (one process fewer on every everyday step).
    walk = repo.log([target_commit, f"^{source_commit}"], first_parent=True, limit=BASE_SEARCH_LIMIT)
    for commit in walk:
        trailers = commit.trailers()
        if trailers.get(ROLLED_BACK_TO) and rollback is None:
            rollback = (commit.sha, trailers[ROLLED_BACK_TO][0])
            continue
        partial = trailers.get(PROMOTED_APPS)
        if partial and not covers(parse_trailer(partial[0]), apps):
            continue
        found = _promotion_point(repo, commit, trailers, source_commit, source)
        if found is not None:
            return _with_rollback(repo, found, rollback)
    common = _common_from_walk(walk, target_commit) or repo.merge_base(target_commit, source_commit)
    if common is None:
        return None
    return _with_rollback(repo, LastPromotion(common, common, COMMON_ANCESTOR), rollback)


def _common_from_walk(walk: list[CommitInfo], target_commit: str) -> str | None:
    """The merge base, read off the first-parent walk where it is certain (else None: ask git).

    The walk stops at the source's history. When it ran there (not cut by the limit) through
    single-parent commits only, every commit the target shares with the source is an ancestor
    of the last walked commit's parent, which the source has: that parent is the merge base.
    Nothing walked: the target is in the source's history, and is the merge base itself.
    """
    if len(walk) >= BASE_SEARCH_LIMIT:
        return None
    if not walk:
        return target_commit
    if any(len(commit.parents) != 1 for commit in walk):
        return None  # a merge (or a root) on the way: git decides
    return walk[-1].parents[0]


def _promotion_point(
    repo: Repository, commit: CommitInfo, trailers: dict[str, list[str]], source_commit: str, source: str
) -> LastPromotion | None:
    promoted = trailers.get(PROMOTED_COMMIT)
    if promoted:
        if trailers.get(PROMOTED_FROM, [source])[0] != source:
            return None
        resolved = repo.resolve_commit(promoted[0])
        return LastPromotion(commit.sha, resolved, record=commit) if resolved else None
    if len(commit.parents) > 1 and repo.is_ancestor(commit.parents[1], source_commit):
        # `git merge` of the source by hand
        return LastPromotion(commit.sha, commit.parents[1], HAND_MERGE, record=commit)
    return None


def _with_rollback(repo: Repository, found: LastPromotion, rollback: tuple[str, str] | None) -> LastPromotion:
    if rollback is None:
        return found
    named = repo.resolve_commit(rollback[1])
    restored = repo.commit_infos([named]).get(named) if named else None
    promoted = restored.trailers().get(PROMOTED_COMMIT, []) if restored else []
    restored_source = repo.resolve_commit(promoted[0]) if promoted else None
    return LastPromotion(found.commit, found.source_commit, found.kind, rollback[0], restored_source, found.record)


def scoped_commits(
    repo: Repository, scope: Scope | None, base: LastPromotion | None, source_commit: str, commits: list[CommitInfo]
) -> list[CommitInfo]:
    """--app: the pending commits that changed those apps."""
    if scope is None:
        return commits
    exclude = [f"^{base.pending_since}"] if base else []
    wanted = touching(scope, repo.touched_paths([*exclude, source_commit]))
    return [c for c in commits if c.sha in wanted]


def pending_commits(repo: Repository, base: LastPromotion | None, source_commit: str) -> list[CommitInfo]:
    """Source commits whose content the target does not have yet, newest first."""
    if base is None:
        return repo.log([source_commit])
    line = repo.line_between(source_commit, base.pending_since)  # no process when no merge
    return line if line is not None else repo.log([f"^{base.pending_since}", source_commit])


SameContent = Callable[[str, "str | None", "set[str | None]"], bool]


def _compared_since(base: LastPromotion | None, target_commit: str) -> tuple[str | None, str | None]:
    """What a step's diff-tree compares besides the two trees: the source's content at `base`
    with the source (which files it changed since), and the commit of `base` with the target
    (which files the target changed since: `detect_drift` reads its log only when one of them
    is a file the promotion changes). The second only from a base whose every file the
    promotion changes was upstream's content: a promotion or the newest commit both share,
    not a hand merge (its conflicts were resolved on the target) nor with a rollback since."""
    if base is None:
        return None, None
    plain = base.kind in (PROMOTION, COMMON_ANCESTOR) and base.rollback is None and base.commit != target_commit
    return base.pending_since, base.commit if plain else None


def detect_drift(
    repo: Repository,
    base: LastPromotion | None,
    target_commit: str,
    source_commit: str,
    target_tree: Mapping[str, TreeEntry],
    plan: DeltaPlan,
    owned: EnvSpecificPaths,
    same_content: SameContent | None = None,
) -> list[Drift]:
    drift_log = _drift_log(base, target_commit)
    if drift_log is None:
        return []  # nothing was committed on the target since it took the source's content
    if not _changed_where_promoted(repo, base, target_commit, target_tree, plan, owned):
        return []
    # one log: the paths each commit changed, and which commits are rollbacks
    touched_by_commit, rollbacks = repo.touched_paths_and_trailer(drift_log, ROLLED_BACK_TO)
    touched: dict[str, list[str]] = {}
    for commit, paths in touched_by_commit.items():
        if commit in rollbacks:
            continue  # a rollback restores promoted content: never drift
        for path in paths:
            touched.setdefault(path, []).append(commit)
    candidates = drift_candidates(touched, target_tree, plan.entries, owned.owns)
    if not candidates:
        return []
    since_source = [f"^{base.source_commit}"] if base else []
    versions = repo.path_versions([*since_source, source_commit], candidates)
    if base:  # the content promoted last time counts as upstream too: one lookup for all paths
        for path, entry in repo.entries_at(base.source_commit, candidates).items():
            versions[path].add(entry.sha if entry else None)
    drift = find_drift(candidates, target_tree, versions, same_content)
    # A hotfix brought home with `gitops backport` is upstream now, merged or not byte for byte.
    return without_backported(drift, backported_commits(repo, since_source, source_commit)) if drift else []


def _changed_where_promoted(
    repo: Repository,
    base: LastPromotion | None,
    target_commit: str,
    target_tree: Mapping[str, TreeEntry],
    plan: DeltaPlan,
    owned: EnvSpecificPaths,
) -> bool:
    """Whether the target changed, since its last promotion, a file this promotion changes:
    when not (known from the step's own diff-tree, `_compared_since`), no commit since then
    can be drift, and their log is not read. A file changed and changed back holds what the
    promotion wrote, upstream's content: never drift either. Unknown: True."""
    changed = repo.recorded_changes(base.commit, target_commit) if base is not None else None
    if changed is None:
        return True
    return bool(drift_candidates(dict.fromkeys(changed, []), target_tree, plan.entries, owned.owns))


def start_drift_log(repo: Repository, base: LastPromotion | None, target_commit: str) -> None:
    """Start `detect_drift`'s log of the target's commits since `base` (all it needs), so that
    git walks them while the step's trees are compared and planned."""
    drift_log = _drift_log(base, target_commit)
    if drift_log is not None:
        repo.start_touched_paths(drift_log, ROLLED_BACK_TO)


def _drift_log(base: LastPromotion | None, target_commit: str) -> list[str] | None:
    """The target's commits since it took the source's content; None when there are none."""
    if base is not None and base.commit == target_commit:
        return None
    return [f"^{base.commit}", target_commit] if base else [target_commit]


def backported_commits(repo: Repository, since: list[str], tip: str) -> dict[str, set[str]]:
    """Commits of other environments that `gitops backport` brought into tip's history, each
    with the paths the backport commits changed."""
    found: dict[str, set[str]] = {}
    for commit in repo.log([*since, tip], grep=f"^{BACKPORTED_COMMITS}: "):
        shas = {c for value in commit.trailers().get(BACKPORTED_COMMITS, []) for c in parse_commits(value)}
        if not shas or not commit.parents:
            continue
        paths = set(repo.touched_paths([f"^{commit.parents[0]}", commit.sha]).get(commit.sha, []))
        for sha in shas:
            found.setdefault(sha, set()).update(paths)
    return found


def ignoring_env_keys(repo: Repository, rules: KeyRules) -> SameContent | None:
    if not rules.rules:
        return None
    return lambda path, version, upstream: same_ignoring_keys(repo, rules, path, version, upstream)


def require_git_identity(repo: Repository, commit: str = "the promotion commit") -> None:
    """commit-tree needs an author; say how to set one instead of git's terse message."""
    if repo.identity_configured():
        return  # user.name and user.email are set: nothing for git to guess, no process
    try:
        # one `git var`: both identities come from the same user.* settings (issue 11)
        repo.run(["var", "GIT_COMMITTER_IDENT"], what="find the committer identity")
    except GitError as exc:
        raise ConfigError(
            f"git has no identity to record as the author of {commit}",
            hint='set it with: git config --global user.name "Your Name" && '
            'git config --global user.email "you@example.com" (or GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL)',
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
    def __init__(self, decision: FreezeDecision, result: object = None) -> None:
        super().__init__(f"refused: {decision.message}")
        self.decision = decision
        self.result = result


def freeze_gate(
    repo: Repository,
    env: Environment,
    env_commit: str,
    registry_file: Path | None,
    override_reason: str | None,
    fallback: Registry,
) -> FreezeDecision:
    """May `env` be written now, by the freeze its own branch declares? Raise FreezeRefused if not.

    The registry committed on the environment's own branch decides (else --registry, else the
    registry found to start with): no other branch can lift an environment's freeze.
    """
    from gitops_promote.commands._context import registry_at

    own = None if registry_file is not None else registry_at(repo, env_commit, env.branch)
    registry = own or fallback
    entry = registry.get(env.codename) or env
    decision = check_promotion_allowed(entry, current_time(), override_reason, registry.source)
    if not decision.allowed:
        raise FreezeRefused(decision)
    return decision


def override_reason(override_freeze: bool, reason: str | None) -> str | None:
    """The reason an override is made with; --override-freeze without one is a usage error."""
    text = " ".join((reason or "").split())
    if override_freeze and not text:
        raise UsageError("--override-freeze needs --reason TEXT", hint="say why, e.g. --reason 'INC-123 hotfix'")
    return text if override_freeze else None
