"""The one seam to the terminal: data to stdout, messages to stderr.

Colour only on a terminal and never with NO_COLOR (rich honours both); repository data is
never interpreted as rich markup (`markup=False`, `highlight=False` everywhere).

Off a terminal nothing is styled, so text is written as it is (rich's control-code stripping
applied) without importing or running rich: a promotion's 2,000 lines were 2,000 rich calls,
seconds at 20,000 apps. `lines()` writes a whole report in one call either way.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

# What rich's Text strips from every string (bell, backspace, VT, FF, CR): the plain path too.
_STRIPPED = {7: None, 8: None, 11: None, 12: None, 13: None}


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def _console(stream: Any) -> Console:
    from rich.console import Console

    # Off a terminal (CI logs, pipes) tables get room instead of rich's 80-column default.
    width = None if stream.isatty() else 200
    return Console(file=stream, markup=False, highlight=False, no_color=_no_color(), soft_wrap=True, width=width)


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


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n")


def write(text: str) -> None:
    """Raw text to stdout (markdown, reports): no wrapping, no styling."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _plain(stream: Any) -> bool:
    """Nothing would be styled: not a terminal, and colour not forced (FORCE_COLOR)."""
    return not stream.isatty() and not os.environ.get("FORCE_COLOR")


def lines(rows: Sequence[tuple[str, str]], *, stderr: bool = False) -> None:
    """(text, style) rows, each a line, in one write (one rich print on a terminal)."""
    if not rows:
        return
    stream = sys.stderr if stderr else sys.stdout
    if _plain(stream):
        stream.write("".join(text.translate(_STRIPPED) + "\n" for text, _style in rows))
        return
    from rich.text import Text

    joined = Text()
    for index, (text, style) in enumerate(rows):
        joined.append(text, style=style or None)
        if index < len(rows) - 1:
            joined.append("\n")
    (err() if stderr else out()).print(joined)


def message(text: str, style: str = "") -> None:
    lines([(text, style)], stderr=True)


def warning(text: str) -> None:
    lines([("warning: " + text, "yellow")], stderr=True)


def error(text: str) -> None:
    lines([("error: " + text, "bold red")], stderr=True)


def status(text: str) -> AbstractContextManager[object]:
    """A spinner on stderr while git fetches, pushes or diffs; only when stderr is a terminal
    (never in CI logs, pipes or tests, where it would only add noise)."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return nullcontext()
    return err().status(text, spinner="dots")
