"""Results of pure functions of a part of a form (a spec, a block) and printed text, kept for a batch.

Reports print the same labels and headers again and again, and matching them against the form is the
placer's most repeated work (:func:`xltool.importers.rows.match`, :func:`xltool.importers.headers.aligned`
and :func:`~xltool.importers.headers.flattened`). The part of the form is held by identity (a form is
loaded once; one built on the fly is told apart by the reference kept), the text by value. What is
kept must be immutable (frozen dataclasses, tuples): every caller gets the same object.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Generic, TypeVar

from xltool.form.spec import FormSpec, TableCell

T = TypeVar("T")


class Memo(Generic[T]):
    """``get(owner, key, make)``: ``make()``'s result for this owner object and key, made once."""

    def __init__(self, size: int = 8192) -> None:
        self.size = size
        self.table: dict[tuple[int, Hashable], tuple[object, T]] = {}

    def get(self, owner: object, key: Hashable, make: Callable[[], T]) -> T:
        hit = self.table.get((id(owner), key))
        if hit is not None and hit[0] is owner:
            return hit[1]
        value = make()
        if len(self.table) >= self.size:  # a batch's labels are far fewer: this only bounds odd input
            self.table.clear()
        self.table[(id(owner), key)] = (owner, value)
        return value


@dataclass(frozen=True)
class Keys:
    """A form's table cells by key, worked out once per loaded form (TableCell.key is built on each call)."""

    cells: tuple[str, ...]  # every table cell, in reading order
    inputs: tuple[str, ...]  # the cells a clerk fills
    derived: frozenset[str]  # the totals
    by_key: Mapping[str, TableCell]


_KEYS: Memo[Keys] = Memo(64)


def keys(spec: FormSpec) -> Keys:
    def make() -> Keys:
        cells = spec.cells()
        by_key = MappingProxyType({c.key: c for c in cells})
        derived = frozenset(k for k, c in by_key.items() if c.derived)
        return Keys(tuple(by_key), tuple(k for k in by_key if k not in derived), derived, by_key)

    return _KEYS.get(spec, None, make)
