"""Publishing a commit onto an environment branch: lease push or compare-and-swap, retries.

Shared by promote and rollback (and backport): the branch moves only from the commit the step
was computed on, and a lost race is retried on top of the new tip.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._context import BranchRefs
from gitops_promote.errors import GitError, RefusedError

MAX_ATTEMPTS = 5

T = TypeVar("T")


def retrying(branch: str, doing: str, attempt: Callable[[int], T | None]) -> T:
    """Run `attempt(n)` until it gives a result; None means `branch` moved under it (a lost race)."""
    for number in range(1, MAX_ATTEMPTS + 1):
        result = attempt(number)
        if result is not None:
            return result
        # Somebody else moved the branch meanwhile: wait a little and recompute on top.
        time.sleep(random.uniform(0.05, 0.3) * number)  # noqa: S311 - jitter, not crypto
    raise GitError(
        f"gave up after {MAX_ATTEMPTS} attempts: {branch} kept moving while {doing}",
        hint="another promotion is probably running; run the command again when it has finished",
    )


class BranchMove(NamedTuple):
    """An environment branch moving from `old` to `new`, a commit written on top of it."""

    refs: BranchRefs
    branch: str
    old: str
    new: str
    reason: str  # reflog message


class Published(NamedTuple):
    pushed: bool
    notes: list[str]


def publish(repo: Repository, move: BranchMove, push: bool) -> Published | None:
    """Push with a lease (remote) or compare-and-swap the local branch; None on a lost race."""
    if move.refs.remote and push:
        if not _push(repo, move):
            return None
        return Published(True, _update_local_refs(repo, move))
    if not _move_local_branch(repo, move):
        return None
    return Published(False, _checkout_note(repo, move))


def _push(repo: Repository, move: BranchMove) -> bool:
    remote = move.refs.remote
    assert remote is not None
    outcome = repo.push(remote, move.new, move.branch, move.old)
    if outcome.ok:
        return True
    if outcome.lost_race and _remote_moved(repo, remote, move):
        return False
    raise GitError(f"the remote refused the push to {move.branch}: {outcome.message}")


def _remote_moved(repo: Repository, remote: str, move: BranchMove) -> bool:
    """A lost race means the branch is elsewhere now; "failed to update ref" can also be a
    server fault (a full disk), which retrying would only hide behind "kept moving"."""
    try:
        return repo.remote_heads(remote, [move.branch]).get(move.branch) != move.old
    except GitError:
        return False


def _update_local_refs(repo: Repository, move: BranchMove) -> list[str]:
    """After a successful push: the remote-tracking ref, then the local branch. The push is
    what counts; a local ref git cannot update (a stale `.lock` file) is a warning, not a
    failure that would hide a promotion that happened."""
    try:
        repo.update_ref(move.refs.ref(move.branch), move.new, move.old, f"{move.reason}: pushed")
        return _follow_local_branch(repo, move)
    except GitError as exc:
        found = re.search(r"'([^']+\.lock)'", exc.message)
        lock = found.group(1) if found else f"the {move.branch}.lock file under {repo.git_dir}/refs"
        return [
            f"warning: the push to {move.refs.remote}/{move.branch} succeeded, but a local ref could not be "
            f"updated: {exc.message}. If no git process is running, delete the stale lock {lock}, "
            "then run 'git fetch'"
        ]


def _follow_local_branch(repo: Repository, move: BranchMove) -> list[str]:
    """Fast-forward the local branch when that loses nothing and disturbs no checkout."""
    ref = f"refs/heads/{move.branch}"
    local = repo.resolve_commit(ref)
    if local is None or local == move.new:
        return []
    if not repo.is_ancestor(local, move.new):
        return [_diverged_note(repo, move, local, ref in repo.checked_out_branches())]
    if ref in repo.checked_out_branches():
        return [f"local branch {move.branch} is checked out; it was left at {local[:12]}"]
    repo.update_ref(ref, move.new, local, f"{move.reason}: follow remote")
    return []


def _diverged_note(repo: Repository, move: BranchMove, local: str, checked_out: bool) -> str:
    """The local branch has commits the push did not carry (e.g. an earlier --no-push)."""
    upstream = f"{move.refs.remote}/{move.branch}"
    count = len(repo.log([f"^{move.new}", local]))
    drop = f"git reset --keep {upstream}" if checked_out else f"git branch --force {move.branch} {upstream}"
    return (
        f"local branch {move.branch} has {count} commit(s) that are not on {upstream} (an earlier --no-push?) "
        f"and has diverged from it; it was left at {local[:12]}. To drop them: {drop}"
    )


def _checkout_note(repo: Repository, move: BranchMove) -> list[str]:
    worktree = repo.checked_out_branches().get(f"refs/heads/{move.branch}")
    if worktree is None:
        return []
    return [
        f"{move.branch} is checked out in {worktree}: its files were left as they were; "
        "run 'git reset --keep HEAD' there to bring them up to date"
    ]


def _move_local_branch(repo: Repository, move: BranchMove) -> bool:
    ref = f"refs/heads/{move.branch}"
    expected = repo.resolve_commit(ref) if move.refs.remote else move.old
    # move.new's first parent is move.old, so only a local branch that differs needs the check
    if expected is not None and expected != move.old and not repo.is_ancestor(expected, move.new):
        raise RefusedError(
            f"local branch {move.branch} has commits that are not on "
            f"{move.refs.remote}/{move.branch}; --no-push would drop them",
            hint="push or reset the local branch first, or run the command without --no-push",
        )
    return repo.update_ref(ref, move.new, expected, move.reason)
