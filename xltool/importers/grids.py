"""Table grids -> the form's cells: a figure goes to (row, column) when its row label names a row of
the form and its column header names a column of that row's block.

The document is read in order. Rows whose labels name no row of the form and hold no figures are
header rows (captions, column headers, group labels): they are the header context of the figures
that follow. A row whose label names a form row takes its columns from that context
(:mod:`xltool.importers.headers`): aligned header cells where the grid has them, the header text in
the order printed where it has not, the block's last header where this part of the table prints
none (a table split over pages). Where no header can be read the form's order is assumed, and
kept only where the row's printed totals agree with it.

A row of figures with no label is the single row of an unlabelled block (表四) when the header
above it names that block; figures printed apart from their labels (k label rows, then k rows of
figures) are paired only when that cannot matter (one row, or every row the same figures).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from xltool.form.spec import Block, FormSpec, leaves
from xltool.importers import headers, rows
from xltool.importers.headers import Columns
from xltool.importers.lines import NUMBERED, numbered, split_row
from xltool.importers.model import Document, Table, Text
from xltool.importers.stream import Stream, row_where
from xltool.importers.values import Column, Doubt, clean_chunks, is_number, is_value, parse_value, readings
from xltool.submission import Number


@dataclass(frozen=True)
class Origin:
    """Where a figure was printed: the table, its row and column, and the labels that placed it."""

    table: str  # "第 2 个表格", "第 37 行起的表格", "正文"
    row: int  # 1-based row of that table (0: a table printed inside prose)
    column: int  # 1-based column of the grid (or the figure's place in its row)
    where: str  # "第 3 页", "第 21 行"
    row_label: str  # the printed row label
    column_label: str  # the printed column header it was matched by (or how it was placed)
    text: str  # the figure as printed
    line: str  # the whole row as printed


@dataclass
class RowRead:
    """One row of the form read from the document."""

    row: rows.Row
    cells: dict[str, Number | None] = field(default_factory=dict)  # full cell key -> value
    doubts: dict[str, str] = field(default_factory=dict)  # full cell key -> why it was not read
    origins: dict[str, Origin] = field(default_factory=dict)
    pos: int = 0  # where the row stands in the stream
    end: int = 0


@dataclass
class _Ctx:
    cells: tuple[str, ...]
    block: int  # the document block it came from
    width: int
    one_line: bool = False  # printed as one line of cells side by side (text) or a grid row
    xs: tuple[tuple[float, float], ...] = ()  # unruled PDF: each cell's horizontal extent


@dataclass
class _Pending:
    match: rows.Match
    block: int
    index: int
    cells: tuple[str, ...]


UNLABELLED = "（无行标签）"
ORDER_UNKNOWN = "表头的栏目顺序与表式不同，又不能逐栏认出，无法确定各栏"


class Reader:
    """Reads every grid of a document (see the module docstring)."""

    def __init__(self, doc: Document, stream: Stream, spec: FormSpec) -> None:
        self.doc, self.stream, self.spec = doc, stream, spec
        self.reads: list[RowRead] = []
        self.conflicts: dict[str, str] = {}  # row key -> why its printed row could not be taken
        self.context: list[_Ctx] = []
        self.stored: dict[str, Columns] = {}
        self.pending: list[_Pending] = []
        self.bare: list[tuple[int, int, tuple[str, ...], list[str]]] = []
        self.cell_of = spec.by_key
        self.unlabelled = [
            (s, b) for s in spec.sections if s.table is not None for b in s.table.blocks if b.label_columns == 0
        ]

    def read(self) -> list[RowRead]:
        for b, block in enumerate(self.doc.blocks):
            if isinstance(block, Text):
                self._text(b, block)
                continue
            for i, row in enumerate(block.rows):
                self._row(b, block, i, row)
            self._flush()
        self._flush()
        return self.reads

    # ------------------------------------------------------------ classifying rows

    def _text(self, b: int, block: Text) -> None:
        text = block.text.strip().lstrip("#").strip()
        if not text or len(text) > 60 or "。" in text:
            return
        found, _why = rows.match(self.spec, [text])
        if found is not None and not found.fuzzy and found.start == 0 and found.end >= len(text.rstrip("：:")):
            self._flush()  # a row's label as a line of its own (### 一、本年新收…), its figures in a table below
            self.pending.append(_Pending(found, b, -1, (text,)))
            return
        if numbered(text):  # a section heading: what came before is no header of what follows
            self.context.clear()
            return
        self.context.append(_Ctx((text,), b, 1))

    def _row(self, b: int, table: Table, i: int, cells: tuple[str, ...]) -> None:
        labels, values = split_row(cells)
        found, why = rows.match(self.spec, labels)
        if why is not None:
            self._conflict(labels, why)
        if found is not None and values:
            self._flush()
            self._data(found, b, table, i, cells, labels, values)
            self.context.clear()
        elif found is not None:
            if self.bare:
                self._flush()
            self.pending.append(_Pending(found, b, i, cells))
        elif any(v.strip() for v in values):
            if not labels and self.pending:
                self.bare.append((b, i, cells, values))
            elif self._unlabelled(b, table, i, cells, labels, values):
                self._flush()
                self.context.clear()
            elif not labels:
                self.bare.append((b, i, cells, values))
            else:
                self.context.clear()  # figures under a label the form does not have
        else:
            xs = table.xs[i][: len(labels or cells)] if i < len(table.xs) else ()
            self.context.append(_Ctx(tuple(labels or cells), b, len(cells), _one_line(table, i), xs))

    def _conflict(self, labels: list[str], why: str) -> None:
        for row in rows.index(self.spec):
            if row.leaf.label in why:
                self.conflicts.setdefault(f"{row.table}.{row.leaf.key}", why)

    def _flush(self) -> None:
        """Figures printed apart from their labels: paired only when the pairing cannot matter."""
        pending, bare = self.pending, self.bare
        self.pending, self.bare = [], []
        if not pending or not bare:
            return
        same = all(tuple(v.strip() for v in row[3]) == tuple(v.strip() for v in bare[0][3]) for row in bare)
        if len(pending) == len(bare) and (len(bare) == 1 or same):
            for p, (b, i, cells, values) in zip(pending, bare, strict=True):
                table = self.doc.blocks[b]
                assert isinstance(table, Table)
                self._data(p.match, b, table, i, cells, [], values, label_cells=p.cells)
            return
        why = f"原文把这 {len(pending)} 行的标签和 {len(bare)} 行数字分开印出，无法确定哪行数字属于哪一行"
        for p in pending:
            self.conflicts.setdefault(f"{p.match.row.table}.{p.match.row.leaf.key}", why)

    # ------------------------------------------------------------ a row of the form

    def _data(
        self,
        found: rows.Match,
        b: int,
        table: Table,
        i: int,
        cells: tuple[str, ...],
        labels: list[str],
        values: list[str],
        label_cells: tuple[str, ...] | None = None,
    ) -> None:
        row = found.row
        joined = "\n".join(c for c in (label_cells if label_cells is not None else labels) if c.strip())
        prefix = _cells_before(joined, found.start)
        rest = joined[found.end :].split("\n", 1)[0]
        if rest.strip() and is_value(rest):  # 规章000: the figures run on from the label
            values = [rest, *values]
        read = RowRead(row, pos=self.stream.position(b, i), end=self.stream.end_of(b, i))
        keys = {c.key: f"{row.table}.{row.leaf.key}.{c.key}" for c in leaves(row.block.columns)}
        cols = self._columns(row.block, b, table, i, cells, len(labels), values, prefix)
        self._place(read, cols, values, keys, table, b, i, cells, joined, found)
        if self._cut_off(b, i, table) and (read.doubts or not table.row_texts[i].rstrip().endswith("|")):
            read.cells, read.origins = {}, {}
            read.doubts = dict.fromkeys(keys.values(), "原文在这一行中断")
        self.reads.append(read)

    def _cut_off(self, b: int, i: int, table: Table) -> bool:
        """Whether a text stops inside this row (the last thing printed): its figures may be cut
        (unless the row's closing separator is printed and all its figures are there)."""
        if table.exact or table.xs:  # a grid, a PDF page: printed whole
            return False
        rest = self.stream.raw[self.stream.end_of(b, i) :].strip()
        return not rest or bool(NUMBERED.fullmatch(rest))

    def _columns(
        self,
        block: Block,
        b: int,
        table: Table,
        i: int,
        cells: tuple[str, ...],
        n_labels: int,
        values: list[str],
        prefix: list[str],
    ) -> Columns:
        paths = self._aligned_paths(b, table, cells, n_labels, values, i)
        if paths:
            found = headers.aligned(paths, block)
            if found.found:
                if found.certain:
                    self.stored[block.key] = found
                return found
        cols = headers.flattened(self._variants(prefix), block)
        stored = self.stored.get(block.key)
        if cols is None or (not cols.certain and stored is not None and stored.certain):
            cols = stored
        if cols is not None and not cols.certain and not cols.form_order_possible:
            self.stored[block.key] = cols  # the block's rows below it are no better off
            return cols  # a header printed in an order the form's is not, and not readable column by column
        form = len(leaves(block.columns))
        fits_form = len(_trim(values, form)) == form
        if cols is None or (
            len(_trim(values, len(cols.leaves))) != len(cols.leaves) and (fits_form or not cols.certain)
        ):
            # the header read names other columns than the row prints: it is incomplete (a label
            # garbled or wrapped), and the form's order is the only reading left to verify
            cols = headers.by_order(block) if fits_form or cols is None else cols
        if cols.certain:
            self.stored[block.key] = cols
        return cols

    def _aligned_paths(
        self, b: int, table: Table, cells: tuple[str, ...], n_labels: int, values: list[str], i: int = -1
    ) -> list[list[str]]:
        """Each figure's header cells above it, where the header rows are as wide as this row (or as
        its figures)."""
        if i < len(table.xs) and table.xs[i]:
            return self._placed_paths(b, table.xs[i][len(cells) - len(values) :], values)
        if not _one_line(table, i):
            return []
        rows_above = [
            c
            for c in self.context
            if c.block == b and c.one_line and (c.width == len(cells) or (c.width == len(values) and not table.exact))
        ]
        if not rows_above:
            return []
        paths: list[list[str]] = [[] for _ in values]
        for ctx in rows_above:
            offset = n_labels if ctx.width == len(cells) else 0
            for k in range(len(values)):
                text = ctx.cells[offset + k] if offset + k < len(ctx.cells) else ""
                if text and (not paths[k] or paths[k][-1] != text):
                    paths[k].append(text)
        if not table.exact and any(v.strip() and not p for v, p in zip(values, paths, strict=True)):
            return []  # a figure with no header above it: the rows are not side by side after all
        return paths

    def _placed_paths(self, b: int, value_xs: tuple[tuple[float, float], ...], values: list[str]) -> list[list[str]]:
        """An unruled PDF's header: each header piece over the figures it stands above (a piece
        over several columns, a group, over each), wrapped pieces of one column joined."""
        centres = [(x0 + x1) / 2 for x0, x1 in value_xs]
        if len(centres) < 2 or any(not v.strip() for v in values):
            return []
        step = min(b2 - a2 for a2, b2 in itertools.pairwise(centres)) or 1.0
        paths: list[list[str]] = [[] for _ in values]
        for ctx in self.context:
            if ctx.block != b or len(ctx.xs) != len(ctx.cells):
                continue
            for text, (x0, x1) in zip(ctx.cells, ctx.xs, strict=True):
                over = [k for k, c in enumerate(centres) if x0 - 2 <= c <= x1 + 2]
                if len(over) > 1 and len(text) > 16:
                    continue  # a line of text across the table (a caption, a note), no column's header
                if not over:
                    near = min(range(len(centres)), key=lambda k: abs(centres[k] - (x0 + x1) / 2))
                    over = [near] if abs(centres[near] - (x0 + x1) / 2) < step / 2 else []
                for k in over:
                    paths[k].append(text)
        if not all(paths):
            return []
        return [["".join(p), *p] for p in paths]  # each piece (the lowest first), then the column's pieces joined

    def _variants(self, prefix: list[str]) -> list[str]:
        """The header context as text: its cells in order, and with a row of wrapped cells joined
        to the row above it (商业|科研 over 企业|机构)."""
        ctx_rows = [list(headers.header_cells(c.cells)) for c in self.context]
        ctx_rows = [r for r in ctx_rows if r]
        tail = headers.header_cells(prefix)
        out = ["".join(cell for r in ctx_rows for cell in r) + "".join(tail)]
        for k in range(len(ctx_rows) - 1):
            upper, lower = ctx_rows[k], ctx_rows[k + 1]
            if 0 < len(lower) < len(upper):
                joined = [u + (lower[j] if j < len(lower) else "") for j, u in enumerate(upper)]
                merged = [*ctx_rows[:k], joined, *ctx_rows[k + 2 :]]
                out.append("".join(cell for r in merged for cell in r) + "".join(tail))
        return out

    def _place(
        self,
        read: RowRead,
        cols: Columns,
        values: list[str],
        keys: dict[str, str],
        table: Table,
        b: int,
        i: int,
        cells: tuple[str, ...],
        joined: str,
        found: rows.Match,
    ) -> None:
        row = read.row
        texts, positions, reason = _assign(cols, values, table.exact)
        if not cols.certain and not cols.form_order_possible:
            texts, positions, reason = {}, {}, ORDER_UNKNOWN
        parsed: dict[str, Number | Doubt | None] = {}
        if reason is None:
            for leaf_key, text in texts.items():
                cell = self.cell_of[keys[leaf_key]]
                parsed[leaf_key] = parse_value(text, cell.type, tuple(cell.col.node.units))
        if (
            reason is not None
            and len(values) < len(cols.leaves)
            and not all(is_number(v) or not v.strip() for v in values)
        ):
            parsed, reason = self._run_together(row.block, cols, values, keys)
            texts = {k: "" for k in parsed}
            positions = {}
        if reason is None and not cols.certain:
            reason = _unverified(row.block, parsed, cols)
        line = table.row_texts[i] if i < len(table.row_texts) else " | ".join(c for c in cells if c.strip())
        if reason is not None:
            read.doubts = {k: reason for leaf_key, k in keys.items()}
            return
        shown = " ".join(joined[found.start : found.end].split()) or UNLABELLED
        header = {c.key: cols.labels[k] for k, c in enumerate(cols.leaves) if c is not None}
        offset = len(cells) - len(values)
        for leaf_key, value in parsed.items():
            key = keys[leaf_key]
            if isinstance(value, Doubt):
                read.doubts[key] = value.reason
                continue
            column = offset + positions[leaf_key] + 1 if leaf_key in positions else 0
            read.cells[key] = value
            read.origins[key] = Origin(
                table.where, i + 1, column, row_where(table, i), shown, header.get(leaf_key, ""),
                texts.get(leaf_key, ""), line,
            )  # fmt: skip
        for leaf in cols.missing:
            if leaf.key not in parsed:
                read.doubts[keys[leaf.key]] = f"原文表格没有“{leaf.label}”这一栏"

    def _run_together(
        self, block: Block, cols: Columns, values: list[str], keys: dict[str, str]
    ) -> tuple[dict[str, Number | Doubt | None], str | None]:
        """Fewer printed cells than columns: figures run together inside them (1个246900元, 0+11)."""
        placed = [c for c in cols.leaves if c is not None]
        columns = [Column(self.cell_of[keys[c.key]].type, tuple(c.node.units)) for c in placed]
        index = {c.key: j for j, c in enumerate(placed)}
        groups = [
            (*(index[p] for p in parts), index[t])
            for t, parts in headers.groups(block)
            if t in index and all(p in index for p in parts)
        ]
        chunks = [chunk for v in values for chunk in (clean_chunks(v) or [""])]
        found = readings(chunks, columns, groups)
        shown = " ".join(v.strip() for v in values)
        if len(found) == 1:
            return {c.key: v for c, v in zip(placed, found[0], strict=True)}, None
        if not found:
            return {}, f"读到 {len(values)} 个数（“{shown}”），这一行应有 {len(placed)} 个"
        return {}, f"数字连在一起（“{shown}”），可以有不止一种拆法，无法确定"

    # ------------------------------------------------------------ unlabelled blocks (表四)

    def _unlabelled(
        self, b: int, table: Table, i: int, cells: tuple[str, ...], labels: list[str], values: list[str]
    ) -> bool:
        for section, block in self.unlabelled:
            header = headers.flattened(self._variants(labels), block)
            paths = self._aligned_paths(b, table, cells, len(labels), values, i)
            aligned = headers.aligned(paths, block) if paths else None
            if aligned is not None and aligned.found:
                header = aligned
            if header is None or header.found == 0:
                continue
            leaf = leaves(block.rows)[0]
            end = len("\n".join(c for c in labels if c.strip()))  # every label cell is header: it stands before
            match = rows.Match(rows.Row(section, block, leaf, rows.label_form(leaf.label), ()), end, end)
            before = len(self.reads)
            self._data(match, b, table, i, cells, labels, values)
            read = self.reads[before]
            if read.cells:
                return True
            self.reads.pop()
        return False


def _one_line(table: Table, i: int) -> bool:
    return table.exact or (i < len(table.one_line) and table.one_line[i])


def _cells_before(joined: str, start: int) -> list[str]:
    return [c for c in joined[:start].split("\n") if c.strip()]


def _trim(values: list[str], n: int) -> list[str]:
    """A row's figures less the empty places and the repeats of a merged cell beyond ``n``."""
    out = list(values)
    while len(out) > n and not out[-1].strip():
        out.pop()
    if len(out) > n == 1 and all(x.strip() == out[0].strip() for x in out[1:]):
        out = out[:1]  # one figure printed across the columns its merged cell spans
    return out


def _assign(cols: Columns, values: list[str], exact: bool) -> tuple[dict[str, str], dict[str, int], str | None]:
    """Each placed column's printed text and position; a reason when the figures do not fit."""
    texts: dict[str, str] = {}
    positions: dict[str, int] = {}
    if len(cols.leaves) == len(values) or (exact and len(cols.leaves) <= len(values)):
        spread: dict[str, set[str]] = {}
        for k, leaf in enumerate(cols.leaves):
            if leaf is None or k >= len(values):
                continue
            spread.setdefault(leaf.key, set()).add(values[k].strip())
            if leaf.key not in texts:
                texts[leaf.key], positions[leaf.key] = values[k], k
        for seen in spread.values():
            if len(seen) > 1:
                return {}, {}, f"同一栏印有不同的数字（{'、'.join(sorted(seen))}）"
        return texts, positions, None
    trimmed = _trim(values, len(cols.leaves))
    if len(trimmed) == len(cols.leaves):
        return _assign(cols, trimmed, exact)
    shown = " ".join(v.strip() for v in trimmed)
    return {}, {}, f"读到 {len(trimmed)} 个数（“{shown}”），这一行应有 {len(cols.leaves)} 个"


def _unverified(block: Block, parsed: dict[str, Number | Doubt | None], cols: Columns) -> str | None:
    """Columns assumed (not read from the header): kept only where the printed totals agree."""
    numbers = {k: v for k, v in parsed.items() if not isinstance(v, Doubt)}
    form = leaves(block.columns)
    if not cols.form_order_possible:
        return ORDER_UNKNOWN
    if {c.key for c in form} - set(parsed):
        return "表头未能逐栏认出，无法确定各栏"
    ok, checked = headers.agrees(block, numbers)
    same = len(set(numbers.values())) <= 1 and len(numbers) == len(parsed)
    if ok and (checked or same or len(form) == 1):
        return None
    if not ok:
        return "表头未能逐栏认出，按表式的栏目顺序读出的数字与本行总计不符，无法确定各栏"
    return "表头未能逐栏认出，这一行没有可以核对的总计，无法确定各栏"


def read(doc: Document, stream: Stream, spec: FormSpec) -> Reader:
    reader = Reader(doc, stream, spec)
    reader.read()
    return reader
