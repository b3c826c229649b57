"""Opcodes of two sequences, as difflib.SequenceMatcher gives them, in bounded time.

SequenceMatcher is quadratic or worse when the changes are many and interleaved: a 10,000-item
list with every other item changed took 12 s, 40,000 items six minutes (issue 12, hangs and
blow-ups). Up to BUDGET compared pairs it runs as before, so ordinary diffs read exactly as
they did. Past it: the common head and tail are equal; in between, items that occur once on
each side anchor the alignment (the longest increasing run of them, as patience diff does);
each gap between anchors is diffed the same way, and a gap still over the budget with no
anchors is one `replace`. The result is a valid alignment, not always the smallest one.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Sequence
from difflib import SequenceMatcher

BUDGET = 1_000_000  # len(a) * len(b) that SequenceMatcher handles in well under a second

Opcode = tuple[str, int, int, int, int]
Block = tuple[int, int, int]  # (i, j, size): a[i:i+size] == b[j:j+size]


def opcodes(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[Opcode]:
    if len(a) * len(b) <= BUDGET:
        matcher = SequenceMatcher(None, a, b, autojunk=False)
        return [(str(tag), i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]
    blocks: list[Block] = []
    _match(a, b, (0, len(a), 0, len(b)), blocks, 0)
    return _to_opcodes(_merged(blocks), len(a), len(b))


def grouped(codes: list[Opcode], context: int) -> list[list[Opcode]]:
    """Hunks of `codes` with `context` equal items around each change: the algorithm of
    SequenceMatcher.get_grouped_opcodes, on opcodes from here."""
    codes = list(codes) or [("equal", 0, 1, 0, 1)]
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)
    groups: list[list[Opcode]] = []
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


Span = tuple[int, int, int, int]  # alo, ahi, blo, bhi
MAX_NESTING = 40  # gaps within gaps: past this, one replace (keeps the recursion shallow)


def _match(a: Sequence[Hashable], b: Sequence[Hashable], span: Span, out: list[Block], depth: int) -> None:
    """Matching blocks of a[alo:ahi] and b[blo:bhi], appended in order."""
    alo, ahi, blo, bhi = span
    head = 0
    while alo + head < ahi and blo + head < bhi and a[alo + head] == b[blo + head]:
        head += 1
    if head:
        out.append((alo, blo, head))
        alo, blo = alo + head, blo + head
    tail = 0
    while alo < ahi - tail and blo < bhi - tail and a[ahi - 1 - tail] == b[bhi - 1 - tail]:
        tail += 1
    ahi_mid, bhi_mid = ahi - tail, bhi - tail
    if alo < ahi_mid and blo < bhi_mid:
        _middle(a, b, (alo, ahi_mid, blo, bhi_mid), out, depth)
    if tail:
        out.append((ahi_mid, bhi_mid, tail))


def _middle(a: Sequence[Hashable], b: Sequence[Hashable], span: Span, out: list[Block], depth: int) -> None:
    alo, ahi, blo, bhi = span
    if (ahi - alo) * (bhi - blo) <= BUDGET:
        for i, j, size in SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False).get_matching_blocks():
            if size:
                out.append((alo + i, blo + j, size))
        return
    anchors = _anchors(a, b, span) if depth < MAX_NESTING else []
    if not anchors:
        return  # one replace: nothing here can be aligned cheaply
    ai, bj = alo, blo
    for i, j in anchors:
        _match(a, b, (ai, i, bj, j), out, depth + 1)
        out.append((i, j, 1))
        ai, bj = i + 1, j + 1
    _match(a, b, (ai, ahi, bj, bhi), out, depth + 1)


def _anchors(a: Sequence[Hashable], b: Sequence[Hashable], span: Span) -> list[tuple[int, int]]:
    """(i, j) of items unique on both sides, the longest run increasing on both."""
    alo, ahi, blo, bhi = span
    count_a: dict[Hashable, int] = {}
    for i in range(alo, ahi):
        count_a[a[i]] = count_a.get(a[i], 0) + 1
    where_b: dict[Hashable, int] = {}
    count_b: dict[Hashable, int] = {}
    for j in range(blo, bhi):
        count_b[b[j]] = count_b.get(b[j], 0) + 1
        where_b[b[j]] = j
    pairs = [(i, where_b[a[i]]) for i in range(alo, ahi) if count_a[a[i]] == 1 and count_b.get(a[i]) == 1]
    return _increasing(pairs)


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of `pairs` (sorted by i) whose j increases: O(n log n)."""
    tails: list[int] = []  # tails[k]: smallest j ending an increasing run of length k + 1
    ends: list[int] = []  # index in pairs of that run's last pair
    previous = [-1] * len(pairs)
    for index, (_i, j) in enumerate(pairs):
        k = bisect.bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            ends.append(index)
        else:
            tails[k], ends[k] = j, index
        previous[index] = ends[k - 1] if k else -1
    run = []
    index = ends[-1] if ends else -1
    while index != -1:
        run.append(pairs[index])
        index = previous[index]
    return run[::-1]


def _merged(blocks: list[Block]) -> list[Block]:
    merged: list[Block] = []
    for i, j, size in blocks:
        if merged and merged[-1][0] + merged[-1][2] == i and merged[-1][1] + merged[-1][2] == j:
            merged[-1] = (merged[-1][0], merged[-1][1], merged[-1][2] + size)
        else:
            merged.append((i, j, size))
    return merged


def _to_opcodes(blocks: list[Block], len_a: int, len_b: int) -> list[Opcode]:
    """Matching blocks -> opcodes, as SequenceMatcher.get_opcodes does."""
    codes: list[Opcode] = []
    i = j = 0
    for ai, bj, size in [*blocks, (len_a, len_b, 0)]:
        tag = "replace" if i < ai and j < bj else "delete" if i < ai else "insert" if j < bj else ""
        if tag:
            codes.append((tag, i, ai, j, bj))
        i, j = ai + size, bj + size
        if size:
            codes.append(("equal", ai, i, bj, j))
    return codes
