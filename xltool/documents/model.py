"""The document's model: what every writer (.docx, .html, .md) prints, built by :mod:`render`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GridRole = Literal["caption", "corner", "header", "label", "value"]
_GRID_ROLES: dict[str, GridRole] = {
    "caption": "caption",
    "corner": "corner",
    "header": "header",
    "label": "label",
    "input": "value",
    "total": "value",
}


# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class GridCell:
    """One cell of a table as printed; merged cells span several grid positions."""

    row: int
    col: int
    role: GridRole
    text: str
    rowspan: int = 1
    colspan: int = 1
    key: str | None = None  # value cells: the table cell key


@dataclass(frozen=True)
class Grid:
    """A table exactly as the official form lays it out."""

    key: str
    rows: int
    cols: int
    widths: tuple[float, ...]  # relative column widths
    cells: tuple[GridCell, ...]  # row-major
    header_rows: int  # leading rows to repeat on every page (0: none)

    def row(self, r: int) -> list[GridCell]:
        return [c for c in self.cells if c.row == r]


@dataclass(frozen=True)
class Flat:
    """One block of a table flattened: one line per value row, labels joined by :data:`PATH_SEP`."""

    caption: str | None
    corner: str | None  # None: the block has no label column
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Heading:
    text: str
    level: Literal[1, 2]


@dataclass(frozen=True)
class Paragraph:
    text: str
    align: Literal["justify", "right"] = "justify"


@dataclass(frozen=True)
class TableView:
    grid: Grid
    flat: tuple[Flat, ...]


Content = Heading | Paragraph | TableView


@dataclass(frozen=True)
class Chapter:
    """One of the sections 一–六: its heading and what stands under it."""

    heading: str
    content: tuple[Content, ...]
    landscape: bool = False


@dataclass(frozen=True)
class Document:
    title: str
    title_lines: tuple[str, ...]  # where a title too long for one line breaks: unit name, then the rest
    preamble: tuple[Paragraph, ...]
    chapters: tuple[Chapter, ...]
    closing: tuple[Paragraph, ...]
    stamp: str | None = None  # 〔草稿〕: a document with parts unwritten or still drafts, at the top of every page


def cell_align(c: GridCell) -> Literal["left", "center"]:
    """Row labels read left to right; group labels, headers and numbers are centred."""
    return "left" if c.role == "label" and c.rowspan == 1 else "center"
