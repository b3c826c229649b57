"""Text rendering of `gitops promote SRC` into several targets: each promotion, then a summary."""

from __future__ import annotations

from gitops_promote.core.fanout import FanoutResult, TargetOutcome
from gitops_promote.render import console
from gitops_promote.render import promote as render_promote
from gitops_promote.results.promote import PromoteResult


def text(fanout: FanoutResult) -> None:
    for outcome in fanout.outcomes:
        console.message(f"── {fanout.source} → {outcome.target}", "bold")
        if outcome.error is not None:
            console.error(str(outcome.error))
        elif isinstance(outcome.result, PromoteResult):
            render_promote.text(outcome.result)
    summary(fanout)


def verdict(outcome: TargetOutcome) -> str:
    if outcome.error is not None:
        kind = "refused" if outcome.exit_code == 1 else "failed"
        return f"{kind}: {outcome.error.message.splitlines()[0]}"
    result = outcome.result
    if not isinstance(result, PromoteResult):
        return "done"
    if result.dry_run and result.target_commit is None:
        return "would promote (dry run)"
    if result.pr_branch and result.pushed:
        return f"pushed for review to {result.pr_branch}"
    if result.promoted and result.target_commit:
        return f"promoted: {result.target_commit[:12]}"
    return "nothing to promote"


def summary(fanout: FanoutResult) -> None:
    """One line per target on stdout (it is the command's data), the overall outcome on stderr."""
    width = max((len(o.target) for o in fanout.outcomes), default=0)
    rows = [(f"\npromotion of {fanout.source} into {len(fanout.outcomes)} environment(s):", "")]
    for outcome in fanout.outcomes:
        style = "green" if outcome.error is None else "bold red"
        rows.append((f"  {outcome.target:<{width}}  {verdict(outcome)}", style))
    console.lines(rows)
    failed = [o.target for o in fanout.outcomes if o.error is not None]
    if failed:
        console.message(f"{len(failed)} of {len(fanout.outcomes)} not promoted: {', '.join(failed)}", "bold red")
    else:
        console.message(f"every target of {fanout.source} handled", "green")
