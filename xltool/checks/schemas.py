"""pandera schema derived from the definition: the value constraints of every numeric input.

The only module that imports pandera (and pandas). The frame is long: one row per numeric input
cell of each submission, one column per value type of the definition (件数, 万元, 元; a row fills
only its own type's column). A whole batch of submissions is validated in ONE lazy call, which
collects every failure; each failure case maps back to its submission and cell.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

import pandas as pd
import pandera.pandas as pa

from xltool.form.layout import for_spec
from xltool.form.spec import NUMERIC_TYPES, FormSpec, ValueType
from xltool.submission import Finding, Submission, shown

PLACES: dict[str, int] = {"wan_yuan": 6, "yuan": 2, "money": 6}  # money: in 元 or 万元, as chosen
CHECK_ORDER = ("C-NEGATIVE", "C-FRACTION", "C-DECIMALS")  # a cell gets the first check it fails


def _decimals(x: Any) -> int:
    """Decimal places of a value (NaN / infinity count as too many)."""
    if not isinstance(x, Decimal):
        return 0
    exponent = x.as_tuple().exponent
    return -exponent if isinstance(exponent, int) else 99


def _checks(vtype: ValueType) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if vtype != "signed_count":
        checks.append(pa.Check(lambda x: x >= 0, element_wise=True, name="C-NEGATIVE"))
    if vtype in ("count", "signed_count"):
        checks.append(pa.Check(lambda x: _decimals(x) <= 0, element_wise=True, name="C-FRACTION"))
    if vtype in PLACES:
        places = PLACES[vtype]
        checks.append(pa.Check(lambda x: _decimals(x) <= places, element_wise=True, name="C-DECIMALS"))
    return checks


@cache
def _schema(version: str) -> tuple[pa.DataFrameSchema, tuple[tuple[str, str], ...]]:
    """The schema of a form version and its numeric inputs as (key, value type), in reading order."""
    from xltool.form import spec as specs

    spec = specs.load(version)
    inputs = [(c.key, c.type) for c in spec.inputs()]
    inputs += [(f"{s.key}.{f.key}", f.type) for s, _p, f in spec.fields() if f.type in NUMERIC_TYPES]
    types = list(dict.fromkeys(vtype for _key, vtype in inputs))
    columns = {vtype: pa.Column(object, checks=_checks(vtype), nullable=True) for vtype in types}  # type: ignore[arg-type]
    return pa.DataFrameSchema(columns, name=f"gov_disclosure_{version}"), tuple(inputs)


def validate(subs: list[Submission]) -> list[list[Finding]]:
    """Cell-level value findings for each submission (same order): one pandera call per form version."""
    found: list[list[Finding]] = [[] for _ in subs]
    by_version: dict[str, list[int]] = {}
    for i, sub in enumerate(subs):
        by_version.setdefault(sub.spec.form_version, []).append(i)
    for version, members in by_version.items():
        spec = subs[members[0]].spec
        schema, inputs = _schema(version)
        frame = _frame(schema, inputs, [subs[i] for i in members])
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            for position, check, value in _failures(exc.failure_cases):
                member, n = divmod(position, len(inputs))
                found[members[member]].append(_finding(spec, inputs[n][0], check, value))
    return [_one_per_cell(findings) for findings in found]


def _frame(schema: pa.DataFrameSchema, inputs: tuple[tuple[str, str], ...], subs: list[Submission]) -> pd.DataFrame:
    """Row ``i * len(inputs) + n`` is input ``n`` of submission ``i``."""
    columns: dict[str, list[Any]] = {vtype: [] for vtype in schema.columns}
    for sub in subs:
        values = sub.values
        for key, vtype in inputs:
            value = values.get(key)
            for name, column in columns.items():
                column.append(value if name == vtype else None)
    return pd.DataFrame(columns, dtype=object)


def _failures(cases: pd.DataFrame) -> list[tuple[int, str, Any]]:
    return [
        (int(rec["index"]), str(rec["check"]), rec["failure_case"])
        for rec in cases.to_dict("records")
        if rec.get("index") is not None
    ]


def _finding(spec: FormSpec, key: str, rule_id: str, value: Any) -> Finding:
    rule = spec.rule(rule_id)
    sheet, cell = for_spec(spec).locate(key)
    message = rule.message.format(where=cell.what, value=shown(value), places=PLACES.get(cell.vtype or "", 0))
    return Finding(rule.id, rule.severity, message, sheet.name, cell.address, value, None)


def _one_per_cell(findings: list[Finding]) -> list[Finding]:
    """A cell that fails several checks (-1.5: negative and fractional) gets the first one only."""
    best: dict[tuple[str | None, str | None], Finding] = {}
    for f in sorted(findings, key=lambda f: CHECK_ORDER.index(f.rule)):
        best.setdefault((f.sheet, f.cell), f)
    return list(best.values())
