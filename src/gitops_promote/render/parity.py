"""Rendering of `gitops parity`: text (rich) and markdown (for PR comments and job summaries)."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from gitops_promote.core.parity import DRIFT, PENDING, AppCell, KeyGap, PairReport, ParityReport
from gitops_promote.core.tree import app_of
from gitops_promote.render import console
from gitops_promote.render.console import md, md_code, visible

if TYPE_CHECKING:
    from rich.text import Text

STATE_STYLE = {PENDING: "yellow", DRIFT: "bold red"}


# Up to this many environments a cell is one line; beyond, each part gets its own line, so
# that five or more columns still fit a terminal without folding words in the middle.
ONE_LINE_COLUMNS = 3


def cell_text(cell: AppCell, separator: str = " · ") -> str:
    if not cell.present:
        return "absent" + (f" ({cell.state})" if cell.state in (PENDING, DRIFT) else "")
    parts = [f"chart {visible(str(cell.chart_version or '?'))}", f"app {visible(str(cell.app_version or '?'))}"]
    if cell.image_tag is not None:
        parts.append(f"tag {visible(str(cell.image_tag)) if cell.image_tag else '(none)'}")
    text = separator.join(parts)
    if cell.state not in (PENDING, DRIFT):
        return text
    return text + ("\n" if "\n" in separator else " ") + f"[{cell.state}]"


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
    # rich and the table fitter only here: JSON and markdown never load them
    from rich.text import Text

    from gitops_promote.render.fit import Column, fit

    out = console.out()
    # Every environment keeps its column (parity is the comparison); cells wrap instead.
    columns = [Column("app", min=8), *(Column(env, min=12) for env in report.environments)]
    rows: list[list[str | Text]] = []
    separator = " · " if len(report.environments) <= ONE_LINE_COLUMNS else "\n"
    for app, cells in report.apps.items():
        row: list[str | Text] = [Text(visible(app))]
        for env in report.environments:
            cell = cells.get(env)
            text = cell_text(cell, separator) if cell else "(no branch)"
            row.append(Text(text, style=STATE_STYLE.get(cell.state, "")) if cell else Text(text))
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


def print_json(report: ParityReport) -> None:
    sys.stdout.write(json_text(report) + "\n")  # as console.print_json: the text is escaped JSON


def json_text(report: ParityReport) -> str:
    """`console.json_text(report.to_json())`, the matrix written cell by cell.

    At 20,000 apps the matrix is 60,000 cells; most are the same object (core.parity.Matrix
    shares equal cells), so each distinct cell (and row of cells) is encoded once by
    `console.json_text` and put in place with its layout (0.05 s against 0.38 s for the whole
    report at once); the rest of the report goes through `console.json_text` as it is.
    Escaping is per character, so piecewise is the same.
    """
    text = console.json_text(report.to_json(apps=False))
    if not report.apps:
        return text
    placeholder = '\n  "apps": {},\n'  # at two spaces only as a top-level key: strings hold no raw newline
    return text.replace(placeholder, '\n  "apps": ' + _apps_json(report.apps) + ",\n", 1)


def _apps_json(apps: Mapping[str, Mapping[str, AppCell]]) -> str:
    encoded: dict[tuple[tuple[str, int], ...], str] = {}  # a row's cells (most rows are alike)
    cells_text: dict[int, str] = {}
    rows = []
    for app, cells in apps.items():
        shape = tuple((env, id(cell)) for env, cell in cells.items())
        if shape not in encoded:
            items = []
            for env, cell in cells.items():
                if id(cell) not in cells_text:
                    cells_text[id(cell)] = console.json_text(cell.to_json()).replace("\n", "\n      ")
                items.append(f"      {_json_string(env)}: {cells_text[id(cell)]}")
            encoded[shape] = "{\n" + ",\n".join(items) + "\n    }" if items else "{}"
        rows.append(f"    {_json_string(app)}: {encoded[shape]}")
    return "{\n" + ",\n".join(rows) + "\n  }"


def _json_string(text: str) -> str:
    # printable ASCII without quote or backslash is its own JSON (the common app path)
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return console.json_text(text)


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
