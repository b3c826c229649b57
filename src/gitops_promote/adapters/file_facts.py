"""What many files say to `gitops parity` (core.parity.FileFacts), each shape parsed once.

Files alike in all but values parity does not read share a shape (core/yamlshape.py): at
20,000 apps 100,000 files come in a handful of shapes, and parsing those takes milliseconds
where parsing the files took 6 s. Each shape is parsed by the one limited loader
(`yaml_data.first_document`); a file is read on its own when its shape is not valid YAML (its
own error, at its own line and column, is the answer) or when a fact parity needs holds the
placeholder (a value the shape does not keep).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from gitops_promote.adapters.yaml_data import YamlSyntaxError, first_document
from gitops_promote.core.parity import FileFacts, broken_file, file_facts
from gitops_promote.core.yamlshape import PLACEHOLDER, shapes

CHUNK_BYTES = 4 * 1024 * 1024  # files shaped at once: few regex calls, a bounded copy of the text


def facts_of(contents: Sequence[bytes]) -> list[FileFacts]:
    """The facts of each file, in order: what `read_one` says of it, without parsing each."""
    return facts_of_chunks(contents[start:stop] for start, stop in _chunks(contents))


def facts_of_chunks(chunks: Iterable[Sequence[bytes]]) -> list[FileFacts]:
    """`facts_of` of the files of every chunk, one after another (as git reads them)."""
    by_shape: dict[bytes, FileFacts | None] = {}
    answers: list[FileFacts] = []
    for chunk in chunks:
        for raw, shape in zip(chunk, shapes(chunk), strict=True):
            facts = by_shape.get(shape, _UNSEEN)
            if facts is _UNSEEN:
                facts = by_shape[shape] = _shape_facts(shape)
            answers.append(read_one(raw) if facts is None else facts)
    return answers


_UNSEEN = broken_file("")  # a sentinel: no shape's facts are this object


def _chunks(contents: Sequence[bytes]) -> list[tuple[int, int]]:
    bounds, start, size = [], 0, 0
    for index, raw in enumerate(contents):
        size += len(raw)
        if size > CHUNK_BYTES:
            bounds.append((start, index + 1))
            start, size = index + 1, 0
    return [*bounds, (start, len(contents))] if start < len(contents) else bounds


def read_one(raw: bytes) -> FileFacts:
    """The facts of one file, parsed whole."""
    try:
        return file_facts(first_document(raw))
    except (YamlSyntaxError, UnicodeDecodeError, ValueError) as exc:
        return broken_file(str(exc))


def _shape_facts(shape: bytes) -> FileFacts | None:
    """The facts every file of this shape has, or None: read each such file on its own."""
    try:
        data = first_document(shape)
    except (YamlSyntaxError, UnicodeDecodeError, ValueError):
        return None  # the error must be the file's own (its columns, its values)
    facts = file_facts(data)
    return None if _holds_placeholder(facts, data) else facts


def _holds_placeholder(facts: FileFacts, data: Any) -> bool:
    """Whether a fact depends on a value the shape replaced."""
    texts = (facts.version, facts.app_version, facts.image if isinstance(facts.image, str) else None)
    if any(text is not None and PLACEHOLDER in text for text in texts):
        return True
    if facts.image == 0 and isinstance(image := data.get("image"), str) and PLACEHOLDER in image:
        return True  # a scalar `image`: the file's may be null, which reads differently
    return facts.keys is not None and any(PLACEHOLDER in key for key in facts.keys)
