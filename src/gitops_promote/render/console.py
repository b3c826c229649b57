"""The one seam to the terminal: data to stdout, messages to stderr, data escaped.

Colour only on a terminal and never with NO_COLOR (rich honours both); repository data is
never interpreted as rich markup (`markup=False`, `highlight=False` everywhere).

Repository data (file names, values, commit subjects, branch names, server messages) is
hostile: it must not move the cursor, set the window title, reorder text (bidi overrides) or
forge lines. This module is the one place that escapes it, for every human format:

* `visible(text)`: one line; every control character (C0 incl. tab and line breaks, DEL, C1),
  bidi control (U+061C, U+200E/F, U+202A-202E, U+2066-2069), line/paragraph separator and
  undecodable byte shown as a visible escape (`\\x1b`, `\\n`, `\\u202e`, `\\xff`).
* `visible_lines(text)`: the same, but `\\n` stays a line break (multi-line messages whose
  lines we wrote; data inside them should already have gone through `visible`).
* Every console this module hands out escapes what it prints as `visible_lines` does, and so
  do `write`, `message`, `warning` and `error`: a renderer that forgets `visible` can still
  not send a raw escape sequence to the terminal.
* `md` / `md_code`: data as inert Markdown/HTML; `gh_data` / `gh_property` / `gh_line`:
  data inside GitHub workflow-command output.
* `json_text`: JSON whose text is valid UTF-8 and ASCII-safe for controls. A file name that is
  not valid UTF-8 is carried, as Python's surrogateescape does, with each undecodable byte
  XX as the escape `\\udcXX` (`os.fsencode(name)` gives the original bytes back).

`lines()` writes a whole report in one call. Off a terminal nothing is styled, so the escaped
text is written as it is, without importing or running rich: a promotion's 2,000 lines were
2,000 rich calls, seconds at 20,000 apps.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from typing import TYPE_CHECKING, Any

from gitops_promote.core.regex import lazy_regex

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

# Bidi controls: Arabic letter mark, LRM/RLM, embeddings/overrides, isolates.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Line/paragraph separators and lone surrogates (undecodable bytes under surrogateescape).
_OTHER = "\u2028\u2029\ud800-\udfff"
# Compiled on first use: most text is printable (`_printable`), and needs neither (each class
# costs 0.5 ms to compile).
_unsafe = lazy_regex(f"[\x00-\x1f\x7f-\x9f{_BIDI}{_OTHER}]")
_unsafe_keep_nl = lazy_regex(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}{_OTHER}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the byte that was not UTF-8
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _printable(text: str, newlines: bool = False) -> bool:
    """Nothing for the escapers to do (`\\n` aside when `newlines` may stay), by one C loop:
    every character they escape is one `str.isprintable` refuses (Unicode's Other and
    Separator categories), though not the reverse (a no-break space is safe)."""
    return (text.replace("\n", "") if newlines else text).isprintable()


def visible(text: str) -> str:
    """Data on one line with every control, bidi and line-break character shown escaped."""
    return text if _printable(text) else _unsafe().sub(_escape, text)


def visible_lines(text: str) -> str:
    """Like `visible`, but `\\n` stays a line break."""
    return text if _printable(text, newlines=True) else _unsafe_keep_nl().sub(_escape, text)


def is_visible(text: str) -> bool:
    """Whether `text` is safe for a terminal as it is (only `\\n` as a control)."""
    return _printable(text, newlines=True) or _unsafe_keep_nl().search(text) is None


# ---- Markdown and GitHub workflow commands --------------------------------------------------

# Everything Markdown or HTML could read as syntax, plus `@` (mentions) and `#` (issue links).
_md_special = lazy_regex(r"[&<>\"'|\\`*_\[\]#!~@$]")


def md(text: str) -> str:
    """Repository data as inert Markdown/HTML text (character references, one line)."""
    return _md_special().sub(lambda m: f"&#{ord(m.group())};", visible(text))


def md_code(text: str) -> str:
    """Repository data as inline code: `<code>` (a backtick span cannot hold every string)."""
    return f"<code>{md(text)}</code>"


def gh_data(text: str) -> str:
    """A workflow command's message (actions/toolkit `escapeData`), on one visible line."""
    return visible(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def gh_property(text: str) -> str:
    """A workflow command property value (`file=`, `title=`; actions/toolkit `escapeProperty`)."""
    return gh_data(text).replace(":", "%3A").replace(",", "%2C")


def gh_line(text: str) -> str:
    """A log line from data: one line, never read by the runner as a `::command`."""
    text = visible(text)
    return "| " + text if text.lstrip().startswith("::") else text


# ---- JSON ---------------------------------------------------------------------------------

# json.dumps escapes C0 itself; these it would leave raw with ensure_ascii=False.
_json_unsafe = lazy_regex(f"[\x7f-\x9f{_BIDI}{_OTHER}]")


def json_text(data: Any, indent: int | None = 2) -> str:
    """JSON text: valid UTF-8, no raw control or bidi character, undecodable bytes as \\udcXX.

    Indented, except that an object or array holding no other object or array is written on
    one line by the C encoder: a history of 140,000 files is 140,000 one-line records, written
    in a fraction of the time the pure-Python indenting encoder takes (docs/json-output.md).
    """
    text = _indented(data, 0) if indent else _compact(data)
    if text.isascii() and "\x7f" not in text:  # isascii is a flag of the string: no scan
        return text
    return _json_unsafe().sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class Records:
    """A JSON array of objects given as columns of strings, `{"path": [...], "action": [...]}`:
    `json_text` writes it exactly as the list of those objects, without making one object per
    row (a first commit's history lists 140,000 files)."""

    __slots__ = ("columns",)

    def __init__(self, columns: dict[str, Sequence[str]]) -> None:
        if len({len(column) for column in columns.values()}) > 1:
            raise ValueError("every column of Records needs one value per row")
        self.columns = columns

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), ()))

    def objects(self) -> list[dict[str, str]]:
        keys = list(self.columns)
        return [dict(zip(keys, row, strict=True)) for row in zip(*self.columns.values(), strict=True)]


@cache
def _encoder() -> Callable[[Any], str]:
    """One line of JSON for a value, by the C encoder built once (JSONEncoder.encode builds
    one per call: most of the time of 140,000 small records)."""
    import json
    import json.encoder as impl

    slow = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "), check_circular=False)
    make = getattr(impl, "c_make_encoder", None)
    if make is None:
        return slow.encode

    def default(value: Any) -> Any:
        if isinstance(value, Records):
            return value.objects()
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    fast = make(None, default, impl.encode_basestring, None, ": ", ", ", False, False, True)
    return lambda value: "".join(fast(value, 0)) if isinstance(value, (dict, list, tuple)) else slow.encode(value)


def _compact(value: Any) -> str:
    return _encoder()(value.objects() if isinstance(value, Records) else value)


_CONTAINERS = (dict, list, tuple, Records)


def _flat(values: Iterable[Any]) -> bool:
    """No value is a non-empty object or array (a loop: `any()` over a generator costs twice)."""
    for value in values:
        if isinstance(value, _CONTAINERS) and value:
            return False
    return True


def _indented(value: Any, depth: int) -> str:
    if isinstance(value, Records):
        return _records_text(value, depth)
    if isinstance(value, dict):
        if _flat(value.values()):
            return _compact(value)
        return _block("{", [f"{_key(k)}: {_indented(v, depth + 1)}" for k, v in value.items()], "}", depth)
    if isinstance(value, (list, tuple)):
        if _flat(value):
            return _compact(value)
        if _flat_records(value):
            return _records_block(value, depth)
        encode = _encoder()
        items = [encode(v) if isinstance(v, dict) and _flat(v.values()) else _indented(v, depth + 1) for v in value]
        return _block("[", items, "]", depth)
    return _compact(value)


_SCALARS = frozenset((str, int, float, bool, type(None)))


def _flat_records(items: list[Any] | tuple[Any, ...]) -> bool:
    """Every item a non-empty dict of plain scalars (a file list): checked over all the
    values at once, by their types."""
    if set(map(type, items)) != {dict} or not all(items):
        return False
    return set(map(type, [v for item in items for v in item.values()])) <= _SCALARS


def _records_block(items: list[Any] | tuple[Any, ...], depth: int) -> str:
    """What `_block` makes of the items' one-line encodings, from one C encoding of the whole
    list: its items are joined by `}, {"`, which occurs nowhere else in it (every `"` inside a
    string is escaped, so `{"` opens an object, and these objects hold none)."""
    inner = "\n" + "  " * (depth + 1)
    joined = _compact(items)[1:-1].replace('}, {"', "}," + inner + '{"')
    return "[" + inner + joined + "\n" + "  " * depth + "]"


def _records_text(records: Records, depth: int) -> str:
    """What `_block` makes of the rows' one-line objects: each string through the C string
    encoder, the rows formatted from one template (no Python call per row)."""
    if not len(records):
        return "[]"
    inner = "\n" + "  " * (depth + 1)
    return "".join(("[", inner, _rows(records, "," + inner), "\n", "  " * depth, "]"))


# what json's string encoder escapes (ensure_ascii=False), NUL aside: the rows' separator
_escaped = lazy_regex('["\\\\\x01-\x1f]')


def _rows(records: Records, separator: str) -> str:
    """The rows' objects joined by `separator`, each as the C encoder writes it on one line."""
    from json.encoder import encode_basestring

    columns = [(_key(key) + ": ", column) for key, column in records.columns.items()]
    # a column with one value throughout is encoded once, into the template of every row
    fixed = {i: encode_basestring(column[0]) for i, (_, column) in enumerate(columns) if len(set(column)) == 1}
    varying = [i for i in range(len(columns)) if i not in fixed]
    if not varying:  # rows all alike (or one): the first column is still written per row
        del fixed[0]
        varying = [0]
    # NUL where a row's value goes: no encoded key or value holds a raw one
    template = "{" + ", ".join(name + fixed.get(i, "\0") for i, (name, _) in enumerate(columns)) + "}"
    if len(varying) == 1 and (joined := _joined_plain(columns[varying[0]][1])) is not None:
        # (a first commit's paths, all "added") no string needs escaping, so each is its own
        # JSON between quotes: the rows are the column joined by what lies between two values
        head, tail = template.split("\0")
        head, tail = head + '"', '"' + tail
        return "".join((head, joined.replace("\0", tail + separator + head), tail))
    values = zip(*(map(encode_basestring, columns[i][1]) for i in varying), strict=True)
    return separator.join(map(template.replace("%", "%%").replace("\0", "%s").__mod__, values))


def _joined_plain(column: Sequence[str]) -> str | None:
    """The strings joined by NUL, if none holds a NUL or anything JSON escapes."""
    joined = "\0".join(column)
    if joined.count("\0") != len(column) - 1 or _escaped().search(joined):
        return None
    return joined


def _key(key: Any) -> str:
    """A key as json.dumps writes it: a string (numbers, booleans and null spelled as JSON)."""
    return _compact(key if isinstance(key, str) else _compact(key))


def _block(opening: str, items: list[str], closing: str, depth: int) -> str:
    inner = "\n" + "  " * (depth + 1)
    # one join, not a chain of `+`: each `+` would copy a 10 MB file list once more
    return "".join((opening, inner, ("," + inner).join(items), "\n", "  " * depth, closing))


def print_json(data: Any) -> None:
    sys.stdout.write(json_text(data))
    sys.stdout.write("\n")


def write_chunks(chunks: Iterable[str]) -> None:
    """Text made in pieces (a streamed JSON report, each piece already through json_text)."""
    for chunk in chunks:
        sys.stdout.write(chunk)


# ---- consoles -----------------------------------------------------------------------------


@cache
def _safe_console_class() -> type[Console]:
    """A rich Console that escapes the text of every segment it writes (styles untouched).

    Made on first use: a run that prints nothing styled never imports rich.
    """
    from rich.console import Console
    from rich.segment import Segment

    class _SafeConsole(Console):
        def _render_buffer(self, buffer: Iterable[Segment]) -> str:
            return super()._render_buffer(
                s if s.control or is_visible(s.text) else Segment(visible_lines(s.text), s.style, s.control)
                for s in buffer
            )

        def on_broken_pipe(self) -> None:
            """rich exits 1 by itself here; a closed stdout is the CLI's to report, the same
            for every output (exit 3, docs/exit-codes.md)."""
            self.quiet = True
            raise BrokenPipeError

    return _SafeConsole


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def _console(stream: Any) -> Console:
    # Off a terminal (CI logs, pipes) tables get room instead of rich's 80-column default,
    # unless COLUMNS says how wide (as on a terminal, where rich reads it itself).
    width = None if stream.isatty() else _columns() or 200
    return _safe_console_class()(
        file=stream, markup=False, highlight=False, no_color=_no_color(), soft_wrap=True, width=width, emoji=False
    )


def _columns() -> int | None:
    value = os.environ.get("COLUMNS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


@cache
def out() -> Console:
    return _console(sys.stdout)


@cache
def err() -> Console:
    return _console(sys.stderr)


def reset() -> None:
    """Forget cached consoles (the test runner swaps sys.stdout between invocations)."""
    out.cache_clear()
    err.cache_clear()


def write(text: str) -> None:
    """Text to stdout (markdown, reports): no wrapping, no styling, controls escaped."""
    text = visible_lines(text)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _plain(stream: Any) -> bool:
    """Nothing would be styled: not a terminal, and colour not forced (FORCE_COLOR)."""
    return not stream.isatty() and not os.environ.get("FORCE_COLOR")


def lines(rows: Sequence[tuple[str, str]], *, stderr: bool = False) -> None:
    """(text, style) rows, each a line, escaped as `visible_lines`, in one write."""
    if not rows:
        return
    stream = sys.stderr if stderr else sys.stdout
    if _plain(stream):
        stream.write("".join(visible_lines(text) + "\n" for text, _style in rows))
        return
    (err() if stderr else out()).print(_joined_text(rows))


def print_rows(target: Console, rows: Sequence[tuple[str, str]]) -> None:
    """(text, style) rows, each a line, to `target` in one write: plain text when it would
    style and wrap nothing (a rich print costs ~150 µs a line: 45 s for a 300,000-change
    diff), else one rich Text."""
    if not rows:
        return
    if target.color_system is None and target.soft_wrap:
        target.file.write("".join(visible_lines(text) + "\n" for text, _style in rows))
        return
    target.print(_joined_text(rows), highlight=False, emoji=False)


def _joined_text(rows: Sequence[tuple[str, str]]) -> Text:
    """The rows as one rich Text (one print instead of one per line), each escaped."""
    from rich.text import Text

    joined = Text()
    for index, (text, style) in enumerate(rows):
        joined.append(visible_lines(text), style=style or None)
        if index < len(rows) - 1:
            joined.append("\n")
    return joined


def message(text: str, style: str = "") -> None:
    lines([(text, style)], stderr=True)


def warning(text: str) -> None:
    lines([("warning: " + text, "yellow")], stderr=True)


def error(text: str) -> None:
    lines([("error: " + text, "bold red")], stderr=True)


def write_err(text: str) -> None:
    """Raw stderr text we did not format (a traceback), controls escaped."""
    sys.stderr.write(visible_lines(text))


def status(text: str) -> AbstractContextManager[object]:
    """A spinner on stderr while git fetches, pushes or diffs; only when stderr is a terminal
    (never in CI logs, pipes or tests, where it would only add noise)."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return nullcontext()
    return err().status(visible(text), spinner="dots")
