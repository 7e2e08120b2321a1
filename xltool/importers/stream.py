"""A Document as one text the placer searches: lines in reading order, table rows as tab-joined cells.

Labels are found in the folded text (:mod:`xltool.importers.labels`), values are read from the raw
text between them, so every layout (grids, ``|`` rows, one cell a line, cells run together) goes
through the same reading. Lines that are print furniture (PDF page markers ``— 3 —``, Markdown
rule rows ``|---|---|``) are left out.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
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

    def line_text(self, pos: int) -> str:
        i = self.line_of(pos)
        end = self.line_starts[i + 1] - 1 if i + 1 < len(self.line_starts) else len(self.raw)
        return self.raw[self.line_starts[i] : end]


def build(doc: Document) -> Stream:
    lines: list[str] = []
    wheres: list[str] = []
    exact: list[bool] = []
    for block in doc.blocks:
        if isinstance(block, Table):
            for i, row in enumerate(block.rows):
                lines.append("\t".join(_row_cells(row)))
                wheres.append(f"{block.where}第 {i + 1} 行".strip() if block.where else f"表格第 {i + 1} 行")
                exact.append(True)
            continue
        for j, line in enumerate(block.text.split("\n")):
            if _FURNITURE.match(line):
                continue
            lines.append(line.replace("\r", ""))
            wheres.append(block.where if j == 0 or not block.where else f"{block.where}（续）")
            exact.append(False)
    starts: list[int] = []
    pos = 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    return Stream("\n".join(lines), tuple(starts), tuple(wheres), tuple(exact))


def _row_cells(row: tuple[str, ...]) -> list[str]:
    """A grid row's cells; a label repeated by a column span is kept once, values always kept."""
    out: list[str] = []
    for cell in row:
        text = " ".join(cell.replace("\t", " ").split())
        if out and text == out[-1] and text and not _NUMBERISH.match(text):
            continue
        out.append(text)
    return out
