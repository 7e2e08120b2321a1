"""What is inside an .xlsx package, counted before any library builds it in memory.

calamine builds a sheet as a dense grid from A1 to its farthest cell: one cell at XFD1048576 asks
for 512 GB and aborts the process. openpyxl makes an object for every cell, merged cell,
hyperlinked cell, row and style. So every XML part is streamed once through expat
(:func:`xltool.safexml.stream_parser`: bounded reads, nothing kept) and counted against a
:class:`Budget` derived from what our workbooks can legitimately hold; the first count past its
limit stops the scan with a Chinese refusal. Cell references are checked the way calamine reads
them (the farthest ``<c r>``, ``<row r>``, cells without an address following the one before), not
taken from the ``<dimension>`` a hostile file can lie about (which is bounded too, for openpyxl).

The same pass refuses what must not be read at all: macros, linked or embedded files, parts with
one name twice, parts that inflate past their recorded size, entity declarations, deep nesting.

Streaming costs a Python call per element, more than reading the workbook itself. So a part of up
to :data:`QUICK_PART` that expat finds well-formed is first cleared by counting its bytes
(:func:`_shape`, :meth:`_Scan.quick`): what Excel, WPS, LibreOffice and xlsxwriter write can be
counted exactly that way. A part the counts cannot clear (anything unusual, and every part past a
limit) is streamed as before, so the verdict and its message are always the streamed scan's
(tests/test_hostile_quick.py compares the two on every sample and hostile file).
"""

from __future__ import annotations

import copy
import functools
import html
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any, NoReturn
from xml.parsers import expat

from xltool.errors import InputFileError
from xltool.form import spec as specs
from xltool.form.layout import for_spec
from xltool.safexml import Malformed, UnsafeXml, stream_parser
from xltool.submission import PROPERTY_PREFIX, SUMMARY

KB, MB = 1 << 10, 1 << 20
EXCEL_ROWS, EXCEL_COLS = 1_048_576, 16_384  # the largest sheet Excel, WPS and calamine know
MAX_UNITS = 100_000  # a province's units (10^4-10^5): the largest summary xltool reads
MAX_ENTRIES = 2000  # parts of one package: a workbook has 20-60
MAX_DIRECTORY = 4 * MB  # the zip's table of contents (names of the parts): a workbook's is a few KB
MAX_DEPTH = 64  # XML nesting: sheets are 5-8 levels deep, charts and drawings about 15
MAX_STYLES = 64_000  # records of one kind in styles.xml: Excel cannot save more cell formats
FORM_MARGIN = (500, 50)  # rows, columns a form sheet may reach beyond the definition's table (notes)
CHUNK = 64 * KB
STYLE_RECORDS = frozenset({"xf", "font", "fill", "border", "numFmt", "dxf", "cellStyle"})  # counted in styles.xml
QUICK_PART = 4 * MB  # a part up to this size (inflated) may be cleared by counting its bytes
KEPT = 32 * MB  # sheet XML kept for the reader, at most (a unit's workbook holds under 1 MB)

CORRUPT = "文件已损坏，无法打开。请在 WPS 或 Excel 中打开并重新保存；打不开的，请向填报单位重新索取。"
XML_UNSAFE = "文件包含不安全的 XML 内容（实体或文档类型声明），已拒绝读取。"
HOSTILE = "疑似恶意构造的文件，已拒绝读取。"
SAVE_AS = "请在 WPS 或 Excel 中打开，用“文件 → 另存为”，文件类型选“Excel 工作簿（*.xlsx）”，保存后再试。"
MACRO = "文件实际是启用宏的工作簿（含宏代码），宏会在别人打开文件时运行，已拒绝读取。" + SAVE_AS
XLSB = "这是 Excel 二进制工作簿（.xlsb），xltool 只能读取 .xlsx。" + SAVE_AS
EXTERNAL = (
    "工作簿引用了其他文件（{what}）：表中的数字可能来自 xltool 看不到的文件，在别人的电脑上打开时还会去连接它，"
    "已拒绝读取。请在 WPS 或 Excel 中用“数据 → 编辑链接 → 断开链接”把公式变成数值，保存后再试。"
)
EMBEDDED = (
    "工作簿中嵌入了其他文件或控件（{what}）：年报工作簿用不到它们，打开时却可能运行其中的程序，"
    "已拒绝读取。请删除嵌入的对象，保存后再试。"
)


@dataclass(frozen=True)
class Budget:
    """How much one package may hold. ``what`` names the kind of file in messages; ``form`` bounds
    the form's own sheets by the definition's table (plus :data:`FORM_MARGIN`)."""

    what: str
    unpacked: int  # bytes of all parts, inflated
    elements: int  # XML elements in all parts (what a DOM such as openpyxl's builds)
    cells: int  # <c> elements, merged and hyperlinked cells; and the content area of the other sheets
    rows: int  # <row> elements
    strings: int  # shared strings (<si>)
    string_bytes: int  # xl/sharedStrings.xml, inflated
    form: bool = True

    @classmethod
    def workbook(cls, units: int = 0) -> Budget:
        """A unit's workbook, or a summary of ``units`` units (its ``xltool.summary_units`` claim).

        A summary adds per unit one row to 单位明细 (up to 23 cells) and 各单位结转 (14), a row
        per text part to 各单位文字 (9 parts of 4 cells): 73 cells and 11 rows, a file name, a
        status and its texts. :data:`PER_UNIT` is twice that (tests/test_hostile_limits.py derives
        it from the definitions and measures a real summary), with 16 KB of text: about 5,000
        Chinese characters, twice a long unit report. A workbook claiming more units than it has
        rows for is refused; merge then checks 单位明细 against the figures.
        """
        n = max(0, min(units, MAX_UNITS))
        if n == 0:
            return UNIT
        return cls(
            f"汇总工作簿（{n:,} 个单位）",
            UNIT.unpacked + n * PER_UNIT.unpacked,
            UNIT.elements + n * PER_UNIT.elements,
            UNIT.cells + n * PER_UNIT.cells,
            UNIT.rows + n * PER_UNIT.rows,
            UNIT.strings + n * PER_UNIT.strings,
            UNIT.string_bytes + n * PER_UNIT.string_bytes,
        )


# A unit's workbook: a filled template is 150-250 KB of XML (LibreOffice writes more), 968 cells,
# 172 rows, 200 strings, 3,000-5,500 elements; the limits leave room for long texts (Excel keeps
# 32,767 characters a cell) and a clerk's scratch sheets.
UNIT = Budget("年报工作簿", 20 * MB, 400_000, 100_000, 20_000, 20_000, 4 * MB)
PER_UNIT = Budget("", 32 * KB, 640, 160, 24, 32, 16 * KB)
# A roster: one row per unit of a province, a few columns each.
ROSTER = Budget("名单", 20 * MB + MAX_UNITS * 2 * KB, MAX_UNITS * 64, MAX_UNITS * 16, MAX_UNITS + 1000,
                MAX_UNITS * 8, MAX_UNITS * KB, form=False)  # fmt: skip


@functools.cache
def form_extents() -> dict[str, tuple[int, int]]:
    """Each form sheet's name -> (rows, columns) it may reach: the largest table of any form version
    with that name, plus :data:`FORM_MARGIN`."""
    out: dict[str, tuple[int, int]] = {}
    for version in specs.SPEC_FILES:
        for sheet in for_spec(specs.load(version)).sheets:
            rows = max((max(c.row, c.last_row or 0) for c in sheet.cells), default=0) + 1
            cols = max((max(c.col, c.last_col or 0) for c in sheet.cells), default=0) + 1
            old = out.get(sheet.name, (0, 0))
            out[sheet.name] = (max(old[0], rows + FORM_MARGIN[0]), max(old[1], cols + FORM_MARGIN[1]))
    return out


# ---------------------------------------------------------------- the zip's own structure


def directory(path: Path) -> None:
    """Refuse a zip whose table of contents is too long, before :mod:`zipfile` reads it into memory.

    The end-of-central-directory record (zip64 when its counts overflow) says how many parts there
    are and how long the directory is. A file without one is left to zipfile (corrupt).
    """
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        tail_at = max(0, size - (22 + 0xFFFF + 20))
        fh.seek(tail_at)
        tail = fh.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) < at + 22:
            return
        count = int.from_bytes(tail[at + 10 : at + 12], "little")
        length = int.from_bytes(tail[at + 12 : at + 16], "little")
        locator = tail.rfind(b"PK\x06\x07", 0, at)
        if (count == 0xFFFF or length == 0xFFFFFFFF) and locator >= 0:
            fh.seek(int.from_bytes(tail[locator + 8 : locator + 16], "little"))
            record = fh.read(56)
            if record[:4] == b"PK\x06\x06" and len(record) == 56:
                count = int.from_bytes(record[32:40], "little")
                length = int.from_bytes(record[40:48], "little")
    if count > MAX_ENTRIES or length > MAX_DIRECTORY:
        raise InputFileError(str(path), f"压缩包里有 {count:,} 个部件（工作簿通常不到 100 个），" + HOSTILE)


def entries(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse parts that must not be read at all, whatever they contain."""
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        if name in seen:
            raise InputFileError(
                str(path), f"压缩包里有两个同名的部件“{_shown(name)}”，不同的软件会读到不同的内容，" + HOSTILE
            )
        seen.add(name)
        lower = name.lower()
        if lower.endswith("vbaproject.bin") or lower.startswith("xl/macrosheets/"):
            raise InputFileError(str(path), MACRO)
        if lower == "xl/workbook.bin":
            raise InputFileError(str(path), XLSB)
        if lower.startswith("xl/externallinks/"):
            raise InputFileError(str(path), EXTERNAL.format(what=f"外部链接 {_shown(name)}"))
        if lower == "xl/connections.xml" or lower.startswith("xl/querytables/"):  # databases, web queries
            raise InputFileError(str(path), EXTERNAL.format(what=f"数据连接 {_shown(name)}"))
        if lower.startswith(("xl/embeddings/", "xl/activex/")):
            raise InputFileError(str(path), EMBEDDED.format(what=_shown(name)))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 1:
            raise InputFileError(str(path), CORRUPT)  # Office writes stored or deflated parts, never encrypted ones


def inflated(path: Path, infos: list[zipfile.ZipInfo], limit: int) -> None:
    """Refuse a zip bomb by the sizes its directory records (each part is also held to its record
    while it is read)."""
    total = sum(i.file_size for i in infos)
    bomb = total > limit or any(i.file_size > MB and i.file_size > 200 * max(i.compress_size, 1) for i in infos)
    if bomb:
        raise InputFileError(str(path), f"文件解压后异常庞大（{total // MB} MB，{len(infos)} 个部件），" + HOSTILE)


def resolve(rels: str, target: str) -> str:
    """The part a relationship in the ``.rels`` part ``rels`` points to (as the reader finds it)."""
    if target.startswith("/"):
        return target.lstrip("/")
    base = posixpath.dirname(posixpath.dirname(rels))
    return posixpath.normpath(posixpath.join(base, target))


# ---------------------------------------------------------------- the parts, streamed


@dataclass(frozen=True)
class Usage:
    """What a package holds, as counted by :func:`scan` (the fields of :class:`Budget`; ``area``:
    the content area of the sheets that are not the form's; ``units``: the summary claim)."""

    unpacked: int
    elements: int
    cells: int
    rows: int
    strings: int
    string_bytes: int
    area: int
    units: int


@dataclass(frozen=True)
class Survey:
    """What :func:`survey` found: the counts, each sheet's part by the sheet's name (in workbook
    order), and the XML of the sheet parts it read whole, for the reader to use instead of
    inflating them again."""

    usage: Usage
    sheets: dict[str, str]
    xml: dict[str, bytes]


def scan(path: Path, zf: zipfile.ZipFile, budget: Budget | None = None, *, quick: bool = True) -> Usage:
    """Stream every part of the open package ``zf`` through its counters; raise InputFileError at
    the first limit passed. ``budget`` None: a workbook's own, from its summary claim. ``quick``
    False streams every part (the reference the quick clearing is tested against)."""
    return survey(path, zf, budget, quick=quick).usage


def survey(path: Path, zf: zipfile.ZipFile, budget: Budget | None = None, *, quick: bool = True) -> Survey:
    """:func:`scan`, keeping what the reader needs again (see :class:`Survey`)."""
    infos = zf.infolist()
    entries(path, infos)
    inflated(path, infos, (budget or Budget.workbook(MAX_UNITS)).unpacked)
    return _Scan(path, zf, budget, quick=quick).run()


class _Scan:
    """The counters of one package, and the streaming of its parts."""

    def __init__(self, path: Path, zf: zipfile.ZipFile, budget: Budget | None, *, quick: bool = True) -> None:
        self.path, self.zf, self.fast = path, zf, quick
        self.claimed = budget is None
        self.budget = budget or UNIT
        self.forms = form_extents() if self.budget.form else {}
        self.infos = {i.filename: i for i in zf.infolist()}
        self.done: set[str] = set()
        self.unpacked = self.elements = self.cells = self.rows = self.strings = self.area = 0
        self.units = self.table_rows = self.string_bytes = 0
        self.styles: dict[str, int] = {}
        self.sheets: dict[str, list[str]] = {}  # sheet part -> the sheet names that point to it
        self.targets: set[str] = set()
        self.kept: dict[str, bytes] = {}  # the sheet parts read whole

    def refuse(self, message: str) -> NoReturn:
        raise InputFileError(str(self.path), message)

    def run(self) -> Survey:
        for kind, part in self.relationships("_rels/.rels"):
            if kind.endswith("/custom-properties"):
                custom = _Custom(self)
                self.part(part, custom)
                self.units = max(self.units, custom.units)
        if self.claimed and self.units:
            self.budget = Budget.workbook(self.units)
        if self.claimed:
            inflated(self.path, list(self.infos.values()), self.budget.unpacked)
        ids = dict(self.relationships("xl/_rels/workbook.xml.rels", keyed=True))
        self.targets = set(ids.values())  # sheets, shared strings, styles...: whatever their names, parsed
        book = _Workbook(self)
        self.part("xl/workbook.xml", book)
        for name, rid in book.sheets:
            self.sheets.setdefault(ids.get(rid, ""), []).append(name)
        for name, info in self.infos.items():
            if name not in self.done and not info.is_dir():
                self.other(name)
        if self.claimed and self.table_rows < min(self.units, MAX_UNITS):  # a summary lists each unit on a row
            self.refuse(f"工作簿标明是 {self.units:,} 个单位的汇总，却没有这么多单位的明细，" + HOSTILE)
        usage = Usage(
            self.unpacked, self.elements, self.cells, self.rows, self.strings, self.string_bytes, self.area, self.units
        )
        return Survey(usage, {name: ids.get(rid, "") for name, rid in book.sheets}, self.kept)

    def relationships(self, name: str, *, keyed: bool = False) -> list[tuple[str, str]]:
        """(type, part) of each relationship of a ``.rels`` part, or (id, part) when ``keyed``."""
        rels = _Rels(self, name)
        self.part(name, rels)
        return [(rid if keyed else kind, part) for rid, kind, part in rels.found]

    def other(self, name: str) -> None:
        lower = name.lower()
        if lower.endswith(".vml"):  # legacy drawings: not well-formed in Excel's own files; nothing parses them
            self.raw(name)
        elif (lower.endswith((".xml", ".rels")) or name in self.targets) and not (self.fast and self.quick(name)):
            self.part(name, _Dispatch(self, name))
        # images, printer settings and the like are never parsed: inflated() bounds their sizes

    # ------------------------------------------------------------ streaming

    def part(self, name: str, handler: _Handler) -> None:
        """Stream the part ``name`` (if there) through an expat parser driving ``handler``."""
        if name in self.done or name not in self.infos:
            return
        self.done.add(name)
        parser = stream_parser()
        handler.bind(parser)
        try:
            for chunk in self.chunks(name):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except UnsafeXml:
            self.refuse(XML_UNSAFE)
        except (Malformed, LookupError, ValueError):
            self.refuse(CORRUPT)
        handler.finish()

    def raw(self, name: str) -> None:
        """A part no library parses: only its size, and no entity declarations."""
        self.done.add(name)
        tail = b""
        for chunk in self.chunks(name, utf8=False):
            if b"<!DOCTYPE" in tail + chunk or b"<!ENTITY" in tail + chunk:
                self.refuse(XML_UNSAFE)
            tail = chunk[-16:]

    def quick(self, name: str) -> bool:
        """Clear the part ``name`` by counting its bytes, as the streamed scan would count it; False
        (nothing counted) when the counts cannot tell or a limit would be passed: the part is then
        streamed, and the streamed scan gives the verdict and its message."""
        info = self.infos[name]
        if info.file_size > QUICK_PART:
            return False
        try:
            with self.zf.open(info) as fh:  # held to its recorded size: a lying part fails its CRC
                data = fh.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError):
            return False
        if len(data) > info.file_size or self.unpacked + len(data) > self.budget.unpacked or not _utf8(data[:CHUNK]):
            return False
        try:
            stream_parser().Parse(data, True)  # well-formed, no entities: what the counts rely on
        except (UnsafeXml, Malformed, LookupError, ValueError):
            return False
        shape = _shape(data)
        if shape is None or shape.elements > self.budget.elements - self.elements:
            return False
        root = _local(shape.root)
        if root in ("worksheet", "dialogsheet"):
            commit = self.quick_sheet(name, data)
            if commit is not None and sum(map(len, self.kept.values())) + len(data) <= KEPT:
                self.kept[name] = data
        elif root == "sst":
            commit = self.quick_strings(info, data)
        elif root == "styleSheet":
            commit = self.quick_styles(data)
        elif root in ("Relationships", "macrosheet"):  # links are looked at one by one; macros refused
            commit = None
        else:
            commit = _nothing
        if commit is None:
            return False
        commit()
        self.done.add(name)
        self.unpacked += len(data)
        self.elements += shape.elements
        return True

    def quick_sheet(self, name: str, data: bytes) -> Callable[[], None] | None:
        """A worksheet's cells, rows, ranges and formulas, found by their tags as Office writes them
        (``<c r="B3"``, ``<row r="3"``): every tag of each kind must be found so, or None."""
        if _PREFIXED.search(data):
            return None
        refs, rows = _C_REF.findall(data), _ROW_REF.findall(data)
        formulas, ranges = _F_TEXT.findall(data), _RANGE_REF.findall(data)
        tags = _TAG.findall(data)  # every tag of these kinds, however written
        if (len(refs), len(rows), len(formulas), len(ranges)) != (
            tags.count(b"c"),
            tags.count(b"row"),
            tags.count(b"f"),
            len(tags) - tags.count(b"c") - tags.count(b"row") - tags.count(b"f"),
        ):
            return None
        places = _places(refs)
        if places is None:
            return None
        max_row = max(places)[0] if places else 0
        max_col = max(map(itemgetter(1), places)) if places else 0
        last_row = max(map(int, rows), default=0)
        if last_row > EXCEL_ROWS:
            return None
        ends = _places([last or first for _, first, last in ranges])
        starts = _places([first for _, first, _ in ranges])
        if starts is None or ends is None:
            return None
        corners = starts + ends
        max_row = max(max_row, last_row, max(corners)[0] if corners else 0)
        max_col = max(max_col, max(map(itemgetter(1), corners), default=0))
        spanned = sum(  # openpyxl makes a cell for each merged or hyperlinked one
            (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)
            for (kind, _, _), (r1, c1), (r2, c2) in zip(ranges, starts, ends, strict=True)
            if kind != b"dimension"
        )
        texts = [t for t in formulas if t]
        joined = b"\0".join(texts)
        if any(mark in joined for mark in (b"[", b"|", b"&")) and any(
            _external(html.unescape(t.decode())) for t in texts
        ):
            return None
        cells, budget = len(refs) + spanned, self.budget
        if self.cells + cells > budget.cells or self.rows + len(rows) > budget.rows:
            return None
        limits = [self.forms[n] for n in self.sheets.get(name, []) if n in self.forms]
        if limits:
            rows_limit, cols_limit = min(limits)
            if max_row > rows_limit or max_col > cols_limit or len(refs) > rows_limit * cols_limit:
                return None
            max_row = max_col = 0  # a form sheet is bounded by its table, not counted in the area
        elif self.area + max_row * max(max_col, 1) > budget.cells:
            return None

        def commit() -> None:
            self.cells += cells
            self.rows += len(rows)
            self.area += max_row * max_col
            self.table_rows += max_row

        return commit

    def quick_strings(self, info: zipfile.ZipInfo, data: bytes) -> Callable[[], None] | None:
        """The shared strings: the part's size and its ``<si>`` elements."""
        strings = len(_SI.findall(data))
        if _PREFIXED_SI.search(data) or self.string_bytes + info.file_size > self.budget.string_bytes:
            return None
        if self.strings + strings > self.budget.strings:
            return None

        def commit() -> None:
            self.string_bytes += info.file_size
            self.strings += strings

        return commit

    def quick_styles(self, data: bytes) -> Callable[[], None] | None:
        """The styles: records of each kind."""
        counts: dict[str, int] = {}
        for tag in _STYLE_TAG.findall(data):
            key = tag.decode()
            counts[key] = counts.get(key, 0) + 1
        if any(self.styles.get(tag, 0) + n > MAX_STYLES for tag, n in counts.items()):
            return None

        def commit() -> None:
            for tag, n in counts.items():
                self.styles[tag] = self.styles.get(tag, 0) + n

        return commit

    def chunks(self, name: str, *, utf8: bool = True) -> Iterator[bytes]:
        """The inflated part in pieces, held to the size its directory records."""
        info = self.infos[name]
        probe = copy.copy(info)
        probe.file_size = 1 << 48  # read to the end of the data, whatever the directory records
        size = 0
        try:
            with self.zf.open(probe) as fh:
                while chunk := fh.read(CHUNK):
                    if size == 0 and utf8 and not _utf8(chunk):
                        self.refuse(CORRUPT)
                    size += len(chunk)
                    self.unpacked += len(chunk)
                    if size > info.file_size:
                        self.refuse(f"部件“{_shown(name)}”解压后比文件目录中记录的更大，" + HOSTILE)
                    if self.unpacked > self.budget.unpacked:
                        self.refuse(
                            f"文件解压后超过 {self.budget.unpacked // MB:,} MB，超出了{self.budget.what}能有的大小，"
                            + HOSTILE
                        )
                    yield chunk
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError):
            self.refuse(CORRUPT)

    # ------------------------------------------------------------ counters

    def too_many(self, thing: str, limit: int) -> NoReturn:
        self.refuse(f"文件中的{thing}超过 {limit:,} 个，超出了{self.budget.what}能有的数量，" + HOSTILE)


_DECLARED = re.compile(rb"""^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")


def _utf8(head: bytes) -> bool:
    """Office writes UTF-8; a part in another encoding would read differently in each library."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00")):
        return False
    declared = _DECLARED.match(head[:256])
    return declared is None or declared.group(1).lower().replace(b"_", b"-") in (b"utf-8", b"utf8")


def _shown(text: str, limit: int = 80) -> str:
    """Text from the file, safe to print: no control characters (terminal escapes), not too long."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _local(name: str) -> str:
    return name[name.find(":") + 1 :]


# ---------------------------------------------------------------- clearing a part by its bytes


@dataclass(frozen=True)
class Shape:
    """A part's elements counted from its bytes: the root's name, how many, how deep."""

    root: str
    elements: int
    depth: int


_DECLARATION = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml[^<>]*\?>")
_ROOT = re.compile(rb"\s*<([^\s/>]+)")
_SKELETON = bytes(b for b in range(256) if b not in b"<>/\"'!?\x02")  # deleted: all but these
_MARKS = bytes.maketrans(b"<\x03", b"\x01\x02")
_NOT_MARKS = bytes(b for b in range(256) if b not in (1, 2))


def _shape(data: bytes) -> Shape | None:
    """The elements of a part expat found well-formed, counted from its bytes; None when the bytes
    alone cannot tell (comments, CDATA, processing instructions, a ``>`` in text or an attribute)
    or the nesting passes :data:`MAX_DEPTH`.

    Without those, every ``<`` opens a tag and the next ``>`` closes it, so ``/>`` ends an empty
    tag and ``</`` begins an end tag (names and text are dropped, quotes are kept so that a ``/``
    in a value never meets a ``<``). Each start becomes \\x01 and each end \\x02 (control
    characters XML cannot hold); removing every adjacent pair removes the leaves, so the rounds
    until nothing is left are the depth.
    """
    declaration = _DECLARATION.match(data)
    root = _ROOT.match(data, declaration.end() if declaration else 0)
    skeleton = data.replace(b"/>", b"\x02").translate(None, _SKELETON)
    if declaration:
        skeleton = skeleton[skeleton.index(b">") + 1 :]
    if root is None or b"<!" in skeleton or b"<?" in skeleton:
        return None
    if skeleton.count(b"<") != skeleton.count(b">") + skeleton.count(b"\x02"):
        return None
    marks = skeleton.replace(b"</", b"\x03").translate(_MARKS).translate(None, _NOT_MARKS)
    left = [marks.count(b"\x01")]  # elements left after each round (a round removes the leaves)
    while marks:
        if len(left) > MAX_DEPTH:
            return None
        inner = marks.replace(b"\x01\x02", b"")
        if len(inner) == len(marks):
            return None
        marks = inner
        left.append(marks.count(b"\x01"))
    return Shape(root.group(1).decode(errors="replace"), left[0], len(left) - 1)


def _nothing() -> None:
    pass


# A sheet's tags of each kind, and the same tags as Office writes them (no prefix, r or ref first).
_PREFIXED = re.compile(rb":(?:c|row|f|dimension|mergeCell|hyperlink)[\s/>]")
_TAG = re.compile(rb"<(c|row|f|dimension|mergeCell|hyperlink)[\s/>]")
_C_REF = re.compile(rb'<c r="([A-Z]{1,3}[1-9][0-9]{0,6})"')
_ROW_REF = re.compile(rb'<row r="([1-9][0-9]{0,6})"')
_F_TEXT = re.compile(rb'<f(?:\s+[A-Za-z]+="[^"]*")*\s*(?:/>|>([^<]*)</f>)')
_RANGE_REF = re.compile(
    rb'<(dimension|mergeCell|hyperlink) ref="([A-Z]{1,3}[1-9][0-9]{0,6})(?::([A-Z]{1,3}[1-9][0-9]{0,6}))?"'
)
_STYLE_TAG = re.compile(rb"<(?:[^\s/>:]*:)?(" + b"|".join(sorted(t.encode() for t in STYLE_RECORDS)) + rb")[\s/>]")
_SI = re.compile(rb"<si[\s/>]")
_PREFIXED_SI = re.compile(rb":si[\s/>]")
_BYTE_REFS: dict[bytes, tuple[int, int] | None] = {}


def _places(refs: list[bytes]) -> list[tuple[int, int]] | None:
    """(row, column) of each reference; None when one is outside Excel's grid."""
    found = list(map(_BYTE_REFS.get, refs))
    if None in found:
        if len(_BYTE_REFS) > 1 << 16:
            _BYTE_REFS.clear()
        for ref in set(refs):
            _BYTE_REFS[ref] = cell_ref(ref.decode())
        found = list(map(_BYTE_REFS.get, refs))
        if None in found:
            return None
    return found  # type: ignore[return-value]


# ---------------------------------------------------------------- one handler per kind of part


class _Handler:
    """Counts every element (nesting, total) of one part; subclasses look at some of them.

    The counters live on the handler while its part streams (fewer lookups per element: this runs
    for every element of every workbook read) and go back to the scan at :meth:`finish`.
    """

    def __init__(self, scan: _Scan) -> None:
        self.scan = scan
        self.parser: expat.XMLParserType | None = None
        self.depth = 0
        self.left = scan.budget.elements - scan.elements  # elements still allowed

    def bind(self, parser: expat.XMLParserType) -> None:
        self.parser = parser
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        self.left -= 1
        if self.depth > MAX_DEPTH or self.left < 0:
            self.over()

    def end(self, name: str) -> None:
        self.depth -= 1

    def over(self) -> NoReturn:
        if self.depth > MAX_DEPTH:
            self.scan.refuse(f"文件中的 XML 嵌套超过 {MAX_DEPTH} 层，" + HOSTILE)
        self.scan.too_many("XML 元素", self.scan.budget.elements)

    def collect(self) -> list[str]:
        """Collect the text from here until :meth:`stop` (only where it is needed: it costs a call per text)."""
        text: list[str] = []
        assert self.parser is not None
        self.parser.CharacterDataHandler = text.append
        return text

    def stop(self) -> None:
        assert self.parser is not None
        self.parser.CharacterDataHandler = None

    def finish(self) -> None:
        """After the last element: the counts go back to the scan."""
        self.scan.elements = self.scan.budget.elements - self.left


class _Dispatch(_Handler):
    """A part known by its root element: a worksheet, the shared strings, the styles, or anything else."""

    def __init__(self, scan: _Scan, name: str) -> None:
        super().__init__(scan)
        self.name = name
        self.inner: _Handler | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        root = _local(name)
        if root == "macrosheet":
            self.scan.refuse(MACRO)
        if root in ("worksheet", "dialogsheet"):
            self.inner = _Sheet(self.scan, self.name)
        elif root == "sst":
            self.inner = _Strings(self.scan, self.name)
        elif root == "styleSheet":
            self.inner = _Styles(self.scan)
        elif root == "Relationships":
            self.inner = _Rels(self.scan, self.name)
        else:
            self.inner = _Handler(self.scan)
        assert self.parser is not None
        self.inner.bind(self.parser)  # the rest of the part goes straight to it, this element first
        first: Any = self.parser.StartElementHandler  # bind may set a closure, not the method
        first(name, attrs)

    def finish(self) -> None:
        if self.inner is not None:
            self.inner.finish()
        else:
            super().finish()


class _Rels(_Handler):
    """A ``.rels`` part: its relationships. A link to anything outside the package is refused (a
    hyperlink in a cell excepted): Excel would fetch it when the file is opened."""

    def __init__(self, scan: _Scan, name: str) -> None:
        super().__init__(scan)
        self.name = name
        self.found: list[tuple[str, str, str]] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        super().start(name, attrs)
        if _local(name) != "Relationship":
            return
        kind, target = attrs.get("Type", ""), attrs.get("Target", "")
        external = attrs.get("TargetMode", "").lower() == "external"
        if kind.endswith(("/externalLink", "/externalLinkPath")) or (external and not kind.endswith("/hyperlink")):
            self.scan.refuse(EXTERNAL.format(what=_shown(target) or "外部链接"))
        if kind.endswith(("/vbaProject", "/macrosheet")):
            self.scan.refuse(MACRO)
        if not external:
            self.found.append((attrs.get("Id", ""), kind, resolve(self.name, target)))


class _Custom(_Handler):
    """docProps/custom.xml: how many units a summary says it covers (``xltool.summary_units``)."""

    def __init__(self, scan: _Scan) -> None:
        super().__init__(scan)
        self.units = 0
        self.claim: list[str] | None = None
        self.at = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        super().start(name, attrs)
        if _local(name) == "property" and attrs.get("name") == PROPERTY_PREFIX + SUMMARY:
            self.at = self.depth
        elif self.at and self.depth == self.at + 1 and self.claim is None:
            self.claim = self.collect()

    def end(self, name: str) -> None:
        if self.claim is not None and self.depth == self.at + 1:
            self.stop()
            text = "".join(self.claim).strip()
            self.units = max(self.units, int(text) if text.isdigit() and len(text) < 10 else 0)
        if self.depth == self.at:
            self.at, self.claim = 0, None
        super().end(name)


class _Workbook(_Handler):
    """xl/workbook.xml: which sheet names point to which parts; links to other workbooks refused."""

    def __init__(self, scan: _Scan) -> None:
        super().__init__(scan)
        self.sheets: list[tuple[str, str]] = []
        self.text: list[str] | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        super().start(name, attrs)
        tag = _local(name)
        if tag == "sheet":
            rid = next((v for k, v in attrs.items() if _local(k) == "id"), "")
            self.sheets.append((attrs.get("name", ""), rid))
            if len(self.sheets) > MAX_ENTRIES:
                self.scan.too_many("工作表", MAX_ENTRIES)
        elif tag == "externalReference":
            self.scan.refuse(EXTERNAL.format(what="外部链接"))
        elif tag == "definedName":
            self.text = self.collect()

    def end(self, name: str) -> None:
        super().end(name)
        if self.text is not None and _local(name) == "definedName":
            self.stop()
            formula, self.text = "".join(self.text), None
            if _external(formula):
                self.scan.refuse(EXTERNAL.format(what=f"名称中的公式 {_shown(formula)}"))


class _Strings(_Handler):
    """xl/sharedStrings.xml: how many strings (``<si>`` elements), how many bytes."""

    def __init__(self, scan: _Scan, name: str) -> None:
        super().__init__(scan)
        scan.string_bytes += scan.infos[name].file_size
        if scan.string_bytes > scan.budget.string_bytes:
            self.too_big(scan.string_bytes)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        super().start(name, attrs)
        if _local(name) == "si":
            self.scan.strings += 1
            if self.scan.strings > self.scan.budget.strings:
                self.scan.too_many("文字条目（共享字符串）", self.scan.budget.strings)

    def too_big(self, size: int) -> NoReturn:
        limit = self.scan.budget.string_bytes
        self.scan.refuse(
            f"文件中的文字（共享字符串）有 {size / MB:.1f} MB，超出了{self.scan.budget.what}能有的大小（{limit / MB:.0f} MB），"
            + HOSTILE
        )


class _Styles(_Handler):
    """xl/styles.xml: cell formats, fonts, fills, borders, number formats of each kind."""

    def start(self, name: str, attrs: dict[str, str]) -> None:
        super().start(name, attrs)
        tag = _local(name)
        if tag in STYLE_RECORDS:
            count = self.scan.styles[tag] = self.scan.styles.get(tag, 0) + 1
            if count > MAX_STYLES:
                self.scan.too_many(f"单元格格式（{tag}）", MAX_STYLES)


# A cell reference as Excel writes it: 1-3 capital letters, a row without leading zero.
_REF = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})\Z")
_REFS: dict[str, tuple[int, int] | None] = {}  # workbooks from one template share their addresses


def cell_ref(ref: str) -> tuple[int, int] | None:
    """1-based (row, column) of a reference inside Excel's grid; None for anything else."""
    try:
        return _REFS[ref]
    except KeyError:
        pass
    m = _REF.match(ref)
    place = None
    if m is not None:
        col = 0
        for ch in m.group(1):
            col = col * 26 + ord(ch) - 64
        row = int(m.group(2))
        place = (row, col) if row <= EXCEL_ROWS and col <= EXCEL_COLS else None
    if len(_REFS) > 1 << 16:
        _REFS.clear()
    _REFS[ref] = place
    return place


def _address(row: int, col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


class _Sheet(_Handler):
    """A worksheet: where its cells are, as calamine places them, and how many.

    A cell's place is its ``r``; a cell without one follows the cell before it in its row, and a
    row without ``r`` follows the row before it. A form sheet (named as in a definition) stays
    within the definition's table plus :data:`FORM_MARGIN`; any other sheet's content area
    (rows x columns from A1, which calamine fills in) counts against the budget's cells.

    This runs for every element of every sheet of every workbook read (about 2,000 a workbook):
    the handlers are closures over local counters, which costs half as much as attributes.
    """

    def __init__(self, scan: _Scan, part: str) -> None:
        super().__init__(scan)
        names = scan.sheets.get(part, [])
        self.name = _shown(names[0] if names else part, 40)
        limits = [scan.forms[n] for n in names if n in scan.forms]
        self.rows_limit, self.cols_limit = min(limits) if limits else (0, 0)
        self.max_row = self.max_col = 0
        self.cells_left = scan.budget.cells - scan.cells
        self.rows_left = scan.budget.rows - scan.rows

    def bind(self, parser: expat.XMLParserType) -> None:
        self.parser = parser
        scan, refs = self.scan, _REFS
        rows_limit, cols_limit = self.rows_limit, self.cols_limit
        depth, left, row, col, count = 0, self.left, 0, 0, 0
        cells_left, rows_left, max_row, max_col = self.cells_left, self.rows_left, 0, 0
        formula: list[str] | None = None

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal depth, left, row, col, count, cells_left, rows_left, max_row, max_col, formula
            depth += 1
            left -= 1
            if depth > MAX_DEPTH or left < 0:
                self.depth = depth
                self.over()
            if ":" in name:
                name = name.rpartition(":")[2]
            if name == "v":
                return
            if name == "c":
                ref = attrs.get("r")
                if ref is None:
                    col += 1
                    r, c = row or 1, col
                else:
                    r, c = refs.get(ref) or cell_ref(ref) or self.bad(ref)
                    row, col = r, c
                count += 1
                cells_left -= 1
                if cells_left < 0:
                    scan.too_many("单元格", scan.budget.cells)
                if rows_limit:
                    if r > rows_limit or c > cols_limit:
                        self.beyond(f" {_address(r, c)} 处")
                    if count > rows_limit * cols_limit:
                        scan.too_many(f"单元格（工作表“{self.name}”）", rows_limit * cols_limit)
                elif r > max_row or c > max_col:
                    max_row, max_col = max(max_row, r), max(max_col, c)
                    self.grow(max_row, max_col)
            elif name == "row":
                ref = attrs.get("r")
                row = row + 1 if ref is None else (cell_ref("A" + ref) or self.bad(ref))[0]
                col = 0
                rows_left -= 1
                if rows_left < 0:
                    scan.too_many("行", scan.budget.rows)
                if rows_limit:
                    if row > rows_limit:
                        self.beyond(f"第 {row:,} 行")
                elif row > max_row:
                    max_row = row
                    self.grow(max_row, max(max_col, 1))
            elif name == "f":
                formula = self.collect()
            elif name in ("dimension", "mergeCell", "hyperlink"):
                ref = attrs.get("ref", "")
                first, _, last = ref.partition(":")
                r1, c1 = cell_ref(first) or self.bad(ref)
                r2, c2 = cell_ref(last or first) or self.bad(ref)
                r, c = max(r1, r2), max(c1, c2)
                if rows_limit:
                    if r > rows_limit or c > cols_limit:
                        self.beyond(f" {_address(r, c)} 处")
                elif r > max_row or c > max_col:
                    max_row, max_col = max(max_row, r), max(max_col, c)
                    self.grow(max_row, max_col)
                if name != "dimension":  # openpyxl makes a cell for each merged or hyperlinked one
                    cells_left -= (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)
                    if cells_left < 0:
                        scan.too_many("单元格", scan.budget.cells)

        def end(name: str) -> None:
            nonlocal depth, formula
            depth -= 1
            if formula is not None and name.rpartition(":")[2] == "f":
                self.stop()
                text, formula = "".join(formula), None
                if _external(text):
                    what = f"单元格 {self.name}!{_address(row or 1, col)} 的公式 ={_shown(text, 60)}"
                    scan.refuse(EXTERNAL.format(what=what))

        def counted() -> None:
            self.left, self.cells_left, self.rows_left = left, cells_left, rows_left
            self.max_row, self.max_col = max_row, max_col

        parser.StartElementHandler, parser.EndElementHandler = start, end
        self.counted = counted

    def bad(self, ref: str) -> NoReturn:
        self.scan.refuse(
            f"工作表“{self.name}”中有无效的单元格地址“{_shown(ref, 20)}”，文件已损坏或被改动，已拒绝读取。"
        )

    def beyond(self, where: str) -> NoReturn:
        end = _address(self.rows_limit, self.cols_limit)
        self.scan.refuse(
            f"工作表“{self.name}”在{where}还有单元格，远远超出了表格的范围（最多到 {end}），"
            "可能是误操作或恶意构造的文件，已拒绝读取。请删除表格以外多余的行和列，保存后再试。"
        )

    def grow(self, max_row: int, max_col: int) -> None:
        """The content area of a sheet that is not the form's now reaches (max_row, max_col)."""
        area = max_row * max_col
        if self.scan.area + area > self.scan.budget.cells:
            self.scan.refuse(
                f"工作表“{self.name}”的范围达到 {_address(max_row, max_col)}（{area:,} 个单元格），"
                f"超出了{self.scan.budget.what}能有的大小（各表合计最多 {self.scan.budget.cells:,} 个单元格），"
                + HOSTILE
            )

    def finish(self) -> None:
        self.counted()
        super().finish()
        self.scan.area += self.max_row * self.max_col
        self.scan.table_rows += self.max_row
        self.scan.cells = self.scan.budget.cells - self.cells_left
        self.scan.rows = self.scan.budget.rows - self.rows_left


# ---------------------------------------------------------------- formulas that reach outside

_STRING = re.compile(r'"(?:[^"]|"")*"')  # a text constant in a formula
_QUOTED = re.compile(r"'(?:[^']|'')*'")  # a quoted sheet name (or path)


def _external(formula: str) -> bool:
    """A formula referring to another workbook (``[1]Sheet1!A1``, ``'C:\\dir\\[a.xlsx]S'!A1``) or
    another program (DDE: ``cmd|'/c calc'!A0``)."""
    bare = _STRING.sub('""', formula)
    if re.search(r"'[^']*\[[^\]]+\][^']*'!", bare) or re.search(r"\[\d+\]", bare):
        return True
    return "|" in _QUOTED.sub("''", bare)
