"""Text rendering of `gitops history ENV`."""

from __future__ import annotations

from rich.text import Text

from gitops_promote.render import console
from gitops_promote.render.console import visible
from gitops_promote.render.fit import Column, dropped_note, fit
from gitops_promote.render.status import author_name, short_date
from gitops_promote.results.history import MERGE, PROMOTION, ROLLBACK, Entry, HistoryResult

KIND_STYLE = {PROMOTION: "green", ROLLBACK: "magenta", MERGE: "red", "direct": "yellow"}


# Narrow terminals give up `files`, then `who`, then `from` (docs/commands/history.md).
COLUMNS = (
    Column("commit", min=7, wrap=False),
    Column("kind", min=9),
    Column("from", min=11, drop=3, wrap=False),
    Column("subject", min=14),
    Column("when", min=10),
    Column("who", min=6, drop=2),
    Column("files", min=5, drop=1, justify="right"),
)
WIDE = 120  # from this width on, commit ids are shown with 12 characters, else 7


def origin(entry: Entry, sha: int = 12) -> str:
    """Where the content came from: the promoted source commit, or the rollback's target."""
    if entry.kind == PROMOTION:
        return visible(f"{entry.source}@{(entry.source_commit or '')[:sha]}")
    if entry.kind == ROLLBACK:
        return visible(f"→ {(entry.rolled_back_to or '')[:sha]}")
    return ""


def subject(entry: Entry) -> str:
    if entry.kind == ROLLBACK and entry.reason:
        return visible(f"{entry.subject} (reason: {entry.reason})")
    if entry.kind == MERGE:
        return f"{visible(entry.subject)} (merged by hand: no Promoted-* trailers)"
    return visible(entry.subject)


def row(entry: Entry, sha: int) -> list[str | Text]:
    kind = Text(entry.kind, style=KIND_STYLE.get(entry.kind, ""))
    if entry.apps is not None:
        kind.append(" (partial)")
    if entry.freeze_override:
        kind.append(" (freeze override)", style="red")
    files = "" if entry.files is None else str(len(entry.files))
    when = short_date(entry.date)
    return [
        entry.commit[:sha],
        kind,
        origin(entry, sha),
        subject(entry),
        visible(when),
        visible(author_name(entry.author)),
        files,
    ]


def text(result: HistoryResult) -> None:
    out = console.out()
    sha = 12 if out.width >= WIDE else 7
    title = f"History of {result.environment.codename} ({result.branch_ref})"
    fitted = fit(title, COLUMNS, [row(entry, sha) for entry in result.entries], out.width)
    out.print(fitted.table)
    if note := dropped_note(fitted.dropped, out.width):
        console.message(note)
    for warning in result.warnings:
        console.warning(visible(warning.message))
    if result.more:
        console.message(f"showing the newest {result.limit}; pass --limit 0 for all")
