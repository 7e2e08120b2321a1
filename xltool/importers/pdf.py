"""PDF files with a text layer -> :class:`Document`: the only module that imports pypdfium2 and pdfplumber.

pypdfium2 (PDFium, C++) reads every page's text segments with their positions: a few milliseconds a
page. Segments on one baseline join into a line; each line is a :class:`Text` with
``where="第 N 页"``. Page-number lines (``- 3 -``, ``—3—``, ``第3页 共5页``, ``3/5``) are dropped;
a bare number on a line of its own is kept, because it cannot be told from a figure.

Ruled tables: PDFium also gives the page's vector paths; their horizontal and vertical strokes go
through pdfplumber's own table finder (snap and join the edges, intersections, cells, tables: pure
functions of the edges), and the cells take the text segments whose centres they hold. That is the
pdfplumber result without pdfminer's page parsing, which costs ~0.25 s a table page against ~10 ms
(benchmarks/import_bench.py); ``tables="pdfplumber"`` runs pdfplumber whole, and the tests check
that both give the same grids on our documents. Each table is a :class:`Table` grid built from its
cells' boxes, a merged cell's text in every position it covers; text lines inside a table's box
are not repeated as lines. Lines and tables keep page order (top to bottom).
"""

from __future__ import annotations

import bisect
import ctypes
import io
import itertools
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pdfplumber
import pdfplumber.table as plumber_table
import pdfplumber.utils as plumber_utils
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from xltool.importers import lines as grids
from xltool.importers.model import Block, Document, Table, Text
from xltool.importers.source import MB, fail, read_limited

MAX_BYTES = 50 * MB  # as the import dispatcher (parsers.MAX_BYTES)
MAX_PAGES = 500  # a report is 5-30 pages
NO_TEXT = (
    "PDF 没有文字层（可能是扫描件或图片），无法读取其中的文字和数字。"
    "请使用原始的 Word 或网页版本，或先用 OCR 软件把它识别成带文字层的 PDF 后再试。"
)
EMPTY = "PDF 中没有任何内容（空白页）。"
ENCRYPTED = "PDF 设置了打开密码（已加密），无法读取。请取消密码后另存一份再试，或使用原始的 Word 或网页版本。"
CORRUPT = "PDF 文件已损坏，无法打开。请重新下载或向发布单位索取原件。"
NOT_PDF = "不是 PDF 文件：文件内容不是 PDF 格式，可能是改了扩展名的其他文件。"
_DASH = "-‐‑‒–—―－─"
PAGE_MARK = re.compile(
    rf"^\s*(?:[{_DASH}]+\s*\d+\s*[{_DASH}]+"
    r"|第\s*\d+\s*页\s*[,，、/／]?\s*(?:共\s*\d+\s*页)?"
    r"|共\s*\d+\s*页\s*第\s*\d+\s*页"
    r"|\d+\s*[/／]\s*\d+"
    r"|page\s*\d+(?:\s*of\s*\d+)?)\s*$",
    re.IGNORECASE,
)
_EDGE = 1.5  # points: cell edges closer than this are one grid line


@dataclass(frozen=True)
class _Segment:
    left: float
    top: float  # from the page top, as pdfplumber measures
    right: float
    bottom: float
    text: str


Engine = Literal["pdfium", "pdfplumber", "none"]


def parse(path: Path, *, tables: Engine = "pdfium") -> Document:
    """Parse a text PDF; ``tables`` chooses how ruled tables are found ("none": text lines only)."""
    path = Path(path)
    data = read_limited(path, MAX_BYTES, "PDF")
    if b"%PDF" not in data[:1024]:
        raise fail(path, NOT_PDF)
    pdf = _open(path, data)
    found: dict[int, list[tuple[Box, Table]]] = {}
    try:
        if len(pdf) > MAX_PAGES:
            raise fail(path, f"PDF 页数过多（{len(pdf)} 页，上限 {MAX_PAGES} 页），不像是一份年度报告，已拒绝读取。")
        pages = []
        for i in range(len(pdf)):
            page = pdf[i]
            try:
                pages.append(_page_segments(page))
                if tables == "pdfium":
                    found[i] = _ruled_tables(page, pages[-1], f"第 {i + 1} 页")
            finally:
                page.close()
        ruled = [i for i in range(len(pdf)) if tables == "pdfplumber" and _has_paths(pdf[i])]
        title = _title(pdf)
    except (pdfium.PdfiumError, ValueError, OSError):
        raise fail(path, CORRUPT) from None
    finally:
        pdf.close()
    if not any(pages):
        raise fail(path, NO_TEXT if _any_image(data) else EMPTY)
    if tables == "pdfplumber":
        found = _plumber_tables(data, ruled)
    blocks: list[Block] = []
    for number, segments in enumerate(pages):
        blocks += _page_blocks(number, segments, found.get(number, []), grid=tables != "none")
    return Document(source=path, format="pdf", blocks=tuple(blocks), title=title)


def _title(pdf: pdfium.PdfDocument) -> str | None:
    try:
        return pdf.get_metadata_value("Title").strip() or None
    except (pdfium.PdfiumError, ValueError):  # a damaged info dictionary is no reason to refuse the text
        return None


def _open(path: Path, data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise fail(path, ENCRYPTED) from None
        raise fail(path, CORRUPT) from None


# ---------------------------------------------------------------- pdfium: text


def _page_segments(page: pdfium.PdfPage) -> list[_Segment]:
    height = page.get_height()
    textpage = page.get_textpage()
    try:
        out = []
        for k in range(textpage.count_rects()):
            left, bottom, right, top = textpage.get_rect(k)
            # PDFium ends a segment with a space of its own where the next glyph stands apart; the
            # gap rule of _lines decides instead (Chinese text has no spaces between characters)
            text = textpage.get_text_bounded(left, bottom, right, top).replace("\r", "").replace("\n", " ").strip()
            if text:
                out.append(_Segment(left, height - top, right, height - bottom, text))
        return out
    finally:
        textpage.close()


def _has_paths(page: pdfium.PdfPage) -> bool:
    try:
        return next(iter(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=3)), None) is not None
    finally:
        page.close()


def _any_image(data: bytes) -> bool:
    pdf = pdfium.PdfDocument(data)
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            found = next(iter(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3)), None)
            page.close()
            if found is not None:
                return True
        return False
    finally:
        pdf.close()


def _rows(segments: list[_Segment]) -> list[list[_Segment]]:
    """Segments on one baseline, each row left to right, rows top to bottom."""
    rows: list[list[_Segment]] = []
    for seg in sorted(segments, key=lambda s: (s.top, s.left)):
        row = rows[-1] if rows else None
        if row and _same_line(row[0], seg):
            row.append(seg)
        else:
            rows.append([seg])
    for row in rows:
        row.sort(key=lambda s: s.left)
    return rows


def _joined(row: list[_Segment]) -> str:
    """A row's text. A gap becomes a space when it is wider than one and a half characters (beside
    Chinese text, whose printed source has no spaces and where justification stretches gaps) or a
    quarter of one (Latin, digits)."""
    text = row[0].text
    for prev, seg in itertools.pairwise(row):
        wide = _wide(text.rstrip()[-1:]) or _wide(seg.text.lstrip()[:1])
        space = (seg.left - prev.right) > (seg.bottom - seg.top) * (1.5 if wide else 0.25)
        text += (" " if space and not text.endswith(" ") else "") + seg.text
    return text.strip()


def _lines(segments: list[_Segment]) -> list[tuple[float, str]]:
    """Segments on one baseline, left to right, as (top, text)."""
    return [(row[0].top, _joined(row)) for row in _rows(segments)]


def _pieces(row: list[_Segment]) -> tuple[grids.Piece, ...]:
    """A row cut where a gap is wider than half a character: a table's cells side by side (the
    characters of a cell's text stand close; a word space is narrower). A line with no gap as wide
    as a character is one piece (justified prose spreads its characters, never that far)."""
    gaps = [seg.left - prev.right - (seg.bottom - seg.top) for prev, seg in itertools.pairwise(row)]
    if not gaps or max(gaps) <= 0:
        return (grids.Piece(_joined(row), row[0].left, row[-1].right),)
    out: list[list[_Segment]] = [[row[0]]]
    for prev, seg in itertools.pairwise(row):
        if seg.left - prev.right > (seg.bottom - seg.top) * 0.45:
            out.append([seg])
        else:
            out[-1].append(seg)
    return tuple(grids.Piece(_joined(p), p[0].left, p[-1].right) for p in out)


def _wide(ch: str) -> bool:
    return bool(ch) and unicodedata.east_asian_width(ch) in "WF"


def _same_line(a: _Segment, b: _Segment) -> bool:
    overlap = min(a.bottom, b.bottom) - max(a.top, b.top)
    return overlap > 0.5 * min(a.bottom - a.top, b.bottom - b.top)


Box = tuple[float, float, float, float]  # x0, top, x1, bottom (from the page top)


def _page_blocks(
    number: int, segments: list[_Segment], tables: list[tuple[Box, Table]], grid: bool = True
) -> list[Block]:
    """A page's lines and ruled tables in order; lines between tables through the line-to-grid step
    (an unruled table: its cells by the gaps between them), unless ``grid`` is off."""
    where = f"第 {number + 1} 页"
    outside = [s for s in segments if not any(_inside(s, box) for box, _ in tables)]
    items: list[tuple[float, Block | grids.Line]] = []
    for row in _rows(outside):
        text = _joined(row)
        if not PAGE_MARK.match(text):
            height = max(s.bottom for s in row) - row[0].top
            line = grids.Line(text, where, _pieces(row), row[0].top, height) if grid else Text(text, where)
            items.append((row[0].top, line))
    items += [(box[1], table) for box, table in tables]
    items.sort(key=lambda item: item[0])
    out: list[Block] = []
    run: list[grids.Line] = []
    for _, item in items:
        if isinstance(item, grids.Line):
            run.append(item)
            continue
        out += grids.to_blocks(run, where=_where) if run else []
        run = []
        out.append(item)
    return out + (grids.to_blocks(run, where=_where) if run else [])


def _where(line: grids.Line) -> str:
    return line.where


def _inside(seg: _Segment, box: Box) -> bool:
    x, y = (seg.left + seg.right) / 2, (seg.top + seg.bottom) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


# ---------------------------------------------------------------- pdfplumber: ruled tables


def _plumber_tables(data: bytes, pages: list[int]) -> dict[int, list[tuple[Box, Table]]]:
    """Page index -> (box, Table) of every ruled table pdfplumber finds on the given pages.

    A page pdfplumber cannot read keeps its text lines, so nothing printed is lost."""
    out: dict[int, list[tuple[Box, Table]]] = {}
    if not pages:
        return out
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        with pdfplumber.open(io.BytesIO(data)) as doc:
            for index in pages:
                try:
                    found = doc.pages[index].find_tables()
                    grids = [(t.bbox, _plumber_grid(t)) for t in found]
                except Exception:
                    continue
                out[index] = [(box, Table(g, where=f"第 {index + 1} 页")) for box, g in grids if g]
    except Exception:
        return {}
    return out


def _plumber_grid(table: plumber_table.Table) -> tuple[tuple[str, ...], ...]:
    cells: list[tuple[Box, str]] = []
    for row, texts in zip(table.rows, table.extract(), strict=True):
        cells += [(box, text or "") for box, text in zip(row.cells, texts, strict=True) if box is not None]
    return _grid(cells)


def _grid(cells: list[tuple[Box, str]]) -> tuple[tuple[str, ...], ...]:
    """The table's grid from its cells' boxes: each text in every position its box covers."""
    xs = _lines_at([v for (x0, _, x1, _), _ in cells for v in (x0, x1)])
    ys = _lines_at([v for (_, top, _, bottom), _ in cells for v in (top, bottom)])
    grid = [["" for _ in range(len(xs) - 1)] for _ in range(len(ys) - 1)]
    for (x0, top, x1, bottom), text in cells:
        for r in range(_index(ys, top), _index(ys, bottom)):
            for c in range(_index(xs, x0), _index(xs, x1)):
                grid[r][c] = text
    if not any(t for row in grid for t in row):
        return ()
    return tuple(tuple(row) for row in grid)


def _lines_at(values: list[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > _EDGE:
            out.append(v)
    return out


def _index(edges: list[float], v: float) -> int:
    """The grid line nearest to ``v``."""
    i = bisect.bisect_left(edges, v)
    if i == len(edges) or (i > 0 and v - edges[i - 1] < edges[i] - v):
        return i - 1
    return i


# ---------------------------------------------------------------- pdfium: ruled tables

_TOLERANCE = 3  # points: pdfplumber's defaults for snapping, joining and intersecting edges


def _ruled_tables(page: pdfium.PdfPage, segments: list[_Segment], where: str) -> list[tuple[Box, Table]]:
    """The page's ruled tables: PDFium's strokes through pdfplumber's table finder."""
    edges = _strokes(page)
    if not edges:
        return []
    edges = plumber_table.merge_edges(edges, _TOLERANCE, _TOLERANCE, _TOLERANCE, _TOLERANCE)
    edges = plumber_utils.filter_edges(edges, min_length=_TOLERANCE)
    crossings = plumber_table.edges_to_intersections(edges, _TOLERANCE, _TOLERANCE)
    out = []
    for boxes in plumber_table.cells_to_tables(plumber_table.intersections_to_cells(crossings)):
        held = _held(boxes, segments)
        grid = _grid([(box, "\n".join(t for _, t in _lines(held[i]))) for i, box in enumerate(boxes)])
        if grid:
            bbox = (
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            )
            out.append((bbox, Table(grid, where)))
    return out


def _held(boxes: list[Box], segments: list[_Segment]) -> list[list[_Segment]]:
    """The segments whose centre each cell box holds (one bisection per segment)."""
    xs = _lines_at([v for x0, _, x1, _ in boxes for v in (x0, x1)])
    ys = _lines_at([v for _, top, _, bottom in boxes for v in (top, bottom)])
    slot: dict[tuple[int, int], int] = {}
    for i, (x0, top, x1, bottom) in enumerate(boxes):
        for r in range(_index(ys, top), _index(ys, bottom)):
            for c in range(_index(xs, x0), _index(xs, x1)):
                slot[(r, c)] = i
    out: list[list[_Segment]] = [[] for _ in boxes]
    for seg in segments:
        x, y = (seg.left + seg.right) / 2, (seg.top + seg.bottom) / 2
        if xs[0] <= x <= xs[-1] and ys[0] <= y <= ys[-1]:
            at = slot.get((bisect.bisect_right(ys, y) - 1, bisect.bisect_right(xs, x) - 1))
            if at is not None and _inside(seg, boxes[at]):
                out[at].append(seg)
    return out


def _strokes(page: pdfium.PdfPage) -> list[dict[str, Any]]:
    """Horizontal and vertical straight pieces of the page's paths, as pdfplumber edges."""
    height = page.get_height()
    out: list[dict[str, Any]] = []
    x, y = ctypes.c_float(), ctypes.c_float()
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=3):
        matrix = _matrix(obj)
        start = prev = None
        for i in range(pdfium_c.FPDFPath_CountSegments(obj.raw)):
            seg = pdfium_c.FPDFPath_GetPathSegment(obj.raw, i)
            pdfium_c.FPDFPathSegment_GetPoint(seg, x, y)
            point = matrix.on_point(x.value, y.value)
            kind = pdfium_c.FPDFPathSegment_GetType(seg)
            if kind == pdfium_c.FPDF_SEGMENT_LINETO and prev is not None:
                _stroke(out, prev, point, height)
            if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
                start = point
            prev = point
            if pdfium_c.FPDFPathSegment_GetClose(seg) and start is not None:
                _stroke(out, point, start, height)
                prev = start
    return out


def _matrix(obj: pdfium.PdfObject) -> pdfium.PdfMatrix:
    """The object's transform to page space, through the form XObjects that hold it."""
    matrix = obj.get_matrix()
    holder = obj.container
    while holder is not None:
        matrix = matrix.multiply(holder.get_matrix())
        holder = holder.container
    return matrix


def _stroke(out: list[dict[str, Any]], a: tuple[float, float], b: tuple[float, float], height: float) -> None:
    (x0, y0), (x1, y1) = sorted((a, b))
    if abs(y1 - y0) < 0.5 and x1 - x0 >= 1:
        top = height - y0
        out.append({"x0": x0, "x1": x1, "top": top, "bottom": top, "width": x1 - x0, "height": 0, "orientation": "h"})
    elif abs(x1 - x0) < 0.5 and abs(y1 - y0) >= 1:
        top, bottom = sorted((height - y0, height - y1))
        out.append(
            {"x0": x0, "x1": x0, "top": top, "bottom": bottom, "width": 0, "height": bottom - top, "orientation": "v"}
        )
