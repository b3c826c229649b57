"""Text rendering of `gitops promote` (data on stdout, the outcome line on stderr)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from gitops_promote.commands.promote import PromoteResult
from gitops_promote.core.promotion import ACTIONS, FileAction
from gitops_promote.render import console
from gitops_promote.render.console import visible

ACTION_STYLE = {
    "added": "green",
    "modified": "yellow",
    "deleted": "red",
    "kept": "cyan",
    "seeded": "magenta",
    "orphaned": "red",
}
ACTION_MARK = {"added": "+", "modified": "~", "deleted": "-", "kept": "=", "seeded": "*", "orphaned": "x"}


def text(result: PromoteResult) -> None:
    out = console.out()
    out.print(
        Text(
            f"{visible(result.source)} {result.source_commit[:12]} → "
            f"{visible(result.target)} {result.target_commit_before[:12]}",
            style="bold",
        )
    )
    if result.commits:
        out.print(Text(f"\n{len(result.commits)} commit(s) to promote:"))
        for commit in result.commits[:20]:
            out.print(Text(f"  {commit['sha'][:12]} {visible(commit['subject'])}"))
        if len(result.commits) > 20:
            out.print(Text(f"  … and {len(result.commits) - 20} more"))
    if result.files:
        out.print(Text(f"\n{len(result.files)} file(s):"))
        print_file_actions(result.files)
        out.print(Text("  " + summary(result)))
    for warning in result.warnings:
        console.warning(visible(f"{warning.path}: {warning.message}" if warning.path else warning.message))
    if result.freeze is not None and result.freeze.overridden:
        console.warning(result.freeze.message)
    for note in result.notes:
        console.message(note)
    outcome(result)


def print_file_actions(files: Sequence[FileAction]) -> None:
    """One line per file: a mark, the action (coloured), the path (never markup)."""
    for action in files:
        line = Text(f"  {ACTION_MARK[action.action]} {action.action:<9} ", style=ACTION_STYLE[action.action])
        line.append(visible(action.path))
        console.out().print(line)


def summary(result: PromoteResult) -> str:
    counts = {a: sum(1 for f in result.files if f.action == a) for a in ACTIONS}
    return ", ".join(f"{n} {a}" for a, n in counts.items() if n)


def outcome(result: PromoteResult) -> None:
    if result.refused:
        return  # the refusal itself is the outcome (printed by the CLI)
    if result.drift_discarded:
        console.warning(f"discarding drift on {result.target}: " + ", ".join(visible(d.path) for d in result.drift))
    if result.target_commit == result.target_commit_before and not result.promoted:
        console.message(f"nothing to promote: {result.target} already has {result.source}'s content")
    elif result.dry_run:
        console.message(f"dry run: {result.target} would move; nothing was written")
    elif result.pr_branch and result.pushed:
        review(result)
    elif result.promoted:
        where = f" and pushed to {result.remote}" if result.pushed else " (local branch only)"
        assert result.target_commit is not None
        console.message(f"promoted {result.source} to {result.target}: {result.target_commit[:12]}{where}", "green")


def review(result: PromoteResult) -> None:
    """--pr: the commit waits on the review branch; the URL goes to stdout (it is data)."""
    assert result.target_commit is not None
    console.message(
        f"pushed the promotion of {result.source} to {result.target} ({result.target_commit[:12]}) to "
        f"{result.remote}/{result.pr_branch}; {result.target} has not moved. Merge it with a "
        "fast-forward so that what was reviewed is what ships.",
        "green",
    )
    if result.compare_url and not result.pull_request:
        console.out().print(Text(f"open a pull request: {visible(result.compare_url)}"))
    elif result.pull_request:
        console.out().print(Text(f"pull request: {visible(result.pull_request)}"))
