"""A parsed report -> the form's values: choose the form, place the figures, read unit, year and texts.

One report: its :class:`~xltool.importers.model.Document` (from :mod:`parsers`), its figures placed
(:mod:`place`), unit, year and narratives read (:mod:`meta`); published totals that disagree with
their items, or were printed blank, are kept as printed (written over the formula). Nothing here
reads or writes a file: :mod:`xltool.sources.importing` does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from xltool.errors import UsageError
from xltool.form import spec as specs
from xltool.form.spec import NUMERIC_TYPES, FormSpec, TableCell
from xltool.importers import dates, meta
from xltool.importers.model import Document
from xltool.importers.place import Placement, header_match, place
from xltool.importers.stream import Stream, build
from xltool.importers.values import money_unit
from xltool.submission import Submission, Value, parts_of

MIN_HEADERS = 0.5  # share of the form's table-二 column labels a report of that form prints
_NO_FEE = re.compile(r"(?:未|没有|无|不)(?:发生|产生)?[^。；;，,]{0,6}?(?:收取|收费|处理费)")


@dataclass
class Reading:
    """What one report gave: its form, unit, year, the placed figures and the values to write."""

    source: Path
    spec: FormSpec | None = None
    unit: str | None = None
    year: int | None = None
    placement: Placement | None = None
    values: dict[str, Value] = field(default_factory=dict)
    constants: dict[str, Value] = field(default_factory=dict)
    unsplit: frozenset[str] = frozenset()  # narrative sections not split into their parts (all in the first)
    published: dates.Published | None = None  # when the page says it was published (发布时间, 落款日期)
    problem: str | None = None  # read, but not (all of) a report: exit 1
    refused: str | None = None  # cannot be imported at all: exit 2


def read_document(doc: Document, *, year: int | None = None, unit: str | None = None) -> Reading:
    """Place one parsed report's figures and texts (nothing written)."""
    reading = Reading(doc.source)
    stream = build(doc)
    title = meta.title(doc, stream)
    reading.year = year if year is not None else title.year
    reading.unit = unit.strip() if unit else title.unit
    reading.published = dates.published(doc, reading.unit)
    if reading.year is not None and not any(s.accepts_year(reading.year) for s in _all_specs()):
        reading.refused = _unsupported(reading.year)
        return reading
    # Every form is tried: the one whose table-二 columns the report prints wins, the year's form
    # breaking ties. A report printed on another form than its year's imports into the form it
    # printed, and check then says which form the year needs (M-YEAR).
    placed = [(spec, place(stream, spec), header_match(stream, spec)) for spec in _all_specs()]
    spec, placement, match = max(
        placed,
        key=lambda sp: (
            sp[1].problem is None,
            sp[2] >= MIN_HEADERS,
            reading.year is not None and sp[0].accepts_year(reading.year),
            sp[1].found,
        ),
    )
    printed = any(m > 0 for _s, _p, m in placed)  # a report that prints no 表二 header at all: its year decides
    if placement.problem is None and match < MIN_HEADERS and placement.found and (printed or reading.year is None):
        reading.refused = _other_form(reading.year)
        return reading
    reading.spec, reading.placement = spec, placement
    if placement.problem:
        reading.problem = placement.problem
        return reading
    if placement.cut_after:
        reading.problem = f"原文不完整：在{placement.cut_after}之后中断，后面的内容缺失。"
    _values(reading, doc, stream)
    return reading


def _all_specs() -> list[FormSpec]:
    return [specs.load(v) for v in specs.SPEC_FILES]


def _other_form(year: int | None) -> str:
    when = f"（{year} 年度）" if year is not None else ""
    return (
        f"这份报告{when}第二部分表格的栏目与 xltool 认识的表式（{specs.supported()}）都对不上，"
        "无法确定用的是哪种表式，不能导入。"
    )


def _unsupported(year: int) -> str:
    return f"这是 {year} 年度的报告，没有适用的表式，无法导入。xltool 支持{specs.supported()}。"


def _values(reading: Reading, doc: Document, stream: Stream) -> None:
    assert reading.spec is not None and reading.placement is not None
    spec, placement = reading.spec, reading.placement
    values: dict[str, Value] = {k: placement.values.get(k) for k in spec.input_keys}
    if reading.unit:
        values["unit.unit_name"] = reading.unit
    if reading.year is not None:
        values["unit.report_year"] = reading.year
    texts, reading.unsplit = meta.narratives(
        stream, spec, placement.anchors, placement.ends, wrapped=doc.format == "pdf", unit=reading.unit
    )
    values.update(texts)
    for section, part, f in spec.fields():
        key = f"{section.key}.{f.key}"
        stated = texts.get(f"{section.key}.{part.key}", "")
        values[key] = 0 if f.type in NUMERIC_TYPES and _NO_FEE.search(stated) else None
    for cell, unit_key in spec.chosen_units():  # a money amount printed with its unit: the unit cell
        printed = placement.sources.get(cell.key, ("", ""))[0]
        values[unit_key] = money_unit(printed, tuple(cell.col.node.units)) if cell.key in placement.values else None
    reading.values = values
    reading.constants = _totals(spec, placement, values)


def _totals(spec: FormSpec, placement: Placement, values: dict[str, Value]) -> dict[str, Value]:
    """Published totals written over their formulas: those printed blank or not read (left blank), and
    those that disagree with their items (all read). A total that agrees keeps its formula; so does
    one whose items were not all read."""
    cells = spec.by_key
    out: dict[str, Value] = {k: None for k in placement.missing if cells[k].derived}  # unread: blank, not a 0
    for key, printed in placement.printed.items():
        parts = _leaf_parts(cells, key)
        if printed is None:
            out[key] = None
            continue
        known = [v for p in parts if isinstance(v := values.get(p), int | Decimal)]
        if len(known) == len(parts) and sum(known, start=0) != printed:
            out[key] = printed
    return out


def _leaf_parts(cells: Mapping[str, TableCell], key: str) -> list[str]:
    parts = parts_of(cells[key])
    out: list[str] = []
    for p in parts:
        out.extend(_leaf_parts(cells, p) if parts_of(cells[p]) else [p])
    return out


def import_report(doc: Document, *, year: int | None = None, unit: str | None = None) -> Submission:
    """A parsed report as a submission (in memory): its figures, texts, and the published totals as printed.

    Raises UsageError when the report cannot be imported or is not (all of) a report.
    """
    return as_submission(read_document(doc, year=year, unit=unit))


def as_submission(reading: Reading) -> Submission:
    """What :func:`read_document` read, as a submission; refused when it is not (all of) a report."""
    problem = reading.refused or reading.problem
    if problem or reading.spec is None:
        raise UsageError(f"{reading.source} 不能作为上年度报告使用：{problem or '无法导入'}")
    values = dict(reading.values)
    reported = {k: v for k, v in reading.constants.items() if isinstance(v, int | Decimal)}
    return Submission(reading.spec, str(reading.source), values, reported=reported)
