"""Web pages (.html, .htm) -> :class:`Document`: the only module that imports lxml.

A saved full page or only its article: every paragraph outside tables becomes a :class:`Text`
(``<br>`` splits paragraphs, as it does on screen), every data table a :class:`Table` with rowspan
and colspan resolved. A table whose cells hold tables is a page-layout table: its content is read
as flowing text and its inner tables as tables. Scripts, styles, forms and hidden elements are
dropped. The encoding comes from a byte-order mark or ``<meta charset>``; undeclared pages are read
as UTF-8, else GB18030 (which covers GBK and GB2312, the usual encodings of government sites).

Input is untrusted: a size limit, libxml2's HTML parser with network access off (it has no
external entities), bounded spans and table sizes.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from lxml import etree

from xltool.importers.model import Block, Document, Table, Text
from xltool.importers.source import MB, fail, read_limited

MAX_BYTES = 20 * MB  # a published report page is well under 1 MB
MAX_SPAN = 1000  # colspan / rowspan beyond this are clamped (HTML's own colspan limit)
MAX_CELLS = 200_000  # grid positions of one table
SKIP = frozenset(
    [
        "head",
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "frame",
        "object",
        "embed",
        "svg",
        "math",
        "select",
        "option",
        "textarea",
        "button",
        "canvas",
        "audio",
        "video",
        "map",
        "input",
    ]
)
BLOCK = frozenset(
    [
        "html",
        "body",
        "div",
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "section",
        "article",
        "header",
        "footer",
        "nav",
        "aside",
        "main",
        "blockquote",
        "pre",
        "address",
        "figure",
        "figcaption",
        "center",
        "form",
        "fieldset",
        "legend",
        "hr",
        "caption",
        "details",
        "summary",
    ]
)
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SPACE = re.compile(r"[ \t\r\n\f\v\xa0]+")
_META = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.-]+)""")
_CHINESE = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030", "cp936": "gb18030"}
NOT_HTML = "内容不是网页（HTML）：可能是改了扩展名的其他文件。请用浏览器“另存为 → 网页，仅 HTML”保存后再试。"
NOTHING = (
    "网页中没有可读的文字或表格（可能是空白页，或内容由脚本动态加载）。请在浏览器中打开后“另存为 → 网页，全部”再试。"
)


def parse(path: Path) -> Document:
    """Parse a saved web page. Raises InputFileError when it cannot be read."""
    path = Path(path)
    data = read_limited(path, MAX_BYTES, "网页")
    text = decode(path, data)
    try:
        parser = etree.HTMLParser(encoding="utf-8", no_network=True, remove_comments=True, remove_pis=True)
        root = etree.fromstring(text.encode("utf-8", "surrogatepass"), parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        raise fail(path, NOTHING) from None
    if root is None:
        raise fail(path, NOTHING)
    walker = _Walker(path)
    try:
        walker.flow(root)
    except RecursionError:
        raise fail(path, "网页的标签嵌套层次过深，疑似恶意构造的文件，已拒绝读取。") from None
    walker.flush()
    if not walker.blocks:
        raise fail(path, NOTHING)
    titles = root.xpath("//head/title")
    title = _collapse("".join(titles[0].itertext())) if titles else ""
    return Document(source=path, format="html", blocks=tuple(walker.blocks), title=title or None)


# ---------------------------------------------------------------- encoding


def decode(path: Path, data: bytes) -> str:
    """The page as text: BOM, then the declared charset, then UTF-8, then GB18030."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, "replace")
    if b"\x00" in data[:4096]:
        raise fail(path, NOT_HTML)
    head = data[:8192]
    declared = _META.search(head) or _XML_DECL.search(head)
    candidates = [_codec(declared.group(1).decode("ascii"))] if declared else []
    candidates += ["utf-8", "gb18030"]
    for codec in [c for c in candidates if c]:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode(candidates[0] or "utf-8", "replace")


def _codec(name: str) -> str | None:
    name = name.lower()
    name = _CHINESE.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


# ---------------------------------------------------------------- walking the tree


def _collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _tag(el: etree._Element) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


def _hidden(el: etree._Element) -> bool:
    style = el.get("style")
    if style and ("none" in style or "hidden" in style) and _HIDDEN.search(style):
        return True
    return el.get("hidden") is not None


class _Walker:
    """Collects the blocks of a page in reading order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.blocks: list[Block] = []
        self.buf: list[str] = []
        self.tables = 0

    def flush(self) -> None:
        line = _collapse("".join(self.buf))
        self.buf.clear()
        if line:
            self.blocks.append(Text(line))

    def flow(self, el: etree._Element) -> None:
        tag = _tag(el)
        if not tag or tag in SKIP or _hidden(el):
            return
        if tag == "table":
            self.flush()
            self.table(el)
            return
        if tag == "br":
            self.flush()
            return
        block = tag in BLOCK
        if block:
            self.flush()
        if el.text:
            self.buf.append(el.text)
        for child in el:
            self.flow(child)
            if child.tail:
                self.buf.append(child.tail)
        if block:
            self.flush()

    def table(self, el: etree._Element) -> None:
        rows = _rows(el)
        cells = [_cells(tr) for tr in rows]
        for caption in el.findall("caption"):
            self.flow(caption)
        if el.find(".//table") is not None:  # a layout table (tables in its cells): read its content
            for row in cells:
                for c in row:
                    self.flow(c)
                    self.flush()
            return
        grid = _grid(self.path, [[_cell_text(c) for c in row] for row in cells], cells)
        if any(t for row in grid for t in row):
            self.tables += 1
            self.blocks.append(Table(grid, where=f"第 {self.tables} 个表格"))


def _rows(table: etree._Element) -> list[etree._Element]:
    return [r for r in table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr") if not _hidden(r)]


def _cells(tr: etree._Element) -> list[etree._Element]:
    return [c for c in tr if _tag(c) in ("td", "th")]


def _span(el: etree._Element, name: str) -> int:
    given = el.get(name)
    if given is None:
        return 1
    m = re.match(r"\s*(\d+)", given)
    value = int(m.group(1)) if m else 1
    return min(value, MAX_SPAN) if value > 0 else (0 if name == "rowspan" else 1)


def _grid(path: Path, texts: list[list[str]], cells: list[list[etree._Element]]) -> tuple[tuple[str, ...], ...]:
    """The table's grid: each cell's text in every position it covers (HTML's table model)."""
    height = len(texts)
    taken: dict[tuple[int, int], str] = {}
    for r, row in enumerate(texts):
        col = 0
        for text, el in zip(row, cells[r], strict=True):
            while (r, col) in taken:
                col += 1
            rowspan = _span(el, "rowspan") or height - r  # rowspan="0": to the end of the table
            colspan = _span(el, "colspan")
            if len(taken) + rowspan * colspan > MAX_CELLS:
                raise fail(path, f"网页中的表格过大（超过 {MAX_CELLS} 个单元格），已拒绝读取。")
            for rr in range(r, min(r + rowspan, height)):
                for cc in range(col, col + colspan):
                    taken[(rr, cc)] = text
            col += colspan
    width = max((c for _, c in taken), default=-1) + 1
    return tuple(tuple(taken.get((r, c), "") for c in range(width)) for r in range(height))


def _cell_text(cell: etree._Element) -> str:
    """A cell's text: ``<br>`` and block elements break lines, other whitespace collapses."""
    if len(cell) == 0:
        return _collapse(cell.text or "")
    parts: list[str] = []

    def walk(el: etree._Element) -> None:
        tag = _tag(el)
        if not tag or tag in SKIP or _hidden(el):
            return
        if tag == "br" or tag in BLOCK:
            parts.append("\n")
        if el.text and tag != "br":
            parts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in BLOCK:
            parts.append("\n")

    if cell.text:
        parts.append(cell.text)
    for child in cell:
        walk(child)
        if child.tail:
            parts.append(child.tail)
    lines = (_collapse(line) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)
