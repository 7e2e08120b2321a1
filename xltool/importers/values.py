"""Figures as printed -> numbers, and run-together digits -> cells where one reading alone is possible.

Never a guess: a text that is not plainly a number of the cell's type is returned as a
:class:`Doubt` (the placer reports it and leaves the cell empty).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from xltool.form.spec import ValueType
from xltool.submission import Number

BLANK_MARKS = frozenset({"", "-", "—", "——", "－", "–", "/", "／", "\\", "无", "空"})
_UNITS = {
    "count": ("件", "条", "个", "项", "次"),
    "signed_count": ("件", "条", "个", "项", "次"),
    "wan_yuan": ("万元",),
    "yuan": ("元",),
}
MAX_DIGITS = 7  # a single cell of these tables never holds ten million or more


@dataclass(frozen=True)
class Doubt:
    """A printed text that cannot be read as the cell's number with certainty."""

    text: str
    reason: str


def clean(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def parse_value(text: str, vtype: ValueType, units: Sequence[str] = ()) -> Number | Doubt | None:
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
    for unit in sorted((*_UNITS.get(vtype, ()), *units), key=len, reverse=True):
        if s.endswith(unit):
            s = s[: -len(unit)]
            break
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", s):
        s = s.replace(",", "")
    if vtype in ("count", "signed_count"):
        if re.fullmatch(r"\d+", s) and (s == "0" or not s.startswith("0")):
            return sign * int(s)
        return Doubt(text.strip(), f"原文为“{text.strip()}”，不是件数")
    if re.fullmatch(r"\d+(\.\d+)?", s):
        try:
            d = Decimal(s)
        except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
            return Doubt(text.strip(), f"原文为“{text.strip()}”，不是金额")
        return int(d) if "." not in s else d
    return Doubt(text.strip(), f"原文为“{text.strip()}”，不是金额")


def money_unit(text: str, units: Sequence[str]) -> str | None:
    """The unit printed after a money amount (the longest that fits: 万元 before 元), or None."""
    s = clean(text)
    return next((u for u in sorted(units, key=len, reverse=True) if s.endswith(u)), None)


def splits(tokens: Sequence[str], n: int, groups: Sequence[tuple[int, ...]], limit: int = 2) -> list[list[int]]:
    """The readings of digit tokens as ``n`` whole numbers, up to ``limit`` of them.

    Token boundaries are cell boundaries; inside a token cells ran together. A number has no
    leading zero (except 0 itself) and at most :data:`MAX_DIGITS` digits. ``groups`` are totals
    that must hold: ``(i, j, …, t)`` means cells i, j, … add up to cell t (the printed row total
    decides between readings).
    """
    out: list[list[int]] = []
    for reading in _readings(tuple(tokens), n):
        if all(sum(reading[i] for i in g[:-1]) == reading[g[-1]] for g in groups):
            out.append(reading)
            if len(out) >= limit:
                break
    return out


def _readings(tokens: tuple[str, ...], n: int) -> Iterator[list[int]]:
    if not tokens:
        if n == 0:
            yield []
        return
    if n <= 0:
        return
    head, rest = tokens[0], tokens[1:]
    yield from _split_token(head, rest, n, [])


def _split_token(s: str, rest: tuple[str, ...], n: int, acc: list[int]) -> Iterator[list[int]]:
    if not s:
        yield from (acc + tail for tail in _readings(rest, n))
        return
    if n <= 0 or len(s) > n * MAX_DIGITS:
        return
    lengths = [1] if s[0] == "0" else range(1, min(MAX_DIGITS, len(s)) + 1)
    for k in lengths:
        yield from _split_token(s[k:], rest, n - 1, [*acc, int(s[:k])])
