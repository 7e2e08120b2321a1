"""Figures as printed -> numbers, and cells run together -> cells where one reading alone is possible.

Never a guess: a text that is not plainly a number of the cell's type is returned as a
:class:`Doubt` (the placer reports it and leaves the cell empty).

Run-together figures (``1000001``, ``0+11``, ``1个246900元``, ``00元``) are read by a small grammar:
each cell is a number of its column's type (no leading zero except 0 itself, at most
:data:`MAX_DIGITS` digits; a sign only where the column is signed; a unit only where the type has
one, and a unit ends its cell). Spaces and grid cell boundaries are cell boundaries; inside a
chunk cells may have run together. A reading is accepted only when it is the one reading left after
the row's printed totals are applied.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from xltool.form import spec as specs
from xltool.form.spec import ValueType
from xltool.numbers import number
from xltool.submission import Number

BLANK_MARKS = frozenset({"", "-", "—", "——", "－", "–", "/", "／", "\\", "无", "空"})
_SIGNS = "+-增减"
MAX_DIGITS = 7  # a single cell of these tables never holds ten million or more
MAX_MONEY_DIGITS = 12


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A printed figure (with any unit a form allows, or %), and several run together."""
    one = rf"[+\-增减]?\d+(?:[.,]\d+)*(?:{'|'.join(map(re.escape, (*specs.printed_units(), '%')))})?"
    return re.compile(one), re.compile(f"(?:{one})+")


@dataclass(frozen=True)
class Doubt:
    """A printed text that cannot be read as the cell's number with certainty."""

    text: str
    reason: str


@lru_cache(maxsize=8192)  # printed texts: the same figures recur, a whole review's texts must not stay
def clean(text: str) -> str:
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return s.replace("−", "-").replace("－", "-")


@lru_cache(maxsize=8192)
def is_value(text: str) -> bool:
    """Whether a printed cell holds figures (one, or several run together), a blank mark, or nothing."""
    s = clean(text)
    return s in BLANK_MARKS or all(_patterns()[1].fullmatch(chunk) for chunk in clean_chunks(text))


def clean_chunks(text: str) -> list[str]:
    """The space-separated pieces of a cell, each as :func:`clean` makes it."""
    return [clean(piece) for piece in unicodedata.normalize("NFKC", text).split()]


def is_number(text: str) -> bool:
    """Whether a printed cell is one figure (not a blank mark, not several run together)."""
    return bool(_patterns()[0].fullmatch(clean(text)))


def units_of(vtype: ValueType, units: Sequence[str] = ()) -> tuple[str, ...]:
    return tuple(sorted((*specs.printed_units(vtype), *units), key=len, reverse=True))


def parse_value(text: str, vtype: ValueType, units: Sequence[str] = ()) -> Number | Doubt | None:
    """A printed cell: its number, None for a cell printed empty, or a Doubt (see :func:`_parse`)."""
    return _parse(text, vtype, tuple(units))


@lru_cache(maxsize=8192)
def _parse(text: str, vtype: ValueType, units: tuple[str, ...]) -> Number | Doubt | None:
    """A printed cell: its number, None for a cell printed empty, or a Doubt.

    ``units``: the units a "money" cell may be printed with (the form's choices, e.g. 元 / 万元);
    :func:`money_unit` tells which one was printed.
    """
    s = clean(text)
    if s == "":
        return None
    if s in BLANK_MARKS:
        return Doubt(text.strip(), f"原文为“{text.strip()}”，不能确定是 0 还是未填写")
    sign = 1
    if vtype == "signed_count":
        m = re.fullmatch(r"(增|减|\+|-)(.*)", s)
        if m:
            sign = -1 if m.group(1) in ("减", "-") else 1
            s = m.group(2)
    elif s.startswith(("-", "减")):
        return Doubt(text.strip(), f"原文为“{text.strip()}”，是负数，本表式这里不能为负")
    for unit in units_of(vtype, units):
        if s.endswith(unit):
            s = s[: -len(unit)]
            break
    value = number(s) if s[:1].isdigit() else None  # a sign is read above, where the column has one
    if vtype in ("count", "signed_count"):
        if isinstance(value, int) and "." not in s and (s == "0" or not s.startswith("0")):
            return sign * value
        return Doubt(text.strip(), f"原文为“{text.strip()}”，不是件数")
    if value is not None:
        return value
    return Doubt(text.strip(), f"原文为“{text.strip()}”，不是金额")


def money_unit(text: str, units: Sequence[str]) -> str | None:
    """The unit printed after a money amount (the longest that fits: 万元 before 元), or None."""
    s = clean(text)
    return next((u for u in sorted(units, key=len, reverse=True) if s.endswith(u)), None)


# ---------------------------------------------------------------- cells run together


@dataclass(frozen=True)
class Column:
    """What a column's cells may hold: its value type and the units a money amount may carry."""

    vtype: ValueType
    units: tuple[str, ...] = ()


def _cell_ends(chunk: str, pos: int, col: Column) -> Iterator[int]:
    """Where a cell of ``col`` that starts at ``pos`` of ``chunk`` may end (exclusive)."""
    i = pos
    if col.vtype == "signed_count" and i < len(chunk) and chunk[i] in _SIGNS:
        i += 1
    if i >= len(chunk) or not chunk[i].isdigit():
        return
    money = col.vtype not in ("count", "signed_count")
    longest = MAX_MONEY_DIGITS if money else MAX_DIGITS
    digits = 1 if chunk[i] == "0" else min(longest, _digit_run(chunk, i))
    units = units_of(col.vtype, col.units)
    for k in range(1, digits + 1):
        end = i + k
        ends = [end]
        if money and end < len(chunk) and chunk[end] == "." and end + 1 < len(chunk) and chunk[end + 1].isdigit():
            ends = [end + 1 + j for j in range(1, _digit_run(chunk, end + 1) + 1)]  # a decimal point is in the cell
        for e in ends:
            yield e
            yield from (e + len(u) for u in units if chunk.startswith(u, e))


def _digit_run(chunk: str, i: int) -> int:
    j = i
    while j < len(chunk) and chunk[j].isdigit():
        j += 1
    return j - i


def readings(
    chunks: Sequence[str],
    cols: Sequence[Column],
    groups: Sequence[tuple[int, ...]] = (),
    *,
    open_end: bool = False,
    limit: int = 2,
) -> list[list[Number | None]]:
    """The readings of printed chunks as one cell per column, up to ``limit`` of them.

    Chunk boundaries (spaces, grid cells) are cell boundaries; an empty chunk is one empty cell.
    ``groups``: totals that must hold, ``(i, j, …, t)`` meaning cells i, j, … add up to cell t
    (a reading where they do not is dropped). ``open_end``: the last chunk's end is not proven
    (prose runs on after the figures), so a reading may stop inside it.
    """
    out: list[list[Number | None]] = []
    for cells in _read(tuple(chunks), 0, 0, tuple(cols), open_end):
        values = [
            None if c is None else parse_value(c, col.vtype, col.units) for c, col in zip(cells, cols, strict=True)
        ]
        if any(isinstance(v, Doubt) for v in values):
            continue
        numbers: list[Number | None] = [v for v in values if not isinstance(v, Doubt)]
        if all(_holds(numbers, g) for g in groups):
            if numbers not in out:
                out.append(numbers)
            if len(out) >= limit:
                break
    return out


def _holds(values: Sequence[Number | None], group: tuple[int, ...]) -> bool:
    parts = [values[i] for i in group[:-1]]
    total = values[group[-1]]
    if total is None or any(p is None for p in parts):
        return True  # a blank total or item: nothing printed to hold
    return sum((p for p in parts if p is not None), start=0) == total


def _read(
    chunks: tuple[str, ...], c: int, pos: int, cols: tuple[Column, ...], open_end: bool
) -> Iterator[list[str | None]]:
    if not cols:
        last = c >= len(chunks) - 1
        if (c == len(chunks) and pos == 0) or (c == len(chunks) - 1 and pos == len(chunks[-1])):
            yield []
        elif open_end and last and pos > 0:
            yield []  # the rest of the last chunk is the text after the figures
        return
    if c >= len(chunks):
        return
    chunk = chunks[c]
    if pos == len(chunk) and chunk:
        yield from _read(chunks, c + 1, 0, cols, open_end)
        return
    if chunk == "":
        yield from ([None, *rest] for rest in _read(chunks, c + 1, 0, cols[1:], open_end))
        return
    if len(chunk) - pos > len(cols) * (MAX_MONEY_DIGITS + 3):
        return
    for end in _cell_ends(chunk, pos, cols[0]):
        yield from ([chunk[pos:end], *rest] for rest in _read(chunks, c, end, cols[1:], open_end))


def splits(tokens: Sequence[str], n: int, groups: Sequence[tuple[int, ...]], limit: int = 2) -> list[list[int]]:
    """The readings of digit tokens as ``n`` whole numbers (counts), up to ``limit`` of them."""
    found = readings(tokens, [Column("count")] * n, groups, limit=limit)
    return [[int(v) for v in r if v is not None] for r in found]
