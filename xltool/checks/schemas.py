"""pandera schema derived from the definition: the value rules of every numeric input, for a batch.

The only module that imports pandera (and pandas). The frame is long: one row per numeric input
cell of each submission, one column per value type of the definition (件数, 万元, 元; a row fills
only its own type's column). A whole batch of submissions is validated in ONE lazy call, which
collects every failure; each failure case maps back to its submission and cell. The rules
themselves are :mod:`values`'s predicates.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pandas as pd
import pandera.pandas as pa

from xltool.checks import values
from xltool.submission import Finding, Submission


@cache
def _schema(version: str) -> pa.DataFrameSchema:
    """The schema of a form version: one nullable column per value type its inputs use."""
    types = list(dict.fromkeys(vtype for _key, vtype in values.inputs(version)))
    columns = {
        vtype: pa.Column(
            object,
            checks=[pa.Check(valid, element_wise=True, name=rule) for rule, valid in values.rules_for(vtype)],
            nullable=True,
        )
        for vtype in types
    }
    return pa.DataFrameSchema(columns, name=f"gov_disclosure_{version}")


def validate(subs: list[Submission]) -> list[list[Finding]]:
    """Cell-level value findings for each submission (same order): one pandera call per form version."""
    found: list[list[Finding]] = [[] for _ in subs]
    by_version: dict[str, list[int]] = {}
    for i, sub in enumerate(subs):
        by_version.setdefault(sub.spec.form_version, []).append(i)
    for version, members in by_version.items():
        spec = subs[members[0]].spec
        schema, inputs = _schema(version), values.inputs(version)
        frame = _frame(schema, inputs, [subs[i] for i in members])
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            for position, check, value in _failures(exc.failure_cases):
                member, n = divmod(position, len(inputs))
                found[members[member]].append(values.finding(spec, inputs[n][0], check, value))
    return [values.one_per_cell(findings) for findings in found]


def _frame(schema: pa.DataFrameSchema, inputs: tuple[tuple[str, str], ...], subs: list[Submission]) -> pd.DataFrame:
    """Row ``i * len(inputs) + n`` is input ``n`` of submission ``i``."""
    columns: dict[str, list[Any]] = {vtype: [] for vtype in schema.columns}
    for sub in subs:
        got = sub.values
        for key, vtype in inputs:
            value = got.get(key)
            for name, column in columns.items():
                column.append(value if name == vtype else None)
    return pd.DataFrame(columns, dtype=object)


def _failures(cases: pd.DataFrame) -> list[tuple[int, str, Any]]:
    return [
        (int(rec["index"]), str(rec["check"]), rec["failure_case"])
        for rec in cases.to_dict("records")
        if rec.get("index") is not None
    ]
