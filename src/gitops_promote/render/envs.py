"""Text rendering of `gitops envs`."""

from __future__ import annotations

from rich.table import Table

from gitops_promote.commands.envs import EnvsResult
from gitops_promote.render import console
from gitops_promote.render.console import visible


def text(result: EnvsResult) -> None:
    table = Table(title=visible(f"Environments ({result.registry.source})"), title_justify="left")
    for column in ("name", "codename", "branch", "audience", "availability", "persistence", "backups", "head"):
        table.add_column(column)
    for row in result.rows:
        env = row.environment
        table.add_row(
            visible(env.name),
            env.codename,
            env.branch,
            visible(", ".join(env.audience)),
            visible(env.availability or "n/a"),
            visible(env.persistence),
            visible(env.backups.describe()),
            row.head[:12] if row.head else "(no branch)",
        )
    console.out().print(table)
    console.out().print("promotion order: " + result.registry.describe_order())
