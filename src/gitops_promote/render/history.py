"""Text rendering of `gitops history ENV`."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from gitops_promote.commands._branchlog import MERGE, PROMOTION, ROLLBACK, Entry
from gitops_promote.commands.history import HistoryResult
from gitops_promote.render import console
from gitops_promote.render.status import author_name, short_date

KIND_STYLE = {PROMOTION: "green", ROLLBACK: "magenta", MERGE: "red", "direct": "yellow"}


def origin(entry: Entry) -> str:
    """Where the content came from: the promoted source commit, or the rollback's target."""
    if entry.kind == PROMOTION:
        return f"{entry.source}@{(entry.source_commit or '')[:12]}"
    if entry.kind == ROLLBACK:
        return f"→ {(entry.rolled_back_to or '')[:12]}"
    return ""


def subject(entry: Entry) -> str:
    if entry.kind == ROLLBACK and entry.reason:
        return f"{entry.subject} (reason: {entry.reason})"
    if entry.kind == MERGE:
        return f"{entry.subject} (merged by hand: no Promoted-* trailers)"
    return entry.subject


def text(result: HistoryResult) -> None:
    env = result.environment
    table = Table(title=f"History of {env.codename} ({result.branch_ref})", title_justify="left")
    for column in ("commit", "kind", "from"):
        table.add_column(column, no_wrap=True)
    table.add_column("subject", overflow="fold")
    table.add_column("when", no_wrap=True)
    table.add_column("who")
    table.add_column("files", justify="right")
    for entry in result.entries:
        kind = Text(entry.kind, style=KIND_STYLE.get(entry.kind, ""))
        if entry.freeze_override:
            kind.append(" (freeze override)", style="red")
        files = "" if entry.files is None else str(len(entry.files))
        table.add_row(
            entry.commit[:12],
            kind,
            origin(entry),
            subject(entry),
            short_date(entry.date),
            author_name(entry.author),
            files,
        )
    console.out().print(table)
    for warning in result.warnings:
        console.warning(warning.message)
    if result.more:
        console.message(f"showing the newest {result.limit}; pass --limit 0 for all")
