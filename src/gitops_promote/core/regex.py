"""Regular expressions compiled by their first use, not by the import of their module.

A module-level `re.compile` runs in every process that imports the module, whether or not
the run ever matches anything with it: 30 µs for a short pattern, 0.5 ms for a character
class spanning Unicode ranges (render/console.py's escapers). A pattern that many runs never
need (a weekly freeze window's time, the escapers of non-ASCII text) is made with
`lazy_regex` instead: `_pattern = lazy_regex(r"...")`, then `_pattern().match(text)`.
A pattern every run uses stays a plain module-level `re.compile`: deferring it saves nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, AnyStr


def lazy_regex(pattern: AnyStr, flags: int = 0) -> Callable[[], re.Pattern[AnyStr]]:
    """A function returning `re.compile(pattern, flags)`, compiled by its first call."""
    return cache(lambda: re.compile(pattern, flags))


# What a compiled pattern offers; a deferred one takes them from its pattern once it is made.
_PATTERN_ATTRIBUTES = (
    "match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer", "scanner",
    "pattern", "flags", "groups", "groupindex",
)  # fmt: skip
_compile: Callable[..., re.Pattern[Any]] = re.compile  # the real one, whatever `deferred_patterns` has put in its place


class _DeferredPattern:
    """Stands for `re.compile(pattern, flags)` and makes it at the first use of any of its
    attributes; from then on they are the compiled pattern's own, found in the instance's
    dictionary as fast as on the pattern itself."""

    def __init__(self, pattern: str | bytes, flags: int = 0) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> object:
        compiled = _compile(*self._source)
        self.__dict__.update((attribute, getattr(compiled, attribute)) for attribute in _PATTERN_ATTRIBUTES)
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"deferred re.compile{self._source!r}"


@contextmanager
def deferred_patterns() -> Iterator[None]:
    """Within it, `re.compile` defers the compiling to each pattern's first use: for importing
    a library whose modules compile patterns that a run may never use (PyYAML's reader and
    timestamp patterns: 6 ms of every start-up that reads YAML, unused by its C parser).
    For an import at start-up only: another thread calling `re.compile` meanwhile would get
    a deferred pattern too (it works the same, but is not an `re.Pattern`)."""
    re.compile = _DeferredPattern  # type: ignore[assignment]
    try:
        yield
    finally:
        re.compile = _compile
