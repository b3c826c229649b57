"""Text rendering of `gitops rollback ENV`."""

from __future__ import annotations

from rich.text import Text

from gitops_promote.render import console
from gitops_promote.render.console import visible
from gitops_promote.render.promote import print_file_actions
from gitops_promote.results.rollback import RollbackResult


def text(result: RollbackResult) -> None:
    out, target = console.out(), result.target
    out.print(
        Text(
            f"{result.environment} {result.commit_before[:12]} → content of promotion {target.commit[:12]} "
            f"(from {visible(target.source or '')} {(target.source_commit or '')[:12]}, "
            f"{visible(target.date[:16].replace('T', ' '))})",
            style="bold",
        )
    )
    if result.files:
        out.print(Text(f"\n{len(result.files)} file(s):"))
        print_file_actions(result.files)
    for note in result.notes:
        console.message(note)
    if not result.rolled_back and result.commit == result.commit_before:
        console.message(f"nothing to roll back: {result.environment} already has that content")
    elif result.dry_run:
        console.message(f"dry run: {result.environment} would get a rollback commit; nothing was written")
    elif result.rolled_back:
        assert result.commit is not None
        where = f" and pushed to {result.remote}" if result.pushed else " (local branch only)"
        console.message(f"rolled back {result.environment}: {result.commit[:12]}{where}", "green")
