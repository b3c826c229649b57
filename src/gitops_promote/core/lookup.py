"""Two small helpers every parser of ours shares: where a YAML node is, and "did you mean".

One home each, so that every message names lines the same way (1-based, like editors) and
suggests names by the same rule.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


def node_position(node: Any, key: Any = None, index: int | None = None, value: bool = False) -> tuple[int, int] | None:
    """1-based (line, column) of a mapping's key (or its value), a sequence item, or the node.

    Read from ruamel's `.lc`; None when the node carries no position (plain data). A key or
    index the node does not have falls back to the node's own position.
    """
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if key is not None:
            line, col = lc.value(key) if value else lc.key(key)
        elif index is not None:
            line, col = lc.item(index)
        else:
            line, col = lc.line, lc.col
    except (KeyError, IndexError, TypeError, AttributeError):
        line, col = lc.line, lc.col
    return (line + 1, col + 1)


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The one choice `word` is most likely a typo of, or None when none is close."""
    found = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return found[0] if found else None
