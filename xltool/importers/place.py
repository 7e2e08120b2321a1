"""The placer: a published report's tables -> the definition's cells, by label, for every format.

Tables are found by their section headings (numbering and opening words) or, failing that, by
their captions and column labels; rows by their row labels inside that table's stretch of text
(in any order); values are read from the text between a row's label and whatever follows it.
Every label comes from the :class:`~xltool.form.spec.FormSpec`; nothing here knows a label.

Precision over recall: a figure that cannot be read with certainty is left out and recorded in
:attr:`Placement.missing` with the reason, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xltool.form.spec import Block, FormSpec, Leaf, Node, Section, leaves
from xltool.importers import regions
from xltool.importers.find import Hit, find_all, first, heading
from xltool.importers.labels import label_form
from xltool.importers.stream import Stream
from xltool.importers.values import Doubt, parse_value, splits
from xltool.submission import Number, Value


@dataclass
class Placement:
    """What was read from one report, cell by cell (keys as :attr:`TableCell.key`)."""

    spec: FormSpec
    values: dict[str, Value] = field(default_factory=dict)  # inputs: number, or None where printed empty
    printed: dict[str, Number | None] = field(default_factory=dict)  # totals as printed
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (printed text, where)
    missing: dict[str, str] = field(default_factory=dict)  # key -> why it could not be read
    notes: list[str] = field(default_factory=list)
    anchors: dict[str, Hit | None] = field(default_factory=dict)  # section key -> its heading
    ends: dict[str, int] = field(default_factory=dict)  # table section key -> where its values end
    cut_after: str | None = None  # the last row read when the report is cut off part-way
    problem: str | None = None  # the document is not a report, or holds two candidate tables

    @property
    def found(self) -> int:
        return len(self.values) + len(self.printed)


@dataclass(frozen=True)
class _Row:
    block: Block
    leaf: Leaf
    hit: Hit


def place(stream: Stream, spec: FormSpec) -> Placement:
    out = Placement(spec)
    out.anchors = _anchors(stream, spec)
    spaced = regions.spaced_layout(stream.raw)
    for section in spec.sections:
        if section.table is None:
            continue
        lo, hi = _zone(stream, spec, section, out.anchors)
        rows = _rows(stream, spec, section, lo, hi, out)
        if out.problem:
            return out
        boundaries = sorted({r.hit.start for r in rows} | _other_starts(out.anchors, section.key))
        end = lo
        for row in rows:
            stop = min([b for b in boundaries if b > row.hit.start] + [hi])
            region_end = regions.extent(stream.raw, row.hit.end, stop)
            _read_row(stream, section, row, lo, rows[0].hit.start, region_end, region_end == stop, spaced, out)
            end = max(end, region_end)
        for block in section.table.blocks:
            if block.label_columns == 0:
                end = max(end, _read_unlabelled(stream, spec, section, block, lo, hi, spaced, out))
        out.ends[section.key] = end
    if out.found == 0 or not _any_table_heading(stream, spec):
        out.problem = "没有找到政府信息公开工作年度报告的表格（第二、三、四部分），这可能不是年度报告。"
        return out
    _cut_off(spec, out)
    for cell in spec.cells():
        if cell.key not in out.values and cell.key not in out.printed:
            out.missing.setdefault(cell.key, "原文中没有找到这一行")
    return out


# ---------------------------------------------------------------- where each table stands


def _anchors(stream: Stream, spec: FormSpec) -> dict[str, Hit | None]:
    """Each section's heading in order; a table whose heading is reworded by its caption or labels."""
    out: dict[str, Hit | None] = {}
    cursor = 0
    for section in spec.sections:
        hit = heading(stream, section.heading, cursor, len(stream.raw))
        if hit is None and section.table is not None:
            for label in _fallback_labels(section):
                hit = first(stream, label, cursor, len(stream.raw))
                if hit is not None:
                    break
        out[section.key] = hit
        if hit is not None:
            cursor = hit.end
    return out


def _any_table_heading(stream: Stream, spec: FormSpec) -> bool:
    """A report prints at least one of its tables' section headings (二、主动公开政府信息情况 …)."""
    return any(heading(stream, s.heading, 0, len(stream.raw)) for s in spec.sections if s.table is not None)


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


def _other_starts(anchors: dict[str, Hit | None], own: str) -> set[int]:
    return {a.start for k, a in anchors.items() if a is not None and k != own}


def _rows(stream: Stream, spec: FormSpec, section: Section, lo: int, hi: int, out: Placement) -> list[_Row]:
    assert section.table is not None
    found: list[_Row] = []
    doubled = 0
    labelled = 0
    for block in section.table.blocks:
        if block.label_columns == 0:
            continue
        for leaf in leaves(block.rows):
            labelled += 1
            hits = _preferred(stream, find_all(stream, leaf.label, lo, hi, spec), leaf.label)
            if hits:
                found.append(_Row(block, leaf, hits[0]))
                doubled += len(hits) > 1
    if labelled >= 4 and doubled * 2 > labelled:
        out.problem = (
            f"原文中有两个像“{section.heading}”的表格，无法确定应当导入哪一个。"
            "请只保留本单位本年度的那一个表格后再导入。"
        )
    return sorted(found, key=lambda r: r.hit.start)


def _preferred(stream: Stream, hits: list[Hit], label: str) -> list[Hit]:
    """A numbered label printed with its numbering is the table's row; the same words without it
    are taken only where a cell starts (a sentence may quote a row's words: ``其中，予以公开2件``)."""
    if not label_form(label).number:
        return hits
    numbered = [h for h in hits if h.numbered]
    return numbered or [h for h in hits if _cell_start(stream.raw, h.start)]


def _cell_start(raw: str, pos: int) -> bool:
    before = raw[:pos].rstrip(" \u3000")
    return not before or before[-1] in "\n\t|" or before[-1].isdigit()


def header_match(stream: Stream, spec: FormSpec) -> float:
    """The share of the definition's captioned column labels that the document prints: a report on
    another form version prints other columns (2019: 本年新制作数量, 上一年项目数量)."""
    labels = {c.label for t in spec.tables() for b in t.blocks if b.caption for c in leaves(b.columns)}
    if not labels:
        return 1.0
    found = sum(first(stream, label, 0, len(stream.raw)) is not None for label in labels)
    return found / len(labels)


# ---------------------------------------------------------------- reading a row


def _columns(block: Block) -> list[Leaf]:
    return leaves(block.columns)


def _groups(cols: list[Leaf]) -> list[tuple[int, ...]]:
    """Totals among the columns as index tuples (parts..., total) for :func:`values.splits`."""
    index = {c.key: i for i, c in enumerate(cols)}
    return [(*(index[k] for k in c.siblings), index[c.key]) for c in cols if c.node.derived]


def _read_row(
    stream: Stream,
    section: Section,
    row: _Row,
    lo: int,
    first_row: int,
    region_end: int,
    at_boundary: bool,
    spaced: bool,
    out: Placement,
) -> None:
    assert section.table is not None
    cols = _columns(row.block)
    region = stream.raw[row.hit.end : region_end]
    keys = [f"{section.table.key}.{row.leaf.key}.{c.key}" for c in cols]
    source = (_shown(stream.raw[row.hit.start : region_end]), stream.where(row.hit.start))
    if region_end >= len(stream.raw.rstrip()) and not stream.exact(row.hit.start):
        _unread(out, keys, "原文在这一行中断")
        return
    cells = regions.read(region, spaced)
    total_missing = not _total_printed(stream, row.block, lo, first_row)
    result = _values(cells, cols, total_missing, at_boundary, region)
    _record(out, keys, cols, result, source)


def _read_unlabelled(
    stream: Stream, spec: FormSpec, section: Section, block: Block, lo: int, hi: int, spaced: bool, out: Placement
) -> int:
    """A block whose only row has no label (表四): the first run of figures after its header."""
    assert section.table is not None
    cols = _columns(block)
    row = leaves(block.rows)[0]
    keys = [f"{section.table.key}.{row.key}.{c.key}" for c in cols]
    anchor = first(stream, block.columns[0].label, lo, hi)
    if anchor is None:
        _unread(out, keys, "原文中没有找到这个表格")
        return lo
    digit = re.compile(r"[0-9０-９]").search(stream.raw, anchor.end, hi)
    if digit is None:
        _unread(out, keys, "原文中这个表格没有数字")
        return anchor.end
    start = max(
        [
            anchor.end,
            *(h.end for label in _header_labels(block) for h in find_all(stream, label, anchor.start, digit.start())),
        ]
    )
    end = regions.extent(stream.raw, start, hi)
    if end >= len(stream.raw.rstrip()) and not stream.exact(start):
        _unread(out, keys, "原文在这一行中断")
        return end
    region = stream.raw[start:end]
    source = (_shown(region), stream.where(digit.start()))
    _record(out, keys, cols, _values(regions.read(region, spaced), cols, False, True, region), source)
    return end


def _header_labels(block: Block) -> list[str]:
    out: list[str] = []

    def walk(nodes: tuple[Node, ...]) -> None:
        for n in nodes:
            out.append(n.label)
            walk(n.children)

    walk(block.columns)
    return out


def _total_printed(stream: Stream, block: Block, lo: int, first_row: int) -> bool:
    """Whether the block's total columns have their headers printed before its first row."""
    return all(first(stream, c.label, lo, first_row) is not None for c in _columns(block) if c.node.derived)


def _values(
    cells: regions.Cells, cols: list[Leaf], total_missing: bool, at_boundary: bool, region: str
) -> list[Number | Doubt | None] | str:
    n = len(cols)
    items = list(cells.items)
    if cells.run_together:
        if not items and not at_boundary:
            return "这一行后面没有读到数字"
        return _run_together(items, cols, region)
    if not items:
        return [None] * n if at_boundary and not region.strip(" \u3000") else "这一行后面没有读到数字"
    while len(items) > n and items[-1] == "":
        items.pop()
    if len(items) > n and all(x == items[n - 1] for x in items[n:]):
        items = items[:n]  # a value spread over merged columns repeats in each
    if len(items) == n:
        return [parse_value(x, c.node.type, tuple(c.node.units)) for x, c in zip(items, cols, strict=True)]
    inputs = [c for c in cols if not c.node.derived]
    if total_missing and len(items) == len(inputs):
        parsed = {c.key: parse_value(x, c.node.type, tuple(c.node.units)) for x, c in zip(items, inputs, strict=True)}
        return [parsed.get(c.key, Doubt("", "原文没有总计列")) for c in cols]
    return f"读到 {len(items)} 个数（“{_shown(region)}”），这一行应有 {n} 个"


def _run_together(tokens: list[str], cols: list[Leaf], region: str) -> list[Number | Doubt | None] | str:
    n = len(cols)
    if not tokens:
        return [None] * n
    if len(tokens) == n:
        return [parse_value(x, c.node.type, tuple(c.node.units)) for x, c in zip(tokens, cols, strict=True)]
    if not all(t.isdigit() and t.isascii() for t in tokens):
        return f"无法把“{_shown(region)}”拆成 {n} 个数"
    if sum(len(t) for t in tokens) == n:
        return [int(d) for t in tokens for d in t]
    readings = splits(tokens, n, _groups(cols))
    if len(readings) == 1:
        return list(readings[0])
    if not readings:
        return f"数字连在一起（“{_shown(region)}”），没有一种拆法与总计相符"
    return f"数字连在一起（“{_shown(region)}”），可以有不止一种拆法，无法确定"


def _record(
    out: Placement,
    keys: list[str],
    cols: list[Leaf],
    result: list[Number | Doubt | None] | str,
    source: tuple[str, str],
) -> None:
    if isinstance(result, str):
        _unread(out, keys, result)
        return
    for key, col, value in zip(keys, cols, result, strict=True):
        if isinstance(value, Doubt):
            out.missing[key] = value.reason
            continue
        (out.printed if col.node.derived else out.values)[key] = value
        out.sources[key] = source


def _unread(out: Placement, keys: list[str], reason: str) -> None:
    for key in keys:
        out.missing.setdefault(key, reason)


def _shown(text: str, limit: int = 60) -> str:
    s = " ".join(text.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


# ---------------------------------------------------------------- cut-off reports


def _cut_off(spec: FormSpec, out: Placement) -> None:
    """A report that stops part-way: cells after the last one read are all missing and nothing of the
    form follows. (A row the cut falls inside reaches the end of the text and is not read at all.)"""
    order = [c.key for c in spec.cells()]
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
