"""The typed content of one workbook, and the arithmetic every other module shares."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xltool.form.layout import FAIL, PASS, Check
from xltool.form.spec import NUMERIC_TYPES, FormSpec, TableCell

Number = int | Decimal
Value = Number | str | None

PROPERTY_PREFIX = "xltool."
SUMMARY = "summary_units"  # property of a merged summary: how many units it covers
UNSPLIT_PROPERTY = "unsplit_sections"  # set by `xltool import`: see Submission.unsplit_sections
DRAFTED_PROPERTY = "drafted"  # set by `xltool draft` and `merge`: see Submission.drafts
# a published report's: its publication date (ISO), where the date came from, and its whole text
PUBLISHED_PROPERTY, PUBLISHED_FROM_PROPERTY, DOCUMENT_PROPERTY = "published", "published_from", "document_text"
IMPORT_PROPERTY = "import_source"  # set by `xltool import`: the published report a workbook was made from


@dataclass(frozen=True)
class Finding:
    """One problem found in a submission."""

    rule: str
    severity: str
    message: str
    sheet: str | None = None
    cell: str | None = None
    value: Any = None
    expected: Any = None
    quote: str | None = field(default=None, compare=False)  # the words of the source a finding quotes

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "sheet": self.sheet,
            "cell": self.cell,
            "message": self.message,
            "value": jsonable(self.value),
            "expected": jsonable(self.expected),
        }


class Counted:
    """Error and warning counts of anything that carries ``findings``."""

    findings: Sequence[Finding]

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)


def shown(value: Any) -> Any:
    """A value as messages and documents show it: Decimals as entered, never in exponent form."""
    return format(value, "f") if isinstance(value, Decimal) else value


def jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() and "." not in str(v) else str(v)
    return v


@dataclass
class Submission:
    """One filled workbook: every keyed value (inputs, unit fields, narratives) by key.

    ``values`` holds ints and Decimals for numbers, str for text, None where a cell is blank or
    could not be read (a finding says why). ``reported`` holds the totals as the file showed them
    (a constant that replaced a formula, or a cached value) where known.
    """

    spec: FormSpec
    source: str
    values: dict[str, Value]
    reported: dict[str, Number] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    sheets: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)  # a summary's own sheets, as plain rows

    def number(self, key: str) -> Number:
        """An input or a recomputed total; unreadable inputs count as 0 (they have a finding)."""
        return computed(self.spec, self.values)[key] if key.startswith("t") else _num(self.values.get(key))

    def text(self, key: str) -> str:
        v = self.values.get(key)
        return "" if v is None else str(v)

    @property
    def unit_name(self) -> str:
        return self.text("unit.unit_name")

    @property
    def summary_units(self) -> int:
        """How many units a merged summary covers (0 for one unit's own workbook)."""
        n = self.properties.get(SUMMARY, "")
        return int(n) if n.isdigit() else 0

    @property
    def imported(self) -> bool:
        """Whether `xltool import` made this workbook from a published report."""
        return IMPORT_PROPERTY in self.properties

    @property
    def unsplit_sections(self) -> frozenset[str]:
        """Narrative sections whose whole text is in their first part: an import from a report that
        did not print the part headings (the other parts are empty because the text was not split)."""
        return frozenset(k for k in self.properties.get(UNSPLIT_PROPERTY, "").split(",") if k)

    @property
    def drafts(self) -> dict[str, str]:
        """Text parts xltool drafted, each with the fingerprint of the text it wrote (:func:`drafted_stamp`)."""
        pairs = (item.partition("=") for item in self.properties.get(DRAFTED_PROPERTY, "").split(";"))
        return {key: digest for key, _, digest in pairs if key and digest}

    def unedited_drafts(self) -> list[str]:
        """The drafted parts whose text is still exactly what xltool wrote (an edited draft is the writer's)."""
        return [key for key, digest in self.drafts.items() if fingerprint(self.text(key)) == digest]

    def drafts_to_review(self) -> list[str]:
        """Unedited drafts of prose someone must read before publishing. A part with figures of its own
        (六（一）信息处理费) is fully said by its draft of them: it needs no review."""
        said = {f"{s.key}.{p.key}" for s in self.spec.sections for p in s.parts if p.fields}
        return [key for key in self.unedited_drafts() if key not in said]

    @property
    def year(self) -> int | None:
        v = self.values.get("unit.report_year")
        return v if isinstance(v, int) else None


def fingerprint(text: str) -> str:
    """A short digest of a text as a spreadsheet program keeps it (line ends and outer blanks aside)."""
    plain = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()[:12]


def drafted_stamp(texts: Mapping[str, str]) -> str:
    """The DRAFTED_PROPERTY value for drafted texts: ``key=fingerprint`` joined by ";" (short: a custom
    property holds 255 characters)."""
    return ";".join(f"{key}={fingerprint(text)}" for key, text in texts.items())


def _num(v: Value) -> Number:
    return v if isinstance(v, int | Decimal) else 0


def computed(spec: FormSpec, values: dict[str, Value]) -> dict[str, Number]:
    """Every table cell's value: inputs as given (0 when missing), totals recomputed from inputs."""
    out: dict[str, Number] = {}
    for key, parts in _plan(spec):
        out[key] = sum((out[p] for p in parts), start=0) if parts else _num(values.get(key))
    return out


_PLANS: dict[int, tuple[FormSpec, tuple[tuple[str, tuple[str, ...]], ...]]] = {}


def _plan(spec: FormSpec) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every table cell's key and the keys it sums (none for an input), each total after its parts
    (in the order the cells come, parts first), worked out once per spec object."""
    hit = _PLANS.get(id(spec))
    if hit is None or hit[0] is not spec:
        if len(_PLANS) > 64:  # specs parsed on the fly (tests) must not pile up
            _PLANS.clear()
        cells: dict[str, TableCell] = {c.key: c for c in spec.cells()}
        order: dict[str, tuple[str, ...]] = {}

        def visit(key: str) -> None:
            if key in order:
                return
            parts = tuple(parts_of(cells[key]))
            for p in parts:
                visit(p)
            order[key] = parts

        for key in cells:
            visit(key)
        hit = _PLANS[id(spec)] = (spec, tuple(order.items()))
    return hit[1]


def parts_of(cell: TableCell) -> list[str]:
    """The keys a derived cell sums (empty for an input)."""
    if cell.col.node.derived:
        return [f"{cell.table}.{cell.row.key}.{k}" for k in cell.col.siblings]
    if cell.row.node.derived:
        return [f"{cell.table}.{k}.{cell.col.key}" for k in cell.row.siblings]
    return []


def unknown(spec: FormSpec, values: dict[str, Value]) -> set[str]:
    """Table keys whose value is not known: unreadable inputs and every total that includes one."""
    out: dict[str, bool] = {}
    for key, parts in _plan(spec):
        out[key] = any(out[p] for p in parts) if parts else not isinstance(values.get(key), int | Decimal)
    return {key for key, missing in out.items() if missing}


def previous_numbers(spec: FormSpec, last: Submission) -> tuple[dict[str, Number], set[str]]:
    """Last year's figures under this form's table keys, and the keys among them not known.

    Last year's workbook may be on the form this one replaced: each key takes the sum of its
    counterparts there (:meth:`FormSpec.counterparts`); a key without counterpart is absent.
    """
    links = spec.counterparts(last.spec)
    numbers, missing = computed(last.spec, last.values), unknown(last.spec, last.values)
    out: dict[str, Number] = {k: sum((numbers[s] for s in src), start=0) for k, src in links.items()}
    return out, {k for k, src in links.items() if any(s in missing for s in src)}


def check_result(check: Check, numbers: dict[str, Number], values: dict[str, Value]) -> str:
    """What a live check formula shows for these values."""
    if check.kind == "numbers":
        ok = all(isinstance(values.get(k), int | Decimal) for k in check.left)
    else:
        ok = sum(numbers[k] for k in check.left) == sum(numbers[k] for k in check.right)
    return PASS if ok else FAIL


def blank_values(spec: FormSpec) -> dict[str, Value]:
    """The values of a fresh template: numeric inputs 0, everything else empty."""
    values: dict[str, Value] = {c.key: 0 for c in spec.inputs()}
    for section, _part, f in spec.fields():
        values[f"{section.key}.{f.key}"] = 0 if f.type in NUMERIC_TYPES else None
    return values
