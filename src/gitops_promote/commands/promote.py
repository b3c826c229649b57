"""`gitops promote SRC DST`: write the promotion commit and move DST by compare-and-swap."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from gitops_promote.adapters.git import Repository
from gitops_promote.adapters.treewriter import changes_between
from gitops_promote.commands import pr
from gitops_promote.commands._context import BranchRefs
from gitops_promote.commands._engine import (
    Prepared,
    PromotionRequest,
    freeze_gate,
    prepare,
    require_git_identity,
)
from gitops_promote.commands.plan import SavedPlan, check_unchanged
from gitops_promote.core.drift import PROMOTED_COMMIT, PROMOTED_FROM, Drift
from gitops_promote.core.freeze import TRAILER_KEY as FREEZE_OVERRIDE
from gitops_promote.core.promotion import SEEDED, FileAction
from gitops_promote.errors import GitError, RefusedError

MAX_ATTEMPTS = 5
MAX_SUBJECTS = 50


@dataclass(frozen=True)
class PromoteOptions:
    dry_run: bool = False
    push: bool = True
    discard_drift: bool = False
    extra_trailers: tuple[tuple[str, str], ...] = ()
    override_reason: str | None = None  # --override-freeze --reason TEXT
    saved_plan: SavedPlan | None = None  # --plan FILE: apply exactly what was reviewed
    pr: bool = False  # --pr: push to promote/<src>-to-<dst> for review instead of DST (commands/pr.py)


@dataclass
class PromoteResult:
    source: str
    target: str
    source_commit: str
    target_commit_before: str
    target_commit: str | None
    promoted: bool
    pushed: bool
    dry_run: bool
    remote: str | None
    files: list[FileAction]
    commits: list[dict[str, str]]
    drift: list[Drift]
    drift_discarded: bool = False
    attempts: int = 1
    notes: list[str] = field(default_factory=list)
    pr_branch: str | None = None  # --pr: the review branch pushed instead of the target
    compare_url: str | None = None  # --pr: where to open the pull request (GitHub/GitLab remotes)
    pull_request: str | None = None  # --pr: the pull request gh opened or updated

    @property
    def seeded(self) -> list[str]:
        return [f.path for f in self.files if f.action == SEEDED]

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "source_commit": self.source_commit,
            "target_commit_before": self.target_commit_before,
            "target_commit": self.target_commit,
            "promoted": self.promoted,
            "pushed": self.pushed,
            "dry_run": self.dry_run,
            "remote": self.remote,
            "files": [f.to_json() for f in self.files],
            "commits": self.commits,
            "drift": [d.to_json() for d in self.drift],
            "drift_discarded": self.drift_discarded,
            "attempts": self.attempts,
            "notes": self.notes,
            "pr_branch": self.pr_branch,
            "compare_url": self.compare_url,
            "pull_request": self.pull_request,
        }


def run(repo_path: Path, request: PromotionRequest, options: PromoteOptions) -> PromoteResult:
    with Repository(repo_path) as repo:

        def attempt(number: int) -> PromoteResult | None:
            prepared = prepare(repo, request)
            if options.saved_plan is not None:
                # Checked on every attempt: after a lost race the target has moved, so the plan is stale.
                check_unchanged(options.saved_plan, prepared)
            result = _attempt(repo, request, prepared, options)
            if result is not None:
                result.attempts = number
            return result

        return retrying(request.target, "promoting", attempt)


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


def _attempt(
    repo: Repository, request: PromotionRequest, prepared: Prepared, options: PromoteOptions
) -> PromoteResult | None:
    """One try. None means the target moved under us (a lost race) and the caller retries."""
    result = _result(prepared, options)
    review = _review_branch(repo, prepared, options, result)
    if prepared.drift and not options.discard_drift:
        raise DriftRefused(prepared.target.codename, prepared.drift, result)
    if not prepared.changes_target:
        return result
    decision = freeze_gate(
        repo, prepared.registry, prepared.target, prepared.target_commit, request.registry_file, options.override_reason
    )
    trailers = options.extra_trailers
    if decision.overridden:
        trailers += ((FREEZE_OVERRIDE, options.override_reason or ""),)
        result.notes.append(decision.message)
    if options.dry_run:
        return result
    require_git_identity(repo)
    new_commit = _write_commit(repo, prepared, trailers)
    if review is not None:
        return _publish_for_review(repo, prepared, review, new_commit, result)
    move = BranchMove(
        prepared.refs,
        prepared.target.branch,
        prepared.target_commit,
        new_commit,
        f"gitops promote {prepared.source.codename}",
    )
    published = publish(repo, move, options.push)
    if published is None:
        return None
    result.pushed = published.pushed
    result.notes += published.notes
    result.target_commit, result.promoted = new_commit, True
    return result


def _review_branch(
    repo: Repository, prepared: Prepared, options: PromoteOptions, result: PromoteResult
) -> pr.PrTarget | None:
    if not options.pr:
        return None
    pr.check_options(prepared, options.push)
    review = pr.target(repo, prepared)
    result.pr_branch, result.compare_url = review.branch, review.compare_url
    return review


def _publish_for_review(
    repo: Repository, prepared: Prepared, review: pr.PrTarget, new_commit: str, result: PromoteResult
) -> PromoteResult | None:
    """--pr: the target stays where it is; its future tip waits on the review branch."""
    if not pr.push(repo, prepared, review, new_commit):
        return None
    result.pushed, result.target_commit = True, new_commit
    result.pull_request, notes = pr.open_pull_request(prepared, review)
    result.notes += notes
    return result


def _result(prepared: Prepared, options: PromoteOptions) -> PromoteResult:
    return PromoteResult(
        source=prepared.source.codename,
        target=prepared.target.codename,
        source_commit=prepared.source_commit,
        target_commit_before=prepared.target_commit,
        target_commit=None if prepared.changes_target else prepared.target_commit,
        promoted=False,
        pushed=False,
        dry_run=options.dry_run,
        remote=prepared.refs.remote if options.push else None,
        files=prepared.plan.actions,
        commits=[{"sha": c.sha, "subject": c.subject, "author": c.author, "date": c.date} for c in prepared.commits],
        drift=prepared.drift,
        drift_discarded=bool(prepared.drift) and options.discard_drift,
    )


class DriftRefused(RefusedError):
    def __init__(self, target: str, drift: list[Drift], result: PromoteResult) -> None:
        lines = [f"{d.path} (changed by {', '.join(c[:12] for c in d.commits)})" for d in drift]
        super().__init__(
            f"refusing to promote: {len(drift)} path(s) were changed directly on {target} and "
            "would be overwritten:\n  " + "\n  ".join(lines),
            hint="bring those changes upstream first (commit them to the source branch), or "
            "pass --discard-drift to overwrite them",
        )
        self.drift = drift
        self.result = result
        self.json = False  # the CLI sets it when the result should be printed as JSON


def commit_message(prepared: Prepared, extra_trailers: tuple[tuple[str, str], ...] = ()) -> str:
    src = prepared.source.codename
    lines = [f"Promote {src} {prepared.source_commit[:7]} to {prepared.target.codename}", ""]
    subjects = [c.subject for c in prepared.commits]
    lines += [f"- {s}" for s in subjects[:MAX_SUBJECTS]]
    if len(subjects) > MAX_SUBJECTS:
        lines.append(f"- … and {len(subjects) - MAX_SUBJECTS} more")
    if subjects:
        lines.append("")
    lines += [f"{PROMOTED_FROM}: {src}", f"{PROMOTED_COMMIT}: {prepared.source_commit}"]
    lines += [f"{key}: {value}" for key, value in extra_trailers]
    return "\n".join(lines) + "\n"


def _write_commit(repo: Repository, prepared: Prepared, trailers: tuple[tuple[str, str], ...]) -> str:
    repo.write_blobs(list(prepared.new_blobs.values()))
    changes = changes_between(prepared.source_tree, prepared.plan.entries)
    tree = repo.write_tree_from(repo.tree_of(prepared.source_commit), changes)
    message = commit_message(prepared, trailers)
    return repo.commit_tree(tree, [prepared.target_commit, prepared.source_commit], message)


# ---- publishing: shared by promote and rollback --------------------------------------------


@dataclass(frozen=True)
class BranchMove:
    """An environment branch moving from `old` to `new`, a commit written on top of it."""

    refs: BranchRefs
    branch: str
    old: str
    new: str
    reason: str  # reflog message


@dataclass
class Published:
    pushed: bool
    notes: list[str]


def publish(repo: Repository, move: BranchMove, push: bool) -> Published | None:
    """Push with a lease (remote) or compare-and-swap the local branch; None on a lost race."""
    if move.refs.remote and push:
        if not _push(repo, move):
            return None
        return Published(True, _follow_local_branch(repo, move))
    if not _move_local_branch(repo, move):
        return None
    return Published(False, _checkout_note(repo, move))


def _push(repo: Repository, move: BranchMove) -> bool:
    remote = move.refs.remote
    assert remote is not None
    outcome = repo.push(remote, move.new, move.branch, move.old)
    if outcome.ok:
        repo.update_ref(move.refs.ref(move.branch), move.new, move.old, f"{move.reason}: pushed")
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


def _follow_local_branch(repo: Repository, move: BranchMove) -> list[str]:
    """Fast-forward the local branch when that loses nothing and disturbs no checkout."""
    ref = f"refs/heads/{move.branch}"
    local = repo.resolve_commit(ref)
    if local is None or local == move.new or not repo.is_ancestor(local, move.new):
        return []
    if ref in repo.checked_out_branches():
        return [f"local branch {move.branch} is checked out; it was left at {local[:12]}"]
    repo.update_ref(ref, move.new, local, f"{move.reason}: follow remote")
    return []


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
