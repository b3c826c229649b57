"""Text rendering of `gitops status`: one table, then details only where something needs eyes."""

from __future__ import annotations

from datetime import datetime, timezone

from rich.text import Text

from gitops_promote.core.freeze import Occurrence
from gitops_promote.render import console
from gitops_promote.render.console import visible
from gitops_promote.render.fit import Column, dropped_note, fit
from gitops_promote.results.history import Entry
from gitops_promote.results.status import EnvStatus, Freeze, StatusResult


def short_date(iso: str) -> str:
    """'2026-11-27T17:58:26+00:00' -> '2026-11-27 17:58'."""
    return iso[:16].replace("T", " ")


def utc(moment: datetime) -> str:
    """A UTC instant, compactly: '12-27 00:00Z' (the year only when it is not this one's)."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%m-%d %H:%MZ" if moment.year == datetime.now(timezone.utc).year else "%Y-%m-%d %H:%MZ")


def author_name(author: str) -> str:
    return visible(author.split(" <", 1)[0])


def occurrence(o: Occurrence) -> str:
    label = visible(o.window.reason) if o.window.reason else f"{o.window.kind}[{o.window.index}]"
    return f"{label} {utc(o.start)} → {utc(o.end)}"


def last_promotion_cell(entry: Entry | None, rollback: Entry | None = None) -> str:
    if entry is None:
        return "never"
    if rollback is not None:
        target = (rollback.rolled_back_to or "")[:7]
        return f"rolled back to {target} {short_date(rollback.date)} {author_name(rollback.author)}"
    apps = f" ({', '.join(entry.apps)})" if entry.apps is not None else ""
    when = f"{short_date(entry.date)} {author_name(entry.author)}"
    return f"{entry.source}@{(entry.source_commit or '')[:7]}{apps} {when}"


def pending_cell(row: EnvStatus) -> Text:
    if row.pending is None:
        return Text("—" if row.head else "")
    files, commits = len(row.pending.files), len(row.pending.commits)
    if not files and not commits:
        return Text("up to date", style="green")
    return Text(f"{_count(files, 'file')}, {_count(commits, 'commit')}", style="yellow")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def drift_cell(row: EnvStatus) -> Text:
    if row.pending is None:
        return Text("—" if row.head else "")
    if not row.drift:
        return Text("none", style="green")
    return Text(_count(len(row.drift), "path"), style="bold red")


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


# The registry's prose columns go first on a narrow terminal (`gitops envs` shows them all),
# then the rest fits: data, audience, avail., branch are given up in that order.
PROFILE = (
    Column("branch", min=6, drop=4),
    Column("audience", min=12, drop=2),
    Column("avail.", min=6, drop=3),
    Column("data", min=12, drop=1),
)
STATE = (
    Column("head", min=7, wrap=False),
    Column("last promotion", min=11),
    Column("pending", min=9),
    Column("drift", min=5),
    Column("freeze", min=6),
)
WIDE = 140  # from this width on, commit ids have 12 characters and each env its full name


def text(result: StatusResult) -> None:
    out = console.out()
    wide = out.width >= WIDE
    where = f"remote {result.remote}" if result.remote else "local branches"
    names = [e.environment.codename for e in result.environments]
    columns = (Column("env", min=max(map(len, names), default=3)), *PROFILE, *STATE)
    rows = [_row(row, wide) for row in result.environments]
    fitted = fit(visible(f"Environments ({result.registry.source}, {where})"), columns, rows, out.width)
    out.print(fitted.table)
    if note := dropped_note(fitted.dropped, out.width, "gitops envs"):
        console.message(note)
    for row in result.environments:
        details(row)
    shown: set[str] = set()
    for row in result.environments:
        for warning in row.warnings:
            line = f"{row.environment.codename}: {warning.path}: {warning.message}" if warning.path else warning.message
            line = visible(line)  # one line: a path cannot forge another
            if line not in shown:
                shown.add(line)
                console.warning(line)
    for branch in result.review_branches:
        out.print(Text(visible(f"review branch waiting to be merged: {result.remote}/{branch}"), style="yellow"))


def _row(row: EnvStatus, wide: bool) -> list[str | Text]:
    env = row.environment
    backups = f"backups {env.backups.policy or 'yes'}" if env.backups.enabled else "no backups"
    return [
        f"{env.codename}\n{visible(env.name)}" if wide else env.codename,
        env.branch,
        visible(", ".join(env.audience)),
        visible(env.availability or "n/a"),
        visible(f"{env.persistence}, {backups}"),
        (row.head.sha[:12] if wide else row.head.sha[:7]) if row.head else "(no branch)",
        last_promotion_cell(row.last_promotion, row.rollback),
        pending_cell(row),
        drift_cell(row),
        freeze_cell(row.freeze),
    ]


def details(row: EnvStatus) -> None:
    out, name = console.out(), row.environment.codename
    if row.pending is not None and row.pending.apps:
        apps = ", ".join(f"{app} ({n} file(s))" for app, n in row.pending.apps.items())
        out.print(Text(f"{name}: pending from {row.pending.upstream} per app: {apps}", style="yellow"))
    for drift in row.drift:
        commits = ", ".join(c[:12] for c in drift.commits)
        out.print(Text(f"{name}: drift: {visible(drift.path)} (changed directly by {commits})", style="red"))
    for o in row.freeze.current:
        out.print(Text(f"{name}: now in {o.window.kind}: {visible(o.window.describe())}"))
    if row.freeze.next is not None and row.freeze.current:
        window = visible(row.freeze.next.window.describe())
        out.print(Text(f"{name}: next: {window} from {utc(row.freeze.next.start)}"))
