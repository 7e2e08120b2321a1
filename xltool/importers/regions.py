"""The printed cells of one table row: the raw text between its label and whatever follows.

Three shapes reach here. *Inline with separators*: ``| 58 | 7 | 0 |`` or a grid row's tab-joined
cells, empty cells kept. *One cell a line*: the label's line ends and each following line is a
cell (an empty line is an empty cell; where blank lines separate every cell, a run of k blank
lines holds k-1 empty cells; where every cell line starts with a tab, the tab-only line is the
empty cell and a blank line only ends a table row). *Inline without separators*: ``规章000`` or ``11 0 0 0``: numbers
split by spaces or not at all, read by :func:`xltool.importers.values.splits`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SEPARATORS = re.compile(r"[|\t]")
NUMBERING = re.compile(r"^[\s|]*(?:\d+\s*[.．、]|[(（]\s*\d+\s*[)）])\s*$")  # the next row's number, its words cut off
# characters a row's printed values may contain (digits, units, signs, separators, blanks)
VALUE_CHARS = re.compile(r"[\s\d０-９.,，．|\t+\-—–－/／%件条个项次万元增减无]*")


@dataclass(frozen=True)
class Cells:
    """What a row region holds: separate cells (``run_together`` False) or digit tokens."""

    items: tuple[str, ...]
    run_together: bool = False


def extent(raw: str, start: int, stop: int) -> int:
    """Where a row's values end: the first character that cannot be part of them (or ``stop``)."""
    m = VALUE_CHARS.match(raw, start, stop)
    assert m is not None
    return m.end()


def read(region: str, spaced: bool) -> Cells:
    """Split a row region into cells; ``spaced``: the document separates every line by a blank one."""
    lines = region.split("\n")
    first = lines[0]
    if len(lines) == 1:
        return _inline(first)
    if first.strip(" |\t\u3000"):
        return _inline(first)
    # the last piece is the start of the next label's line, unless it holds figures (end of text)
    last = lines[-1]
    middle = lines[1:] if re.search(r"\d", last) and not NUMBERING.match(last) else lines[1:-1]
    return Cells(tuple(_vertical(middle, spaced)))


def _inline(line: str) -> Cells:
    if SEPARATORS.search(line):
        pieces = SEPARATORS.split(line)
        head, cells = pieces[0], pieces[1:]
        if head.strip():
            return Cells((head.strip(), *(c.strip() for c in cells)), run_together=False)
        if cells and line.rstrip(" \u3000").endswith("|"):
            cells = cells[:-1]
        return Cells(tuple(c.strip() for c in cells))
    return Cells(tuple(line.split()), run_together=True)


def _vertical(lines: list[str], spaced: bool) -> list[str]:
    items: list[str] = []
    tab_led = _tab_led(lines)
    for line in lines:
        if tab_led and not line.strip(" \u3000"):
            continue  # a row break: in a tab-led table the empty cell is the tab-only line
        s = line.strip(" \u3000")
        if s == "|":  # cell and "|" on alternating lines
            continue
        s = s.strip("\t")
        if s.startswith("|"):
            s = s[1:]
        if s.endswith("|"):
            s = s[:-1]
        if SEPARATORS.search(s):
            items.extend(c.strip() for c in SEPARATORS.split(s))
        elif re.fullmatch(r"[\d.,]+(?:\s+[\d.,]+)+", s.strip()):  # a row of figures split by spaces
            items.extend(s.split())
        else:
            items.append(s.strip())
    if not spaced:
        return items
    out: list[str] = []
    run = 0
    for item in items:
        if item == "":
            run += 1
            continue
        out.extend([""] * max(run - 1, 0))
        out.append(item)
        run = 0
    out.extend([""] * max(run - 1, 0))
    return out


def _tab_led(lines: list[str]) -> bool:
    """Whether every cell line starts with a tab (a copied Word table: a cell a line, a row a block).

    There an empty cell keeps its tab (``"\\t"``) and a line with nothing on it only ends a table row
    (the header's rows above the figures, too), so it is no cell.
    """
    cells = [line for line in lines if line.strip(" \u3000")]
    return bool(cells) and all(line.lstrip(" \u3000").startswith("\t") for line in cells)


def spaced_layout(raw: str) -> bool:
    """Whether blank lines separate (nearly) every line: then a blank line is not an empty cell."""
    lines = raw.split("\n")
    content = [i for i, line in enumerate(lines) if line.strip()]
    if len(content) < 10:
        return False
    followed = sum(1 for i in content if i + 1 < len(lines) and not lines[i + 1].strip())
    return followed >= 0.8 * len(content)


def read_all(region: str, spaced: bool) -> Cells:
    """A run of figures with no label before it (表四): one line, or every line a cell line."""
    lines = region.rstrip("\n").split("\n")
    if len(lines) == 1:
        return _inline_unlabelled(lines[0])
    return Cells(tuple(_vertical(lines, spaced)))


def _inline_unlabelled(line: str) -> Cells:
    if SEPARATORS.search(line):
        s = line.strip(" \u3000")
        s = s[1:] if s.startswith("|") else s
        s = s[:-1] if s.endswith("|") else s
        return Cells(tuple(c.strip() for c in SEPARATORS.split(s)))
    return Cells(tuple(line.split()), run_together=True)
