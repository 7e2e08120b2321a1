"""Word documents (.docx) -> :class:`Document`, read from the package's XML directly.

Body paragraphs become :class:`Text` blocks and tables :class:`Table` grids, in the order of the
body. A merged cell puts its text in every grid position it covers: ``w:gridSpan`` across,
``w:vMerge`` (restart / continue) down; ``w:gridBefore`` / ``w:gridAfter`` leave positions empty.
A table whose cells hold tables is a page-layout table: its paragraphs are read as text and its
inner tables as tables. Deleted revisions, field codes and the fallback copies of drawings are
not text. Headers and footers (page numbers) are not read.

Why not python-docx: its ``Table.cell`` resolves merges only by walking the whole table for each
cell, it parses with lxml (we refuse entity declarations first, as for workbooks), and a parser needs
nothing of it but the XML. The package goes through the same zip-bomb and DOCTYPE checks as a
workbook (:func:`xltool.workbook.files.inspect_package`), then defusedxml (:mod:`xltool.safexml`).
"""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from io import BytesIO
from pathlib import Path

from xltool.importers.model import Block, Document, Table, Text
from xltool.importers.source import MB, fail, read_limited
from xltool.safexml import Element, ParseError, UnsafeXml, fromstring, local
from xltool.workbook.files import ENCRYPTED_MARK, OLE_MAGIC, XML_UNSAFE, inspect_package

MAX_BYTES = 50 * MB  # packed; the unpacked size is bounded by inspect_package
MAX_CELLS = 200_000
MAIN_TYPE = "/officeDocument"
ENCRYPTED = (
    "文档设置了打开密码（已加密），无法读取。请在 WPS 或 Word 中打开后取消密码"
    "（文件 → 文档加密 / 信息 → 保护文档 → 用密码进行加密，清空密码），保存后再试。"
)
OLD_DOC = (
    "这是旧版 Word（.doc）或 WPS 文字（.wps）格式，无法直接读取。请在 WPS 或 Word 中“另存为”Word 文档（*.docx）后再试。"
)
NOT_DOCX = "不是 Word 文档（.docx）：文件内容不是 Word 格式，可能是改了扩展名的其他文件。"
CORRUPT = "Word 文档已损坏，无法打开。请在 WPS 或 Word 中打开并重新保存后再试。"
NOTHING = "Word 文档中没有文字或表格。"


def parse(path: Path) -> Document:
    """Parse a Word document. Raises InputFileError when it cannot be read."""
    path = Path(path)
    data = read_limited(path, MAX_BYTES, "Word 文档")
    if data.startswith(OLE_MAGIC):
        raise fail(path, ENCRYPTED if ENCRYPTED_MARK in data[: 1 << 20] else OLD_DOC)
    if not data.startswith(b"PK"):
        raise fail(path, NOT_DOCX)
    try:
        with zipfile.ZipFile(BytesIO(data)) as zf:
            inspect_package(path, zf.infolist(), CORRUPT)
            main = _main_part(zf)
            if main is None:
                raise fail(path, "是压缩文件，但不是 Word 文档（.docx）：其中没有正文部件。")
            body = fromstring(zf.read(main))
            title = _title(zf)
    except UnsafeXml:
        raise fail(path, XML_UNSAFE) from None
    except (zipfile.BadZipFile, zlib.error, KeyError, ParseError, OSError, EOFError, RuntimeError, ValueError):
        raise fail(path, CORRUPT) from None
    reader = _Reader(path)
    for el in body.iter():
        if local(el.tag) == "body":
            reader.content(el)
            break
    if not reader.blocks:
        raise fail(path, NOTHING)
    return Document(source=path, format="docx", blocks=tuple(reader.blocks), title=title)


def _main_part(zf: zipfile.ZipFile) -> str | None:
    """The main document part named by the package relationships (``word/document.xml`` usually)."""
    names = set(zf.namelist())
    if "_rels/.rels" in names:
        for rel in fromstring(zf.read("_rels/.rels")):
            if rel.get("Type", "").endswith(MAIN_TYPE):
                target = posixpath.normpath(rel.get("Target", "").lstrip("/"))
                if target in names:
                    return target
    return "word/document.xml" if "word/document.xml" in names else None


def _title(zf: zipfile.ZipFile) -> str | None:
    if "docProps/core.xml" not in zf.namelist():
        return None
    for el in fromstring(zf.read("docProps/core.xml")):
        if local(el.tag) == "title" and (el.text or "").strip():
            return el.text.strip()  # type: ignore[union-attr]
    return None


def _val(el: Element | None, name: str = "val") -> str | None:
    if el is None:
        return None
    return next((v for k, v in el.attrib.items() if local(k) == name), None)


def _int(text: str | None, default: int) -> int:
    digits = "".join(ch for ch in (text or "") if ch.isdigit())[:6]
    return int(digits) if digits else default


def _child(el: Element, name: str) -> Element | None:
    return next((c for c in el if local(c.tag) == name), None)


# ---------------------------------------------------------------- text

_SKIP = frozenset({"delText", "instrText", "Fallback", "footnoteReference", "commentReference", "del", "moveFrom"})


def paragraph_text(p: Element) -> str:
    """A paragraph's text as printed: runs joined, tabs and breaks kept."""
    out: list[str] = []

    def walk(el: Element) -> None:
        name = local(el.tag)
        if name in _SKIP or name in ("tbl", "pPr", "rPr"):
            return
        if name == "t":
            out.append(el.text or "")
        elif name == "tab":
            out.append("\t")
        elif name in ("br", "cr"):
            out.append("\n")
        elif name == "noBreakHyphen":
            out.append("-")
        for child in el:
            walk(child)

    walk(p)
    return "".join(out)


# ---------------------------------------------------------------- blocks


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.blocks: list[Block] = []
        self.tables = 0

    def content(self, parent: Element) -> None:
        """Paragraphs and tables of a body, cell or content control, in order."""
        for el in parent:
            name = local(el.tag)
            if name == "p":
                text = paragraph_text(el).strip()
                if text:
                    self.blocks.append(Text(text))
            elif name == "tbl":
                self.table(el)
            elif name in ("sdt", "sdtContent", "customXml", "ins", "moveTo"):
                self.content(el)

    def table(self, tbl: Element) -> None:
        rows = [_cells(tr) for tr in _rows(tbl)]
        if any(_nested(tc) for row in rows for _, tc in row):
            for row in rows:
                for _, tc in row:
                    self.content(tc)
            return
        grid = _grid(self.path, rows)
        if any(t for row in grid for t in row):
            self.tables += 1
            self.blocks.append(Table(grid, where=f"第 {self.tables} 个表格"))


def _rows(tbl: Element) -> list[Element]:
    out: list[Element] = []
    for el in tbl:
        name = local(el.tag)
        if name == "tr":
            out.append(el)
        elif name in ("sdt", "customXml"):
            out += _rows(next((c for c in el if local(c.tag) == "sdtContent"), el))
    return out


def _cells(tr: Element) -> list[tuple[int, Element]]:
    """(leading empty grid positions, cell) for each cell of a row; gridBefore counts as empty."""
    out: list[tuple[int, Element]] = []
    pr = _child(tr, "trPr")
    before = _int(_val(_child(pr, "gridBefore")), 0) if pr is not None else 0
    for el in tr:
        name = local(el.tag)
        if name == "tc":
            out.append((before, el))
            before = 0
        elif name in ("sdt", "customXml"):
            content = next((c for c in el if local(c.tag) == "sdtContent"), el)
            out += [(before, tc) for tc in content if local(tc.tag) == "tc"]
            before = 0
    return out


def _nested(tc: Element) -> bool:
    return any(local(el.tag) == "tbl" for el in tc.iter() if el is not tc)


def _cell_text(tc: Element) -> str:
    lines = [paragraph_text(p).strip() for p in tc if local(p.tag) == "p"]
    return "\n".join(line for line in lines if line)


def _grid(path: Path, rows: list[list[tuple[int, Element]]]) -> tuple[tuple[str, ...], ...]:
    """Word's table model: gridSpan widens a cell, vMerge="continue" repeats the text above."""
    taken: dict[tuple[int, int], str] = {}
    starts: dict[tuple[int, int], bool] = {}  # position -> this cell began (or continued) a vertical merge
    for r, row in enumerate(rows):
        col = 0
        for before, tc in row:
            col += min(before, 1000)
            pr = _child(tc, "tcPr")
            span = max(1, min(_int(_val(_child(pr, "gridSpan")), 1), 1000)) if pr is not None else 1
            vmerge = _child(pr, "vMerge") if pr is not None else None
            continued = vmerge is not None and _val(vmerge) in (None, "continue")
            text = taken.get((r - 1, col), "") if continued and starts.get((r - 1, col)) else _cell_text(tc)
            if len(taken) + span > MAX_CELLS:
                raise fail(path, f"Word 文档中的表格过大（超过 {MAX_CELLS} 个单元格），已拒绝读取。")
            for c in range(col, col + span):
                taken[(r, c)] = text
                starts[(r, c)] = vmerge is not None
            col += span
    width = max((c for _, c in taken), default=-1) + 1
    return tuple(tuple(taken.get((r, c), "") for c in range(width)) for r in range(len(rows)))
