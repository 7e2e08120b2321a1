"""The command line's help and error screens, drawn as boxed panels without rich.

typer draws them with rich, whose import (markdown-it and all) costs a quarter of a second on every
``xltool -h`` and every mistyped command; these few lines draw the same panels. Widths are display
widths: a Chinese character takes two columns.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

MIN_WIDTH, MAX_WIDTH = 40, 120
NO_LINE_START = frozenset("）)。，、；：！？」』”’》")  # punctuation that never begins a line (避头)


def width_of(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, width: int) -> list[str]:
    """Break ``text`` into lines of at most ``width`` columns: at spaces for Latin words, anywhere for CJK."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0
        for word in _words(paragraph):
            w = width_of(word)
            if used + w > width and line.strip() and word[0] not in NO_LINE_START:
                lines.append(line.rstrip())
                word = word.lstrip()
                line, used = "", 0
                w = width_of(word)
            line += word
            used += w
        lines.append(line.rstrip())
    return lines


def _words(text: str) -> list[str]:
    """Units that stay together on a line: a Latin word with its leading space, or one CJK character."""
    out: list[str] = []
    for ch in text:
        wide = unicodedata.east_asian_width(ch) in "WF"
        if out and not wide and ch != " " and not _wide_end(out[-1]):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _wide_end(word: str) -> bool:
    return unicodedata.east_asian_width(word[-1]) in "WF" or word[-1] == " "


def panel(title: str, rows: Sequence[Sequence[str]], width: int) -> list[str]:
    """A box titled ``title`` holding ``rows`` in aligned columns; the last column wraps."""
    inner = width - 4
    cols = max((len(r) for r in rows), default=1)
    widths = [max((width_of(r[i]) for r in rows if len(r) > i), default=0) for i in range(cols - 1)]
    lead = sum(w + 2 for w in widths)
    body: list[str] = []
    for row in rows:
        cells = [*row[:-1], *[""] * (cols - len(row))]
        head = "".join(c + " " * (w - width_of(c) + 2) for c, w in zip(cells, widths, strict=False))
        for i, piece in enumerate(wrap(row[-1], max(10, inner - lead)) if row else [""]):
            body.append((head if i == 0 else " " * lead) + piece)
    top = f"╭─ {title} " + "─" * max(0, width - width_of(title) - 5) + "╮"
    lines = [top]
    lines += [f"│ {line}{' ' * max(0, inner - width_of(line))} │" for line in body]
    lines.append("╰" + "─" * (width - 2) + "╯")
    return lines


def screen_width(columns: str | None) -> int:
    try:
        n = int(columns or 80)
    except ValueError:
        n = 80
    return max(MIN_WIDTH, min(MAX_WIDTH, n))
