"""Rendering of `gitops parity`: text (rich) and markdown (for PR comments and job summaries)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from gitops_promote.core.parity import DRIFT, PENDING, AppCell, KeyGap, PairReport, ParityReport
from gitops_promote.render import console

STATE_STYLE = {PENDING: "yellow", DRIFT: "bold red"}


def cell_text(cell: AppCell) -> str:
    if not cell.present:
        return "absent" + (f" ({cell.state})" if cell.state in (PENDING, DRIFT) else "")
    parts = [f"chart {cell.chart_version or '?'}", f"app {cell.app_version or '?'}"]
    if cell.image_tag is not None:
        parts.append(f"tag {cell.image_tag}")
    mark = f" [{cell.state}]" if cell.state in (PENDING, DRIFT) else ""
    return " · ".join(parts) + mark


def pair_lines(pair: PairReport) -> list[tuple[str, str]]:
    """(line, state) for one adjacent pair: a headline, then each difference."""
    head = f"{pair.upstream} → {pair.downstream}: "
    if pair.state == "same":
        return [(head + "in parity", "")]
    counts = f"{len(pair.pending)} file(s), {len(pair.commits)} commit(s) pending"
    lines = [(head + (f"DRIFT ({counts})" if pair.has_drift else counts), pair.state)]
    drifting = {d.path: d for d in pair.drift}
    for action in pair.pending:
        if action.path in drifting:
            commits = ", ".join(c[:12] for c in drifting[action.path].commits)
            lines.append((f"  drift    {action.path} (changed directly on {pair.downstream} by {commits})", DRIFT))
        else:
            lines.append((f"  pending  {action.path} ({action.action})", PENDING))
    for merge in pair.hand_merges:
        lines.append((f"  note     {merge.commit[:12]} merged by hand, outside gitops: {merge.subject}", ""))
    return lines


def gap_line(gap: KeyGap) -> str:
    return f"{gap.app}: key {gap.key!r} is set in {', '.join(gap.present_in)} but not in {', '.join(gap.missing_in)}"


def text(report: ParityReport) -> None:
    out = console.out()
    table = Table(title="Parity (chart version · appVersion · image tag)", title_justify="left")
    table.add_column("app")
    for env in report.environments:
        table.add_column(env)
    for app, cells in report.apps.items():
        row = [Text(app)]
        for env in report.environments:
            cell = cells.get(env)
            row.append(Text(cell_text(cell), style=STATE_STYLE.get(cell.state, "")) if cell else Text("(no branch)"))
        table.add_row(*row)
    out.print(table)
    for pair in report.pairs:
        for line, state in pair_lines(pair):
            out.print(Text(line, style=STATE_STYLE.get(state, "green" if not state else "")))
    for name in report.missing:
        console.warning(f"environment {name} has no branch")
    for warning in report.warnings:
        console.warning(warning.message)
    for gap in report.key_gaps:
        console.warning(gap_line(gap))
    for cells in report.apps.values():
        for cell in cells.values():
            for problem in cell.problems:
                console.warning(problem)
    summary(report)


def summary(report: ParityReport) -> None:
    if report.has_drift:
        console.message("drift: some environment holds changes that never came from upstream", "bold red")
    elif report.has_pending:
        console.message("pending: downstream environments are behind (no drift)", "yellow")
    else:
        console.message("every environment is in parity", "green")


def _md(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def markdown(report: ParityReport) -> None:
    lines = ["## Environment parity", ""]
    lines.append("| app | " + " | ".join(report.environments) + " |")
    lines.append("|---|" + "---|" * len(report.environments))
    for app, cells in report.apps.items():
        row = [_md(cell_text(cells[e])) if e in cells else "(no branch)" for e in report.environments]
        lines.append(f"| `{_md(app)}` | " + " | ".join(row) + " |")
    lines.append("")
    for pair in report.pairs:
        pair_md = pair_lines(pair)
        lines.append(f"- **{_md(pair_md[0][0])}**")
        lines += [f"  - {_md(line.strip())}" for line, _ in pair_md[1:]]
    if report.key_gaps:
        lines += ["", "**Settings keys**", ""]
        lines += [f"- ⚠️ {_md(gap_line(g))}" for g in report.key_gaps]
    console.out().file.write("\n".join(lines) + "\n")
