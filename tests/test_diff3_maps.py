"""core/yamldiff._diff_maps handles a changed scalar and a nested mapping itself (no `_diff`
call per key): the same changes, in the same order, as when every differing key went through
`_diff` (the reference below, the code it replaced), on generated documents with every scalar
type, NaN, `1` against `true` and `1.0`, lists and nested mappings, and on the corpus's
documents against edited copies of themselves."""

from __future__ import annotations

import math
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gitops_promote.core import yamldiff, yamlload
from gitops_promote.core.diffmodel import Change, Segment

CORPUS = sorted(p for p in (Path(__file__).parent / "data").rglob("*.y*ml") if p.is_file())


def reference_diff_maps(
    a: dict[str, Any], b: dict[str, Any], path: list[Segment], ids: dict[int, str], ctx: Any, out: list[Change]
) -> None:
    for key, value in b.items():
        if key in a:
            old = a[key]
            if type(old) is type(value) and type(value) in yamldiff._SCALARS and old == value:
                continue
            yamldiff._diff(old, value, [*path, key], ids, ctx, out)
        else:
            out.append(Change([*path, key], "added", None, value, dict(ids)))
    for key, value in a.items():
        if key not in b:
            out.append(Change([*path, key], "removed", value, None, dict(ids)))


_CTX = yamldiff._Context("values.yaml", True)


def _both(a: dict[str, Any], b: dict[str, Any]) -> tuple[str, str]:
    got: list[Change] = []
    want: list[Change] = []
    yamldiff._diff_maps(a, b, [], {}, _CTX, got)
    reference_diff_maps(a, b, [], {}, _CTX, want)
    return repr(got), repr(want)  # repr: NaN is not equal to itself


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.sampled_from([0, 1, 1.0, 2, math.nan, "1", "true", "", "x"]), st.text(max_size=3)
)
_KEYS = st.sampled_from(["a", "b", "c", "name", "image"])
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=3), st.just([{"name": "x", "v": 1}])
    ),
    max_leaves=8,
)


@settings(max_examples=500, deadline=None)
@example({"a": math.nan, "b": 1}, {"a": float("nan"), "b": True})  # NaN is no change; 1 is not true
@example({"m": {"x": 1.0}}, {"m": {"x": 1}})
@given(st.dictionaries(_KEYS, _VALUES, max_size=4), st.dictionaries(_KEYS, _VALUES, max_size=4))
def test_generated_documents(a: dict[str, Any], b: dict[str, Any]) -> None:
    got, want = _both(a, b)
    assert got == want


def _edited(value: Any, depth: int = 0) -> Any:
    """A copy with every third scalar changed (strings, numbers, booleans, nulls in turn)."""
    if isinstance(value, dict):
        return {k: _edited(v, depth + 1) for i, (k, v) in enumerate(value.items()) if i % 7 != 6}
    if isinstance(value, list):
        return [_edited(v, depth + 1) for v in value]
    swaps = {str: lambda v: v + "!", int: lambda v: v + 1, float: lambda v: -v, bool: lambda v: not v}
    if zlib.crc32(repr(value).encode()) % 3 == 0 and type(value) in swaps:
        return swaps[type(value)](value)
    return value


def test_the_corpus_against_edited_copies() -> None:
    compared = 0
    for file in CORPUS:
        for document in yamlload.load(str(file), file.read_bytes()).documents:
            if isinstance(document, dict):
                got, want = _both(document, _edited(document))
                assert got == want, file
                compared += got != "[]"
    assert compared > 20


def test_the_same_bytes_are_parsed_once_and_diff_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file whose mode alone changed: one parse, the problems of the one version, no change."""
    parsed: list[bytes] = []
    monkeypatch.setattr(yamldiff, "load", lambda path, data: parsed.append(data) or yamlload.load(path, data))
    for data in (b"a: 1\na: 2\n", b"x: [1, {y: 2}]\nwhen: 2024-02-30\n", b"a: [unclosed\n", b"on: yes\n"):
        parsed.clear()
        diff = yamldiff.diff_file("apps/x/values.yaml", data, data)
        assert parsed == [data]
        loaded = yamlload.load("apps/x/values.yaml", data)
        assert diff.errors == loaded.problems and not diff.changes and not diff.formatting_only
        assert diff.text_diff == ""
