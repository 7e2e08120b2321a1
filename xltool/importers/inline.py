"""A table printed inside prose (a page's text run together, cells split by single spaces or by
nothing at all) -> the form's cells, by the labels printed in it.

Used only for a block no grid holds. The block starts at its caption (第二十条第（一）项) or its
section heading; its header is the text from there to its first row label, read as a flattened
header (:func:`xltool.importers.headers.flattened`); a row label found before the block starts
(the same words in a sentence above the table) is not a row. A row's figures are the text from its
label to the first character that cannot be a figure; they are read by the run-together grammar
(:func:`xltool.importers.values.readings`): one reading, after the row's printed totals, or none.
Figures are figures only up to a boundary the text proves: the next label or heading, a space, a
unit, the end of the line. Where the figures run straight into prose (``02025年，我局``), a reading
must hold whatever the prose took (a number never starts with 0, so ``0`` is certain and ``5`` of
``52025年`` is not).
"""

from __future__ import annotations

import re

from xltool.form.spec import Block, FormSpec, Leaf, Section, leaves
from xltool.importers import headers, rows
from xltool.importers.find import Hit, find_all, first
from xltool.importers.grids import Origin, RowRead
from xltool.importers.headers import Columns
from xltool.importers.labels import fold, label_form
from xltool.importers.lines import NUMBERED
from xltool.importers.stream import Stream
from xltool.importers.values import Column, readings

SEPARATORS = re.compile(r"[|\t\s]+")
# characters a row's printed figures may contain (digits, units, signs, separators, blanks)
VALUE_CHARS = re.compile(r"[ \t\u3000\d０-９.,，．|+\-—–－/／%件条个项次万元增减无]*")
_UNIT_END = ("件", "条", "个", "项", "次", "元")
TEXT = "正文"


class Inline:
    def __init__(self, stream: Stream, spec: FormSpec, anchors: dict[str, Hit | None]) -> None:
        self.stream, self.spec, self.anchors = stream, spec, anchors
        self.reads: list[RowRead] = []
        self.doubled: dict[str, int] = {}  # section key -> labelled rows printed twice
        self.labelled: dict[str, int] = {}
        self.cell_of = spec.by_key
        self._starts = _label_starts(spec)

    def read_block(self, section: Section, block: Block, lo: int, hi: int, bounds: set[int]) -> None:
        start = self._block_start(section, block, lo, hi)
        found: list[tuple[Hit, Leaf]] = []
        for leaf in leaves(block.rows):
            self.labelled[section.key] = self.labelled.get(section.key, 0) + 1
            hits = [h for h in self._hits(leaf, start, hi) if not self.stream.exact(h.start)]
            if hits:
                found.append((hits[0], leaf))
                self.doubled[section.key] = self.doubled.get(section.key, 0) + (len(hits) > 1)
        if not found:
            return
        found.sort(key=lambda f: f[0].start)
        header_end = found[0][0].start
        cols = self._header(block, start, header_end)
        marks = sorted({h.start for h, _ in found} | bounds)
        for hit, leaf in found:
            nxt = min([b for b in marks if b > hit.start] + [hi])
            self._row(section, block, leaf, hit, min(nxt, self._line_end(hit.start)), nxt, cols)

    def read_unlabelled(self, section: Section, block: Block, lo: int, hi: int) -> None:
        """A block whose only row has no label (表四): the first run of figures after its header."""
        assert section.table is not None
        leaf = leaves(block.rows)[0]
        row = rows.Row(section, block, leaf, label_form(leaf.label), ())
        keys = _keys(section, block, leaf)
        heading = self.anchors.get(section.key)
        lo = max(lo, heading.end) if heading is not None and heading.start >= lo else lo  # not its words in the heading
        anchor = first(self.stream, block.columns[0].label, lo, hi)
        if anchor is None or self.stream.exact(anchor.start):
            return
        digit = re.compile(r"[0-9０-９]").search(self.stream.raw, anchor.end, hi)
        read = RowRead(row, pos=anchor.start)
        if digit is None:
            return
        labels = _header_labels(block)
        start = max(
            [
                anchor.end,
                *(h.end for label in labels for h in find_all(self.stream, label, anchor.start, digit.start())),
            ]
        )
        cols = self._header(block, anchor.start, start)
        end = self._extent(start, min(hi, self._line_end(start)))
        read.end = end
        self._values(read, block, keys, cols, start, end, TEXT, False)
        self.reads.append(read)

    # ------------------------------------------------------------ where the block and its rows are

    def _block_start(self, section: Section, block: Block, lo: int, hi: int) -> int:
        if block.caption:
            hit = first(self.stream, block.caption, lo, hi)
            if hit is not None:
                return hit.start
        anchor = self.anchors.get(section.key)
        return anchor.end if anchor is not None and anchor.start >= lo else lo

    def _hits(self, leaf: Leaf, lo: int, hi: int) -> list[Hit]:
        hits = find_all(self.stream, leaf.label, lo, hi, self.spec)
        if not label_form(leaf.label).number:
            return hits
        numbered = [h for h in hits if h.numbered]
        return numbered or [h for h in hits if _cell_start(self.stream.raw, h.start)]

    def _line_end(self, pos: int) -> int:
        end = self.stream.raw.find("\n", pos)
        return len(self.stream.raw) if end < 0 else end

    def _header(self, block: Block, start: int, end: int) -> Columns:
        cols = headers.flattened([self.stream.raw[start:end]], block) if end > start else None
        return cols if cols is not None else headers.by_order(block)

    # ------------------------------------------------------------ a row's figures

    def _row(self, section: Section, block: Block, leaf: Leaf, hit: Hit, stop: int, nxt: int, cols: Columns) -> None:
        row = rows.Row(section, block, leaf, label_form(leaf.label), ())
        read = RowRead(row, pos=hit.start)
        keys = _keys(section, block, leaf)
        end = self._extent(hit.end, stop)
        read.end = end
        if end >= len(self.stream.raw.rstrip()):
            read.doubts = dict.fromkeys(keys.values(), "原文在这一行中断")
        else:
            label = self.stream.raw[hit.start : hit.end]
            self._values(read, block, keys, cols, hit.end, end, label, end >= nxt)
        self.reads.append(read)

    def _extent(self, start: int, stop: int) -> int:
        m = VALUE_CHARS.match(self.stream.raw, start, stop)
        assert m is not None
        end = m.end()
        while end > start and self.stream.raw[end - 1] in " \t\u3000|":
            end -= 1
        return end

    def _proven(self, end: int) -> bool:
        """Whether the figures before ``end`` end there for certain: the text goes on with a label,
        a heading, a space or separator, or a new line, or the figures end with a unit."""
        raw = self.stream.raw
        if end >= len(raw) or raw[end] in " \t\u3000|\n" or raw[end - 1 : end] in _UNIT_END:
            return True
        if NUMBERED.match(raw[end : end + 8]):
            return True
        ahead = fold(raw[end : end + 40])
        return any(ahead.startswith(s) for s in self._starts)

    def _values(
        self,
        read: RowRead,
        block: Block,
        keys: dict[str, str],
        cols: Columns,
        start: int,
        end: int,
        label: str,
        at_next: bool,
    ) -> None:
        region = self.stream.raw[start:end]
        placed = [c for c in cols.leaves if c is not None]
        shown = " ".join(region.split())
        if not region.strip(" \u3000|\t"):
            if at_next and not region.strip():  # the next row's label follows at once: printed empty
                where = self.stream.where(start)
                for n, leaf in enumerate(placed, 1):
                    read.cells[keys[leaf.key]] = None
                    read.origins[keys[leaf.key]] = Origin(TEXT, 0, n, where, label, cols.labels[n - 1], "", label)
                return
            read.doubts = dict.fromkeys(keys.values(), "这一行后面没有读到数字")
            return
        chunks = [c for c in SEPARATORS.split(region.replace("，", ",")) if c]
        columns = [Column(self.cell_of[keys[c.key]].type, tuple(c.node.units)) for c in placed]
        index = {c.key: j for j, c in enumerate(placed)}
        groups = [
            (*(index[p] for p in parts), index[t])
            for t, parts in headers.groups(block)
            if t in index and all(p in index for p in parts)
        ]
        open_end = not self._proven(end)
        found = readings(chunks, columns, groups, open_end=open_end)
        if len(found) != 1:
            read.doubts = dict.fromkeys(keys.values(), _why(found, shown, len(placed), open_end))
            return
        values = dict(zip((c.key for c in placed), found[0], strict=True))
        if not cols.certain:
            ok, checked = headers.agrees(block, values)
            if not (ok and (checked or len(set(values.values())) <= 1 or len(placed) == 1)):
                read.doubts = dict.fromkeys(
                    keys.values(), "表头未能逐栏认出，按表式的栏目顺序读出的数字无法用本行总计核对，无法确定各栏"
                )
                return
        where = self.stream.where(start)
        header = {c.key: cols.labels[k] for k, c in enumerate(cols.leaves) if c is not None}
        for n, (leaf_key, value) in enumerate(values.items(), 1):
            read.cells[keys[leaf_key]] = value
            read.origins[keys[leaf_key]] = Origin(TEXT, 0, n, where, label, header.get(leaf_key, ""), "", shown)
        for leaf in cols.missing:
            read.doubts.setdefault(keys[leaf.key], f"原文表格没有“{leaf.label}”这一栏")


def _why(found: list, shown: str, n: int, open_end: bool) -> str:  # type: ignore[type-arg]
    if open_end:
        return f"数字后面紧接着正文（“{shown}”），不能确定数字在哪里结束"
    if found:
        return f"数字连在一起（“{shown}”），可以有不止一种拆法，无法确定"
    return f"无法把“{shown}”读成 {n} 个数"


def _keys(section: Section, block: Block, leaf: Leaf) -> dict[str, str]:
    assert section.table is not None
    return {c.key: f"{section.table.key}.{leaf.key}.{c.key}" for c in leaves(block.columns)}


def _cell_start(raw: str, pos: int) -> bool:
    before = raw[:pos].rstrip(" \u3000")
    return not before or before[-1] in "\n\t|" or before[-1].isdigit()


def _header_labels(block: Block) -> list[str]:
    out: list[str] = []

    def walk(nodes: tuple) -> None:  # type: ignore[type-arg]
        for n in nodes:
            out.append(n.label)
            walk(n.children)

    walk(block.columns)
    return out


def _label_starts(spec: FormSpec) -> tuple[str, ...]:
    """The opening characters of every label of the form (rows, columns, captions, headings)."""
    labels: list[str] = [s.heading for s in spec.sections]
    for table in spec.tables():
        for block in table.blocks:
            labels += [block.caption or "", block.corner]
            labels += [leaf.label for leaf in leaves(block.rows)]
            labels += _header_labels(block)
    cores = {label_form(x).core[:4] for x in labels if x}
    return tuple(sorted(c for c in cores if len(c) >= 2))
