"""The value rules of every numeric input (C-NEGATIVE, C-FRACTION, C-DECIMALS) as plain predicates.

:mod:`schemas` turns them into a pandera schema that validates a batch of submissions in one call
(``xltool check``, ``merge``); a command that only needs one workbook's verdict (``render``) checks
it with :func:`validate` here, without importing pandas. Both take their predicates from
:func:`rules_for`, so they cannot disagree (a property test compares them).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any

from xltool.form import spec as specs
from xltool.form.layout import for_spec
from xltool.form.spec import NUMERIC_TYPES, FormSpec, ValueType
from xltool.submission import Finding, Submission, shown

PLACES: dict[str, int] = {"wan_yuan": 6, "yuan": 2, "money": 6}  # money: in 元 or 万元, as chosen
CHECK_ORDER = ("C-NEGATIVE", "C-FRACTION", "C-DECIMALS")  # a cell gets the first check it fails
Predicate = Callable[[Any], bool]


def decimals(x: Any) -> int:
    """Decimal places of a value (NaN / infinity count as too many)."""
    if not isinstance(x, Decimal):
        return 0
    exponent = x.as_tuple().exponent
    return -exponent if isinstance(exponent, int) else 99


def rules_for(vtype: ValueType) -> list[tuple[str, Predicate]]:
    """The value rules of one value type: (rule id, what a valid value satisfies); None passes all."""
    out: list[tuple[str, Predicate]] = []
    if vtype != "signed_count":
        out.append(("C-NEGATIVE", _not_negative))
    if vtype in ("count", "signed_count"):
        out.append(("C-FRACTION", lambda x: decimals(x) <= 0))
    if vtype in PLACES:
        places = PLACES[vtype]
        out.append(("C-DECIMALS", lambda x: decimals(x) <= places))
    return out


def _not_negative(x: Any) -> bool:
    return not (isinstance(x, Decimal) and x.is_nan()) and x >= 0  # NaN: not a number a reader gives; no raise


def plainly_valid(value: Any, vtype: str) -> bool:
    """A blank, or a whole number every value rule of ``vtype`` accepts (not negative, unless signed)."""
    return value is None or (type(value) is int and (value >= 0 or vtype == "signed_count"))


@cache
def inputs(version: str) -> tuple[tuple[str, ValueType], ...]:
    """A form version's numeric inputs as (key, value type), in reading order."""
    spec = specs.load(version)
    out = [(c.key, c.type) for c in spec.inputs()]
    out += [(f"{s.key}.{f.key}", f.type) for s, _p, f in spec.fields() if f.type in NUMERIC_TYPES]
    return tuple(out)


def validate(subs: list[Submission]) -> list[list[Finding]]:
    """Cell-level value findings for each submission (same order), checked one value at a time."""
    out = []
    for sub in subs:
        found = []
        for key, vtype in inputs(sub.spec.form_version):
            value = sub.values.get(key)
            if value is None:
                continue
            for rule_id, valid in rules_for(vtype):
                if not valid(value):
                    found.append(finding(sub.spec, key, rule_id, value))
        out.append(one_per_cell(found))
    return out


def finding(spec: FormSpec, key: str, rule_id: str, value: Any) -> Finding:
    rule = spec.rule(rule_id)
    sheet, cell = for_spec(spec).locate(key)
    message = rule.message.format(where=cell.what, value=shown(value), places=PLACES.get(cell.vtype or "", 0))
    return Finding(rule.id, rule.severity, message, sheet.name, cell.address, value, None)


def one_per_cell(findings: list[Finding]) -> list[Finding]:
    """A cell that fails several checks (-1.5: negative and fractional) gets the first one only."""
    best: dict[tuple[str | None, str | None], Finding] = {}
    for f in sorted(findings, key=lambda f: CHECK_ORDER.index(f.rule)):
        best.setdefault((f.sheet, f.cell), f)
    return list(best.values())
