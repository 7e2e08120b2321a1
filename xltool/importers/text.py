"""Pasted text (``.txt``, ``.md``) -> Document.

Text copied from a published page keeps its lines: a row a line split by ``|`` or tabs, one cell a
line, or cells run together. A well-formed Markdown table (a header row, a ``|---|`` rule, rows of
the same width) is an exact :class:`Table`; every other run of table lines goes through the
line-to-grid step (:mod:`xltool.importers.lines`), and prose stays :class:`Text`, a line each.
A table printed inside prose (a whole page on one line, cells run together) stays text: the placer
reads it where the form's labels stand.
"""

from __future__ import annotations

import re
from pathlib import Path

from xltool.errors import InputFileError
from xltool.importers import lines as grids
from xltool.importers.model import Block, Document, Table

ENCODINGS = ("utf-8-sig", "gb18030")
_RULE = re.compile(r"^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*$")
_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")


def decode(data: bytes, path: Path) -> str:
    if b"\x00" in data[:4096]:
        raise InputFileError(str(path), "不是文本文件（含有二进制内容）。请导入网页、Word、PDF 或纯文本文件。")
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputFileError(str(path), "无法识别文本的编码（既不是 UTF-8 也不是 GBK）。请另存为 UTF-8 编码后再导入。")


def parse(path: Path) -> Document:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputFileError(str(path), f"无法读取文件（{exc.strerror or exc}）。") from None
    text = decode(data, Path(path)).replace("\r\n", "\n").replace("\r", "\n")
    return Document(Path(path), "text", tuple(blocks(text.split("\n"))))


def blocks(lines: list[str]) -> list[Block]:
    out: list[Block] = []
    spaced = spaced_layout(lines)
    pending: list[grids.Line] = []
    i = 0
    while i < len(lines):
        table, used = _markdown_table(lines, i)
        if table is not None:
            out += grids.to_blocks(pending, spaced=spaced)
            pending = []
            out.append(table)
            i += used
            continue
        pending.append(grids.Line(lines[i], f"第 {i + 1} 行"))
        i += 1
    return out + grids.to_blocks(pending, spaced=spaced)


def spaced_layout(lines: list[str]) -> bool:
    """Whether blank lines separate (nearly) every line: then a blank line is not an empty cell."""
    content = [i for i, line in enumerate(lines) if line.strip()]
    if len(content) < 10:
        return False
    followed = sum(1 for i in content if i + 1 < len(lines) and not lines[i + 1].strip())
    return followed >= 0.8 * len(content)


def _cells(line: str) -> tuple[str, ...]:
    s = line.strip()
    return tuple(c.strip() for c in s[1:-1].split("|"))


def _markdown_table(lines: list[str], i: int) -> tuple[Table | None, int]:
    """A Markdown table starting at line i (header, rule, rows of the same width), or None."""
    if i + 1 >= len(lines) or not _PIPE_ROW.match(lines[i]) or not _RULE.match(lines[i + 1]):
        return None, 0
    header = _cells(lines[i])
    if len(_cells(lines[i + 1].strip() if lines[i + 1].strip().endswith("|") else lines[i + 1] + "|")) != len(header):
        return None, 0
    rows = [header]
    j = i + 2
    while j < len(lines) and _PIPE_ROW.match(lines[j]) and not _RULE.match(lines[j]):
        row = _cells(lines[j])
        if len(row) != len(header):
            return None, 0
        rows.append(row)
        j += 1
    return Table(tuple(rows), f"第 {i + 1} 行起的表格"), j - i
