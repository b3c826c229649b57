"""core/yamlload's one-walk reader of the common file (`_load_walked`) gives what PyYAML's
constructor path (`_load_with`) gives: the same documents (types and key order included), the
same problems in the same order, or None (then `_load_with` decides). Checked on every YAML
file of the test corpus and on generated files with aliases, duplicates, odd keys and tags."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_promote.core import yamlload
from gitops_promote.core.yamldiff import diff_file

DATA = Path(__file__).parent / "data"
CORPUS = sorted(p for p in DATA.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _same(path: str, data: bytes) -> bool | None:
    """None when the walk leaves the file to `_load_with`, else whether both agree."""
    walked = yamlload._load_walked(path, data)
    if walked is None:
        return None
    old = yamlload._load_with(yamlload._Loader, path, data)
    # repr keeps the types apart (1, 1.0, True, "1") and the key order
    assert repr(walked.documents) == repr(old.documents), path
    assert walked.problems == old.problems, path
    assert not walked.fatal and not old.fatal
    assert len(walked.nodes) == len(old.nodes)
    return True


def test_the_corpus_reads_the_same() -> None:
    assert len(CORPUS) > 50
    walked = [p for p in CORPUS if _same(str(p), p.read_bytes())]
    assert len(walked) > len(CORPUS) // 3  # most real files take the walk


_KEYS = ["a", "b", "image", "a", "1", "true", "~", '"q"', "'a'", "x y", "<<", "? [k]"]
_VALUES = [
    "x",
    "1",
    "1.0",
    "-0",
    "0x1F",
    "0o17",
    "1_000",
    ".inf",
    ".nan",
    "true",
    "yes",
    "~",
    "null",
    "",
    '"s"',
    "'1'",
    "2024-01-01",
    "2024-02-30",
    "!!binary aGk=",
    "!!str 1",
    "!!int '7'",
    "!custom x",
    "&a {k: v}",
    "*a",
    "[1, {a: b}, [c]]",
    "{x: 1, x: 2}",
    "{p: &b [1, 2]}",
    "*b",
    "|\n    block",
    "9" * 4500,
]


@st.composite
def _files(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        indent = "  " * draw(st.integers(0, 2))
        lines.append(f"{indent}{draw(st.sampled_from(_KEYS))}: {draw(st.sampled_from(_VALUES))}")
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), "---")
    return "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None)
@given(_files())
def test_generated_files_read_the_same(text: str) -> None:
    _same("gen.yaml", text.encode())


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\nb: {c: 1, c: 2}\n",  # duplicates, outer then inner
        "m: &m {a: 1}\nn: *m\nn: *m\n",  # an alias and a duplicate after it
        "- a\n- {b: [1, 2.5, true, null, ~]}\n",
        "a: 1\n---\nb: {b: 1, b: 2}\n",
    ],
)
def test_walked_examples(text: str) -> None:
    assert _same("x.yaml", text.encode()) is True


@pytest.mark.parametrize(
    "text",
    [
        "d: 2024-01-01\n",  # timestamps (and the note of an impossible date)
        "b: !!binary aGk=\n",
        "<<: {a: 1}\n",
        "1: a\n",  # a key PyYAML's dict may merge with another before `plain`
        "a: &x [*x]\n",  # recursive
        "a: " + "9" * 4500 + "\n",  # over the digit bound: `_load_with`'s message
        "a: [unclosed\n",
    ],
)
def test_unusual_files_are_left_to_pyyaml(text: str) -> None:
    assert yamlload._load_walked("x.yaml", text.encode()) is None


def test_the_diff_is_unchanged_by_the_walk() -> None:
    old = b"resources:\n  requests: {cpu: 100m, memory: 128Mi}\na: 1\na: 2\nz: yes\n"
    new = b"resources:\n  requests: {cpu: 200m, memory: 128Mi}\na: 3\nz: no\n"
    diff = diff_file("apps/x/values.yaml", old, new)
    assert [c.display_path() for c in diff.changes] == ["resources.requests.cpu", "a", "z"]
    assert any("duplicate key 'a'" in p.message for p in diff.errors)
    assert any("YAML 1.1" in n for n in diff.notes)
