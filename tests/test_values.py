"""The value rules run two ways (a pandera schema for batches, plain predicates for one workbook):
they give the same findings for any values (issue 21: render checks without loading pandas)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xltool.checks import schemas, values
from xltool.form import spec as specs
from xltool.submission import Submission, blank_values

from .helpers import FORMS

NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6),
    st.decimals(allow_nan=False, allow_infinity=False, places=None, min_value=-(10**4), max_value=10**4),
    st.sampled_from([Decimal("1E+3"), Decimal("-0"), Decimal("0.1234567"), 0, -1]),
    st.none(),
)


@st.composite
def submissions(draw: st.DrawFn) -> Submission:
    spec = specs.load(draw(st.sampled_from(FORMS)))
    vals = blank_values(spec)
    keys = [key for key, _vtype in values.inputs(spec.form_version)]
    for key in draw(st.lists(st.sampled_from(keys), max_size=12, unique=True)):
        vals[key] = draw(NUMBERS)
    return Submission(spec, "x.xlsx", vals)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(submissions(), min_size=1, max_size=4))
def test_plain_rules_find_what_the_schema_finds(subs: list[Submission]) -> None:
    def key(found: list) -> list:
        return sorted((f.rule, f.sheet, f.cell, str(f.value)) for f in found)

    assert [key(f) for f in values.validate(subs)] == [key(f) for f in schemas.validate(subs)]


def test_a_negative_fraction_gets_one_finding_either_way() -> None:
    spec = specs.load("2021")
    vals = blank_values(spec) | {"t3.new.natural": Decimal("-1.5")}
    (plain,) = values.validate([Submission(spec, "x.xlsx", vals)])
    (batch,) = schemas.validate([Submission(spec, "x.xlsx", vals)])
    assert [(f.rule, f.cell) for f in plain] == [(f.rule, f.cell) for f in batch] == [("C-NEGATIVE", "D6")]
