"""Renderers for `gitops diff`: JSON, brief, Markdown, GitHub Actions and rich text.

Every renderer draws from the same `DiffReport`, whose values are already masked. Repository
data (paths, app names, values) is hostile input here: it is escaped for the format at hand,
never interpreted as Markdown/HTML, rich markup or a workflow command.
The shapes are documented in docs/diff-format.md.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from gitops_promote.core.diffmodel import MASK, Change, DiffReport, FileDiff, FileReport
from gitops_promote.errors import Problem
from gitops_promote.render.console import gh_data, gh_line, gh_property, json_text, md, md_code, print_rows, visible

if TYPE_CHECKING:
    from rich.console import Console

SCHEMA_VERSION = 1
GITHUB_MAX_ANNOTATIONS = 10  # GitHub shows at most 10 of each annotation kind per step
STEP_SUMMARY_LIMIT = 1024 * 1024  # GitHub refuses a step summary over 1 MiB
VALUE_WIDTH = 120
TEXT_DIFF_LINES = 200  # per file in Markdown; the JSON keeps the whole diff
MD_CHANGES_PER_FILE = 100  # so one huge values file does not push every app out of the report

_CATEGORY = {
    "added": "add",
    "seeded": "add",
    "modified": "change",
    "formatting-only": "change",
    "deleted": "delete",
    "orphaned": "delete",
    "kept": "kept",
}
_SYMBOL = {"add": "+", "change": "~", "delete": "-", "kept": "="}
_OP_SYMBOL = {"changed": "~", "added": "+", "removed": "-", "moved": ">"}


# --- shared helpers ----------------------------------------------------------------------


def counts(report: DiffReport) -> dict[str, int]:
    """Files per category: add (added, seeded), change (modified, formatting-only),
    delete (deleted, orphaned), kept."""
    result = {"add": 0, "change": 0, "delete": 0, "kept": 0}
    for f in report.files:
        result[_CATEGORY[f.status]] += 1
    return result


def summary_line(report: DiffReport) -> str:
    c = counts(report)
    return f"{c['add']} to add, {c['change']} to change, {c['delete']} to delete, {c['kept']} kept"


def _by_app(report: DiffReport) -> dict[str, list[FileReport]]:
    apps: dict[str, list[FileReport]] = {}
    for f in report.sorted_files():
        apps.setdefault(f.app, []).append(f)
    return apps


def one_line(text: str) -> str:
    """Data on one line, controls and line breaks escaped (`render.console.visible`)."""
    return visible(text)


def value_text(value: Any, width: int = VALUE_WIDTH) -> str:
    """A value as compact JSON on one line (strings quoted, so `"1"` differs from `1`)."""
    text = json.dumps(_json_safe(value), ensure_ascii=False, separators=(", ", ": "))
    text = one_line(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def change_values(change: Change) -> tuple[str, str]:
    """(old, new) as shown to a reader; a changed secret reads `*** (changed)`."""
    if change.op == "moved":
        return f"[{change.old}]", f"[{change.new}]"
    if change.masked:
        return MASK, f"{MASK} (changed)" if change.op == "changed" else MASK
    return value_text(change.old), value_text(change.new)


def change_line(change: Change) -> str:
    """`~ image.tag: "1.0.0" → "1.1.0"` (one line, data escaped for line formats)."""
    where = one_line(change.display_path())
    old, new = change_values(change)
    if change.op == "changed":
        detail = f"{old} → {new}"
    elif change.op == "added":
        detail = new
    elif change.op == "removed":
        detail = old
    else:
        detail = f"moved from {old} to {new}"
    return f"{_OP_SYMBOL[change.op]} {where}: {detail}"


def problem_text(p: Problem) -> str:
    """`file:line:col: message (hint: ...)` on one line."""
    hint = f" (hint: {p.hint})" if p.hint else ""
    where = f"{p.location}: " if p.location else ""
    return one_line(f"{where}{p.message}{hint}")


def _json_safe(value: Any) -> Any:
    """NaN and infinities are not JSON: spell them as YAML does."""
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


# --- JSON --------------------------------------------------------------------------------


def to_json(report: DiffReport) -> dict[str, Any]:
    """The stable `--json` shape (schema 1, see docs/diff-format.md)."""
    return {
        "schema": SCHEMA_VERSION,
        "source": report.source,
        "target": report.target,
        "source_commit": report.source_commit,
        "target_commit": report.target_commit,
        "summary": counts(report),
        "files": [_file_json(f) for f in report.sorted_files()],
    }


def json_chunks(
    head: DiffReport, summary: dict[str, int], files: Iterable[FileReport], tail: dict[str, Any]
) -> Iterator[str]:
    """`console.print_json` of `{**to_json(report), **tail}` in pieces, a file record at a time.

    Each value goes through the one JSON seam (`console.json_text`); the pieces are joined as
    its indenting writer joins them (a value at depth d is its own text with every line break
    followed by 2·d more spaces: a JSON string never holds a raw line break). The whole text
    is never built: 40,000 files' records are written as they are made.
    test_diff_stream.py checks the pieces join to exactly what `print_json` writes.
    """
    return json_record_chunks(head, summary, (record_text(f) for f in files), tail)


def json_record_chunks(
    head: DiffReport, summary: dict[str, int], records: Iterable[str], tail: dict[str, Any]
) -> Iterator[str]:
    """`json_chunks` from the records' texts (`record_text`), each item one record or several
    joined by `RECORD_SEPARATOR` (a run of records made elsewhere, commands/diff.py's child)."""
    fields = {
        "schema": SCHEMA_VERSION,
        "source": head.source,
        "target": head.target,
        "source_commit": head.source_commit,
        "target_commit": head.target_commit,
        "summary": summary,
    }
    pending = iter(records)
    first = next(pending, None)  # made before anything is written: a refusal comes first
    yield "{" + "".join(f"\n  {json_text(k)}: {_at_depth(v, 1)}," for k, v in fields.items())
    yield '\n  "files": '
    yield from _json_items(() if first is None else itertools.chain((first,), pending))
    yield "".join(f",\n  {json_text(k)}: {_at_depth(v, 1)}" for k, v in tail.items()) + "\n}\n"


_RECORDS_PER_CHUNK = 256  # one write per few hundred records, not per record
_CHUNK_CHARS = 256 * 1024  # nor more than this at once (an item may be a run of records)
RECORD_SEPARATOR = ",\n    "  # between two records of the `files` array


def _json_items(records: Iterable[str]) -> Iterator[str]:
    """The `files` array at depth 1: `[]`, or one record per line-indented item."""
    chunk: list[str] = []
    first = True
    size = 0
    for record in records:
        chunk.append(("[\n    " if first else RECORD_SEPARATOR) + record)
        first = False
        size += len(record)
        if len(chunk) >= _RECORDS_PER_CHUNK or size >= _CHUNK_CHARS:
            yield "".join(chunk)
            chunk.clear()
            size = 0
    yield "".join(chunk) + ("[]" if first else "\n  ]")


def record_text(f: FileReport) -> str:
    """A file's record as the `files` array holds it (depth 2)."""
    d = f.diff
    if d is not None and d.changes and not (d.errors or d.notes):
        text = _changes_record_text(f, d)
        if text is not None:
            return text
    return _record_text(_file_json(f))


_NESTED = (dict, list, tuple)


def _changes_record_text(f: FileReport, d: FileDiff) -> str | None:
    """The record of a file whose changes are all of scalars (most changed values files), as
    `_record_text(_file_json(f))` writes it, from one pass of the seam over every value in it
    (no record or change dict is built); None for a change of a mapping or list."""
    values = [f.path, f.app, f.status, d.kind, bool(d.formatting_only), d.text_diff, d.old_size, d.new_size]
    for c in d.changes:
        old, new = c.old, c.new
        if isinstance(old, _NESTED) or isinstance(new, _NESTED):
            return None  # an object or array inside the change: the indenting writer's layout
        values += (c.json_pointer(), c.display_path(), c.op, _json_safe(old), _json_safe(new), c.masked)
    texts = _scalar_texts(values)
    keys, (k0, k1, k2, k3, k4, k5) = _record_keys(), _change_keys()
    changes = []
    for start in range(8, len(texts), 6):
        pointer, shown, op, old_text, new_text, masked = texts[start : start + 6]
        changes.append(f"{k0}{pointer}{k1}{shown}{k2}{op}{k3}{old_text}{k4}{new_text}{k5}{masked}}}")
    path, app, status, kind, formatting_only, text_diff, old_size, new_size = texts[:8]
    return (
        f"{{{keys['path']}{path},{keys['app']}{app},{keys['status']}{status},{keys['kind']}{kind},"
        f"{keys['formatting_only']}{formatting_only},{keys['changes']}[\n        "
        + ",\n        ".join(changes)
        + f"\n      ],{keys['text_diff']}{text_diff},{keys['errors']}[],{keys['notes']}[],"
        f"{keys['old_size']}{old_size},{keys['new_size']}{new_size}\n    }}"
    )


@cache
def _change_keys() -> tuple[str, ...]:
    """`{"path": `, `, "display_path": ` ...: a change's keys as the seam writes a flat object."""
    keys = _change_json(Change([], "changed"))
    return tuple(("{" if i == 0 else ", ") + json_text(key, indent=None) + ": " for i, key in enumerate(keys))


def _at_depth(value: Any, depth: int) -> str:
    return json_text(value).replace("\n", "\n" + "  " * depth)


def _record_text(record: dict[str, Any]) -> str:
    """A file's record at depth 2, as `_at_depth(record, 2)` writes it, with fewer calls: its
    keys are written once per run, its scalars without the indenting writer's walk."""
    if not (record["changes"] or record["errors"] or record["notes"]):
        return json_text(record)  # no nested object or array: one line
    keys = _record_keys()
    scalars = iter(_scalar_texts([v for v in record.values() if not isinstance(v, list)]))
    parts = [
        keys[key] + (_list_text(value) if isinstance(value, list) else next(scalars)) for key, value in record.items()
    ]
    return "{" + ",".join(parts) + "\n    }"


def _list_text(value: list[Any]) -> str:
    """A record's list at depth 3 (`[]` as the seam writes an empty one: most errors and notes)."""
    return _at_depth(value, 3) if value else "[]"


# One JSON value of an array of scalars as the encoder writes it: a string (escapes kept
# whole, so a `", "` inside one never splits it) or a number, `true`, `false`, `null`.
_SCALAR_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[^,\[\] ]+')  # a string's runs, not a char at a time


def _scalar_texts(values: list[Any]) -> list[str]:
    """The JSON text of each scalar, from one pass of the seam over all of them (a call per
    value was most of the time of 20,000 records)."""
    texts = _SCALAR_TOKEN.findall(json_text(values, indent=None))
    if len(texts) != len(values):  # cannot happen for scalars; never guess if it did
        return [json_text(v, indent=None) for v in values]
    return texts


@cache
def _record_keys() -> dict[str, str]:
    """`\n      "path": ` and the like: the keys of a record, through the seam, once."""
    keys = _file_json(FileReport("", "", "kept"))
    return {key: "\n      " + json_text(key, indent=None) + ": " for key in keys}


def _file_json(f: FileReport) -> dict[str, Any]:
    d = f.diff
    return {
        "path": f.path,
        "app": f.app,
        "status": f.status,
        "kind": d.kind if d else None,
        "formatting_only": bool(d and d.formatting_only),
        "changes": [_change_json(c) for c in d.changes] if d else [],
        "text_diff": d.text_diff if d else "",
        "errors": [_problem_json(p) for p in d.errors] if d else [],
        "notes": list(d.notes) if d else [],
        "old_size": d.old_size if d else None,
        "new_size": d.new_size if d else None,
    }


def _change_json(c: Change) -> dict[str, Any]:
    return {
        "path": c.json_pointer(),
        "display_path": c.display_path(),
        "op": c.op,
        "old": _json_safe(c.old),
        "new": _json_safe(c.new),
        "masked": c.masked,
    }


def _problem_json(p: Problem) -> dict[str, Any]:
    loc = p.location
    return {
        "message": p.message,
        "file": loc.file if loc else None,
        "line": loc.line if loc else 0,
        "column": loc.column if loc else 0,
        "hint": p.hint,
    }


# --- brief -------------------------------------------------------------------------------


def to_brief(report: DiffReport) -> str:
    """One line per file, then `N to add, N to change, N to delete, N kept`."""
    lines = [_brief_line(f) for f in report.sorted_files()]
    lines.append(f"{one_line(report.source)} → {one_line(report.target)}: {summary_line(report)}")
    return "\n".join(lines) + "\n"


def _brief_line(f: FileReport) -> str:
    detail: str = f.status
    if f.diff and f.diff.changes:
        n = len(f.diff.changes)
        detail += f", {n} change{'s' if n != 1 else ''}"
    if f.diff and f.diff.errors:
        detail += f", {len(f.diff.errors)} error(s)"
    symbol = _SYMBOL[_CATEGORY[f.status]]
    return f"{symbol} {one_line(f.path)} ({one_line(f.app)}: {detail})"


# --- Markdown ----------------------------------------------------------------------------


def _fence(body: str, info: str = "") -> str:
    """A fenced block no line of `body` can close: longer than any backtick run in it."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{body.rstrip(chr(10))}\n{fence}"


def to_markdown(report: DiffReport, max_size: int = 60000) -> str:
    """A PR comment / step summary of at most `max_size` UTF-8 bytes.

    Degrades whole blocks, never cutting inside a fence or `<details>`: full details ->
    per-app summaries -> the summary table only (as many rows as fit) -> one line.
    """
    head = _md_header(report)
    table = _md_table(report)
    kept = _md_kept(report)
    apps = _by_app(report)
    full = [head, table, kept, *(_md_app_full(a, fs) for a, fs in apps.items())]
    brief = [head, table, kept, *(_md_app_brief(a, fs) for a, fs in apps.items())]
    for blocks, note in ((full, ""), (brief, "per-app details left out")):
        text = _join(blocks, note, report)
        if _size(text) <= max_size:
            return text
    return _md_table_only(report, head, max_size)


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _join(blocks: list[str], note: str, report: DiffReport) -> str:
    if note:
        blocks = [*blocks[:1], _degraded(note, report), *blocks[1:]]
    return "\n\n".join(b for b in blocks if b) + "\n"


def _degraded(what: str, report: DiffReport) -> str:
    command = f"gitops diff {report.source} {report.target}"
    return f"_Shortened to fit: {what}. The full diff: `{command}` (or `{command} --output json`)._"


def _md_header(report: DiffReport) -> str:
    return (
        f"### gitops diff: {md_code(report.source)} → {md_code(report.target)}\n\n"
        f"{md_code(report.source_commit[:12])} → {md_code(report.target_commit[:12])}: "
        f"**{summary_line(report)}**"
    )


def _app_counts(files: list[FileReport]) -> dict[str, int]:
    c = {"add": 0, "change": 0, "delete": 0, "kept": 0}
    for f in files:
        c[_CATEGORY[f.status]] += 1
    return c


def _md_table_rows(report: DiffReport) -> list[str]:
    rows = []
    for app, files in _by_app(report).items():
        c = _app_counts(files)
        rows.append(
            f"| {md_code(app) if app else '(none)'} | {c['add']} | {c['change']} | {c['delete']} | {c['kept']} |"
        )
    return rows


_TABLE_HEAD = "| app | add | change | delete | kept |\n|---|---:|---:|---:|---:|"


def _md_table(report: DiffReport) -> str:
    rows = _md_table_rows(report)
    return "\n".join([_TABLE_HEAD, *rows]) if rows else ""


def _md_kept(report: DiffReport) -> str:
    kept = [f for f in report.sorted_files() if f.status == "kept"]
    if not kept:
        return ""
    items = "\n".join(f"- {md_code(f.path)}" for f in kept)
    return f"**Kept** (the target's own files, left as they are):\n\n{items}"


def _md_app_full(app: str, files: list[FileReport]) -> str:
    shown = [f for f in files if f.status != "kept"]
    if not shown:
        return ""
    body = "\n\n".join(_md_file_full(f) for f in shown)
    return _details(app, shown, body)


def _md_app_brief(app: str, files: list[FileReport]) -> str:
    shown = [f for f in files if f.status != "kept"]
    if not shown:
        return ""
    body = "\n".join(f"- {_md_file_title(f)}" for f in shown)
    return _details(app, shown, body)


def _details(app: str, files: list[FileReport], body: str) -> str:
    n = len(files)
    title = f"{md_code(app) if app else '(none)'}: {n} file{'s' if n != 1 else ''}"
    # Blank lines around the body: GitHub renders Markdown inside <details> only then.
    return f"<details><summary>{title}</summary>\n\n{body}\n\n</details>"


def _md_file_title(f: FileReport) -> str:
    extra = ""
    if f.diff and f.diff.changes:
        extra = f", {len(f.diff.changes)} change(s)"
    if f.diff and f.diff.errors:
        extra += f", {len(f.diff.errors)} error(s)"
    return f"{md_code(f.path)} ({f.status}{extra})"


def _md_file_full(f: FileReport) -> str:
    parts = [f"**{_md_file_title(f)}**"]
    d = f.diff
    if d is not None:
        parts += [f"- ⚠ {md(problem_text(p))}" for p in d.errors]
        parts += [f"- ℹ {md(n)}" for n in d.notes]
        parts += [_md_change(c) for c in d.changes[:MD_CHANGES_PER_FILE]]
        if len(d.changes) > MD_CHANGES_PER_FILE:
            parts.append(f"- … {len(d.changes) - MD_CHANGES_PER_FILE} more changes (see `--json`)")
        if d.kind == "binary":
            parts.append(f"- {md(d.binary_summary)}")
        if d.formatting_only:
            parts.append("- formatting only: the data is equal")
        if d.text_diff:
            parts.append("\n" + _fence(_clip_lines(d.text_diff), "diff"))
    return "\n".join(parts)


def _md_change(c: Change) -> str:
    old, new = change_values(c)
    where = md_code(c.display_path())
    if c.op == "changed":
        return f"- `~` {where}: {md_code(old)} → {md_code(new)}"
    if c.op == "moved":
        return f"- `>` {where}: moved from {md_code(old)} to {md_code(new)}"
    value = new if c.op == "added" else old
    return f"- `{_OP_SYMBOL[c.op]}` {where}: {md_code(value)}"


def _diff_lines(text: str) -> list[str]:
    """A text diff's lines: split on `\n` only (other breaks inside a line are data)."""
    return text.rstrip("\n").split("\n") if text else []


def _clip_lines(text: str) -> str:
    lines = _diff_lines(text)
    if len(lines) <= TEXT_DIFF_LINES:
        return text
    return "\n".join([*lines[:TEXT_DIFF_LINES], f"… {len(lines) - TEXT_DIFF_LINES} more lines"])


def _md_table_only(report: DiffReport, head: str, max_size: int) -> str:
    """The last resort: as many table rows as fit, then a line saying what was left out."""
    rows = _md_table_rows(report)
    for keep in _shrinking(len(rows)):
        left_out = len(rows) - keep
        note = "per-app details left out" + (f"; {left_out} apps not listed" if left_out else "")
        table = "\n".join([_TABLE_HEAD, *rows[:keep]]) if keep else ""
        text = _join([head, table], note, report)
        if _size(text) <= max_size:
            return text
    return _truncate_plain(f"gitops diff: {summary_line(report)}\n", max_size)


def _shrinking(n: int) -> Iterator[int]:
    """n, then halving, then 0: few attempts even for thousands of apps."""
    while n > 0:
        yield n
        n //= 2
    yield 0


def _truncate_plain(text: str, max_size: int) -> str:
    data = text.encode("utf-8")[: max(0, max_size)]
    return data.decode("utf-8", errors="ignore")


# --- GitHub Actions ----------------------------------------------------------------------


def to_github(report: DiffReport, step_summary_path: str | None = None) -> str:
    """Workflow-command log output; appends the Markdown report to the step summary."""
    lines = _gh_annotations(report)
    for app, files in _by_app(report).items():
        lines.append(f"::group::{gh_data(one_line(app or '(none)'))}")
        for f in files:
            lines += _gh_file_lines(f)
        lines.append("::endgroup::")
    lines.append(gh_line(f"gitops diff {report.source} → {report.target}: {summary_line(report)}"))
    if step_summary_path:
        append_step_summary(report, step_summary_path)
    return "\n".join(lines) + "\n"


def _gh_annotations(report: DiffReport) -> list[str]:
    """Errors first, then YAML-version notes, then changed files; at most 10 in all."""
    found: list[str] = []
    for f in report.sorted_files():
        for p in f.diff.errors if f.diff else []:
            found.append(_gh_annotation("error", p.location.line if p.location else 0, f.path, p.message))
    for f in report.sorted_files():
        for n in f.diff.notes if f.diff else []:
            found.append(_gh_annotation("warning", 0, f.path, n))
    for f in report.sorted_files():
        if f.status not in ("kept",) and f.diff and f.diff.changes:
            found.append(_gh_annotation("notice", 0, f.path, f"{f.app}: {f.status}, {len(f.diff.changes)} change(s)"))
    if len(found) <= GITHUB_MAX_ANNOTATIONS:
        return found
    left = len(found) - GITHUB_MAX_ANNOTATIONS
    return [*found[:GITHUB_MAX_ANNOTATIONS], f"({left} more annotations: see the step summary)"]


def _gh_annotation(level: str, line: int, path: str, message: str) -> str:
    props = f"file={gh_property(path)}"
    if line:
        props += f",line={line}"
    props += ",title=gitops diff"
    return f"::{level} {props}::{gh_data(message)}"


def _gh_file_lines(f: FileReport) -> list[str]:
    symbol = _SYMBOL[_CATEGORY[f.status]]
    lines = [gh_line(f"{symbol} {f.path} ({f.status})")]
    if f.diff is None:
        return lines
    lines += [gh_line(f"    {change_line(c)}") for c in f.diff.changes]
    lines += [gh_line(f"    ! {problem_text(p)}") for p in f.diff.errors]
    if f.diff.kind == "binary":
        lines.append(gh_line(f"    {f.diff.binary_summary}"))
    lines += [gh_line(f"    {line}") for line in _diff_lines(_clip_lines(f.diff.text_diff))]
    return lines


def append_step_summary(report: DiffReport, path: str) -> None:
    """Append the Markdown report, keeping the summary file within GitHub's 1 MiB."""
    used = os.path.getsize(path) if os.path.exists(path) else 0
    budget = STEP_SUMMARY_LIMIT - used - 1
    if budget <= 0:
        return
    text = to_markdown(report, max_size=budget)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


# --- rich text ---------------------------------------------------------------------------

_OP_STYLE = {"changed": "yellow", "added": "green", "removed": "red", "moved": "cyan"}
_CATEGORY_STYLE = {"add": "green", "change": "yellow", "delete": "red", "kept": "dim"}


def to_text(report: DiffReport, console: Console) -> None:
    """Human output. Data goes in `rich.text.Text` objects: never parsed as markup."""
    rows: list[tuple[str, str]] = []  # printed at once: a print per line is slow in rich

    def out(text: str, style: str = "") -> None:
        rows.append((text, style))

    out(f"gitops diff {visible(report.source)} → {visible(report.target)}", "bold")
    for app, files in _by_app(report).items():
        out(visible(app) or "(none)", "bold")
        for f in files:
            _text_file(f, out)
    out(summary_line(report), "bold")
    print_rows(console, rows)


def _text_file(f: FileReport, out: Any) -> None:
    category = _CATEGORY[f.status]
    out(f"  {_SYMBOL[category]} {one_line(f.path)} ({f.status})", _CATEGORY_STYLE[category])
    d: FileDiff | None = f.diff
    if d is None:
        return
    for p in d.errors:
        out(f"      ! {problem_text(p)}", "red")
    for n in d.notes:
        out(f"      note: {visible(n)}", "magenta")
    for c in d.changes:
        out(f"      {change_line(c)}", _OP_STYLE[c.op])
    if d.kind == "binary":
        out(f"      {visible(d.binary_summary)}")
    for line in _diff_lines(d.text_diff):
        style = {"+": "green", "-": "red", "@": "cyan"}.get(line[:1], "")
        out(f"      {visible(line)}", style)
