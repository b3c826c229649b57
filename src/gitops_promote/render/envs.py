"""Text rendering of `gitops envs`."""

from __future__ import annotations

from gitops_promote.render import console
from gitops_promote.render.console import visible
from gitops_promote.render.fit import Column, dropped_note, fit
from gitops_promote.results.envs import EnvsResult

# A narrow terminal gives up backups, then audience, then avail., then persistence.
COLUMNS = (
    Column("name", min=10),
    Column("codename", min=3),
    Column("branch", min=6),
    Column("audience", min=12, drop=2),
    Column("avail.", min=6, drop=3),
    Column("persistence", min=9, drop=4),
    Column("backups", min=7, drop=1),
    Column("head", min=7, wrap=False),
)
WIDE = 100  # from this width on, head commits are shown with 12 characters, else 7


def text(result: EnvsResult) -> None:
    out = console.out()
    sha = 12 if out.width >= WIDE else 7
    rows = []
    for row in result.rows:
        env = row.environment
        rows.append(
            [
                visible(env.name),
                env.codename,
                env.branch,
                visible(", ".join(env.audience)),
                visible(env.availability or "n/a"),
                visible(env.persistence),
                visible(env.backups.describe()),
                row.head[:sha] if row.head else "(no branch)",
            ]
        )
    fitted = fit(f"Environments ({result.registry.source})", COLUMNS, rows, out.width)
    out.print(fitted.table)
    out.print("promotion order: " + result.registry.describe_order())
    if note := dropped_note(fitted.dropped, out.width):
        console.message(note)
