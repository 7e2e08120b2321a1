"""A Document as one text: lines in reading order, table rows as tab-joined cells.

The text is where headings are found (which sections stand where), where the narratives are read,
and where a table printed inside prose (a page's text run together) is read by its labels
(:mod:`xltool.importers.inline`). Tables the parsers gave as grids are placed from their grids
(:mod:`xltool.importers.grids`); each line remembers the block (and table row) it came from.
Lines that are print furniture (PDF page markers ``— 3 —``, Markdown rule rows ``|---|---|``) are
left out.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cached_property

from xltool.importers.labels import Folded, fold_with_positions
from xltool.importers.model import Document, Table

_FURNITURE = re.compile(
    r"^\s*(?:[—–-]\s*\d+\s*[—–-]|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|\|?(?:\s*:?-{3,}:?\s*\|)+\s*)\s*$"
)
_NUMBERISH = re.compile(r"^[\s\d.,，%％+\-—/]*$")


@dataclass(frozen=True)
class Stream:
    raw: str
    line_starts: tuple[int, ...]
    wheres: tuple[str, ...]
    cells_exact: tuple[bool, ...]  # line came from a table grid (cells exact, no stray separators)
    sources: tuple[tuple[int, int], ...] = ()  # per line: (block index, table row index or -1)
    doc: Document | None = field(default=None, compare=False)

    @cached_property
    def folded(self) -> Folded:
        return fold_with_positions(self.raw)

    def line_of(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.line_starts, pos) - 1)

    def where(self, pos: int) -> str:
        return self.wheres[self.line_of(pos)] if self.wheres else ""

    def exact(self, pos: int) -> bool:
        """Whether the line at ``pos`` is a table grid's row (never cut part-way by its parser)."""
        return bool(self.cells_exact) and self.cells_exact[self.line_of(pos)]

    def position(self, block: int, row: int = -1) -> int:
        """Where a block's line (or a table's row) starts in the text."""
        line = self._lines.get((block, row))
        if line is None:  # a line of print furniture, left out: where the text goes on
            later = [i for (b, r), i in self._lines.items() if (b, r) > (block, row)]
            return self.line_starts[min(later)] if later else len(self.raw)
        return self.line_starts[line]

    @cached_property
    def _lines(self) -> dict[tuple[int, int], int]:
        out: dict[tuple[int, int], int] = {}
        for i, key in enumerate(self.sources):
            out.setdefault(key, i)
        return out

    def end_of(self, block: int, row: int = -1) -> int:
        """Where a block's line (or a table's row, over all its lines) ends in the text."""
        last = self._last.get((block, row))
        if last is None:
            return self.position(block, row)
        start = self.line_starts[last]
        return start + len(self.line_text(start))

    @cached_property
    def _last(self) -> dict[tuple[int, int], int]:
        return {key: i for i, key in enumerate(self.sources)}

    def line_text(self, pos: int) -> str:
        i = self.line_of(pos)
        end = self.line_starts[i + 1] - 1 if i + 1 < len(self.line_starts) else len(self.raw)
        return self.raw[self.line_starts[i] : end]


def build(doc: Document) -> Stream:
    lines: list[str] = []
    wheres: list[str] = []
    exact: list[bool] = []
    sources: list[tuple[int, int]] = []
    for b, block in enumerate(doc.blocks):
        if isinstance(block, Table):
            for i, row in enumerate(block.rows):
                # a grid's row is a line of tab-separated cells; an inferred table's cells were
                # lines of the text, and stay lines (a title, a heading, prose wrapped into it)
                for text in ["\t".join(_row_cells(row))] if block.exact else [c for c in row if c.strip()] or [""]:
                    lines.append(text)
                    wheres.append(row_where(block, i))
                    exact.append(True)
                    sources.append((b, i))
            continue
        for j, line in enumerate(block.text.split("\n")):
            if _FURNITURE.match(line):
                continue
            lines.append(line.replace("\r", ""))
            wheres.append(block.where if j == 0 or not block.where else f"{block.where}（续）")
            exact.append(False)
            sources.append((b, -1))
    starts: list[int] = []
    pos = 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    return Stream("\n".join(lines), tuple(starts), tuple(wheres), tuple(exact), tuple(sources), doc)


def row_where(table: Table, i: int) -> str:
    """Where a table's row stood: its own place when the parser knows it (第 21 行), else its row."""
    if i < len(table.row_wheres) and table.row_wheres[i]:
        return table.row_wheres[i]
    return f"{table.where}第 {i + 1} 行".strip() if table.where else f"表格第 {i + 1} 行"


def _row_cells(row: tuple[str, ...]) -> list[str]:
    """A grid row's cells; a label repeated by a column span is kept once, values always kept."""
    out: list[str] = []
    for cell in row:
        text = " ".join(cell.replace("\t", " ").split())
        if out and text == out[-1] and text and not _NUMBERISH.match(text):
            continue
        out.append(text)
    return out
