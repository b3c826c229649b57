"""The one seam to the terminal: data to stdout, messages to stderr.

Colour only on a terminal and never with NO_COLOR (rich honours both); repository data is
never interpreted as rich markup (`markup=False`, `highlight=False` everywhere).
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from typing import Any

from rich.console import Console


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def _console(stream: Any) -> Console:
    # Off a terminal (CI logs, pipes) tables get room instead of rich's 80-column default,
    # unless COLUMNS says how wide (as on a terminal, where rich reads it itself).
    width = None if stream.isatty() else _columns() or 200
    return Console(file=stream, markup=False, highlight=False, no_color=_no_color(), soft_wrap=True, width=width)


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


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n")


def write(text: str) -> None:
    """Raw text to stdout (markdown, reports): no wrapping, no styling."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def message(text: str, style: str = "") -> None:
    err().print(text, style=style or None)


def warning(text: str) -> None:
    err().print("warning: " + text, style="yellow")


def error(text: str) -> None:
    err().print("error: " + text, style="bold red")


def status(text: str) -> AbstractContextManager[object]:
    """A spinner on stderr while git fetches, pushes or diffs; only when stderr is a terminal
    (never in CI logs, pipes or tests, where it would only add noise)."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return nullcontext()
    return err().status(text, spinner="dots")
