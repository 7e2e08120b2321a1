"""The neutral model that every parser emits and the placer reads.

A parser knows its format and nothing of the form; the placer knows the form and nothing of formats.
Between them stands a :class:`Document`: the text blocks and tables of a published report, in
reading order, each with a short note of where it stood (for ``--json`` sources and for messages).
"""

from __future__ import annotations

from dataclasses import dataclass
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
    """A table as a rectangular grid of cell texts, spans resolved.

    A merged cell (rowspan/colspan, Word's vMerge/gridSpan) puts its text in every grid position it
    covers, so every row has the same length and a column header stands above each of its columns.
    Cell texts are as printed (line breaks inside a cell kept as ``\\n``); an empty cell is ``""``.
    """

    rows: tuple[tuple[str, ...], ...]
    where: str = ""  # e.g. "第 2 个表格", "第 4 页"


Block = Text | Table


@dataclass(frozen=True)
class Document:
    """A published report as its parser saw it."""

    source: Path
    format: Format
    blocks: tuple[Block, ...]
    title: str | None = None  # the format's own title (HTML <title>, .docx core title), a hint only
