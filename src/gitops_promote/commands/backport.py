"""`gitops backport ENV`: bring ENV's hotfixes home to the first environment (or `--to`).

The changes are the drift the guard reports on ENV (direct commits on promoted files since the
last promotion into it, computed by the same `prepare()` as `promote`). They are applied
three-way (core/backport.py) on the receiving environment as one commit with the trailers
`Backported-From` and `Backported-Commits`; the drift guard reads the latter, so that once the
backport has been promoted forward, the next promotions into ENV are not refused. A change that
does not apply cleanly refuses the whole backport (exit 1) and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitops_promote.adapters import treeview
from gitops_promote.adapters.git import Repository
from gitops_promote.commands._context import BranchRefs, bootstrap_registry, environment
from gitops_promote.commands._engine import (
    Prepared,
    PromotionRequest,
    freeze_gate,
    prepare,
    require_git_identity,
    sync,
)
from gitops_promote.commands._publish import BranchMove, publish, retrying
from gitops_promote.core.backport import (
    ALREADY,
    BACKPORTED_COMMITS,
    BACKPORTED_FROM,
    CONFLICT,
    MERGE,
    PathChange,
    changes,
    hotfix_commits,
)
from gitops_promote.core.forge import compare_url, parse_remote_url
from gitops_promote.core.registry import Environment, Registry
from gitops_promote.core.tree import TreeEntry, iter_parents
from gitops_promote.core.words import listed
from gitops_promote.errors import GitError, RefusedError, UsageError
from gitops_promote.results.backport import BackportFile, BackportResult

REVIEW_PREFIX = "backport/"


@dataclass(frozen=True)
class BackportRequest:
    environment: str
    to: str | None = None  # default: the first environment of the order
    registry_file: Path | None = None
    remote: str | None = None
    fetch: bool = True


@dataclass(frozen=True)
class BackportOptions:
    dry_run: bool = False
    push: bool = True
    pr: bool = False  # push to backport/<env>-to-<to> for review instead of the branch


MAX_LISTED_PATHS = 50  # in the refusal (`gitops plan` shows every drifted path)


class BackportConflict(RefusedError):
    def __init__(self, source: str, target: str, paths: list[str]) -> None:
        super().__init__(
            f"cannot backport {source} to {target}: {len(paths)} path(s) do not apply cleanly "
            f"(changed on {target} too):\n  " + listed(paths, MAX_LISTED_PATHS, "\n  "),
            hint=f"nothing was written; make the change on {target} by hand (gitops plan shows the "
            f"drift on {source}), or backport to another environment with --to",
        )
        self.paths = paths


def run(repo_path: Path, request: BackportRequest, options: BackportOptions) -> BackportResult:
    with Repository(repo_path) as repo:

        def attempt(number: int) -> BackportResult | None:
            result = _attempt(repo, request, options)
            if result is not None:
                result.attempts = number
            return result

        return retrying(request.to or "the first environment", "backporting", attempt)


def endpoints(registry: Registry, request: BackportRequest) -> tuple[Environment, Environment, Environment]:
    """(upstream of ENV, ENV, the environment receiving the backport)."""
    env = environment(registry, request.environment)
    upstream = registry.upstream_of(env.codename)
    if not upstream:
        raise UsageError(
            f"{env.codename} is the first environment: no promotion feeds it, so nothing there is drift",
            hint=f"backport from an environment after it in {registry.describe_order()}",
        )
    to = environment(registry, request.to) if request.to else registry.ordered()[0]
    if registry.position_of(to.codename) >= registry.position_of(env.codename):
        raise UsageError(
            f"cannot backport {env.codename} to {to.codename}: a backport goes upstream",
            hint=f"name an environment before {env.codename} in {registry.describe_order()}",
        )
    return upstream[0], env, to


def _attempt(repo: Repository, request: BackportRequest, options: BackportOptions) -> BackportResult | None:
    registry = bootstrap_registry(repo, request.registry_file, [request.environment])
    upstream, env, to = endpoints(registry, request)
    step = PromotionRequest(upstream.codename, env.codename, None, request.registry_file, request.remote, request.fetch)
    synced = sync(repo, step, list(dict.fromkeys([upstream.branch, env.branch, to.branch])))
    refs = synced.refs
    prepared = prepare(repo, step, synced=synced)
    to_commit = repo.resolve_commit(refs.ref(to.branch))
    assert to_commit is not None  # sync checked it
    to_tree = treeview.TreeView(repo, to_commit)  # only the drifted paths are looked up
    found = _changes(repo, prepared, to_tree)
    commits = _commits(repo, prepared)
    result = BackportResult(
        env.codename,
        to.codename,
        prepared.target_commit,
        to_commit,
        to_commit,
        commits,
        [BackportFile(c.path, c.decision) for c in found],
        dry_run=options.dry_run,
        remote=refs.remote if options.push else None,
        notes=[w.message for w in synced.warnings],
    )
    merged = _merge(repo, env, to, found)
    if clashes := _clashes(to_tree, found):
        raise BackportConflict(env.codename, to.codename, clashes)
    if all(c.decision == ALREADY for c in found):
        return result  # nothing drifted, or the fixes are there already
    result.target_commit = None
    decision = freeze_gate(repo, to, to_commit, request.registry_file, None, registry)
    result.notes += [decision.message] if decision.overridden else []
    if options.dry_run:
        return result
    require_git_identity(repo)
    new_commit = _write(repo, to_tree, found, merged, _message(env, to, commits))
    return _publish(repo, refs, env, to, to_commit, new_commit, options, result)


def _changes(repo: Repository, prepared: Prepared, to_tree: treeview.TreeView) -> list[PathChange]:
    """The drifted paths on the base, the drifted branch and the receiving one (lookups)."""
    base_commit = prepared.base.commit if prepared.base else None
    base_tree = treeview.TreeView(repo, base_commit) if base_commit else None
    paths = [d.path for d in prepared.drift]
    for view in (base_tree, prepared.target_tree, to_tree):
        if isinstance(view, treeview.TreeView):
            view.prefetch(paths)
    return changes(prepared.drift, base_tree if base_tree is not None else {}, prepared.target_tree, to_tree)


def _commits(repo: Repository, prepared: Prepared) -> list[dict[str, str]]:
    since = [f"^{prepared.base.commit}"] if prepared.base else []
    log = {c.sha: c for c in repo.log([*since, prepared.target_commit])}
    order = hotfix_commits(prepared.drift, log)
    return [{"sha": s, "subject": log[s].subject, "author": log[s].author, "date": log[s].date} for s in order]


def _merge(repo: Repository, env: Environment, to: Environment, found: list[PathChange]) -> dict[str, bytes]:
    """The merged content of every path both sides changed; refuse when any conflicts."""
    merged: dict[str, bytes] = {}
    conflicts = [c.path for c in found if c.decision == CONFLICT]
    for change in (c for c in found if c.decision == MERGE):
        assert change.base and change.ours and change.theirs
        blobs = repo.read_blobs([change.base.sha, change.ours.sha, change.theirs.sha])
        result = repo.merge_file(blobs[change.ours.sha], blobs[change.base.sha], blobs[change.theirs.sha])
        if result is None:
            conflicts.append(change.path)
        else:
            merged[change.path] = result
    if conflicts:
        raise BackportConflict(env.codename, to.codename, sorted(conflicts))
    return merged


def _write(
    repo: Repository, to_tree: treeview.TreeView, found: list[PathChange], merged: dict[str, bytes], message: str
) -> str:
    """The receiving branch's tree with the drifted paths taken or merged: only the trees on
    those paths are written again (no index, no listing)."""
    written: dict[str, TreeEntry | None] = {}
    for change in found:
        if change.path in merged:
            assert change.ours is not None
            written[change.path] = TreeEntry(change.ours.mode, repo.write_blob(merged[change.path]))
        elif change.decision != ALREADY:
            written[change.path] = change.theirs
    parent = to_tree.commit
    return repo.commit_tree(repo.write_tree_from(repo.tree_of(parent), written), [parent], message)


def _clashes(to_tree: treeview.TreeView, found: list[PathChange]) -> list[str]:
    """Drifted paths the receiving branch has a directory at, or a file above: taking them
    would replace a directory or a file (nothing is written; the user decides)."""
    paths = [c.path for c in found if c.decision != ALREADY]
    parents = sorted({d for p in paths for d in iter_parents(p)})
    to_tree.prefetch([*paths, *parents])
    return sorted(p for p in paths if to_tree.is_dir(p) or any(d in to_tree for d in iter_parents(p)))


def _message(env: Environment, to: Environment, commits: list[dict[str, str]]) -> str:
    lines = [f"Backport {env.codename} hotfixes to {to.codename}", ""]
    lines += [f"- {c['subject']} ({c['sha'][:12]})" for c in commits]
    lines += ["", f"{BACKPORTED_FROM}: {env.codename}", f"{BACKPORTED_COMMITS}: {', '.join(c['sha'] for c in commits)}"]
    return "\n".join(lines) + "\n"


def _publish(
    repo: Repository,
    refs: BranchRefs,
    env: Environment,
    to: Environment,
    old: str,
    new: str,
    options: BackportOptions,
    result: BackportResult,
) -> BackportResult | None:
    if options.pr:
        return _push_for_review(repo, refs, env, to, new, options, result)
    published = publish(repo, BranchMove(refs, to.branch, old, new, f"gitops backport {env.codename}"), options.push)
    if published is None:
        return None
    result.pushed, result.notes = published.pushed, result.notes + published.notes
    result.target_commit, result.backported = new, True
    return result


def _push_for_review(
    repo: Repository,
    refs: BranchRefs,
    env: Environment,
    to: Environment,
    new: str,
    options: BackportOptions,
    result: BackportResult,
) -> BackportResult | None:
    """--pr: the receiving branch stays; the commit waits on backport/<env>-to-<to>."""
    if refs.remote is None or not options.push:
        raise UsageError(
            "--pr pushes a branch for review: it needs a remote and cannot be combined with --no-push",
            hint="add one (git remote add origin URL), or pass --remote NAME",
        )
    branch = f"{REVIEW_PREFIX}{env.branch}-to-{to.branch}"
    current = repo.remote_heads(refs.remote, [branch]).get(branch)
    outcome = repo.push(refs.remote, new, branch, current)
    if not outcome.ok:
        if outcome.lost_race:
            return None
        raise GitError(f"the remote refused the push to {branch}: {outcome.message}")
    forge = parse_remote_url(repo.remote_url(refs.remote))
    result.pr_branch, result.compare_url = branch, compare_url(forge, to.branch, branch) if forge else None
    result.pushed, result.target_commit = True, new
    return result
