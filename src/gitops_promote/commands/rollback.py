"""`gitops rollback ENV`: a new commit whose common content is that of an earlier promotion.

History is never rewritten: the rollback is one commit on top of the branch (parent: its tip),
with the trailer `Rolled-Back-To: <promotion commit>` (and `Rollback-Reason:` when given). The
environment's own files are kept, following the promotion rules with the earlier promotion as
the source (`--with-env-files` restores them too). The engine never counts a rollback commit
as drift, so the next promotion from upstream goes through. Publishing (lease push, compare-
and-swap, retries, `--no-push`) is promote's own code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitops_promote.adapters import treeview
from gitops_promote.adapters.git import Repository
from gitops_promote.commands import _branchlog as history
from gitops_promote.commands._context import bootstrap_registry, registry_at
from gitops_promote.commands._engine import freeze_gate, override_reason, require_git_identity
from gitops_promote.commands._publish import BranchMove, publish, retrying
from gitops_promote.core.apps import Scope, scope_of
from gitops_promote.core.drift import ROLLED_BACK_TO
from gitops_promote.core.freeze import TRAILER_KEY as FREEZE_OVERRIDE
from gitops_promote.core.paths import EnvSpecificPaths
from gitops_promote.core.promotion import ADDED, DELETED, MODIFIED, FileAction
from gitops_promote.core.registry import Environment, Registry
from gitops_promote.core.tree import TreeEntry
from gitops_promote.core.treediff import plan_delta
from gitops_promote.errors import UsageError
from gitops_promote.results.history import PROMOTION, ROLLBACK, ROLLBACK_REASON, Entry
from gitops_promote.results.rollback import RollbackResult

MAX_LISTED = 10


@dataclass(frozen=True)
class RollbackRequest:
    environment: str
    to: str | None = None  # a promotion commit of the environment
    steps: int | None = None  # N promotions back (default 1)
    registry_file: Path | None = None
    remote: str | None = None
    fetch: bool = True


@dataclass(frozen=True)
class RollbackOptions:
    dry_run: bool = False
    push: bool = True
    with_env_files: bool = False
    reason: str | None = None  # Rollback-Reason; also the freeze override's reason
    override_freeze: bool = False
    sign: bool | None = None  # --sign/--no-sign; None: sign as `git commit` would


def effective_promotions(entries: list[Entry]) -> list[Entry]:
    """Promotions whose content is still in effect, newest first: a rollback to X undoes every
    promotion after X, so the next rollback goes further back than X, not to what it undid."""
    stack: list[Entry] = []
    skip_to: str | None = None
    for entry in entries:
        if skip_to is not None:
            if entry.commit != skip_to:
                continue
            skip_to = None
        if entry.kind == ROLLBACK:
            skip_to = entry.rolled_back_to
        elif entry.kind == PROMOTION:
            stack.append(entry)
    return stack


def run(repo_path: Path, request: RollbackRequest, options: RollbackOptions) -> RollbackResult:
    freeze_reason = override_reason(options.override_freeze, options.reason)
    if request.to is not None and request.steps is not None:
        raise UsageError("give either --to COMMIT or --steps N, not both")
    if request.steps is not None and request.steps < 1:
        raise UsageError(f"--steps {request.steps} must be 1 or more", hint="--steps 1 undoes the last promotion")
    with Repository(repo_path) as repo:

        def attempt(number: int) -> RollbackResult | None:
            result = _attempt(repo, request, options, freeze_reason)
            if result is not None:
                result.attempts = number
            return result

        return retrying(request.environment, "rolling back", attempt)


def _attempt(
    repo: Repository, request: RollbackRequest, options: RollbackOptions, freeze_reason: str | None
) -> RollbackResult | None:
    branch = history.open_branch(repo, request.environment, request.registry_file, request.remote, request.fetch)
    env, refs, head = branch.environment, branch.refs, branch.head
    registry = _registry(repo, request, env, head)
    target = choose_target(repo, env, head, request)
    scope = undone_scope(history.entries(repo, head), target)
    rolled = _plan(repo, registry, env, head, target.commit, options.with_env_files, scope)
    result = RollbackResult(
        env.codename,
        target,
        head,
        None,
        False,
        False,
        options.dry_run,
        refs.remote if options.push else None,
        options.with_env_files,
        options.reason,
        rolled.actions,
    )
    result.notes += [w.message for w in branch.warnings]
    result.apps = list(scope.paths) if scope else None
    if not rolled.differs:
        result.commit = head
        return result
    decision = freeze_gate(repo, env, head, request.registry_file, freeze_reason, registry)
    if decision.overridden:
        result.freeze_override = freeze_reason
        result.notes.append(decision.message)
    if options.dry_run:
        return result
    require_git_identity(repo, "the rollback commit")
    message = commit_message(env, target, options, result)
    earlier = repo.tree_of(target.commit)
    tree = earlier if rolled.changes is None else repo.write_tree_from(earlier, rolled.changes)
    new_commit = repo.commit_tree(tree, [head], message, options.sign)
    published = publish(
        repo, BranchMove(refs, env.branch, head, new_commit, f"gitops rollback {env.codename}"), options.push
    )
    if published is None:
        return None
    result.pushed, result.notes = published.pushed, result.notes + published.notes
    result.commit, result.rolled_back = new_commit, True
    return result


def _registry(repo: Repository, request: RollbackRequest, env: Environment, head: str) -> Registry:
    """The registry the environment's branch holds (else the one found to start with)."""
    bootstrap = bootstrap_registry(repo, request.registry_file, [env.branch])
    if request.registry_file is not None:
        return bootstrap
    return registry_at(repo, head, env.branch) or bootstrap


def choose_target(repo: Repository, env: Environment, head: str, request: RollbackRequest) -> Entry:
    entries = history.entries(repo, head)
    valid = [e for e in entries if e.kind == PROMOTION and e.commit != head]
    if request.to is not None:
        wanted = repo.resolve_commit(request.to) if not request.to.startswith("-") else None
        found = next((e for e in valid if e.commit == wanted), None)
        if found is None:
            raise _invalid_target(
                env, f"--to {request.to!r} is not an earlier promotion commit of {env.codename}", valid
            )
        return found
    steps = request.steps or 1
    stack = effective_promotions(entries)
    if steps >= len(stack):
        raise _invalid_target(env, f"{env.codename} has no promotion {steps} step(s) back", valid)
    return stack[steps]


def _invalid_target(env: Environment, message: str, valid: list[Entry]) -> UsageError:
    if not valid:
        return UsageError(message, hint=f"{env.codename} has no earlier promotion to roll back to")
    lines = [
        f"{e.commit[:12]}  {e.date[:16].replace('T', ' ')}  from {e.source} {(e.source_commit or '')[:12]}"
        for e in valid[:MAX_LISTED]
    ]
    more = (
        f"\n  … and {len(valid) - MAX_LISTED} more (gitops history {env.codename} --limit 0)"
        if len(valid) > MAX_LISTED
        else ""
    )
    return UsageError(
        message,
        hint="valid targets (promotion commits, newest first):\n  " + "\n  ".join(lines) + more,
    )


def undone_scope(entries: list[Entry], target: Entry) -> Scope | None:
    """The apps a rollback to `target` restores: when every promotion it undoes was partial,
    only their apps (the others never moved); else everything (None)."""
    undone: list[Entry] = []
    for entry in effective_promotions(entries):
        if entry.commit == target.commit:
            break
        undone.append(entry)
    if not undone or any(e.apps is None for e in undone):
        return None
    return scope_of(dict.fromkeys(a for e in undone for a in e.apps or ()))


@dataclass(frozen=True)
class RolledBack:
    """The rolled-back tree, as changes to the earlier promotion's tree (None: that tree as it
    is), its files by action, and whether it differs from the branch's tip."""

    changes: dict[str, TreeEntry | None] | None
    actions: list[FileAction]
    differs: bool


def _plan(
    repo: Repository,
    registry: Registry,
    env: Environment,
    head: str,
    target: str,
    with_env_files: bool,
    scope: Scope | None = None,
) -> RolledBack:
    """The rolled-back tree: the target's content, the environment's own files kept (inside
    the scope, when the promotions undone were partial). Planned from the difference between
    the two trees, as a promotion is (the earlier promotion is the source): no listing."""
    records, earlier, current = treeview.pair(repo, target, head)
    if with_env_files and scope is None:
        files = sorted((r for r in records if not r.is_tree_record), key=lambda r: r.path)
        return RolledBack(None, [_restored(r.path, r.target, r.source) for r in files], bool(records))
    if with_env_files:
        assert scope is not None
        plan = plan_delta(records, lambda _path: False, scope.contains, earlier)
    else:
        owned: EnvSpecificPaths = registry.owned_paths(env.codename)
        if (then := registry_at(repo, target, env.branch)) is not None:
            owned = owned.union(then.env_specific)
        plan = plan_delta(records, owned.owns, scope.contains if scope else None, earlier)
    return RolledBack(plan.changes, plan.actions, plan.changes_target(current))


def _restored(path: str, now: TreeEntry | None, then: TreeEntry | None) -> FileAction:
    return FileAction(path, ADDED if now is None else DELETED if then is None else MODIFIED)


def commit_message(env: Environment, target: Entry, options: RollbackOptions, result: RollbackResult) -> str:
    source = f"{target.source} {(target.source_commit or '')[:7]}"
    lines = [f"Roll back {env.codename} to {target.commit[:7]} (promotion of {source})", ""]
    kept = (
        "its environment-specific files restored too"
        if options.with_env_files
        else f"{env.codename}'s environment-specific files kept"
    )
    lines += [f"Restores the content promoted by {target.commit[:12]}; {kept}.", ""]
    if result.apps:
        lines += [f"Only {', '.join(result.apps)}: the promotions undone carried no other app.", ""]
    lines.append(f"{ROLLED_BACK_TO}: {target.commit}")
    if options.reason:
        lines.append(f"{ROLLBACK_REASON}: {' '.join(options.reason.split())}")
    if result.freeze_override:
        lines.append(f"{FREEZE_OVERRIDE}: {result.freeze_override}")
    return "\n".join(lines) + "\n"
