"""Each environment's own entry of `environments.yaml` belongs to its own branch.

A promotion writes the source's registry into the target, except the target environment's
own item of the `environments` list (its freeze, windows and policies), which keeps the
target's bytes: the person who freezes production edits prd's entry on prd, and no commit
upstream can lift it (docs/registry.md, "Who decides"). The splice works on whole lines of a
block-style list, so every other byte of both files stays as it was.
"""

from __future__ import annotations

from typing import Any

from gitops_promote.errors import ConfigError

REGISTRY_FILE = "environments.yaml"


class EntryNotFound(ConfigError):
    """The registry has no block-style `environments` item for the environment."""


def entry_span(data: bytes, codename: str, source: str) -> tuple[int, int] | None:
    """Byte offsets [start, end) of the whole lines holding `codename`'s item, else None."""
    document, text = _load(data, source)
    items: Any = document.get("environments") if isinstance(document, dict) else None
    if not isinstance(items, list) or _is_flow(items):
        return None
    index = next(
        (i for i, item in enumerate(items) if isinstance(item, dict) and item.get("codename") == codename), None
    )
    if index is None:
        return None
    starts = _line_starts(text)
    positions: Any = getattr(items, "lc")  # noqa: B009 - ruamel's CommentedSeq knows each item's line
    first = positions.item(index)[0]
    last = positions.item(index + 1)[0] if index + 1 < len(items) else _end_of_list(document, text)
    bom = len(data) - len(data.removeprefix(b"\xef\xbb\xbf"))
    return bom + _byte_offset(text, starts, first), bom + _byte_offset(text, starts, last)


def carry_own_entry(source: bytes, target: bytes, codename: str, labels: tuple[str, str]) -> bytes:
    """The source's registry with `codename`'s item replaced by the target's own item."""
    in_source = entry_span(source, codename, labels[0])
    in_target = entry_span(target, codename, labels[1])
    for span, label in ((in_source, labels[0]), (in_target, labels[1])):
        if span is None:
            raise EntryNotFound(
                f"{label}: no block-style entry for environment {codename!r} in 'environments'",
                hint=f"write 'environments' as a block list (one '- codename: …' item each) that includes {codename}",
            )
    assert in_source is not None and in_target is not None
    chunk = target[in_target[0] : in_target[1]]
    # The two files may indent their lists differently ("- " at column 0 or 2): the kept
    # entry takes the source's indentation so that the list stays one list.
    shift = _indent(source[in_source[0] :]) - _indent(chunk)
    return source[: in_source[0]] + _with_newline(_reindent(chunk, shift)) + source[in_source[1] :]


def _indent(text: bytes) -> int:
    return len(text) - len(text.lstrip(b" "))


def _reindent(chunk: bytes, shift: int) -> bytes:
    if shift == 0:
        return chunk
    lines = chunk.split(b"\n")
    if shift > 0:
        return b"\n".join(b" " * shift + line if line.strip() else line for line in lines)
    return b"\n".join(line[min(-shift, _indent(line)) :] for line in lines)


def entry_line(data: bytes, codename: str) -> int | None:
    """1-based line where `codename`'s item starts (for messages), else None."""
    try:
        span = entry_span(data, codename, REGISTRY_FILE)
    except ConfigError:
        return None
    return None if span is None else data.count(b"\n", 0, span[0]) + 1


def without_entry(data: bytes, codename: str, source: str) -> bytes | None:
    """The registry without `codename`'s item (to compare the rest), else None."""
    try:
        span = entry_span(data, codename, source)
    except ConfigError:
        return None
    return None if span is None else data[: span[0]] + data[span[1] :]


def _load(data: bytes, source: str) -> tuple[Any, str]:
    """The document with positions and its text: the registry's own loader (its limits and
    messages), so the splice reads the file exactly as registry validation does."""
    from gitops_promote.core.registry import _load_with_positions

    document = _load_with_positions(data, source)
    return document, data.decode("utf-8-sig")


def _is_flow(items: Any) -> bool:
    fa = getattr(items, "fa", None)
    return bool(fa is not None and fa.flow_style())


def _end_of_list(document: Any, text: str) -> int:
    """The line after the list: the next top-level key's line, else the end of the text."""
    keys = list(document)
    after = keys.index("environments") + 1
    if after < len(keys):
        return int(document.lc.key(keys[after])[0])
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            starts.append(index + 1)
    return starts


def _byte_offset(text: str, starts: list[int], line: int) -> int:
    """Offset in the UTF-8 bytes of the start of `line` (0-based)."""
    char_offset = starts[line] if line < len(starts) else len(text)
    return len(text[:char_offset].encode("utf-8"))


def _with_newline(chunk: bytes) -> bytes:
    return chunk if chunk.endswith(b"\n") or not chunk else chunk + b"\n"
