"""Rendering of `gitops parity`: text (rich) and markdown (for PR comments and job summaries)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from rich.text import Text

from gitops_promote.core.parity import DRIFT, PENDING, AppCell, KeyGap, PairReport, ParityReport
from gitops_promote.core.tree import app_of
from gitops_promote.render import console
from gitops_promote.render.console import md, md_code, visible
from gitops_promote.render.fit import Column, fit

STATE_STYLE = {PENDING: "yellow", DRIFT: "bold red"}


def cell_text(cell: AppCell) -> str:
    if not cell.present:
        return "absent" + (f" ({cell.state})" if cell.state in (PENDING, DRIFT) else "")
    parts = [f"chart {visible(str(cell.chart_version or '?'))}", f"app {visible(str(cell.app_version or '?'))}"]
    if cell.image_tag is not None:
        parts.append(f"tag {visible(str(cell.image_tag)) if cell.image_tag else '(none)'}")
    mark = f" [{cell.state}]" if cell.state in (PENDING, DRIFT) else ""
    return " · ".join(parts) + mark


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def pair_lines(pair: PairReport, apps: Collection[str] = ()) -> list[tuple[str, str]]:
    """(line, state) for one adjacent pair: a headline, each drift, then pending files per app
    as a count (the drift lines are what needs eyes; `gitops plan` lists every file)."""
    head = f"{pair.upstream} → {pair.downstream}: "
    if pair.state == "same":
        return [(head + "in parity", "")]
    counts = f"{_count(len(pair.pending), 'file')}, {_count(len(pair.commits), 'commit')} pending"
    lines = [(head + (f"DRIFT ({counts})" if pair.has_drift else counts), pair.state)]
    drifting = {d.path: d for d in pair.drift}
    for action in pair.pending:
        if action.path in drifting:
            commits = ", ".join(c[:12] for c in drifting[action.path].commits)
            lines.append(
                (f"  drift    {visible(action.path)} (changed directly on {pair.downstream} by {commits})", DRIFT)
            )
    for merge in pair.hand_merges:
        lines.append((f"  note     {merge.commit[:12]} merged by hand, outside gitops: {visible(merge.subject)}", ""))
    per_app = Counter(app_of(a.path, apps) for a in pair.pending if a.path not in drifting)
    for app, count in sorted(per_app.items()):
        lines.append((f"  pending  {visible(app)}: {_count(count, 'file')}", PENDING))
    return lines


def gap_line(gap: KeyGap) -> str:
    present, missing = ", ".join(gap.present_in), ", ".join(gap.missing_in)
    return f"{visible(gap.app)}: key {visible(repr(gap.key))} is set in {present} but not in {missing}"


def text(report: ParityReport) -> None:
    out = console.out()
    # Every environment keeps its column (parity is the comparison); cells wrap instead.
    columns = [Column("app", min=8), *(Column(env, min=12) for env in report.environments)]
    rows: list[list[str | Text]] = []
    for app, cells in report.apps.items():
        row: list[str | Text] = [Text(visible(app))]
        for env in report.environments:
            cell = cells.get(env)
            row.append(Text(cell_text(cell), style=STATE_STYLE.get(cell.state, "")) if cell else Text("(no branch)"))
        rows.append(row)
    out.print(fit("Parity (chart version · appVersion · image tag)", columns, rows, out.width).table)
    for pair in report.pairs:
        for line, state in pair_lines(pair, report.apps):
            out.print(Text(line, style=STATE_STYLE.get(state, "green" if not state else "")))
    for name in report.missing:
        console.warning(f"environment {name} has no branch")
    for warning in report.warnings:
        console.warning(visible(warning.message))
    for gap in report.key_gaps:
        console.warning(gap_line(gap))
    for cells in report.apps.values():
        for cell in cells.values():
            for problem in cell.problems:
                console.warning(visible(str(problem)))
    summary(report)


def summary(report: ParityReport) -> None:
    if report.has_drift:
        console.message("drift: some environment holds changes that never came from upstream", "bold red")
    elif report.has_pending:
        console.message("pending: downstream environments are behind (no drift)", "yellow")
    else:
        console.message("every environment is in parity", "green")


def markdown(report: ParityReport) -> None:
    lines = ["## Environment parity", ""]
    lines.append("| app | " + " | ".join(report.environments) + " |")
    lines.append("|---|" + "---|" * len(report.environments))
    for app, cells in report.apps.items():
        row = [md(cell_text(cells[e])) if e in cells else "(no branch)" for e in report.environments]
        lines.append(f"| {md_code(app)} | " + " | ".join(row) + " |")
    lines.append("")
    for pair in report.pairs:
        pair_md = pair_lines(pair, report.apps)
        lines.append(f"- **{md(pair_md[0][0])}**")
        lines += [f"  - {md(line.strip())}" for line, _ in pair_md[1:]]
    if report.key_gaps:
        lines += ["", "**Settings keys**", ""]
        lines += [f"- ⚠️ {md(gap_line(g))}" for g in report.key_gaps]
    console.write("\n".join(lines) + "\n")
