"""core/yamlfast.py reads plain block YAML exactly as PyYAML does (issue 12: a 300,000-key
values file took 25-30 s to diff). PyYAML's own path (`load(..., nodes=True)`) is the oracle:
same documents (types and key order included), same problems, same YAML 1.1/1.2 notes, on
generated files inside and just outside the subset; and the limits hold on either path."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_promote.adapters.yaml_data import first_document as load_first
from gitops_promote.adapters.yaml_nodes import YamlSyntaxError, get_path, load_documents
from gitops_promote.core import yamlfast, yamlload
from gitops_promote.core.yamldiff import diff_file
from gitops_promote.core.yamlload import load, version_note

GOOD_KEYS = ["a", "b", "image", "tag", "a.b", "_x", "k-1", "y", "n", "x/y", "nO"]
ODD_KEYS = ["no", "on", "true", "Null", "~", "1", "é", "a b", '"q"']
GOOD_VALUES = [
    "",
    "",
    "x",
    "a b",
    "a  b",
    "a -b",
    "a # c",
    "# c",
    "1",
    "0",
    "-1",
    "+1",
    "0755",
    "089",
    "0o17",
    "0x1F",
    "1_000",
    "12345678901234567890",
    "1.5",
    ".5",
    "1e3",
    "1.0e+3",
    ".inf",
    "-.inf",
    ".nan",
    "yes",
    "No",
    "OFF",
    "y",
    "~",
    "null",
    '"dq # x"',
    "'sq'",
    "''",
    '""',
    "a=b",
    "x@y.z",
    "50%",
    "(a)",
    "a~",
    "$x",
    "...x",
    "./x",
]
ODD_VALUES = [
    "1" * 120,
    "a#b",
    "2024-01-01",
    "2024-02-30",
    "1:20",
    "a:b",
    "...",
    "-",
    "- x",
    "=",
    "<<",
    '"dq # x"',
    '"a\\nb"',
    '"unclosed',
    "'it''s'",
    "&a x",
    "*a",
    "!!str 1",
    "[1, 2]",
    "{a: 1}",
    "|",
    ">",
    "@x",
    "%x",
    "a\tb",
    "x ",
    "ö",
    "a\x01b",
    "a\x7fb",
]
OTHER_LINES = ["", "# comment", "   # indented", "---", "...", "- x", "key:value", "\t", "  ", "a: b: c", "? x"]


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Mostly well-formed nested block mappings, with odd keys, values and lines mixed in."""
    lines: list[str] = []
    _mapping(draw, lines, 0, draw(st.integers(0, 1)))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n", "\r\n"]))


def _rarely(draw: st.DrawFn) -> bool:
    return draw(st.integers(0, 39)) == 17  # not 0: hypothesis favours the bounds


def _mapping(draw: st.DrawFn, lines: list[str], depth: int, indent: int) -> None:
    for _ in range(draw(st.integers(1, 5))):
        if _rarely(draw):
            lines.append(draw(st.sampled_from(OTHER_LINES)))
        key = draw(st.sampled_from(ODD_KEYS if _rarely(draw) else GOOD_KEYS))
        pad = " " * (indent + (1 if _rarely(draw) else 0))
        if depth < 3 and draw(st.integers(0, 3)) == 2:
            lines.append(f"{pad}{key}:" + draw(st.sampled_from(["", " ", "  # note"])))
            _mapping(draw, lines, depth + 1, indent + draw(st.sampled_from([2, 2, 4, 1])))
            continue
        value = draw(st.sampled_from(ODD_VALUES if _rarely(draw) else GOOD_VALUES))
        sep = draw(st.sampled_from([": ", ":  "])) if value else ":"
        lines.append(pad + key + sep + value + draw(st.sampled_from(["", " ", "  # note"])))


def typed(value: Any) -> Any:
    """Data with the types spelled out: 1, 1.0 and True differ, and key order counts."""
    if isinstance(value, dict):
        return [("dict", k, typed(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__name__, repr(value))


def assert_same_as_pyyaml(text: str) -> None:
    data = text.encode()
    fast, slow = load("v.yaml", data), load("v.yaml", data, nodes=True)
    assert typed(fast.documents) == typed(slow.documents), text
    assert fast.problems == slow.problems, text
    assert fast.fatal == slow.fatal, text
    for index in range(len(slow.documents)):
        assert fast.ambiguous(index, ("p",)) == slow.ambiguous(index, ("p",)), text


@settings(max_examples=300, deadline=None)
@given(documents())
def test_generated_files_read_as_pyyaml_reads_them(text: str) -> None:
    assert_same_as_pyyaml(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb:\n  c: yes  # x\n  d: \"q # x\"\n  e: 'sq'\n  f:\ng: 0755\na: on\nh: 1.5\ni: .inf\nj: 0x1F\n",
        "a:\n  b:\n    c: 1\n  d: 2\ne: 3\n",
        "a:\nb: 1\n",
        "  a: 1\n  b: 2\n",
        "a: 1\na: 2\na: 3\nb:\n  a: 1\n  a: 2\n",  # duplicates in PyYAML's order: the root's, then b's
        "# only a comment\n\n",
        "",
        "a: 1\n  b: 2\n",  # a continuation line: PyYAML decides (here: an error)
        "a:\n  b: 1\n c: 2\n",  # an indentation no open mapping has
    ],
)
def test_known_shapes_read_as_pyyaml_reads_them(text: str) -> None:
    assert_same_as_pyyaml(text)


def test_a_plain_values_file_takes_the_fast_path() -> None:
    """Pins that the speed-up applies: no nodes built for a plain file, but PyYAML for the rest."""
    assert yamlfast.read('image:\n  tag: "1.0"\nreplicas: 2\n', version_note) is not None
    assert load("v.yaml", b"a: 1\n").found_ambiguous is not None
    for outside in ("a: [1]\n", "a: &x 1\nb: *x\n", "a: 2024-01-01\n", "a: 1\n---\nb: 2\n", "a: \xe9\n"):
        assert yamlfast.read(outside, version_note) is None, outside


def big_values(keys: int, changed: int | None = None, extra: str = "") -> bytes:
    lines = [f"k{i}: {i}{'1' if i == changed else ''}\n" for i in range(keys)]
    return ("".join(lines) + extra).encode()


def test_big_file_diff_is_the_same_on_both_paths() -> None:
    """A non-ASCII comment sends both versions through PyYAML: the diff must not change."""
    old, new = big_values(20_000), big_values(20_000, changed=7_000)
    fast = diff_file("apps/big/values.yaml", old, new)
    slow = diff_file("apps/big/values.yaml", old + "# é\n".encode(), new + "# é\n".encode())
    assert [(c.path, c.op, c.old, c.new) for c in fast.changes] == [(["k7000"], "changed", 7000, 70001)]
    assert [(c.path, c.op, c.old, c.new) for c in slow.changes] == [(c.path, c.op, c.old, c.new) for c in fast.changes]
    assert fast.errors == slow.errors == [] and fast.notes == slow.notes


def test_hostile_plain_files_diff_the_same_on_both_paths() -> None:
    """Duplicates, secrets and 1.1/1.2 notes come out the same from either path."""
    old = b"password: hunter2\nport: 80\nmode: 0644\ndebug: no\n"
    new = b"password: hunter3\nport: 80\nport: 81\nmode: 0755\ndebug: on\n"
    tail = "# é\n".encode()
    fast, slow = diff_file("v.yaml", old, new), diff_file("v.yaml", old + tail, new + tail)
    assert [(c.path, c.op, c.masked, c.old, c.new) for c in fast.changes] == [
        (c.path, c.op, c.masked, c.old, c.new) for c in slow.changes
    ]
    assert fast.errors == slow.errors and fast.notes == slow.notes
    assert any("duplicate key 'port'" in p.message for p in fast.errors)
    assert any("0755" in n for n in fast.notes) and any("`on`" in n for n in fast.notes)
    assert "hunter" not in repr(fast.changes)


@pytest.mark.parametrize("nodes", [False, True], ids=["fast", "pyyaml"])
def test_too_many_nodes_is_refused_and_says_why(monkeypatch: pytest.MonkeyPatch, nodes: bool) -> None:
    """The node limit (1,000,000; 100 here, to stay fast) holds on both paths, and a plain file
    over it is not blamed on aliases."""
    monkeypatch.setattr(yamlload, "MAX_EXPANDED_NODES", 100)
    loaded = load("v.yaml", big_values(50), nodes=nodes)  # 50 keys + 50 values + the root
    assert loaded.fatal and not loaded.documents
    assert "has more than 100 nodes (keys and values)" in loaded.problems[0].message
    assert loaded.problems[0].location is not None and loaded.problems[0].location.line == 1
    assert not load("v.yaml", big_values(49), nodes=nodes).fatal
    bomb = b"a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    assert "aliases expand" in load("v.yaml", bomb, nodes=nodes).problems[0].message


def test_deep_nesting_is_refused_as_pyyaml_refuses_it() -> None:
    text = "".join(" " * i + f"k{i}:\n" for i in range(300)) + " " * 300 + "leaf: 1\n"
    assert_same_as_pyyaml(text)
    loaded = load("v.yaml", text.encode())
    assert loaded.fatal and "nested deeper than 256" in loaded.problems[0].message


def test_long_integers_keep_their_limit() -> None:
    loaded = load("v.yaml", b"a: " + b"1" * 4400 + b"\n")
    assert loaded.fatal and "4,400 digits" in loaded.problems[0].message


def nodes_load(text: str) -> list[Any] | str:
    try:
        return [(typed(d.data), d.duplicates, positions(d)) for d in load_documents(text)]
    except YamlSyntaxError as exc:
        return f"{exc.message} at {exc.line}:{exc.column}"


def positions(doc: Any, path: tuple[Any, ...] = ()) -> list[Any]:
    """(path, line, column) of every key: what validation's findings point at."""
    found = [(path, doc.position(path))]
    data = get_path(doc.data, path)[1]
    if isinstance(data, dict):
        for key in data:
            found += positions(doc, (*path, key))
    return found


@settings(max_examples=150, deadline=None)
@given(documents())
def test_validation_reads_generated_files_as_pyyaml_reads_them(text: str) -> None:
    """adapters/yaml_nodes.py: the same data, duplicates (in its order) and key positions,
    whether the node tree was built up front (PyYAML) or on demand (the fast reader)."""
    slow = text + ("" if text.endswith("\n") or not text else "\n") + "# é\n"
    fast_nodes, slow_nodes = nodes_load(text), nodes_load(slow)
    if isinstance(fast_nodes, str) and isinstance(slow_nodes, str):
        # the same error; where it is reported can move with the comment appended (an
        # unclosed quoted scalar runs on to the end of the stream)
        fast_nodes, slow_nodes = fast_nodes.rsplit(" at ", 1)[0], slow_nodes.rsplit(" at ", 1)[0]
    assert fast_nodes == slow_nodes, text
    fast_first, slow_first = (_first(load_first, t) for t in (text, slow))
    assert fast_first == slow_first, text


def _first(load_first: Any, text: str) -> Any:
    try:
        return typed(load_first(text))
    except Exception as exc:  # the same error either way
        return type(exc).__name__
