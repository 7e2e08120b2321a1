"""The neutral model that every parser emits and the placer reads.

A parser knows its format and nothing of the form; the placer knows the form and nothing of formats.
Between them stands a :class:`Document`: the text blocks and tables of a published report, in
reading order, each with a short note of where it stood (for ``--json`` sources and for messages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Format = Literal["html", "docx", "pdf", "text"]


@dataclass(frozen=True)
class Text:
    """One paragraph (HTML, .docx) or one line (PDF, pasted text), as printed, whitespace kept."""

    text: str
    where: str = ""  # e.g. "第 3 页", "第 12 行"; empty when the format has no useful position


@dataclass(frozen=True)
class Table:
    """A table as a grid of cell texts.

    ``exact`` (HTML, .docx, ruled PDF, a well-formed Markdown table): a rectangular grid with spans
    resolved. A merged cell (rowspan/colspan, Word's vMerge/gridSpan) puts its text in every grid
    position it covers, so every row has the same length and a column header stands above each of
    its columns. Not ``exact`` (text and unruled PDF, through :mod:`xltool.importers.lines`): rows
    inferred from lines, each row its label cells then its figures, rows of any length, a header
    row's cells not necessarily above the columns they name.

    Cell texts are as printed (line breaks inside a cell kept as ``\\n``); an empty cell is ``""``.
    """

    rows: tuple[tuple[str, ...], ...]
    where: str = ""  # e.g. "第 2 个表格", "第 4 页"
    exact: bool = True
    row_wheres: tuple[str, ...] = field(default=(), compare=False)  # where each row stood (text line, PDF page)
    # not exact: whether each row was printed on one line (its cells side by side, so a header row
    # as wide may stand above its columns) rather than gathered from lines one under another
    one_line: tuple[bool, ...] = field(default=(), compare=False)
    row_texts: tuple[str, ...] = field(default=(), compare=False)  # not exact: each row's lines as printed
    # unruled PDF: each cell's horizontal extent (points), so a header stands above its figures
    xs: tuple[tuple[tuple[float, float], ...], ...] = field(default=(), compare=False)


Block = Text | Table


@dataclass(frozen=True)
class Document:
    """A published report as its parser saw it."""

    source: Path
    format: Format
    blocks: tuple[Block, ...]
    title: str | None = None  # the format's own title (HTML <title>, .docx core title), a hint only
