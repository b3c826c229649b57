"""How a message names many things: the first few, and how many more (a repository may hold
20,000 apps, a registry 40,000 steps, a drifted branch thousands of paths)."""

from __future__ import annotations

from collections.abc import Sequence


def listed(items: Sequence[str], limit: int, separator: str = ", ") -> str:
    """`a, b, c … and 1,234 more` (one per line with a line separator): at most `limit` items,
    then the count of the rest."""
    shown = separator.join(items[:limit])
    more = len(items) - limit
    if more <= 0:
        return shown
    return shown + (separator if "\n" in separator else " ") + f"… and {more:,} more"
