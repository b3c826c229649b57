"""`gitops promote SRC DST`: write the promotion commit and move DST by compare-and-swap."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._context import bootstrap_registry, next_targets
from gitops_promote.commands._engine import (
    FreezeRefused,
    Prepared,
    PromotionRequest,
    changes_to_write,
    prepare,
    require_git_identity,
)
from gitops_promote.commands._publish import BranchMove, publish, retrying
from gitops_promote.commands._signatures import refuse_unsigned
from gitops_promote.core.apps import PROMOTED_APPS, trailer_value
from gitops_promote.core.drift import PROMOTED_COMMIT, PROMOTED_FROM, Drift
from gitops_promote.core.freeze import TRAILER_KEY as FREEZE_OVERRIDE
from gitops_promote.core.notices import INVALID_RESULT, Warning
from gitops_promote.core.words import listed
from gitops_promote.errors import RefusedError, UsageError
from gitops_promote.results.promote import PromoteResult

if TYPE_CHECKING:
    # Imported where used: a saved plan (--plan FILE) and a review branch (--pr, or a push
    # that may finish one) are not every promotion's business.
    from gitops_promote.commands._review import PrTarget
    from gitops_promote.commands._savedplan import SavedPlan

MAX_SUBJECTS = 50
MAX_LISTED_PATHS = 50  # in a refusal (JSON and `gitops plan` list every one)


class PromoteOptions(NamedTuple):
    dry_run: bool = False
    push: bool = True
    discard_drift: bool = False
    extra_trailers: tuple[tuple[str, str], ...] = ()
    override_reason: str | None = None  # --override-freeze --reason TEXT
    saved_plan: SavedPlan | None = None  # --plan FILE, loaded: apply exactly what was reviewed
    plan_file: Path | None = None  # --plan FILE as given: run() loads it
    pr: bool = False  # --pr: push to promote/<src>-to-<dst> for review instead of DST (commands/_review.py)
    sign: bool | None = None  # --sign/--no-sign; None: sign as `git commit` would (docs/signing.md)


def targets(repo_path: Path, source: str, registry_file: Path | None) -> list[str]:
    """`gitops promote SOURCE` with no target: every environment of the next position."""
    with Repository(repo_path) as repo:
        return next_targets(bootstrap_registry(repo, registry_file, [source]), source)


def run(repo_path: Path, request: PromotionRequest, options: PromoteOptions) -> PromoteResult:
    if options.override_reason and not request.override_reason:
        request = request._replace(override_reason=options.override_reason)
    request, options = _with_saved_plan(request, options)
    with Repository(repo_path) as repo:
        if options.saved_plan is not None:
            from gitops_promote.commands._savedplan import check_object_format, check_unchanged

            check_object_format(options.saved_plan, repo.id_length)

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


def _with_saved_plan(request: PromotionRequest, options: PromoteOptions) -> tuple[PromotionRequest, PromoteOptions]:
    """--plan FILE names the step and the commit; SOURCE TARGET, when given, must match it."""
    if options.plan_file is None:
        if not request.source or not request.target:
            raise UsageError("promote needs SOURCE and TARGET (or --plan FILE)", hint="e.g. gitops promote dev stg")
        return request, options
    from gitops_promote.commands._savedplan import load_saved

    saved = load_saved(options.plan_file, request.source or None, request.target or None, request.ref, request.apps)
    request = request._replace(source=saved.source, target=saved.target, ref=saved.source_commit, apps=saved.apps)
    return request, options._replace(saved_plan=saved, plan_file=None)


def _attempt(
    repo: Repository, request: PromotionRequest, prepared: Prepared, options: PromoteOptions
) -> PromoteResult | None:
    """One try. None means the target moved under us (a lost race) and the caller retries."""
    result = _result(prepared, options)
    review = _review_branch(repo, prepared, options, result)
    if prepared.drift and not options.discard_drift:
        result.refused = "drift"
        raise DriftRefused(prepared.target.codename, list(prepared.drift), result)
    if not prepared.changes_target:
        return result
    refuse_unsigned(prepared)  # the target's signature policy (commands/_signatures.py)
    invalid = [w for w in prepared.warnings if w.kind == INVALID_RESULT]
    if invalid:
        result.refused = INVALID_RESULT
        raise InvalidResult(prepared.target.codename, invalid, result)
    trailers = options.extra_trailers + _freeze_trailers(prepared, review is not None, result)
    if options.dry_run:
        return result
    require_git_identity(repo)
    new_commit = _write_commit(repo, prepared, trailers, options.sign)
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
    if published.pushed:
        from gitops_promote.commands._review import delete_if_contained

        result.notes += delete_if_contained(repo, prepared, new_commit)
    result.target_commit, result.promoted = new_commit, True
    return result


def _freeze_trailers(prepared: Prepared, for_review: bool, result: PromoteResult) -> tuple[tuple[str, str], ...]:
    """The target's own freeze decides. A review branch deploys nothing, so it may be pushed
    during a freeze; merging it waits for the window."""
    decision = prepared.freeze
    if not decision.allowed and for_review:
        result.notes.append(
            f"{decision.message.split('; to write into')[0]}: the review branch is pushed (it deploys nothing), but "
            f"merging it into {prepared.target.codename} is refused until the freeze ends"
        )
        return ()
    if not decision.allowed:
        result.refused = "freeze"
        raise FreezeRefused(decision, result)
    if decision.overridden:
        result.notes.append(decision.message)
        assert decision.trailer is not None
        return ((FREEZE_OVERRIDE, decision.trailer.split(":", 1)[1].strip()),)
    return ()


def _review_branch(
    repo: Repository, prepared: Prepared, options: PromoteOptions, result: PromoteResult
) -> PrTarget | None:
    if not options.pr:
        return None
    from gitops_promote.commands import _review as pr

    pr.check_options(prepared, options.push)
    review = pr.target(repo, prepared)
    result.pr_branch, result.compare_url = review.branch, review.compare_url
    return review


def _publish_for_review(
    repo: Repository, prepared: Prepared, review: PrTarget, new_commit: str, result: PromoteResult
) -> PromoteResult | None:
    """--pr: the target stays where it is; its future tip waits on the review branch."""
    from gitops_promote.commands import _review as pr

    if not pr.push(repo, prepared, review, new_commit):
        return None
    result.pushed, result.target_commit = True, new_commit
    result.pull_request, notes = pr.open_pull_request(prepared, review)
    result.notes += [*notes, pr.merge_note(prepared, review)]
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
        drift=list(prepared.drift),
        drift_discarded=bool(prepared.drift) and options.discard_drift,
        warnings=list(prepared.warnings),
        freeze=prepared.freeze,
        last_promotion=prepared.base,
        apps=list(prepared.scope.paths) if prepared.scope else None,
    )


class DriftRefused(RefusedError):
    def __init__(self, target: str, drift: list[Drift], result: PromoteResult) -> None:
        from gitops_promote.render.console import visible  # a path is data: one escaped line each

        lines = [f"{visible(d.path)} (changed by {', '.join(c[:12] for c in d.commits)})" for d in drift]
        super().__init__(
            f"refusing to promote: {len(drift)} path(s) were changed directly on {target} and "
            "would be overwritten:\n  " + listed(lines, MAX_LISTED_PATHS, "\n  "),
            hint=f"bring them upstream first (gitops backport {target}, or commit them to {result.source}), "
            f"or overwrite them: gitops promote {result.source} {target} --discard-drift",
        )
        self.drift = drift
        self.result = result


class InvalidResult(RefusedError):
    """The promoted tree would fail `gitops validate` (e.g. an Application's valueFiles gone)."""

    def __init__(self, target: str, findings: list[Warning], result: PromoteResult) -> None:
        lines = [f"{w.path}: {w.message}" for w in findings]
        super().__init__(
            f"refusing to promote: {target} would not pass validation afterwards:\n  "
            + listed(lines, MAX_LISTED_PATHS, "\n  "),
            hint="fix the source (or the target's own files) so that every Application's valueFiles exist "
            "and its targetRevision is its environment's branch, then promote again",
        )
        self.result = result


def commit_message(prepared: Prepared, extra_trailers: tuple[tuple[str, str], ...] = ()) -> str:
    src = prepared.source.codename
    what = f" ({', '.join(prepared.scope.paths)})" if prepared.scope else ""
    lines = [f"Promote {src} {prepared.source_commit[:7]} to {prepared.target.codename}{what}", ""]
    subjects = [c.subject for c in prepared.commits]
    lines += [f"- {s}" for s in subjects[:MAX_SUBJECTS]]
    if len(subjects) > MAX_SUBJECTS:
        lines.append(f"- … and {len(subjects) - MAX_SUBJECTS} more")
    if subjects:
        lines.append("")
    lines += [f"{PROMOTED_FROM}: {src}", f"{PROMOTED_COMMIT}: {prepared.source_commit}"]
    if prepared.scope is not None:
        lines.append(f"{PROMOTED_APPS}: {trailer_value(prepared.scope)}")
    lines += [f"{key}: {value}" for key, value in extra_trailers]
    return "\n".join(lines) + "\n"


def _write_commit(
    repo: Repository, prepared: Prepared, trailers: tuple[tuple[str, str], ...], sign: bool | None = None
) -> str:
    repo.write_blobs(list(prepared.new_blobs.values()))
    # only the paths the plan changes: the trees on their way are rewritten, nothing is listed
    tree = repo.write_tree_from(repo.tree_of(prepared.source_commit), changes_to_write(prepared))
    message = commit_message(prepared, trailers)
    # A partial promotion merges only some apps: recording the source as a parent would tell
    # git (and people reading the graph) that all of it reached the target.
    parents = [prepared.target_commit] if prepared.scope else [prepared.target_commit, prepared.source_commit]
    return repo.commit_tree(tree, parents, message, sign)
