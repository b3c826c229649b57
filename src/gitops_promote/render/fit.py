"""Tables that fit the terminal: widths decided here, not left to rich's last resort.

rich shrinks a too-wide table by narrowing the widest wrappable columns and then, when that is
not enough, every column evenly, down to nothing (a `history` at 80 columns showed `subject`,
`who` and `files` zero wide). Here each column says how narrow it may become (never narrower
than the longest word of its header) and when it is given up; `fit` drops columns in that
order until the rest fits at their minimum width, then shares the spare room out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

Cell = str | Text
Justify = Literal["left", "right", "center"]

# rich's default box with padding (0, 1): one border per column plus one, two spaces per column
_BORDER_PER_COLUMN, _BORDER_FIXED = 3, 1


@dataclass(frozen=True)
class Column:
    header: str
    min: int = 1  # narrowest the cells may be (the header's longest word counts too)
    drop: int = 0  # 0: always shown; otherwise given up in increasing order (1 first) when narrow
    wrap: bool = True  # wrap (and fold long words) when narrower than the text; False: cut with …
    justify: Justify = "left"

    def narrowest(self) -> int:
        return max(self.min, *(cell_len(word) for word in self.header.split()))


@dataclass(frozen=True)
class Fitted:
    table: Table
    dropped: list[str]  # headers of the columns left out, in the order they were given up


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _natural(column: Column, cells: Sequence[Cell]) -> int:
    lines = [line for cell in cells for line in _plain(cell).split("\n")]
    return max(column.narrowest(), cell_len(column.header), *(cell_len(line) for line in lines))


def _kept(columns: Sequence[Column], width: int) -> list[int]:
    """Indexes of the columns that fit at their minimum width, dropping in the stated order."""
    kept = list(range(len(columns)))
    droppable = sorted((c.drop, i) for i, c in enumerate(columns) if c.drop)
    while droppable and _needed(columns, kept) > width:
        kept.remove(droppable.pop(0)[1])
    return kept


def _needed(columns: Sequence[Column], kept: Sequence[int]) -> int:
    return sum(columns[i].narrowest() for i in kept) + _BORDER_PER_COLUMN * len(kept) + _BORDER_FIXED


def _widths(minimums: list[int], naturals: list[int], wraps: list[bool], room: int) -> list[int]:
    """Each column at its minimum, then the spare room: first to the columns that cannot wrap
    (a cut id is worse than a wrapped line), then to the others level by level (a column
    grows to the common level or to its natural width, whichever is less), so short cells
    (a date, a name) stay whole and long ones (a subject) share what is left evenly."""
    widths = list(minimums)
    for cannot_wrap in (True, False):
        group = [i for i in range(len(widths)) if wraps[i] is not cannot_wrap]
        others = sum(w for i, w in enumerate(widths) if i not in group)

        def at(level: int, group: list[int] = group) -> list[int]:
            return [max(minimums[i], min(naturals[i], level)) for i in group]

        level = max((naturals[i] for i in group), default=0)
        while level > 0 and others + sum(at(level)) > room:
            level -= 1
        for i, width in zip(group, at(level), strict=True):
            widths[i] = width
    return widths


def fit(title: str, columns: Sequence[Column], rows: Sequence[Sequence[Cell]], width: int) -> Fitted:
    """A table of `rows` no wider than `width` columns (when the minimums allow it)."""
    kept = _kept(columns, width)
    naturals = [_natural(columns[i], [row[i] for row in rows]) for i in kept]
    minimums = [min(columns[i].narrowest(), naturals[k]) for k, i in enumerate(kept)]
    room = width - _BORDER_PER_COLUMN * len(kept) - _BORDER_FIXED
    widths = _widths(minimums, naturals, [columns[i].wrap for i in kept], room)
    table = Table(title=title, title_justify="left")
    for k, i in enumerate(kept):
        column = columns[i]
        overflow: Literal["fold", "ellipsis"] = "fold" if column.wrap else "ellipsis"
        table.add_column(
            column.header,
            width=widths[k],
            no_wrap=not column.wrap,
            overflow=overflow,
            justify=column.justify,
        )
    for row in rows:
        table.add_row(*(row[i] for i in kept))
    dropped = [c.header for i, c in enumerate(columns) if i not in kept]
    return Fitted(table, dropped)


def dropped_note(dropped: Sequence[str], width: int, where: str = "--output json") -> str | None:
    """What a narrow terminal left out, and where to see it."""
    if not dropped:
        return None
    return f"{width} columns: {', '.join(dropped)} left out (a wider terminal shows them; so does {where})"
