"""Property tests: junk in any input cell yields a finding at that cell, never an exception."""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xltool.form import spec as specs
from xltool.form.layout import for_spec
from xltool.sources.checking import check

from .helpers import FORMS, fill
from .sample_data import CHEPAIZI, TOWN_2020, write_valid

SPEC = specs.load()
LAYOUT = for_spec(SPEC)
PLACES = {"count": 0, "signed_count": 0, "wan_yuan": 6, "yuan": 2, "money": 6}
NUMERIC_KEYS = {
    form: [c.key for _, c in for_spec(specs.load(form)).keyed("input") if c.vtype in PLACES and c.key] for form in FORMS
}
BASES = {"2021": CHEPAIZI, "2019": TOWN_2020}
CELL_RULES = {"C-BLANK", "C-TEXT", "C-NEGATIVE", "C-FRACTION", "C-DECIMALS"}

junk = st.one_of(
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9),
    st.booleans(),
    st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2090, 1, 1)),
    st.sampled_from(["减4", "3件", "/", "无", "-", "=1/0", "=A1+", "１２", " ", "1,234", "0.0000001", "#N/A"]),
)


def _valid(vtype: str | None, value: Any) -> bool:
    """What a careful clerk may type: a non-negative number with the places the cell allows
    (本年增/减: an integer of either sign)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    try:
        d = Decimal(str(value).strip().replace(",", "")) if isinstance(value, str) else Decimal(repr(value))
    except ArithmeticError:
        return False
    signed = vtype == "signed_count"
    # numeric text may carry one sign, as the reader reads it ("-0" is 0; "-5" is negative)
    digits = re.sub(r"^[-+]", "", value.strip()) if isinstance(value, str) else value
    if isinstance(digits, str) and (
        not digits.strip() or not digits.strip().replace(",", "").replace(".", "", 1).isdigit()
    ):
        return False
    places = PLACES[vtype or "count"]
    return (d >= 0 or signed) and -d.normalize().as_tuple().exponent <= places if d != 0 else True


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_valid(tmp_path_factory.mktemp("prop") / "base.xlsx", CHEPAIZI)


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bases")
    return {form: write_valid(folder / f"{form}.xlsx", values) for form, values in BASES.items()}


@pytest.mark.slow
@pytest.mark.parametrize("form", FORMS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), value=junk)
def test_junk_in_any_numeric_cell(
    bases: dict[str, Path], tmp_path_factory: pytest.TempPathFactory, form: str, data: st.DataObject, value: Any
) -> None:
    key = data.draw(st.sampled_from(NUMERIC_KEYS[form]), label="key")
    path = fill(bases[form], tmp_path_factory.mktemp("junk") / "j.xlsx", {key: value})
    result = check([path])[0]
    assert result.submission is not None
    sheet, cell = for_spec(specs.load(form)).locate(key)
    at_cell = [f for f in result.findings if (f.sheet, f.cell) == (sheet.name, cell.address) and f.rule in CELL_RULES]
    if _valid(cell.vtype, value):
        assert at_cell == [], (value, result.findings)
    else:
        assert len(at_cell) == 1, (value, result.findings)


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from([c.key for _, c in LAYOUT.keyed("input") if c.key]), value=junk)
def test_reader_never_raises_on_any_input_cell(
    base: Path, tmp_path_factory: pytest.TempPathFactory, key: str, value: Any
) -> None:
    path = fill(base, tmp_path_factory.mktemp("any") / "a.xlsx", {key: value})
    result = check([path])[0]
    assert result.submission is not None
    for finding in result.findings:
        assert finding.message and finding.rule
