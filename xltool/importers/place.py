"""The placer: a published report -> the definition's cells, by row label and column header.

Sections are found by their headings (numbering and opening words; the words alone where a report
numbers its parts otherwise). Figures come from the document's table grids
(:mod:`xltool.importers.grids`): each by its row's label and its column's header. A block that no
grid holds is read where its labels stand in the prose (:mod:`xltool.importers.inline`). Every label
comes from the :class:`~xltool.form.spec.FormSpec`; nothing here knows a label.

Precision over recall: a figure that cannot be read with certainty is left out and recorded in
:attr:`Placement.missing` with the reason, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xltool.form.spec import FormSpec, Section, leaves
from xltool.importers import grids
from xltool.importers.find import Hit, first, heading
from xltool.importers.grids import Origin, RowRead
from xltool.importers.inline import Inline
from xltool.importers.stream import Stream
from xltool.submission import Number, Value

NOT_A_REPORT = "没有找到政府信息公开工作年度报告的表格（第二、三、四部分），这可能不是年度报告。"


@dataclass
class Placement:
    """What was read from one report, cell by cell (keys as :attr:`TableCell.key`)."""

    spec: FormSpec
    values: dict[str, Value] = field(default_factory=dict)  # inputs: number, or None where printed empty
    printed: dict[str, Number | None] = field(default_factory=dict)  # totals as printed
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (printed row, where)
    origins: dict[str, Origin] = field(default_factory=dict)  # key -> the table, row and column it came from
    missing: dict[str, str] = field(default_factory=dict)  # key -> why it could not be read
    notes: list[str] = field(default_factory=list)
    anchors: dict[str, Hit | None] = field(default_factory=dict)  # section key -> its heading
    ends: dict[str, int] = field(default_factory=dict)  # table section key -> where its values end
    cut_after: str | None = None  # the last row read when the report is cut off part-way
    problem: str | None = None  # the document is not a report, or holds two candidate tables

    @property
    def found(self) -> int:
        return len(self.values) + len(self.printed)


def place(stream: Stream, spec: FormSpec) -> Placement:
    out = Placement(spec)
    out.anchors = _anchors(stream, spec)
    assert stream.doc is not None, "a stream built by stream.build(doc)"
    reader = grids.read(stream.doc, stream, spec)
    reads = list(reader.reads)
    covered = {(r.row.table, r.row.block.key) for r in reader.reads}
    inline = Inline(stream, spec, out.anchors)
    for section in spec.sections:
        if section.table is None:
            continue
        lo, hi = _zone(stream, spec, section, out.anchors)
        bounds = _bounds(stream, spec, out.anchors, section, lo, hi)
        for block in section.table.blocks:
            if (section.table.key, block.key) in covered:
                continue
            if block.label_columns:
                inline.read_block(section, block, lo, hi, bounds)
            else:
                inline.read_unlabelled(section, block, lo, hi)
    reads += inline.reads
    problem = _doubled(spec, reads, inline)
    if problem:
        out.problem = problem
        return out
    _record(out, reads)
    for section in spec.sections:  # a table read nowhere ends where its place begins
        if section.table is not None:
            lo, _hi = _zone(stream, spec, section, out.anchors)
            out.ends[section.key] = max(out.ends.get(section.key, lo), lo)
    if out.found == 0 or not _any_table_heading(stream, spec):
        out.problem = NOT_A_REPORT
        return out
    cells = tuple(spec.by_key)
    for key, why in reader.conflicts.items():
        for cell in cells:
            if cell.startswith(key + ".") and cell not in out.values and cell not in out.printed:
                out.missing.setdefault(cell, why)
    _cut_off(spec, out)
    for cell in cells:
        if cell not in out.values and cell not in out.printed:
            out.missing.setdefault(cell, "原文中没有找到这一行")
    return out


def _record(out: Placement, reads: list[RowRead]) -> None:
    """Each form row from its first printed row that gave figures (else its first one)."""
    chosen: dict[str, RowRead] = {}
    for read in reads:
        key = f"{read.row.table}.{read.row.leaf.key}"
        if key not in chosen or (read.cells and not chosen[key].cells):
            chosen[key] = read
    derived = out.spec.derived_keys
    for read in chosen.values():
        for key, value in read.cells.items():
            (out.printed if key in derived else out.values)[key] = value
            origin = read.origins[key]
            out.origins[key] = origin
            out.sources[key] = (origin.line, origin.where)
        for key, why in read.doubts.items():
            if key not in read.cells:
                out.missing.setdefault(key, why)
        section = out.spec.section_of(read.row.table).key
        out.ends[section] = max(out.ends.get(section, 0), read.end)


def _doubled(spec: FormSpec, reads: list[RowRead], inline: Inline) -> str | None:
    """Two tables that each print most of a section's rows: which one is the report's cannot be told."""
    for section in spec.sections:
        if section.table is None:
            continue
        labelled = [leaf for b in section.table.blocks if b.label_columns for leaf in leaves(b.rows)]
        seen: dict[str, int] = {}
        for read in reads:
            if read.row.table == section.table.key and read.row.block.label_columns:
                seen[read.row.leaf.key] = seen.get(read.row.leaf.key, 0) + 1
        doubled = sum(n > 1 for n in seen.values()) + inline.doubled.get(section.key, 0)
        if len(labelled) >= 4 and doubled * 2 > len(labelled):
            return (
                f"原文中有两个像“{section.heading}”的表格，无法确定应当导入哪一个。"
                "请只保留本单位本年度的那一个表格后再导入。"
            )
    return None


# ---------------------------------------------------------------- where each table stands


def _anchors(stream: Stream, spec: FormSpec) -> dict[str, Hit | None]:
    """Each section's heading in order: with the form's numbering, else with any numbering (a report
    that inserts a part numbers the rest one on); a table's heading reworded: its caption or labels."""
    out: dict[str, Hit | None] = {}
    cursor = 0
    for section in spec.sections:
        hit = heading(stream, section.heading, cursor, len(stream.raw))
        if hit is None:
            hit = heading(stream, section.heading, cursor, len(stream.raw), any_number=True)
        if hit is None and section.table is not None:
            for label in _fallback_labels(section):
                hit = first(stream, label, cursor, len(stream.raw))
                if hit is not None:
                    break
        out[section.key] = hit
        if hit is not None:
            cursor = hit.end
    for i, section in enumerate(spec.sections):
        if out[section.key] is None and section.table is None:
            out[section.key] = _renamed(stream, spec, out, i)
    return out


def _renamed(stream: Stream, spec: FormSpec, found: dict[str, Hit | None], i: int) -> Hit | None:
    """A heading in other words (一、概述, 六、需要说明的其他事项与附表): a short line that starts with
    the section's number, between the sections found before and after it."""
    section = spec.sections[i]
    lo = max((a.end for s in spec.sections[:i] if (a := found.get(s.key)) is not None), default=0)
    hi = min((a.start for s in spec.sections[i + 1 :] if (a := found.get(s.key)) is not None), default=len(stream.raw))
    number = section.heading.split("、", 1)[0] + "、"
    m = re.compile(rf"(?m)^[ \t\u3000#]*{number}[^\n]{{1,40}}$").search(stream.raw, lo, max(lo, hi))
    if m is None:
        return None
    start = m.start() + len(m.group()) - len(m.group().lstrip(" \t\u3000#"))
    return Hit(start, m.end(), section.heading)


def _any_table_heading(stream: Stream, spec: FormSpec) -> bool:
    """A report prints at least one of its tables' section headings (二、主动公开政府信息情况 …)."""
    return any(
        heading(stream, s.heading, 0, len(stream.raw), any_number=True) for s in spec.sections if s.table is not None
    )


def _fallback_labels(section: Section) -> list[str]:
    assert section.table is not None
    block = section.table.blocks[0]
    labels = [block.caption] if block.caption else []
    return [*labels, block.columns[0].label]


def _zone(stream: Stream, spec: FormSpec, section: Section, anchors: dict[str, Hit | None]) -> tuple[int, int]:
    keys = [s.key for s in spec.sections]
    i = keys.index(section.key)
    before = [a.end for k in keys[:i] if (a := anchors[k]) is not None]
    own = anchors[section.key]
    lo = own.start if own is not None else (max(before) if before else 0)
    after = [a.start for k in keys[i + 1 :] if (a := anchors[k]) is not None and a.start > lo]
    return lo, min(after) if after else len(stream.raw)


def _bounds(
    stream: Stream, spec: FormSpec, anchors: dict[str, Hit | None], section: Section, lo: int, hi: int
) -> set[int]:
    """Where a row's figures must end at the latest: other sections' headings, the blocks' captions."""
    out = {a.start for k, a in anchors.items() if a is not None and k != section.key}
    assert section.table is not None
    for block in section.table.blocks:
        if block.caption:
            hit = first(stream, block.caption, lo, hi)
            if hit is not None:
                out.add(hit.start)
    return out


def header_match(stream: Stream, spec: FormSpec) -> float:
    """The share of the definition's captioned column labels that the document prints: a report on
    another form version prints other columns (2019: 本年新制作数量, 上一年项目数量)."""
    labels = {c.label for t in spec.tables() for b in t.blocks if b.caption for c in leaves(b.columns)}
    if not labels:
        return 1.0
    found = sum(first(stream, label, 0, len(stream.raw)) is not None for label in labels)
    return found / len(labels)


# ---------------------------------------------------------------- cut-off reports


def _cut_off(spec: FormSpec, out: Placement) -> None:
    """A report that stops part-way: cells after the last one read are all missing and nothing of the
    form follows. (A row the cut falls inside reaches the end of the text and is not read at all.)"""
    order = tuple(spec.by_key)
    read = [i for i, k in enumerate(order) if k in out.values or k in out.printed]
    if not read or read[-1] == len(order) - 1:
        return
    table_key, row_key, _col = order[read[-1]].split(".")
    keys = [s.key for s in spec.sections]
    section = spec.section_of(table_key)
    if any(out.anchors.get(k) is not None for k in keys[keys.index(section.key) + 1 :]):
        return
    label = (
        next(leaf.label for b in section.table.blocks for leaf in leaves(b.rows) if leaf.key == row_key)
        if section.table
        else row_key
    )
    out.cut_after = f"{section.heading}“{label}”"
    for key in order[read[-1] + 1 :]:
        out.missing.setdefault(key, "原文不完整，这部分内容缺失")
