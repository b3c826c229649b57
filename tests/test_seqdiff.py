"""core/seqdiff.py: SequenceMatcher's opcodes up to its budget, a valid alignment past it, and
no blow-up on many interleaved changes (issue 12: a 40,000-item list took six minutes)."""

from __future__ import annotations

import subprocess
import sys
from difflib import SequenceMatcher

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_promote.core import seqdiff

SEQUENCES = st.lists(st.sampled_from("abcdefgh"), max_size=40)


def assert_valid(codes: list[seqdiff.Opcode], a: list[str], b: list[str]) -> None:
    """Contiguous spans covering both sides; `equal` spans really are equal."""
    i = j = 0
    for tag, i1, i2, j1, j2 in codes:
        assert (i1, j1) == (i, j)
        assert (tag == "equal") == (a[i1:i2] == b[j1:j2] and i2 > i1)
        assert tag != "delete" or j1 == j2
        assert tag != "insert" or i1 == i2
        i, j = i2, j2
    assert (i, j) == (len(a), len(b))


@settings(max_examples=200, deadline=None)
@given(SEQUENCES, SEQUENCES)
def test_within_the_budget_it_is_sequence_matcher(a: list[str], b: list[str]) -> None:
    expected = SequenceMatcher(None, a, b, autojunk=False)
    assert seqdiff.opcodes(a, b) == expected.get_opcodes()
    assert seqdiff.grouped(seqdiff.opcodes(a, b), 3) == list(expected.get_grouped_opcodes(3))


@settings(max_examples=200, deadline=None)
@given(SEQUENCES, SEQUENCES, st.integers(0, 30))
def test_past_the_budget_it_is_a_valid_alignment(a: list[str], b: list[str], budget: int) -> None:
    original = seqdiff.BUDGET
    seqdiff.BUDGET = budget
    try:
        codes = seqdiff.opcodes(a, b)
    finally:
        seqdiff.BUDGET = original
    assert_valid(codes, a, b)


def test_unique_items_anchor_the_alignment_past_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every other item changed, all unique: the unchanged ones still line up."""
    monkeypatch.setattr(seqdiff, "BUDGET", 10)
    a = [f"x{i}" for i in range(100)]
    b = [f"x{i}" if i % 2 == 0 else f"y{i}" for i in range(100)]
    codes = seqdiff.opcodes(a, b)
    assert codes == SequenceMatcher(None, a, b, autojunk=False).get_opcodes()


def test_many_interleaved_changes_do_not_blow_up() -> None:
    """20,000 list items with every other one changed, as YAML and as text. Before the fix
    this ran for minutes; the guard is a generous timeout, not a measurement."""
    script = """
from gitops_promote.core.yamldiff import diff_file
n = 20_000
old = ("items:\\n" + "".join(f"  - item-{i}\\n" for i in range(n))).encode()
new = ("items:\\n" + "".join(f"  - item-{i}{'x' if i % 2 else ''}\\n" for i in range(n))).encode()
assert len(diff_file("v.yaml", old, new).changes) == n // 2
assert diff_file("v.txt", old, new).text_diff.count("\\n+  - item-") == n // 2
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
