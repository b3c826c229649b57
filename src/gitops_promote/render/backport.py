"""Text rendering of `gitops backport` (data on stdout, the outcome line on stderr)."""

from __future__ import annotations

from rich.text import Text

from gitops_promote.core.backport import ALREADY, MERGE, TAKE
from gitops_promote.render import console
from gitops_promote.results.backport import BackportResult

ACTION_TEXT = {TAKE: "apply", MERGE: "merge", ALREADY: "already there"}
ACTION_STYLE = {TAKE: "yellow", MERGE: "magenta", ALREADY: "green"}


def text(result: BackportResult) -> None:
    out = console.out()
    out.print(
        Text(
            f"backport {result.source} {result.source_commit[:12]} → {result.target} "
            f"{result.target_commit_before[:12]}",
            style="bold",
        )
    )
    if result.commits:
        out.print(Text(f"\n{len(result.commits)} hotfix commit(s) on {result.source}:"))
        for commit in result.commits:
            out.print(Text(f"  {commit['sha'][:12]} {commit['subject']}"))
    if result.files:
        out.print(Text(f"\n{len(result.files)} file(s):"))
        for file in result.files:
            line = Text(f"  {ACTION_TEXT.get(file.action, file.action):<13} ", style=ACTION_STYLE.get(file.action, ""))
            line.append(file.path)
            out.print(line)
    for note in result.notes:
        console.message(note)
    outcome(result)


def outcome(result: BackportResult) -> None:
    if not result.files:
        console.message(f"nothing to backport: {result.source} has no direct changes since its last promotion")
    elif result.target_commit == result.target_commit_before:
        console.message(f"nothing to backport: {result.target} already has {result.source}'s hotfixes")
    elif result.dry_run:
        console.message(f"dry run: {result.target} would get one backport commit; nothing was written")
    elif result.pr_branch:
        assert result.target_commit is not None
        console.message(
            f"pushed the backport ({result.target_commit[:12]}) to {result.remote}/{result.pr_branch}; "
            f"{result.target} has not moved",
            "green",
        )
        if result.compare_url:
            console.out().print(Text(f"open a pull request: {result.compare_url}"))
    elif result.backported:
        assert result.target_commit is not None
        where = f" and pushed to {result.remote}" if result.pushed else " (local branch only)"
        console.message(
            f"backported {result.source}'s hotfixes to {result.target}: {result.target_commit[:12]}{where}; "
            f"promote it forward and the drift on {result.source} is gone",
            "green",
        )
