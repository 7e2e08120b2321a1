"""Lines of text -> prose and table grids: the line-to-grid step that text and unruled PDF share.

A parser that sees only lines (pasted text, a PDF page without ruled lines) hands them here. Each
line is cut into cells: by ``|`` or tabs, by runs of spaces, by figures at its end (``规章 0 0 0``),
or (PDF) by the gaps between its pieces. Runs of lines that hold figures become a :class:`Table`
(``exact=False``); prose lines (a sentence, a whole page run together) stay :class:`Text`.

Inside a table, rows are formed without knowing the form: a row is its label cells then its
figures. One cell a line: a label line starts a row, the figures below it are its cells (blank
lines are empty cells, or, where blank lines separate every line, a run of k blank lines holds
k-1 empty cells; where every cell line starts with a tab, a line with nothing ends the row).
A label wrapped over several lines is one row: a label line that does not start with a numbering
(``一、`` ``（一）`` ``1.``) continues the label above it, in a PDF when it stands under it. A row of
figures printed apart from any label is kept as a row of its own (the placer decides whether it
can be told whose figures they are).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from xltool.importers.model import Block, Table, Text
from xltool.importers.values import is_value

FURNITURE = re.compile(
    r"^\s*(?:[—–-]\s*\d+\s*[—–-]|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|\|?(?:\s*:?-{3,}:?\s*\|)+\s*:?-*:?)\s*$"
)
NUMBERED = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|[(（]\s*[一二三四五六七八九十]+\s*[)）]|\d+\s*[.．、](?!\d))")
_PROSE_END = "。！？!?"
MAX_CELL = 100  # a line longer than this with no separator is prose, whatever it ends with
_SPACES = re.compile(r"[ \u3000]{2,}")


@dataclass(frozen=True)
class Piece:
    """A run of a PDF line's text with its horizontal extent (points from the page's left edge)."""

    text: str
    x0: float
    x1: float


@dataclass(frozen=True)
class Line:
    text: str
    where: str = ""
    pieces: tuple[Piece, ...] | None = None  # PDF: the line as its pieces; None: cut the text
    top: float | None = None  # PDF: where the line stands (points from the page top) and how tall it is
    height: float = 0.0


@dataclass
class _Cut:
    """A line cut into cells."""

    kind: str  # "blank", "bar" (a lone |), "prose", "cells"
    cells: list[str] = field(default_factory=list)
    tab_led: bool = False
    separated: bool = False  # cut at | or tabs
    x0: float | None = None  # PDF: where the line's first cell starts
    xs: list[tuple[float, float]] | None = None  # PDF: each cell's horizontal extent
    top: float | None = None
    height: float = 0.0


def numbered(text: str) -> bool:
    return bool(NUMBERED.match(text))


def cut(line: Line) -> _Cut:
    if line.pieces is not None:
        found = _cut_pieces(line.pieces)
        found.top, found.height = line.top, line.height
        return found
    raw = line.text.replace("\r", "")
    if FURNITURE.match(raw):
        return _Cut("skip")
    body = raw.strip(" \u3000")
    if not body:
        return _Cut("blank")
    if body.strip() == "|":
        return _Cut("bar")
    if body.startswith("\t"):  # a copied Word table: a cell a line after a tab; a tab alone is an empty cell
        inner = body[1:]
        cells = [c.strip() for c in inner.split("\t")] if inner.strip() else [""]
        return _Cut("cells", cells, tab_led=True, separated=True)
    if "|" in body or "\t" in body:
        cells = _split_separated(body)
        if any(_prose(c) for c in cells):
            return _Cut("prose", [body])
        if len(cells) > 1 and cells[0] and not any(cells[1:]):
            cells = cells[:1]  # x | ||||: a cell and the empty places a column span left
        return _Cut("cells", cells, separated=True)
    return _cut_plain(body.strip())


def _split_separated(body: str) -> list[str]:
    if "|" in body:
        body = body.strip()
        s = body[1:] if body.startswith("|") else body
        s = s[:-1] if s.endswith("|") else s
        return [c.strip() for c in re.split(r"(?<!\\)\|", s)]
    return [c.strip() for c in body.split("\t")]


def _cut_plain(body: str) -> _Cut:
    tokens = list(re.finditer(r"\S+", body))
    values = 0
    while values < len(tokens) and is_value(tokens[len(tokens) - 1 - values].group()):
        values += 1
    if values == len(tokens):
        return _Cut("cells", [t.group() for t in tokens])
    if values:  # a label and the figures after it: 规章 0 0 0
        first = tokens[len(tokens) - values]
        head = body[: first.start()].strip()
        return _Cut("cells", [*_text_cells(head), *(t.group() for t in tokens[len(tokens) - values :])])
    if _prose(body):
        return _Cut("prose", [body])
    return _Cut("cells", _text_cells(body))


def _prose(text: str) -> bool:
    return len(text) > MAX_CELL or any(ch in text for ch in _PROSE_END)


def _text_cells(text: str) -> list[str]:
    """Text cells split by runs of two or more spaces (one space stays inside a cell: 商业 企业)."""
    return [c for c in _SPACES.split(text) if c]


def _cut_pieces(pieces: tuple[Piece, ...]) -> _Cut:
    cells: list[str] = []
    xs: list[tuple[float, float]] = []
    for piece in pieces:
        tokens = piece.text.split()
        if len(tokens) > 1 and all(is_value(t) for t in tokens):  # figures a PDF ran into one piece
            width = (piece.x1 - piece.x0) / len(tokens)
            cells += tokens
            xs += [(piece.x0 + j * width, piece.x0 + (j + 1) * width) for j in range(len(tokens))]
        else:
            cells.append(piece.text.strip())
            xs.append((piece.x0, piece.x1))
    text = " ".join(cells)
    if FURNITURE.match(text):
        return _Cut("skip")
    if len(cells) == 1 and not is_value(cells[0]) and _prose(text):
        return _Cut("prose", cells, x0=pieces[0].x0)
    return _Cut("cells", cells, x0=pieces[0].x0, xs=xs)


# ---------------------------------------------------------------- lines -> blocks


def to_blocks(lines: list[Line], *, spaced: bool = False, where: Callable[[Line], str] | None = None) -> list[Block]:
    """Prose lines as :class:`Text`, runs of table lines as inferred :class:`Table` grids, in order.

    ``spaced``: the whole text separates its lines by blank lines. ``where``: the table's place
    from its first line (default: "第 N 行起的表格").
    """
    where = where or (lambda line: f"{line.where}起的表格")
    cuts = [cut(line) for line in lines]
    out: list[Block] = []
    i = 0
    while i < len(lines):
        j = _region_end(cuts, i)
        if j > i:
            table = _table(lines[i:j], cuts[i:j], spaced, where)
            if table is not None:
                out.append(table)
                i = j
                continue
        if cuts[i].kind not in ("blank", "skip"):
            out.append(Text(lines[i].text.replace("\r", ""), lines[i].where))
        i += 1
    return out


def _tabular(c: _Cut) -> bool:
    return c.kind == "cells" and (len(c.cells) > 1 or c.tab_led or (len(c.cells) == 1 and is_value(c.cells[0])))


def _region_end(cuts: list[_Cut], i: int) -> int:
    """The end (exclusive) of the table region starting at line i: up to the last table line of
    the run of lines that are not prose; i when the run holds no table line."""
    last = i - 1
    j = i
    while j < len(cuts) and cuts[j].kind != "prose":
        if _tabular(cuts[j]) or cuts[j].kind == "bar":
            last = j
        j += 1
    region = cuts[i : last + 1]
    figures = sum(c.kind == "cells" and any(is_value(x) and x.strip() for x in c.cells) for c in region)
    headers = sum(c.kind == "cells" and len(c.cells) > 1 and not any(is_value(x) for x in c.cells) for c in region)
    separated = any(c.kind == "cells" and c.separated and len(c.cells) > 1 for c in region)
    content = sum(c.kind == "cells" for c in region)
    return last + 1 if last >= i and (figures + min(headers, 1) >= 2 or (separated and content > 1)) else i


@dataclass
class _Row:
    labels: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    first: int = 0  # index of its first line in the region
    closed: bool = False  # a line of its own (cells on one line): nothing more is added below it
    x0: float | None = None
    lines: list[int] = field(default_factory=list)  # the region's lines it was read from
    figures: int | None = None  # the line its first figure stands on
    separated: bool = False  # begun by a line cut at | or tabs
    label_xs: list[tuple[float, float]] = field(default_factory=list)  # PDF: the cells' extents
    value_xs: list[tuple[float, float]] = field(default_factory=list)
    bottom: float | None = None  # PDF: where its last line ends


def _table(lines: list[Line], cuts: list[_Cut], spaced: bool, where: Callable[[Line], str]) -> Table | None:
    content = [k for k, c in enumerate(cuts) if c.kind not in ("blank", "skip")]
    cells = [k for k in content if cuts[k].kind == "cells"]
    tab_led = bool(cells) and sum(cuts[k].tab_led for k in cells) >= 0.8 * len(cells)
    spaced = spaced or _spaced(cuts, content)
    rows: list[_Row] = []
    cur: _Row | None = None
    blanks = 0
    for k, c in enumerate(cuts):
        if c.kind in ("skip", "bar"):
            continue
        if c.kind == "blank":
            if tab_led:
                cur = None
            else:
                blanks += 1
            continue
        if blanks and cur is not None and not cur.closed:
            cur.values.extend([""] * (blanks - 1 if spaced else blanks))
        blanks = 0
        cur = _add(rows, cur, c, k)
        if cur is not None:
            cur.lines.append(k)
            cur.separated = cur.separated or (c.separated and len(cur.lines) == 1)
            if cur.figures is None and any(v.strip() for v in cur.values):
                cur.figures = k
    if blanks and cur is not None and not cur.closed and not spaced:
        cur.values.extend([""] * blanks)
    if not rows:
        return None
    grid = tuple(tuple(r.labels + r.values) for r in rows)
    wheres = tuple(lines[r.first if r.figures is None else r.figures].where for r in rows)
    texts = tuple("\n".join(lines[k].text.strip() for k in r.lines if lines[k].text.strip()) for r in rows)
    placed = all(len(r.label_xs) == len(r.labels) and len(r.value_xs) == len(r.values) for r in rows)
    xs = tuple(tuple(r.label_xs + r.value_xs) for r in rows) if placed and cuts[content[0]].xs is not None else ()
    return Table(grid, where(lines[0]), False, wheres, tuple(r.closed for r in rows), texts, xs)


def _spaced(cuts: list[_Cut], content: list[int]) -> bool:
    """Whether blank lines separate (nearly) every line of the region."""
    if len(content) < 6:
        return False
    followed = sum(1 for k in content if k + 1 < len(cuts) and cuts[k + 1].kind == "blank")
    return followed >= 0.8 * len(content)


def _add(rows: list[_Row], cur: _Row | None, c: _Cut, k: int) -> _Row | None:
    """Add one cut line to the rows; the row now open (or the last one)."""
    row = _add_cells(rows, cur, c, k)
    if row is not None and c.top is not None:
        row.bottom = c.top + c.height
    return row


def _add_cells(rows: list[_Row], cur: _Row | None, c: _Cut, k: int) -> _Row | None:
    xs = c.xs or []
    if len(c.cells) == 1:
        cell = c.cells[0]
        if is_value(cell):
            if cur is not None and not cur.closed:
                cur.values.append(cell)
                cur.value_xs += xs
                return cur
            return _new(rows, _Row([], [cell], k, x0=c.x0, value_xs=list(xs)))
        if _continues(cur, cell, c):
            assert cur is not None
            cur.labels.append(cell)
            cur.label_xs += xs
            return cur
        return _new(rows, _Row([cell], [], k, x0=c.x0, label_xs=list(xs)))
    labels, values = split_row(c.cells)
    opened = cur is not None and not cur.closed and bool(cur.labels) and not cur.values and not cur.separated
    if opened and not c.separated and any(v.strip() for v in values) and (not labels or not numbered(labels[0])):
        assert cur is not None  # the label began on the lines above: 2.申请人逾期…／要求缴纳费用… 0 0
        if labels or _under(cur, c):  # (figures alone: only right under it, as a PDF centres them)
            cur.labels += labels
            cur.values = values
            cur.label_xs += xs[: len(labels)]
            cur.value_xs = list(xs[len(labels) :])
            cur.closed = True
            return cur
    return _new(
        rows,
        _Row(
            labels, values, k, closed=True, x0=c.x0, label_xs=list(xs[: len(labels)]), value_xs=list(xs[len(labels) :])
        ),
    )


def _under(cur: _Row, c: _Cut) -> bool:
    """Whether a PDF line stands right below a row's last line (its label wrapped around its figures)."""
    return cur.bottom is not None and c.top is not None and c.top - cur.bottom < max(c.height, 1.0)


def _continues(cur: _Row | None, cell: str, c: _Cut) -> bool:
    if cur is None or numbered(cell):
        return False
    if not cur.closed:
        return not cur.values
    # a PDF row's label wrapped below its figures: the line stands under the row's label, right below
    return bool(
        cur.labels
        and cur.values
        and c.x0 is not None
        and cur.x0 is not None
        and abs(c.x0 - cur.x0) < 30
        and _under(cur, c)
    )


def _new(rows: list[_Row], row: _Row) -> _Row:
    rows.append(row)
    return row


def split_row(cells: list[str] | tuple[str, ...]) -> tuple[list[str], list[str]]:
    """A row's label cells (up to its last cell that is not a figure) and its figures."""
    last = max((i for i, c in enumerate(cells) if c.strip() and not is_value(c)), default=-1)
    return list(cells[: last + 1]), list(cells[last + 1 :])
