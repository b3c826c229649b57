"""Text rendering of `gitops status`: one table, then details only where something needs eyes."""

from __future__ import annotations

from datetime import datetime, timezone

from rich.table import Table
from rich.text import Text

from gitops_promote.commands._branchlog import Entry
from gitops_promote.commands.status import EnvStatus, Freeze, StatusResult
from gitops_promote.core.freeze import Occurrence
from gitops_promote.render import console


def short_date(iso: str) -> str:
    """'2026-11-27T17:58:26+00:00' -> '2026-11-27 17:58'."""
    return iso[:16].replace("T", " ")


def utc(moment: datetime) -> str:
    """A UTC instant, compactly: '12-27 00:00Z' (the year only when it is not this one's)."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%m-%d %H:%MZ" if moment.year == datetime.now(timezone.utc).year else "%Y-%m-%d %H:%MZ")


def author_name(author: str) -> str:
    return author.split(" <", 1)[0]


def occurrence(o: Occurrence) -> str:
    label = o.window.reason or f"{o.window.kind}[{o.window.index}]"
    return f"{label} {utc(o.start)} → {utc(o.end)}"


def last_promotion_cell(entry: Entry | None, rollback: Entry | None = None) -> str:
    if entry is None:
        return "never"
    if rollback is not None:
        target = (rollback.rolled_back_to or "")[:7]
        return f"rolled back to {target} {short_date(rollback.date)} {author_name(rollback.author)}"
    return f"{entry.source}@{(entry.source_commit or '')[:7]} {short_date(entry.date)} {author_name(entry.author)}"


def pending_cell(row: EnvStatus) -> Text:
    if row.pending is None:
        return Text("—" if row.head else "")
    files, commits = len(row.pending.files), len(row.pending.commits)
    if not files and not commits:
        return Text("up to date", style="green")
    return Text(f"{files} file(s), {commits} commit(s)", style="yellow")


def drift_cell(row: EnvStatus) -> Text:
    if row.pending is None:
        return Text("—" if row.head else "")
    if not row.drift:
        return Text("none", style="green")
    return Text(f"{len(row.drift)} path(s)", style="bold red")


def freeze_cell(freeze: Freeze) -> Text:
    frozen = [o for o in freeze.current if o.window.kind == "freeze"]
    if frozen:
        return Text(f"FROZEN until {utc(max(o.end for o in frozen))}", style="bold red")
    inside = [o for o in freeze.current if o.window.kind == "windows"]
    if inside:
        return Text(f"in window until {utc(inside[0].end)}", style="green")
    if freeze.next is not None:
        return Text(f"next: {occurrence(freeze.next)}")
    return Text("open")


WIDE = 140  # below this many columns the registry's prose columns are left to `gitops envs`


def text(result: StatusResult) -> None:
    out = console.out()
    wide = out.width >= WIDE
    where = f"remote {result.remote}" if result.remote else "local branches"
    table = Table(title=f"Environments ({result.registry.source}, {where})", title_justify="left")
    table.add_column("env", min_width=len(max((e.environment.name for e in result.environments), key=len, default="")))
    profile = ("branch", "audience", "avail.", "data") if wide else ()
    for column in profile:
        table.add_column(column, overflow="fold")
    table.add_column("head", no_wrap=True)
    for column in ("last promotion", "pending", "drift", "freeze"):
        table.add_column(column, min_width=9)
    for row in result.environments:
        env = row.environment
        backups = f"backups {env.backups.policy or 'yes'}" if env.backups.enabled else "no backups"
        cells: list[str | Text] = [f"{env.codename}\n{env.name}"]
        if wide:
            cells += [env.branch, ", ".join(env.audience), env.availability or "n/a", f"{env.persistence}, {backups}"]
        cells += [
            row.head.sha[:12] if row.head else "(no branch)",
            last_promotion_cell(row.last_promotion, row.rollback),
            pending_cell(row),
            drift_cell(row),
            freeze_cell(row.freeze),
        ]
        table.add_row(*cells)
    out.print(table)
    if not wide:
        console.message("narrow terminal: branch, audience, availability and backups are in 'gitops envs'")
    for row in result.environments:
        details(row)
    shown: set[str] = set()
    for row in result.environments:
        for warning in row.warnings:
            line = f"{row.environment.codename}: {warning.path}: {warning.message}" if warning.path else warning.message
            if line not in shown:
                shown.add(line)
                console.warning(line)


def details(row: EnvStatus) -> None:
    out, name = console.out(), row.environment.codename
    for drift in row.drift:
        commits = ", ".join(c[:12] for c in drift.commits)
        out.print(Text(f"{name}: drift: {drift.path} (changed directly by {commits})", style="red"))
    for o in row.freeze.current:
        out.print(Text(f"{name}: now in {o.window.kind}: {o.window.describe()}"))
    if row.freeze.next is not None and row.freeze.current:
        out.print(Text(f"{name}: next: {row.freeze.next.window.describe()} from {utc(row.freeze.next.start)}"))
