"""pandera schemas derived from the definition: value constraints of every numeric input.

The only module that imports pandera (and pandas). One DataFrameSchema per table block plus one
for the numeric fields outside tables; a batch of submissions is validated in one call per schema
(lazy, so every failure is collected) and each failure case maps back to its cell.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

import pandas as pd
import pandera.pandas as pa

from xltool.layout import for_spec
from xltool.spec import FormSpec, ValueType, leaves
from xltool.submission import Finding, Submission

PLACES = {"wan_yuan": 6, "yuan": 2}


def _decimals(x: Any) -> int:
    return -x.as_tuple().exponent if isinstance(x, Decimal) else 0


def _checks(vtype: ValueType) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if vtype != "signed_count":
        checks.append(pa.Check(lambda x: x >= 0, element_wise=True, name="C-NEGATIVE"))
    if vtype in ("count", "signed_count", "year"):
        checks.append(pa.Check(lambda x: _decimals(x) <= 0, element_wise=True, name="C-FRACTION"))
    if vtype in PLACES:
        places = PLACES[vtype]
        checks.append(pa.Check(lambda x: _decimals(x) <= places, element_wise=True, name="C-DECIMALS"))
    return checks


@cache
def _schemas(version: str) -> dict[str, tuple[pa.DataFrameSchema, dict[tuple[str, str], str]]]:
    """Schema name -> (schema, (row, column) -> cell key). Rows of a frame are (submission, row key)."""
    from xltool import spec as specs

    spec = specs.load(version)
    out: dict[str, tuple[pa.DataFrameSchema, dict[tuple[str, str], str]]] = {}
    for table in spec.tables():
        for block in table.blocks:
            keys: dict[tuple[str, str], str] = {}
            columns: dict[str, pa.Column] = {}
            for row in leaves(block.rows):
                for col in leaves(block.columns):
                    if row.node.derived or col.node.derived:
                        continue
                    keys[(row.key, col.key)] = f"{table.key}.{row.key}.{col.key}"
                    vtype = col.node.type if col.node.type != "count" else row.node.type
                    columns[col.key] = pa.Column(object, checks=_checks(vtype), nullable=True)
            out[f"{table.key}.{block.key}"] = (pa.DataFrameSchema(columns, name=f"{table.key}.{block.key}"), keys)
    field_keys: dict[tuple[str, str], str] = {}
    field_columns: dict[str, pa.Column] = {}
    for section, _part, f in spec.fields():
        key = f"{section.key}.{f.key}"
        field_keys[("fields", key)] = key
        field_columns[key] = pa.Column(object, checks=_checks(f.type), nullable=True)
    out["fields"] = (pa.DataFrameSchema(field_columns, name="fields"), field_keys)
    return out


def validate(subs: list[Submission]) -> list[list[Finding]]:
    """Cell-level value findings for each submission (same order), all schemas, one call each."""
    found: list[list[Finding]] = [[] for _ in subs]
    by_version: dict[str, list[int]] = {}
    for i, sub in enumerate(subs):
        by_version.setdefault(sub.spec.form_version, []).append(i)
    for version, members in by_version.items():
        spec = subs[members[0]].spec
        for name, (schema, keys) in _schemas(version).items():
            frame, where = _frame(keys, [subs[i] for i in members])
            try:
                schema.validate(frame, lazy=True)
            except pa.errors.SchemaErrors as exc:
                for position, col, check, value in _failures(exc.failure_cases):
                    member, row = where[position]
                    i = members[member]
                    row_key = "fields" if name == "fields" else row
                    found[i].append(_finding(spec, keys[(row_key, col)], check, value))
    return [_one_per_cell(findings) for findings in found]


def _one_per_cell(findings: list[Finding]) -> list[Finding]:
    """A cell that fails several checks (-1.5: negative and fractional) gets the first one only."""
    order = {name: i for i, name in enumerate(("C-NEGATIVE", "C-FRACTION", "C-DECIMALS"))}
    best: dict[tuple[str | None, str | None], Finding] = {}
    for f in sorted(findings, key=lambda f: order[f.rule]):
        best.setdefault((f.sheet, f.cell), f)
    return sorted(best.values(), key=lambda f: (f.sheet or "", _order(f.cell), f.rule))


def _frame(keys: dict[tuple[str, str], str], subs: list[Submission]) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """One row per (submission, table row); ``where`` maps a frame position back to them."""
    rows: dict[str, dict[str, Any]] = {}
    for (row, col), key in keys.items():
        rows.setdefault(row, {})[col] = key
    records: list[dict[str, Any]] = []
    index: list[tuple[int, str]] = []
    for n, sub in enumerate(subs):
        for row, cols in rows.items():
            records.append({col: sub.values.get(key) for col, key in cols.items()})
            index.append((n, row))
    columns = list(dict.fromkeys(col for (_row, col) in keys))
    return pd.DataFrame.from_records(records, columns=columns).astype(object), index


def _failures(cases: pd.DataFrame) -> list[tuple[int, str, str, Any]]:
    out = []
    for rec in cases.to_dict("records"):
        if rec.get("index") is None or rec.get("column") is None:
            continue
        out.append((int(rec["index"]), str(rec["column"]), str(rec["check"]), rec["failure_case"]))
    return out


def _finding(spec: FormSpec, key: str, rule_id: str, value: Any) -> Finding:
    rule = spec.rule(rule_id)
    sheet, cell = for_spec(spec).locate(key)
    shown = format(value, "f") if isinstance(value, Decimal) else value
    places = PLACES.get(cell.vtype or "", 0)
    message = rule.message.format(where=cell.what, value=shown, places=places)
    return Finding(rule.id, rule.severity, message, sheet.name, cell.address, value, None)


def _order(address: str | None) -> tuple[int, str]:
    if not address:
        return (0, "")
    letters = address.rstrip("0123456789")
    return (int(address[len(letters) :]), letters.rjust(3))
