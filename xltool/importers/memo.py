"""Results of pure functions of a part of a form (a spec, a block) and printed text, kept for a batch.

Reports print the same labels and headers again and again, and matching them against the form is the
placer's most repeated work (:func:`xltool.importers.rows.match`, :func:`xltool.importers.headers.aligned`
and :func:`~xltool.importers.headers.flattened`). The part of the form is held by identity (a form is
loaded once; one built on the fly is told apart by the reference kept), the text by value. What is
kept must be immutable (frozen dataclasses, tuples): every caller gets the same object.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

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
