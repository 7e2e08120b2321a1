"""Each unit's standing among the units reviewed: percentile ranks and outliers of an indicator.

Percentile rank = the share of units below, counting ties as half (0–100). Outliers by Tukey's
fences (beyond 1.5 interquartile ranges of the quartiles); counts are compared on a log scale
(applications run from 0 in a 乡镇 to thousands in a city office). With fewer than
:data:`MIN_UNITS` units, or quartiles that coincide (most units at 0), no unit is an outlier:
nothing stands out from a group that small or that flat.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from xltool.submission import Number

MIN_UNITS = 8
FENCE = 1.5
HIGH, LOW = "偏高", "偏低"


def percentiles(values: Sequence[Number | None]) -> list[int | None]:
    known = sorted(float(v) for v in values if v is not None)
    n = len(known)
    out: list[int | None] = []
    for v in values:
        if v is None or not n:
            out.append(None)
            continue
        below = sum(x < float(v) for x in known)
        equal = sum(x == float(v) for x in known)
        out.append(round(100 * (below + equal / 2) / n))
    return out


def _quartile(sorted_values: list[float], q: float) -> float:
    at = (len(sorted_values) - 1) * q
    lo = math.floor(at)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (at - lo)


def outliers(values: Sequence[Number | None], *, share: bool) -> list[str]:
    """HIGH or LOW for a value beyond the fences, "" otherwise (and for every value of a small or flat group)."""

    def scaled(v: Number) -> float:
        return float(v) if share else math.log1p(max(float(v), 0.0))

    known = sorted(scaled(v) for v in values if v is not None)
    if len(known) < MIN_UNITS:
        return ["" for _ in values]
    q1, q3 = _quartile(known, 0.25), _quartile(known, 0.75)
    spread = q3 - q1
    if spread <= 0:
        return ["" for _ in values]
    low, high = q1 - FENCE * spread, q3 + FENCE * spread
    return ["" if v is None else HIGH if scaled(v) > high else LOW if scaled(v) < low else "" for v in values]


def shown(value: Number | None, *, share: bool) -> Number | None:
    """A share as a percentage with one decimal, a count as it is."""
    if value is None or not share:
        return value
    return (Decimal(value) * 100).quantize(Decimal("0.1"))
