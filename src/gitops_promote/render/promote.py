"""Text rendering of `gitops promote` (data on stdout, the outcome line on stderr)."""

from __future__ import annotations

from collections.abc import Sequence

from gitops_promote.core.promotion import ACTIONS, KEPT, FileAction
from gitops_promote.render import console
from gitops_promote.render.console import visible
from gitops_promote.results.promote import PromoteResult

ACTION_STYLE = {
    "added": "green",
    "modified": "yellow",
    "deleted": "red",
    "kept": "cyan",
    "seeded": "magenta",
    "orphaned": "red",
}
ACTION_MARK = {"added": "+", "modified": "~", "deleted": "-", "kept": "=", "seeded": "*", "orphaned": "x"}


Row = tuple[str, str]  # (line, style)
# More kept files than this are one line in text (a count); JSON and --verbose list them all.
KEPT_LISTED = 10


def text(result: PromoteResult, verbose: bool = False) -> None:
    rows: list[Row] = [
        (
            f"{visible(result.source)} {result.source_commit[:12]} → "
            f"{visible(result.target)} {result.target_commit_before[:12]}",
            "bold",
        )
    ]
    if result.apps is not None:
        rows.append(
            (visible(f"apps: {', '.join(result.apps)} (every other path of {result.target} stays as it is)"), "")
        )
    if result.commits:
        rows += [("", ""), (f"{len(result.commits)} commit(s) to promote:", "")]
        rows += [(f"  {commit['sha'][:12]} {visible(commit['subject'])}", "") for commit in result.commits[:20]]
        if len(result.commits) > 20:
            rows.append((f"  … and {len(result.commits) - 20} more", ""))
    if result.files:
        rows += [("", ""), (f"{len(result.files)} file(s):", "")]
        rows += file_action_rows(result.files, verbose)
        rows.append(("  " + summary(result), ""))
    console.lines(rows)  # the whole report in one write
    for warning in result.warnings:
        console.warning(visible(f"{warning.path}: {warning.message}" if warning.path else warning.message))
    if result.freeze is not None and result.freeze.overridden:
        console.warning(result.freeze.message)
    for note in result.notes:
        console.message(note)
    outcome(result)


def file_action_rows(files: Sequence[FileAction], verbose: bool = True) -> list[Row]:
    """One row per file: a mark, the action, the path. Kept files beyond KEPT_LISTED are one
    row counting them (the target's own copies, unchanged) unless `verbose`."""
    kept = [f for f in files if f.action == KEPT]
    collapse = not verbose and len(kept) > KEPT_LISTED
    rows = [_row(f) for f in files if not (collapse and f.action == KEPT)]
    if collapse:
        count = f"  {ACTION_MARK[KEPT]} {KEPT:<9} {len(kept):,} env files kept"
        rows.append((count + " (the target's own copies; --verbose lists them)", ACTION_STYLE[KEPT]))
    return rows


def _row(action: FileAction) -> Row:
    return f"  {ACTION_MARK[action.action]} {action.action:<9} {visible(action.path)}", ACTION_STYLE[action.action]


def print_file_actions(files: Sequence[FileAction]) -> None:
    """Every file's row, in one write."""
    console.lines(file_action_rows(files))


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
        console.lines([(f"open a pull request: {visible(result.compare_url)}", "")])
    elif result.pull_request:
        console.lines([(f"pull request: {visible(result.pull_request)}", "")])
