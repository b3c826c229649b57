"""`gitops promote SRC DST`: write the promotion commit and move DST by compare-and-swap."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._engine import Prepared, PromotionRequest, prepare, require_git_identity
from gitops_promote.core.drift import PROMOTED_COMMIT, PROMOTED_FROM, Drift
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
        }


def run(repo_path: Path, request: PromotionRequest, options: PromoteOptions) -> PromoteResult:
    with Repository(repo_path) as repo:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            prepared = prepare(repo, request)
            result = _attempt(repo, prepared, options)
            if result is not None:
                result.attempts = attempt
                return result
            # Somebody else moved the target meanwhile: wait a little and recompute on top.
            time.sleep(random.uniform(0.05, 0.3) * attempt)  # noqa: S311 - jitter, not crypto
    raise GitError(
        f"gave up after {MAX_ATTEMPTS} attempts: {request.target} kept moving while promoting",
        hint="another promotion is probably running; run the command again when it has finished",
    )


def _attempt(repo: Repository, prepared: Prepared, options: PromoteOptions) -> PromoteResult | None:
    """One try. None means the target moved under us (a lost race) and the caller retries."""
    result = _result(prepared, options)
    if prepared.drift and not options.discard_drift:
        raise DriftRefused(prepared.target.codename, prepared.drift, result)
    if not prepared.changes_target or options.dry_run:
        return result
    require_git_identity(repo)
    new_commit = _write_commit(repo, prepared, options)
    if prepared.refs.remote and options.push:
        if not _push(repo, prepared, new_commit):
            return None
        result.pushed = True
        result.notes += _follow_local_branch(repo, prepared, new_commit)
    elif not _move_local_branch(repo, prepared, new_commit):
        return None
    else:
        result.notes += _checkout_note(repo, prepared)
    result.target_commit, result.promoted = new_commit, True
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


def _write_commit(repo: Repository, prepared: Prepared, options: PromoteOptions) -> str:
    tree = repo.write_tree(prepared.plan.entries)
    message = commit_message(prepared, options.extra_trailers)
    return repo.commit_tree(tree, [prepared.target_commit, prepared.source_commit], message)


def _push(repo: Repository, prepared: Prepared, new_commit: str) -> bool:
    remote = prepared.refs.remote
    assert remote is not None
    outcome = repo.push(remote, new_commit, prepared.target.branch, prepared.target_commit)
    if outcome.ok:
        tracking = prepared.refs.ref(prepared.target.branch)
        repo.update_ref(tracking, new_commit, prepared.target_commit, "gitops promote: pushed")
        return True
    if outcome.lost_race:
        return False
    raise GitError(f"the remote refused the push to {prepared.target.branch}: {outcome.message}")


def _follow_local_branch(repo: Repository, prepared: Prepared, new_commit: str) -> list[str]:
    """Fast-forward the local target branch when that loses nothing and disturbs no checkout."""
    ref = f"refs/heads/{prepared.target.branch}"
    local = repo.resolve_commit(ref)
    if local is None or local == new_commit or not repo.is_ancestor(local, new_commit):
        return []
    if ref in repo.checked_out_branches():
        return [f"local branch {prepared.target.branch} is checked out; it was left at {local[:12]}"]
    repo.update_ref(ref, new_commit, local, "gitops promote: follow remote")
    return []


def _checkout_note(repo: Repository, prepared: Prepared) -> list[str]:
    worktree = repo.checked_out_branches().get(f"refs/heads/{prepared.target.branch}")
    if worktree is None:
        return []
    return [
        f"{prepared.target.branch} is checked out in {worktree}: its files were left as they were; "
        "run 'git reset --keep HEAD' there to bring them up to date"
    ]


def _move_local_branch(repo: Repository, prepared: Prepared, new_commit: str) -> bool:
    ref = f"refs/heads/{prepared.target.branch}"
    expected = repo.resolve_commit(ref) if prepared.refs.remote else prepared.target_commit
    if expected is not None and not repo.is_ancestor(expected, new_commit):
        raise RefusedError(
            f"local branch {prepared.target.branch} has commits that are not on "
            f"{prepared.refs.remote}/{prepared.target.branch}; --no-push would drop them",
            hint="push or reset the local branch first, or promote without --no-push",
        )
    return repo.update_ref(ref, new_commit, expected, f"gitops promote {prepared.source.codename}")

