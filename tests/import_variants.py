"""Layout variants of one report, for the metamorphic import tests (tests/test_import_metamorphic.py).

A *report* is a workbook rendered by :mod:`xltool.documents.render` to HTML and .docx (and the .docx to
PDF by LibreOffice). Reports come from every sample workbook and from workbooks written here, with the
project's template writer, from the figures of ../shared/reports (figures.json and the transcriptions in
tests/test_import_corpus.py) with our own placeholder text, never a report's prose.

A *variant* is one transform of the rendered tables in one output format. The transforms work on the
rendered file's own tables (HTML ``<table>``, Word ``<w:tbl>``), each header moving with its figures:

- ``identity``: as rendered;
- ``permute_columns``: the columns of every header group rotated by one (自然人 last, 本年废止件数 before
  本年制发件数, 复议后起诉 before 未经复议直接起诉 ...), headers and figures together;
- ``total_first``: each 总计 column first in its group;
- ``reorder_subrows``: the rows of every innermost row group reversed (（三）8 … 1, 行政强制 before 行政处罚);
- ``split_t3``: 表三 printed as two tables, its header rows repeated in the second;
- ``narrow_labels``: the label columns of the .docx narrowed so that labels wrap in the PDF;
- ``no_rules``: the .docx tables without borders, so that the PDF's tables have no ruled lines;
- ``swap_headers``: the adversarial control: two column headers of each table swapped *without* their
  figures. The figures a correct import reads swap with them (the header decides).

Formats: ``html``, ``docx``, ``pdf`` and the text flattenings ``pipes`` (``a | b | c``), ``tabs``,
``spaces`` (columns aligned with runs of spaces), ``lines`` (one cell a line) and ``markdown`` (a
Markdown table). Text is flattened from the transformed HTML.

Where the transform needs the form's structure (which columns hold figures, which column is a total,
how rows nest) it reads the document model (:func:`xltool.documents.render.document`) the file was
rendered from, and checks that the file's table has exactly the model's cells first.

Rendering a .docx takes python-docx seconds and converting it to PDF takes LibreOffice seconds, so both
are cached under ``$TMPDIR/xltool-import-variants`` keyed by a hash of what they are made from.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache, cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

from lxml import etree

from xltool.documents import model, render
from xltool.documents.model import Grid, GridCell, TableView
from xltool.form import spec as specs
from xltool.form.layout import for_spec
from xltool.form.spec import FormSpec
from xltool.submission import Number, Submission, computed
from xltool.workbook import template
from xltool.workbook.reader import read

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
REPORTS = ROOT.parent / "shared" / "reports"
CACHE = Path(os.environ.get("XLTOOL_VARIANT_CACHE") or Path(tempfile.gettempdir()) / "xltool-import-variants")

TRANSFORMS = (
    "identity",
    "permute_columns",
    "total_first",
    "reorder_subrows",
    "split_t3",
    "narrow_labels",
    "no_rules",
    "swap_headers",
)
PDF_ONLY = ("narrow_labels", "no_rules")  # they change only how the PDF prints the tables
COMPLETE = ("identity", *PDF_ONLY)  # variants that lose nothing a reader needs: every figure must be read
TEXT_STYLES = ("pipes", "tabs", "spaces", "lines", "markdown")
FORMATS = ("html", "docx", "pdf", *TEXT_STYLES)
SUFFIX = {"markdown": ".md"}  # the other text styles: .txt
NARROW = 0.3  # label columns shrink to this share of their width (their labels then wrap in the PDF)

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


# ================================================================ sources: the workbooks


@dataclass(frozen=True)
class Source:
    """One workbook the variants are made from: a sample, or one written here from transcribed figures."""

    name: str
    make: Callable[[Path], Path]  # folder -> the workbook (a sample is returned as is)


def sample_sources() -> list[Source]:
    """Every valid workbook under samples/ (samples/invalid holds deliberately broken ones)."""
    paths = [*sorted(SAMPLES.glob("*.xlsx")), *sorted((SAMPLES / "county").rglob("*.xlsx"))]
    return [Source(p.stem, lambda _folder, p=p: p) for p in paths]


PLACEHOLDER = "此处为测试用的占位文字，不是原报告的内容。"


def _base_values(unit: str, year: int) -> dict[str, Any]:
    """Unit fields and narratives of a workbook made from transcribed figures: our own placeholder text."""
    spec = specs.for_year(year)
    values: dict[str, Any] = {
        "unit.unit_name": unit,
        "unit.report_year": year,
        "unit.unit_type": "县级人民政府部门",
        "unit.parent_unit": "某某人民政府办公室",
        "unit.filler": "张某",
        "unit.phone": "0000-0000000",
        "unit.fill_date": f"{year + 1}年1月20日",
    }
    for section in spec.sections:
        for part in section.parts:
            values[f"{section.key}.{part.key}"] = PLACEHOLDER
    for section, _part, f in spec.fields():
        values[f"{section.key}.{f.key}"] = 0
    return values


def _figures_json_values(fig: dict[str, Any]) -> dict[str, Any]:
    """figures.json of one report as workbook values (input cells only; a null stays blank)."""
    from .test_import_corpus import COLS, ROWS, T2_ROWS, T2_SINGLE, T4

    spec = specs.for_year(fig["year"])
    values = _base_values(fig["unit"], fig["year"])
    t3_rows = ROWS | {"r6": "otherwise"} if spec.form_version == "2019" else ROWS
    for rc, v in fig["t3"].items():
        row, col = rc.split("|")
        if row in t3_rows:  # a 2019-style single （六） row on the 2021 form (012) has no cell of its own
            values[f"t3.{t3_rows[row]}.{COLS[col]}"] = v
    for label, key in T4.items():
        for i, col in enumerate(("upheld", "corrected", "other", "pending")):
            values[f"t4.cases.{key}_{col}"] = fig["t4"][label][i]
    t2 = fig["t2"]
    if spec.form_version == "2019":
        rows19 = {"规章": "rules", "规范性文件": "normative", "其他对外管理服务事项": "other_services"}
        rows19 |= {"行政许可": "license", "行政处罚": "penalty", "行政强制": "coercion"}
        for label, key in rows19.items():
            cols = ("made", "published", "public_total") if key in ("rules", "normative") else None
            cols = cols or ("prior_items", "change", "decisions")
            for col, v in zip(cols, t2.get(label) or (), strict=False):
                values[f"t2.{key}.{col}"] = v
        for col, v in zip(("prior_items", "change"), t2.get("行政事业性收费") or (), strict=False):
            values[f"t2.fees.{col}"] = v
        return values
    for label, key in T2_ROWS.items():
        for col, v in zip(("issued", "repealed", "in_force"), t2.get(label) or (), strict=False):
            values[f"t2.{key}.{col}"] = v
    for label, key in T2_SINGLE.items():
        if t2.get(label) is not None:
            values[key] = Decimal(t2[label]) if key == "t2.fees.amount" else int(t2[label])
    return values


def _shanghai_values() -> dict[str, Any]:
    """028's figures as transcribed in test_import_corpus (its 表二 规章 and 规范性文件 rows: blank)."""
    from .test_import_corpus import SHANGHAI_ROWS, T2_SINGLE, T3_COLS, T4_COLS

    values = _base_values("上海市人民政府办公厅", 2025)
    for row, figures in SHANGHAI_ROWS.items():
        if row != "total":
            values |= {f"t3.{row}.{c}": v for c, v in zip(T3_COLS[:-1], figures[:-1], strict=True)}
    t4 = [40, 0, 10, 5, 55, 2, 0, 4, 6, 12, 6, 0, 9, 7, 22]  # as test_shanghai_pdf_extraction reads them
    values |= {f"t4.cases.{k}": v for k, v in zip(T4_COLS, t4, strict=True) if not k.endswith("_total")}
    values |= dict.fromkeys(T2_SINGLE.values(), 0)
    return values


def _written(name: str, values: Callable[[], dict[str, Any]]) -> Source:
    """A workbook written by the project's template writer (cached: the values, the writer and the
    form definitions make it)."""

    def make(folder: Path) -> Path:
        vals = values()
        spec = specs.for_year(vals["unit.report_year"])
        made_of = [repr(sorted(vals.items())).encode(), Path(template.__file__).read_bytes()]
        made_of += [p.read_bytes() for p in sorted(Path(specs.__file__).parent.parent.joinpath("specs").glob("*.toml"))]
        cached = CACHE / "workbooks" / f"{_hash(*made_of)}.xlsx"
        if not cached.exists():
            template.write(folder / f"{name}.xlsx", spec, vals)
            _store(folder / f"{name}.xlsx", cached)
        return cached

    return Source(name, make)


def report_sources() -> list[Source]:
    """Workbooks from the figures of ../shared/reports (none when the folder is absent)."""
    if not (REPORTS / "figures.json").is_file():
        return []
    figures = json.loads((REPORTS / "figures.json").read_text(encoding="utf-8"))
    out = [_written(stem, lambda fig=fig: _figures_json_values(fig)) for stem, fig in figures.items()]
    out.append(_written("028_shanghai_szfbgt_2025_full_pdfext", _shanghai_values))
    return out


def all_sources() -> list[Source]:
    return [*sample_sources(), *report_sources()]


# ================================================================ the rendered report


@dataclass
class Report:
    """One source: its submission and the document model's table grids; its HTML and .docx on demand."""

    name: str
    submission: Submission
    doc: model.Document
    folder: Path

    @property
    def spec(self) -> FormSpec:
        return self.submission.spec

    @cached_property
    def grids(self) -> list[Grid]:
        return [item.grid for ch in self.doc.chapters for item in ch.content if isinstance(item, TableView)]

    @cached_property
    def expected(self) -> dict[str, Number]:
        """Every table cell as the workbook holds it and the document prints it (totals computed)."""
        return computed(self.spec, self.submission.values)

    @cached_property
    def html(self) -> str:
        return render.render(self.submission, self.folder / f"{self.name}.html").read_text(encoding="utf-8")

    @cached_property
    def docx(self) -> bytes:
        """The .docx, from the cache when the document model and the writer are unchanged."""
        from xltool.documents import docx as docx_writer

        writer = (Path(docx_writer.__file__).read_bytes(), Path(model.__file__).read_bytes())
        key = _hash(repr(self.doc).encode(), *writer, metadata.version("python-docx").encode())
        cached = CACHE / "docx" / f"{key}.docx"
        if not cached.exists():
            _store(render.render(self.submission, self.folder / f"{self.name}.docx"), cached)
        return cached.read_bytes()


def load(source: Source, folder: Path) -> Report:
    """A source's workbook read back, and its document model (nothing rendered yet)."""
    folder.mkdir(parents=True, exist_ok=True)
    sub = read(source.make(folder))
    return Report(source.name, sub, render.document(sub), folder)


def _hash(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    return h.hexdigest()[:32]


def _store(src: Path, dst: Path) -> None:
    """Copy into the cache atomically (several test processes may share it)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


# ================================================================ the form's structure of one table


Node = int | tuple["Node", ...]  # a column (or row) index, or a group of them in order


@dataclass(frozen=True)
class Shape:
    """What the document model says about one table: value columns, totals, how columns and rows nest."""

    grid: Grid
    value_cols: tuple[int, ...]
    label_cols: tuple[int, ...]
    totals: frozenset[int]  # grid columns of total (总计) columns
    columns: Node  # the value columns nested by their spanning headers
    row_blocks: tuple[Node, ...]  # each run of value rows nested by its spanning labels


def shape(spec: FormSpec, grid: Grid) -> Shape:
    cells = {c.key: c for c in spec.cells()}
    values = [c for c in grid.cells if c.role == "value"]
    value_cols = sorted({c.col for c in values if c.colspan == 1})
    assert value_cols == list(range(value_cols[0], value_cols[-1] + 1)), f"{grid.key}: value columns not contiguous"
    lo, hi = value_cols[0], value_cols[-1]
    totals = frozenset(c.col for c in values if c.colspan == 1 and c.key and cells[c.key].col.node.derived)
    spans = {
        (c.col, c.col + c.colspan - 1)
        for c in grid.cells
        if c.colspan > 1 and lo <= c.col and c.col + c.colspan - 1 <= hi
    }
    label_cols = tuple(c for c in range(grid.cols) if c not in value_cols)
    value_rows = sorted({c.row for c in values})
    blocks: list[list[int]] = []
    for r in value_rows:
        if blocks and blocks[-1][-1] == r - 1:
            blocks[-1].append(r)
        else:
            blocks.append([r])
    labels = {(c.row, c.col): c for c in grid.cells if c.role == "label"}
    first = min(label_cols, default=0)
    rows = tuple(_row_nodes(labels, b[0], b[-1], first) for b in blocks)
    return Shape(grid, tuple(value_cols), label_cols, totals, _nest(lo, hi, spans), rows)


def _nest(lo: int, hi: int, spans: set[tuple[int, int]]) -> tuple[Node, ...]:
    """Columns lo..hi as a tree: each span (a header over several columns) a group of its own."""
    inner = [s for s in spans if lo <= s[0] and s[1] <= hi and s != (lo, hi)]
    tops = sorted(s for s in inner if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in inner))
    out: list[Node] = []
    at = lo
    for a, b in tops:
        assert a >= at, f"headers over columns {a}-{b} cross another header"
        out.extend(range(at, a))
        out.append(_nest(a, b, spans))
        at = b + 1
    out.extend(range(at, hi + 1))
    return tuple(out)


def _row_nodes(labels: dict[tuple[int, int], GridCell], r0: int, r1: int, col: int) -> tuple[Node, ...]:
    out: list[Node] = []
    r = r0
    while r <= r1:
        cell = labels.get((r, col))
        if cell is None or cell.rowspan == 1:
            out.append(r)
            r += 1
        else:
            out.append(_row_nodes(labels, r, r + cell.rowspan - 1, col + cell.colspan))
            r += cell.rowspan
    return tuple(out)


def flat(node: Node) -> list[int]:
    return [node] if isinstance(node, int) else [i for child in node for i in flat(child)]


def _reorder(node: Node, how: Callable[[tuple[Node, ...]], tuple[Node, ...]]) -> Node:
    if isinstance(node, int):
        return node
    return how(tuple(_reorder(child, how) for child in node))


def _innermost(how: Callable[[tuple[Node, ...]], tuple[Node, ...]]) -> Callable[[tuple[Node, ...]], tuple[Node, ...]]:
    """Apply ``how`` only to groups of plain rows (the sub-rows of one label, or a block's rows)."""
    return lambda group: how(group) if all(isinstance(n, int) for n in group) else group


# ================================================================ plans: what a transform does to one table


@dataclass(frozen=True)
class Plan:
    """A transform of one table, in grid positions of the document model."""

    rows: tuple[int, ...]  # new row i is old row rows[i]
    cols: tuple[int, ...]  # new column j is old column cols[j]
    swap: tuple[tuple[int, int], ...] = ()  # old columns whose leaf headers trade places (figures stay)
    split: bool = False  # print as two tables, the header rows repeated in the second
    narrow: bool = False  # label columns narrowed (.docx / PDF)
    rules: bool = True  # the table's borders (.docx / PDF)


def plan(report: Report, transform: str, rng: random.Random | None = None) -> list[Plan]:
    """One plan per table of the report. With ``rng``, orders and choices are random instead of fixed."""
    assert transform in TRANSFORMS, transform
    t3 = [s.table.key for s in report.spec.sections if s.table is not None][1]
    out = []
    for grid in report.grids:
        sh = shape(report.spec, grid)
        rows, cols = list(range(grid.rows)), list(range(grid.cols))
        swap: tuple[tuple[int, int], ...] = ()
        if transform == "permute_columns":
            order = _reorder(sh.columns, (lambda g: tuple(rng.sample(g, len(g)))) if rng else (lambda g: g[1:] + g[:1]))
            cols = _columns(sh, order)
        elif transform == "total_first":
            totals = sh.totals
            order = _reorder(sh.columns, lambda g, t=totals: tuple(sorted(g, key=lambda n: n not in t)))
            cols = _columns(sh, order)
        elif transform == "reorder_subrows":
            how = _innermost((lambda g: tuple(rng.sample(g, len(g)))) if rng else (lambda g: g[::-1]))
            for block in sh.row_blocks:
                old = flat(block)
                rows[old[0] : old[-1] + 1] = flat(_reorder(block, how))
        elif transform == "swap_headers":
            swap = _swap_pair(sh, rng)
        out.append(
            Plan(
                tuple(rows),
                tuple(cols),
                swap,
                split=transform == "split_t3" and grid.key == t3,
                narrow=transform == "narrow_labels",
                rules=transform != "no_rules",
            )
        )
    return out


def _columns(sh: Shape, order: Node) -> list[int]:
    """All grid columns: the label columns where they stand, the value columns in the new order."""
    lo, hi = sh.value_cols[0], sh.value_cols[-1]
    return [*range(lo), *flat(order), *range(hi + 1, sh.grid.cols)]


def _swap_pair(sh: Shape, rng: random.Random | None) -> tuple[tuple[int, int], ...]:
    """Two sibling columns, neither a total: the first two of the first group that has them (or random)."""
    groups = []

    def walk(node: Node) -> None:
        if isinstance(node, tuple):
            leaves_ = [n for n in node if isinstance(n, int) and n not in sh.totals]
            if len(leaves_) >= 2:
                groups.append(leaves_)
            for child in node:
                walk(child)

    walk(sh.columns)
    if not groups:
        return ()
    if rng is None:
        return ((groups[0][0], groups[0][1]),)
    a, b = rng.sample(rng.choice(groups), 2)
    return ((a, b),)


def expected(report: Report, plans: list[Plan]) -> dict[str, Number]:
    """The figures a correct import reads: the workbook's, with the swapped headers' figures swapped."""
    out = dict(report.expected)
    for grid, p in zip(report.grids, plans, strict=True):
        at = {(c.row, c.col): c.key for c in grid.cells if c.role == "value" and c.colspan == 1 and c.key}
        for a, b in p.swap:
            for r in range(grid.rows):
                ka, kb = at.get((r, a)), at.get((r, b))
                if ka and kb:
                    out[ka], out[kb] = report.expected[kb], report.expected[ka]
    return out


def by_order(report: Report, plans: list[Plan]) -> dict[str, Number]:
    """What an import that takes each row's figures in their printed order (not by header) reads."""
    out = dict(report.expected)
    for grid, p in zip(report.grids, plans, strict=True):
        new_col = {old: new for new, old in enumerate(p.cols)}
        rows: dict[int, list[GridCell]] = {}
        for c in grid.cells:
            if c.role == "value" and c.key:
                rows.setdefault(c.row, []).append(c)
        for cells in rows.values():
            printed = sorted(cells, key=lambda c: min(new_col[i] for i in range(c.col, c.col + c.colspan)))
            for form_cell, printed_cell in zip(sorted(cells, key=lambda c: c.col), printed, strict=True):
                out[form_cell.key] = report.expected[printed_cell.key]
    return out


def order_confusions(report: Report, transform: str) -> list[str]:
    """Where reading by order and reading by header disagree: ``表二 本年制发件数←本年废止件数`` per
    column pair whose figures differ (empty when the variant cannot tell the two apart)."""
    plans = plan(report, transform)
    want, got = expected(report, plans), by_order(report, plans)
    cells = {c.key: c for c in report.spec.cells()}
    tables = {s.table.key: "表" + s.heading.split("、")[0] for s in report.spec.sections if s.table is not None}
    printed_at = _printed_columns(report, plans)
    out: list[str] = []
    for key in (c.key for c in report.spec.cells()):
        if want[key] != got[key]:
            pair = f"{tables[cells[key].table]} {_column(report.spec, cells[key])}←{printed_at[key]}"
            if pair not in out:
                out.append(pair)
    return out


def _column(spec: FormSpec, cell: Any) -> str:
    """A column's header, with its group where the header alone is ambiguous (表四's 结果维持)."""
    label = cell.col.node.label
    return f"{cell.col.path[-1].label}/{label}" if (cell.table, label) in _ambiguous(spec.form_version) else label


@cache
def _ambiguous(form: str) -> frozenset[tuple[str, str]]:
    """(table, header) of the form's headers that stand over more than one kind of column."""
    seen: dict[tuple[str, str], set[str]] = {}
    for c in specs.load(form).cells():
        seen.setdefault((c.table, c.col.node.label), set()).add(c.col.key)
    return frozenset(k for k, cols in seen.items() if len(cols) > 1)


def _printed_columns(report: Report, plans: list[Plan]) -> dict[str, str]:
    """For each value cell: the header printed above the figure an order-reader takes for it."""
    cells = {c.key: c for c in report.spec.cells()}
    out: dict[str, str] = {}
    for grid, p in zip(report.grids, plans, strict=True):
        new_col = {old: new for new, old in enumerate(p.cols)}
        swap = {a: b for a, b in p.swap} | {b: a for a, b in p.swap}
        rows: dict[int, list[GridCell]] = {}
        for c in grid.cells:
            if c.role == "value" and c.key:
                rows.setdefault(c.row, []).append(c)
        for row in rows.values():
            printed = sorted(row, key=lambda c: min(new_col[i] for i in range(c.col, c.col + c.colspan)))
            for form_cell, printed_cell in zip(sorted(row, key=lambda c: c.col), printed, strict=True):
                header_of = cells[printed_cell.key]
                if printed_cell.colspan == 1 and printed_cell.col in swap:  # the header now above it
                    twin = next(c for c in row if c.col == swap[printed_cell.col] and c.colspan == 1)
                    header_of = cells[twin.key]
                out[form_cell.key] = _column(report.spec, header_of)
    return out


def swapped_headers(report: Report, plans: list[Plan]) -> list[tuple[str, str]]:
    """The header texts that trade places (for messages)."""
    out = []
    for grid, p in zip(report.grids, plans, strict=True):
        for a, b in p.swap:
            ha = _leaf_header(grid, a)
            hb = _leaf_header(grid, b)
            if ha and hb:
                out.append((ha.text, hb.text))
    return out


def _leaf_header(grid: Grid, col: int) -> GridCell | None:
    found = [c for c in grid.cells if c.role == "header" and c.col == col and c.colspan == 1]
    return found[0] if found else None


# ================================================================ span grids of a rendered table


@dataclass
class Span:
    """One printed cell of a file's table: the format's element and the grid rectangle it covers."""

    item: Any
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1
    source_row: int = -1  # the row it came from (row properties: header, page break)


def _check(spans: list[Span], grid: Grid, text: Callable[[Any], str]) -> None:
    """The file's table has exactly the model's cells: positions, spans and texts."""
    got = {(s.row, s.col, s.rowspan, s.colspan): _norm(text(s.item)) for s in spans}
    want = {(c.row, c.col, c.rowspan, c.colspan): _norm(c.text) for c in grid.cells}
    assert got == want, f"table {grid.key}: the rendered file does not match the document model"


def _norm(s: str) -> str:
    return "".join(s.split())


def _move(spans: list[Span], p: Plan, grid: Grid) -> list[Span]:
    """Spans at their new rectangles: rows and columns permuted, swapped headers traded."""
    spans = [Span(s.item, s.row, s.col, s.rowspan, s.colspan, s.row) for s in spans]
    for a, b in p.swap:  # the leaf headers over a and b, row by row, trade their cells
        by_row: dict[int, dict[int, Span]] = {}
        for s in spans:
            if s.colspan == 1 and s.col in (a, b) and _role(grid, s) == "header":
                by_row.setdefault(s.row, {})[s.col] = s
        pairs = [pair for pair in by_row.values() if len(pair) == 2 and pair[a].rowspan == pair[b].rowspan]
        assert pairs, f"table {grid.key}: no pair of headers over columns {a} and {b}"
        for pair in pairs:
            pair[a].item, pair[b].item = pair[b].item, pair[a].item
    new_row = {old: new for new, old in enumerate(p.rows)}
    new_col = {old: new for new, old in enumerate(p.cols)}
    out = []
    for s in spans:
        rs = {new_row[r] for r in range(s.row, s.row + s.rowspan)}
        cs = {new_col[c] for c in range(s.col, s.col + s.colspan)}
        assert max(rs) - min(rs) + 1 == len(rs) and max(cs) - min(cs) + 1 == len(cs), "a merged cell torn apart"
        out.append(Span(s.item, min(rs), min(cs), len(rs), len(cs), s.source_row))
    return out


def _role(grid: Grid, s: Span) -> str:
    return next(c.role for c in grid.cells if (c.row, c.col) == (s.row, s.col))


def _split(spans: list[Span], grid: Grid, header_rows: int) -> list[list[Span]]:
    """Two tables: rows up to a boundary near the middle, then the header rows again and the rest.

    The boundary cuts no label but the outermost (三、本年度办理结果), which both parts then print.
    """
    labels = {(c.row, c.col) for c in grid.cells if c.role == "label"}
    first_label = min((c for _, c in labels), default=0)
    body = sorted({s.row for s in spans if s.row >= header_rows})
    lo, hi = body[0], max(s.row + s.rowspan for s in spans)
    middle = (lo + hi) / 2

    def cuts(b: int) -> list[Span]:
        return [s for s in spans if s.row < b < s.row + s.rowspan]

    allowed = [b for b in range(lo + 1, hi) if all(s.col == first_label for s in cuts(b))]
    b = min(allowed, key=lambda b: (abs(b - middle), b))
    top: list[Span] = []
    bottom = [_copy(s) for s in spans if s.row < header_rows]  # the header again
    for s in spans:
        end = s.row + s.rowspan
        if end <= b:
            top.append(s)
        elif s.row >= b:
            bottom.append(Span(s.item, s.row - b + header_rows, s.col, s.rowspan, s.colspan, s.source_row))
        else:  # cut: printed in both parts
            top.append(Span(s.item, s.row, s.col, b - s.row, s.colspan, s.source_row))
            bottom.append(_copy(s, row=header_rows, rowspan=end - b))
    return [top, bottom]


def _copy(s: Span, **changes: int) -> Span:
    """A span printed a second time (a second element: one element cannot stand in two tables)."""
    return replace(s, item=copy.deepcopy(s.item), **changes)


def _arranged(spans: list[Span], p: Plan, grid: Grid) -> list[list[Span]]:
    moved = _move(spans, p, grid)
    return _split(moved, grid, grid.header_rows) if p.split else [moved]


def _rows_of(spans: list[Span]) -> int:
    return max(s.row + s.rowspan for s in spans)


# ================================================================ HTML


def _html_spans(table: etree._Element) -> list[Span]:
    spans: list[Span] = []
    taken: set[tuple[int, int]] = set()
    for r, tr in enumerate(table.iter("tr")):
        c = 0
        for td in tr:
            if td.tag not in ("td", "th"):
                continue
            while (r, c) in taken:
                c += 1
            rs, cs = int(td.get("rowspan", 1)), int(td.get("colspan", 1))
            spans.append(Span(td, r, c, rs, cs, r))
            taken |= {(r + i, c + j) for i in range(rs) for j in range(cs)}
            c += cs
    return spans


def _html_text(td: etree._Element) -> str:
    return "".join(td.itertext())


def html_variant(report: Report, plans: list[Plan]) -> str:
    """The report's HTML with each table rearranged by its plan."""
    root = etree.fromstring(report.html.encode(), etree.HTMLParser(encoding="utf-8"))
    tables = root.findall(".//table")
    assert len(tables) == len(report.grids)
    for table, grid, p in zip(tables, report.grids, plans, strict=True):
        spans = _html_spans(table)
        _check(spans, grid, _html_text)
        parts = _arranged(spans, p, grid)
        cols = table.findall("colgroup/col")
        new = [_html_table(table, part, [cols[c] for c in p.cols], grid.header_rows) for part in parts]
        parent = table.getparent()
        at = parent.index(table)
        parent.remove(table)
        for i, t in enumerate(new):
            if i:
                gap = etree.Element("p")
                parent.insert(at, gap)
                at += 1
            parent.insert(at, t)
            at += 1
    body = etree.tostring(root, encoding="unicode", method="html")
    return "<!DOCTYPE html>\n" + body


def _html_table(old: etree._Element, spans: list[Span], cols: list[etree._Element], header_rows: int) -> etree._Element:
    table = etree.Element("table", dict(old.attrib))
    colgroup = etree.SubElement(table, "colgroup")
    for col in cols:
        colgroup.append(copy.deepcopy(col))
    head = etree.SubElement(table, "thead") if header_rows else None
    body = etree.SubElement(table, "tbody")
    for r in range(_rows_of(spans)):
        tr = etree.SubElement(head if head is not None and r < header_rows else body, "tr")
        for s in sorted((s for s in spans if s.row == r), key=lambda s: s.col):
            td = copy.deepcopy(s.item)
            td.tail = None
            for attr, n in (("rowspan", s.rowspan), ("colspan", s.colspan)):
                if n > 1:
                    td.set(attr, str(n))
                else:
                    td.attrib.pop(attr, None)
            tr.append(td)
    return table


# ================================================================ .docx


def docx_variant(report: Report, plans: list[Plan]) -> bytes:
    """The report's .docx with each table rearranged (label columns narrowed, borders off) by its plan."""
    src = zipfile.ZipFile(io.BytesIO(report.docx))
    root = etree.fromstring(src.read("word/document.xml"))
    tables = root.findall("w:body/w:tbl", NS)
    assert len(tables) == len(report.grids)
    for tbl, grid, p in zip(tables, report.grids, plans, strict=True):
        spans = _docx_spans(tbl)
        _check(spans, grid, _docx_text)
        widths = [int(g.get(_w("w"))) for g in tbl.findall("w:tblGrid/w:gridCol", NS)]
        if p.narrow:
            widths = _narrowed(widths, shape(report.spec, grid))
        widths = [widths[c] for c in p.cols]
        rows = tbl.findall("w:tr", NS)
        parts = _arranged(spans, p, grid)
        new = [_docx_table(tbl, part, widths, rows) for part in parts]
        if not p.rules:  # the borders come from the "Table Grid" style: without it, none
            for t in new:
                style = t.find("w:tblPr/w:tblStyle", NS)
                style.getparent().remove(style)
        parent = tbl.getparent()
        at = parent.index(tbl)
        parent.remove(tbl)
        for i, t in enumerate(new):
            if i:  # two tables need a paragraph between them, or Word joins them again
                parent.insert(at, etree.Element(_w("p")))
                at += 1
            parent.insert(at, t)
            at += 1
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            dst.writestr(info, data)
    return out.getvalue()


def _narrowed(widths: list[int], sh: Shape) -> list[int]:
    if not sh.label_cols:
        return widths
    total = sum(widths)
    labels = [int(widths[c] * NARROW) if c in sh.label_cols else 0 for c in range(len(widths))]
    spare = total - sum(labels)
    value_total = sum(widths[c] for c in sh.value_cols)
    return [labels[c] if c in sh.label_cols else widths[c] * spare // value_total for c in range(len(widths))]


def _docx_spans(tbl: etree._Element) -> list[Span]:
    spans: list[Span] = []
    open_: dict[int, Span] = {}  # column -> the vertically merged cell continuing there
    for r, tr in enumerate(tbl.findall("w:tr", NS)):
        c = 0
        for tc in tr.findall("w:tc", NS):
            span = tc.find("w:tcPr/w:gridSpan", NS)
            cs = int(span.get(_w("val"))) if span is not None else 1
            vmerge = tc.find("w:tcPr/w:vMerge", NS)
            if vmerge is not None and vmerge.get(_w("val")) != "restart":
                open_[c].rowspan += 1
            else:
                s = Span(tc, r, c, 1, cs, r)
                spans.append(s)
                open_[c] = s
            c += cs
    return spans


def _docx_text(tc: etree._Element) -> str:
    return "".join(t.text or "" for t in tc.iter(_w("t")))


def _docx_table(
    old: etree._Element, spans: list[Span], widths: list[int], rows: list[etree._Element]
) -> etree._Element:
    tbl = etree.Element(_w("tbl"))
    tbl.append(copy.deepcopy(old.find("w:tblPr", NS)))
    grid = etree.SubElement(tbl, _w("tblGrid"))
    for w in widths:
        etree.SubElement(grid, _w("gridCol"), {_w("w"): str(w)})
    anchors = {(s.row, s.col): s for s in spans}
    below = {(r, s.col): s for s in spans for r in range(s.row + 1, s.row + s.rowspan)}
    for r in range(_rows_of(spans)):
        first = next(s for s in spans if s.row == r)
        tr = etree.SubElement(tbl, _w("tr"))
        props = rows[first.source_row].find("w:trPr", NS)
        if props is not None:
            tr.append(copy.deepcopy(props))
        c = 0
        while c < len(widths):
            s = anchors.get((r, c)) or below.get((r, c))
            assert s is not None, f"nothing at row {r}, column {c}"
            tc = copy.deepcopy(s.item) if s.row == r else _continuation(s.item)
            _cell_props(tc, s, widths, restart=s.row == r)
            tr.append(tc)
            c += s.colspan
    return tbl


def _continuation(tc: etree._Element) -> etree._Element:
    out = etree.Element(_w("tc"))
    out.append(copy.deepcopy(tc.find("w:tcPr", NS)))
    etree.SubElement(out, _w("p"))
    return out


def _cell_props(tc: etree._Element, s: Span, widths: list[int], *, restart: bool) -> None:
    pr = tc.find("w:tcPr", NS)
    for tag in ("gridSpan", "vMerge"):
        for el in pr.findall(f"w:{tag}", NS):
            pr.remove(el)
    width = pr.find("w:tcW", NS)
    width.set(_w("w"), str(sum(widths[s.col : s.col + s.colspan])))
    at = list(pr).index(width) + 1
    if s.colspan > 1:
        pr.insert(at, etree.Element(_w("gridSpan"), {_w("val"): str(s.colspan)}))
        at += 1
    if s.rowspan > 1:
        pr.insert(at, etree.Element(_w("vMerge"), {_w("val"): "restart"} if restart else {}))


# ================================================================ text flattenings


def text_variant(html: str, style: str) -> str:
    """The HTML page as pasted text: headings and paragraphs a line each, tables in the given style."""
    assert style in TEXT_STYLES, style
    root = etree.fromstring(html.encode(), etree.HTMLParser(encoding="utf-8"))
    lines: list[str] = []
    marks = {"h1": "# ", "h2": "## ", "h3": "### "} if style == "markdown" else {}
    for el in root.find(".//article"):
        if el.tag == "table":
            lines.extend(_table_lines(_html_spans(el), style))
            lines.append("")
        else:
            text = " ".join("".join(el.itertext()).split())
            if text:
                lines.append(marks.get(el.tag, "") + text)
            if style == "markdown":
                lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _table_lines(spans: list[Span], style: str) -> list[str]:
    n_rows = _rows_of(spans)
    if style == "markdown":  # every grid position, a merged cell's text repeated; the first row the header
        n_cols = max(s.col + s.colspan for s in spans)
        full = [[""] * n_cols for _ in range(n_rows)]
        for s in spans:
            for r in range(s.row, s.row + s.rowspan):
                for c in range(s.col, s.col + s.colspan):
                    full[r][c] = _cell(s)
        out = ["| " + " | ".join(row) + " |" for row in full]
        return [out[0], "|" + "---|" * n_cols, *out[1:]]
    rows = [[_cell(s) for s in sorted((s for s in spans if s.row == r), key=lambda s: s.col)] for r in range(n_rows)]
    if style == "pipes":
        return [" | ".join(cells) for cells in rows]
    if style == "tabs":
        return ["\t".join(cells) for cells in rows]
    if style == "lines":
        return [cell for cells in rows for cell in cells]
    # spaces: aligned as a PDF text extraction with layout prints them, at least two spaces apart
    n_cols = max(s.col + s.colspan for s in spans)
    width = [max((_width(_cell(s)) for s in spans if s.col == c and s.colspan == 1), default=0) for c in range(n_cols)]
    width = [
        w or max((_width(_cell(s)) // s.colspan for s in spans if s.col <= c < s.col + s.colspan), default=0)
        for c, w in enumerate(width)
    ]
    out = []
    for r in range(n_rows):
        line = ""
        for s in sorted((s for s in spans if s.row == r), key=lambda s: s.col):
            at = sum(w + 2 for w in width[: s.col])
            line += " " * max(at - _width(line), 2 if line else at) + _cell(s)
        out.append(line)
    return out


def _cell(s: Span) -> str:
    return " ".join(_html_text(s.item).split())


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def html_tables(path: Path) -> list[list[list[str]]]:
    """Each table of an HTML file as rows of its printed cells' texts (for tests of the variants)."""
    root = etree.parse(str(path), etree.HTMLParser(encoding="utf-8")).getroot()
    out = []
    for table in root.findall(".//table"):
        spans = _html_spans(table)
        rows = [sorted((s for s in spans if s.row == r), key=lambda s: s.col) for r in range(_rows_of(spans))]
        out.append([[_cell(s) for s in row] for row in rows])
    return out


def document_xml(docx: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml")


# ================================================================ PDF


def pdfs(soffice: str, docx_files: Iterable[Path], folder: Path) -> dict[Path, Path]:
    """Each .docx as PDF (LibreOffice headless), from the cache when converted before; one run for the rest."""
    out: dict[Path, Path] = {}
    todo: dict[Path, Path] = {}
    for docx in docx_files:
        cached = CACHE / "pdf" / f"{_docx_key(docx)}.pdf"
        out[docx] = cached
        if not cached.exists():
            todo[docx] = cached
    if todo:
        work = folder / "soffice"
        work.mkdir(parents=True, exist_ok=True)
        names = {}
        for i, docx in enumerate(todo):  # LibreOffice names its output after its input: unique names
            names[docx] = work / f"v{i}.docx"
            shutil.copyfile(docx, names[docx])
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run(
                [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                 "--outdir", str(work), *map(str, names.values())],
                check=True, capture_output=True, timeout=600,
            )  # fmt: skip
        for docx, cached in todo.items():
            pdf = names[docx].with_suffix(".pdf")
            assert pdf.exists(), f"LibreOffice did not convert {docx}"
            _store(pdf, cached)
    return out


def _docx_key(path: Path) -> str:
    """A .docx's content hash (its parts, not the zip's timestamps)."""
    with zipfile.ZipFile(path) as z:
        return _hash(*(n.encode() + z.read(n) for n in sorted(z.namelist())))


# ================================================================ one variant


@dataclass
class Variant:
    """One file to import, and the figures a correct import reads from it."""

    report: Report
    transform: str
    fmt: str
    path: Path
    expected: dict[str, Number]
    swapped: list[tuple[str, str]] = field(default_factory=list)


def make(report: Report, transform: str, fmt: str, folder: Path, rng: random.Random | None = None) -> Variant:
    """Write one variant (a PDF variant: its .docx, to be converted by :func:`pdfs`)."""
    assert fmt in FORMATS, fmt
    plans = plan(report, transform, rng)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{report.name}-{transform}"
    if fmt in ("docx", "pdf"):
        path = folder / f"{stem}.docx"
        path.write_bytes(docx_variant(report, plans))
    elif fmt == "html":
        path = folder / f"{stem}.html"
        path.write_text(html_variant(report, plans), encoding="utf-8")
    else:
        path = folder / f"{stem}-{fmt}{SUFFIX.get(fmt, '.txt')}"
        path.write_text(text_variant(html_variant(report, plans), fmt), encoding="utf-8")
    return Variant(report, transform, fmt, path, expected(report, plans), swapped_headers(report, plans))


# ================================================================ comparing an import with the workbook


def differences(spec: FormSpec, want: dict[str, Number], reading: Any) -> list[str]:
    """Every cell the import got wrong, as ``sheet!cell 标签: expected X, got Y``.

    A figure not read is fine when the import says why (placement.missing, or a problem that stopped
    the placing); a figure read must be the expected one. An import into another form is all wrong; a
    report refused reads nothing, and says why.
    """
    if reading.refused:
        return []  # nothing read, and the refusal says why
    if reading.spec is None or reading.placement is None:
        return ["no reading at all"]
    if reading.spec.form_version != spec.form_version:
        return [f"read as the {reading.spec.form_version} form, not the {spec.form_version} form"]
    placement = reading.placement
    layout = for_spec(spec)
    got = {**placement.values, **placement.printed}
    out = [f"{key}: not a cell of the form, got {got[key]!r}" for key in got if key not in want]
    for key in (c.key for c in spec.cells()):
        where = _where(layout, key)
        if key in got and got[key] != want[key]:  # None (read as printed blank) is not the printed 0
            out.append(f"{where}: expected {want[key]!r}, got {got[key]!r}")
        elif key not in got and not (placement.missing.get(key) or placement.problem):
            out.append(f"{where}: not read, and no reason given")
    return out


def _where(layout: Any, key: str) -> str:
    try:
        sheet, cell = layout.locate(key)
    except KeyError:
        return key
    return f"{sheet.name}!{cell.address} {cell.what}"
