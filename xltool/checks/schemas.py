"""pandera schema derived from the definition: the value rules of every numeric input, for a batch.

The only module that imports pandera (and pandas). The frame is long: one row per numeric input
cell of each submission, one column per value type of the definition (件数, 万元, 元; a row fills
only its own type's column). A whole batch of submissions is validated in ONE lazy call, which
collects every failure; each failure case maps back to its submission and cell. The rules
themselves are :mod:`values`'s predicates.
"""

from __future__ import annotations

import sys
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
    """Cell-level value findings for each submission (same order): one pandera call per form version.

    A whole number that is not negative (or any whole number where signs are allowed) passes every
    value rule, and nearly every figure of a workbook is one: only the others go into the frame
    (:func:`values.plainly_valid`), so the schema sees the values that can fail and no more."""
    found: list[list[Finding]] = [[] for _ in subs]
    by_version: dict[str, list[int]] = {}
    for i, sub in enumerate(subs):
        by_version.setdefault(sub.spec.form_version, []).append(i)
    for version, members in by_version.items():
        spec = subs[members[0]].spec
        schema, inputs = _schema(version), values.inputs(version)
        where, frame = _frame(schema, inputs, [(i, subs[i]) for i in members])
        if not where:
            continue
        try:
            _run(schema, frame)
        except pa.errors.SchemaErrors as exc:
            for position, check, value in _failures(exc.failure_cases):
                member, key = where[position]
                found[member].append(values.finding(spec, key, check, value))
    return [values.one_per_cell(findings) for findings in found]


def _frame(
    schema: pa.DataFrameSchema, inputs: tuple[tuple[str, str], ...], subs: list[tuple[int, Submission]]
) -> tuple[list[tuple[int, str]], pd.DataFrame]:
    """The values that can fail, one row each, and (submission, key) of each row."""
    where: list[tuple[int, str]] = []
    columns: dict[str, list[Any]] = {vtype: [] for vtype in schema.columns}
    for member, sub in subs:
        got = sub.values
        for key, vtype in inputs:
            value = got.get(key)
            if values.plainly_valid(value, vtype):
                continue
            where.append((member, key))
            for name, column in columns.items():
                column.append(value if name == vtype else None)
    return where, pd.DataFrame(columns, dtype=object)


def _run(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> None:
    """``schema.validate``, the first time with hypothesis hidden: registering its backends, pandera
    imports hypothesis (for data synthesis, which xltool never asks for) wherever it is installed,
    half a second of a check's start-up. A process that already uses hypothesis keeps it."""
    if "hypothesis" in sys.modules:
        schema.validate(frame, lazy=True)
        return
    sys.modules["hypothesis"] = None  # type: ignore[assignment]  # import hypothesis -> ImportError
    try:
        schema.validate(frame, lazy=True)
    finally:
        del sys.modules["hypothesis"]


def _failures(cases: pd.DataFrame) -> list[tuple[int, str, Any]]:
    return [
        (int(rec["index"]), str(rec["check"]), rec["failure_case"])
        for rec in cases.to_dict("records")
        if rec.get("index") is not None
    ]
