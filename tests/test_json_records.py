"""console.Records (an array of objects given by columns) is written exactly as the list of
those objects would be, wherever it sits and whatever its strings hold."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_promote.render import console
from gitops_promote.render.console import Records

# strings JSON escapes, the template's own characters, NUL (the fast path's separator),
# surrogates of undecodable bytes, bidi controls
TEXT = st.text(alphabet=st.sampled_from(list('ab%s"\\\x00\x01\n\x1f\x7f\x85\u202e\udcff\U0001f600{}, :')), max_size=6)


@st.composite
def records(draw: st.DrawFn) -> Records:
    keys = draw(st.lists(TEXT, min_size=1, max_size=3, unique=True))
    rows = draw(st.integers(0, 6))
    columns = {}
    for key in keys:
        if draw(st.booleans()):  # one value throughout: written once, into the template
            columns[key] = [draw(TEXT)] * rows
        else:
            columns[key] = draw(st.lists(TEXT, min_size=rows, max_size=rows))
    return Records(columns)


@settings(max_examples=300)
@given(records(), st.integers(0, 3))
def test_records_are_written_as_their_objects(found: Records, depth: int) -> None:
    def placed(value: object) -> object:
        for _ in range(depth):
            value = {"entries": [{"files": value, "n": 1}]}
        return value

    objects = found.objects()
    assert console.json_text(placed(found)) == console.json_text(placed(objects))
    assert console.json_text(placed(found), indent=None) == console.json_text(placed(objects), indent=None)
    assert json.loads(console.json_text(placed(found))) == json.loads(json.dumps(placed(objects)))


def test_plain_paths_take_the_one_replace_and_agree() -> None:
    paths = [f"apps/app{i:05d}/values.yaml" for i in range(1000)]
    found = Records({"path": paths, "action": ["added"] * len(paths)})
    assert console.json_text({"files": found}) == console.json_text({"files": found.objects()})


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="one value per row"):
        Records({"path": ["a", "b"], "action": ["added"]})


SCALAR = st.one_of(TEXT, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))


@settings(max_examples=300)
@given(st.lists(st.dictionaries(TEXT, SCALAR, min_size=1, max_size=3), min_size=2, max_size=6), st.integers(0, 3))
def test_a_list_of_flat_objects_is_one_encoding_split_at_its_items(items: list[dict[str, object]], depth: int) -> None:
    """The whole list encoded at once, then split where `}, {"` joins two items, is what the
    items encoded one by one make (a `"` inside a string is always escaped)."""
    one_by_one = console._block("[", [console._compact(item) for item in items], "]", depth)
    assert console._flat_records(items)
    assert console._records_block(items, depth) == one_by_one
