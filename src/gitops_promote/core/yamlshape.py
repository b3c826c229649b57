"""The shape of many YAML files at once: the values that cannot change what a file means to
`gitops parity` replaced by one placeholder, so that files alike are parsed once.

At 20,000 apps parity reads 100,000 small files (issue 11): 60 µs each with libyaml, 6 s,
though they come in a handful of shapes (every `values-dev.yaml` sets the same keys, only the
host names differ). Parity needs a few facts of each file (core.parity.file_facts): whether it
is YAML, its key paths, `version`, `appVersion`, `image` and `image.tag`. Two byte-level
substitutions over all the files joined (C speed, no Python per line) turn each file into its
shape:

- a plain scalar at the end of a line after `: ` (`host: app0007.dev.example.com`, before a
  comment if there is one) becomes `: __v`; after `version:`, `appVersion:`, `image:` and `tag:` it
  stays as it is;
- the text of a comment (`# dev settings for app0007`) becomes `#__v`.

Why the shape says what the file says. Both replaced pieces are made of characters that mean
the same in every YAML context (letters, digits, `._/-+=@%~^$()`, spaces; no quote, backslash,
`:`, `#`, flow indicator or control character; a value starts with a letter, `/`, `.` or a
digit and one that starts with a digit or `.` has no `_` and at most 100 characters, so it
resolves to nothing whose construction can fail). Where they were a scalar or a comment, the
shape has a scalar or a comment in the same place; where they were inside a longer scalar (a
block scalar, a quoted or plain scalar over several lines), only that scalar's text changes,
and it then holds the placeholder. So a shape and its file have the same lines, indentation,
quotes and nodes: the same structure, the same keys, the same anchors, aliases and limits
(`__v` is no int: the digit limit is the file's own), the same validity. The caller
(commands.parity) checks the rest on the shape's data: a fact that holds the placeholder (a
`version` spread over lines, `"image": null` under a quoted key) is read from the file
itself, and so is every file whose shape is not valid YAML (the error must name the file's own
columns). Files over the size limit, or holding a NUL byte, are their own shape.

`tests/test_parity_shapes.py` checks the facts from shapes against the facts from each file on
generated files (quotes, block scalars, flow collections, comments, anchors, errors) and on
the real values files of tests/data/corpus.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gitops_promote.core.yamlload import MAX_FILE_BYTES

PLACEHOLDER = "__v"

_TOKEN = rb"[A-Za-z0-9_./+=@%~^$()-]"
_COMMENT_TEXT = rb"[\x20\x21\x23-\x26\x28-\x5b\x5d-\x7e]"  # printable ASCII but ' \ and "


def _atomic(pattern: bytes, name: str) -> bytes:
    """`pattern` matched possessively, never backtracked into: `(?=(p))\\1`. Python 3.10
    (which gitops supports) has neither `*+` nor `(?>...)`; this is the same match."""
    group = name.encode()
    return rb"(?=(?P<" + group + rb">" + pattern + rb"))(?P=" + group + rb")"


# A plain scalar at the end of a line (or before its comment), after a colon that does not end
# `version`, `appVersion`, `image` or `tag`.
_VALUE = re.compile(
    rb":(?<!version:)(?<!appVersion:)(?<!image:)(?<!tag:)"
    + _atomic(rb" +", "gap")
    + _atomic(
        rb"(?:[A-Za-z/]"
        + _atomic(_TOKEN + rb"*", "word")
        + rb"|[0-9.]"
        + _atomic(rb"[A-Za-z0-9./+=@%~^$()-]{0,99}", "number")
        + rb")",
        "first",
    )
    + _atomic(rb"(?:" + _atomic(rb" +", "space") + _atomic(_TOKEN + rb"+", "more") + rb")*", "rest")
    # a comment stays (a plain scalar may not go on after one)
    + rb"(?:"
    + _atomic(rb" *", "end")
    + rb"(?=\n)|(?="
    + _atomic(rb" +", "before")
    + rb"#))"
)
# A comment (a `#` after a space or at a line's start) up to the line's end.
_COMMENT = re.compile(rb"#(?<=[ \n]#)" + _atomic(_COMMENT_TEXT + rb"*", "text") + rb"(?=\n)")
_VALUE_SHAPE = b": " + PLACEHOLDER.encode()
_COMMENT_SHAPE = b"#" + PLACEHOLDER.encode()
_SEPARATOR = b"\n\0\n"  # between files: a NUL line, which no substitution touches


def shapes(contents: Sequence[bytes]) -> list[bytes]:
    """The shape of each file, in order (a file outside what shapes read: itself)."""
    shaped = [i for i, raw in enumerate(contents) if len(raw) <= MAX_FILE_BYTES and b"\0" not in raw]
    found = list(contents)
    if not shaped:
        return found
    joined = b"\n" + _SEPARATOR.join([contents[i] for i in shaped]) + b"\n"
    joined = _COMMENT.sub(_COMMENT_SHAPE, _VALUE.sub(_VALUE_SHAPE, joined))
    parts = joined[1:-1].split(_SEPARATOR)
    assert len(parts) == len(shaped), "no file holds the separator, and no substitution makes one"
    for index, shape in zip(shaped, parts, strict=True):
        found[index] = shape
    return found


def shape(raw: bytes) -> bytes:
    """The shape of one file."""
    return shapes([raw])[0]
