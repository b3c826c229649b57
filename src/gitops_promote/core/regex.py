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
from collections.abc import Callable
from functools import cache
from typing import AnyStr


def lazy_regex(pattern: AnyStr, flags: int = 0) -> Callable[[], re.Pattern[AnyStr]]:
    """A function returning `re.compile(pattern, flags)`, compiled by its first call."""
    return cache(lambda: re.compile(pattern, flags))
