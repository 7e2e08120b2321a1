"""A corpus of hostile workbooks, generated from a real filled workbook the project wrote.

Each poison is that workbook with a few parts changed through :mod:`zipfile` (no committed
binaries), together with the exact reason xltool refuses it. :func:`build` writes them all into a
folder; the tests send each through ``check``, ``merge``, ``--previous``, ``--roster`` and the portal.
"""

from __future__ import annotations

import random
import re
import struct
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xltool.workbook.reader import _Book

UNIT_SHEET = "单位信息"  # a form sheet: it may reach AZ510 (its table plus 500 rows and 50 columns)
SCRATCH = "草稿"  # a sheet a clerk added: it counts against the workbook's cells
HOSTILE = "疑似恶意构造的文件，已拒绝读取。"
CORRUPT = "文件已损坏，无法打开。请在 WPS 或 Excel 中打开并重新保存；打不开的，请向填报单位重新索取。"
UNSAFE = "文件包含不安全的 XML 内容（实体或文档类型声明），已拒绝读取。"
SAVE_AS = "请在 WPS 或 Excel 中打开，用“文件 → 另存为”，文件类型选“Excel 工作簿（*.xlsx）”，保存后再试。"
MACRO = "文件实际是启用宏的工作簿（含宏代码），宏会在别人打开文件时运行，已拒绝读取。" + SAVE_AS
XLSB = "这是 Excel 二进制工作簿（.xlsb），xltool 只能读取 .xlsx。" + SAVE_AS
MB = 1 << 20
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def external(what: str) -> str:
    return (
        f"工作簿引用了其他文件（{what}）：表中的数字可能来自 xltool 看不到的文件，在别人的电脑上打开时还会去连接它，"
        "已拒绝读取。请在 WPS 或 Excel 中用“数据 → 编辑链接 → 断开链接”把公式变成数值，保存后再试。"
    )


def beyond(where: str) -> str:
    return (
        f"工作表“{UNIT_SHEET}”在{where}还有单元格，远远超出了表格的范围（最多到 AZ510），"
        "可能是误操作或恶意构造的文件，已拒绝读取。请删除表格以外多余的行和列，保存后再试。"
    )


def too_many(thing: str, limit: str) -> str:
    return f"文件中的{thing}超过 {limit} 个，超出了年报工作簿能有的数量，" + HOSTILE


Build = Callable[["Parts"], None]
TABLE = "read as a table"


def roster_area(sheet: str, end: str, area: str) -> str:
    return (
        f"工作表“{sheet}”的范围达到 {end}（{area} 个单元格），超出了名单能有的大小（各表合计最多 1,600,000 个单元格），"
        + HOSTILE
    )


@dataclass(frozen=True)
class Poison:
    """One hostile file: how to make it from the good workbook, and why xltool refuses it.

    ``roster`` is the reason when the same file is given as a roster, if another: a roster may
    hold a whole province's units, so its limits are wider, and a file within them is read as a
    table (:data:`TABLE`) and refused by the roster reader for having no 单位名称 column."""

    name: str
    build: Build
    reason: str
    roster: str | None = None
    suffix: str = ".xlsx"
    slow: bool = False  # generating or refusing it takes a while


class Parts:
    """The good workbook's parts, to be changed and written as a new zip."""

    def __init__(self, good: Path) -> None:
        with zipfile.ZipFile(good) as zf:
            self.parts: list[tuple[str, bytes]] = [(n, zf.read(n)) for n in zf.namelist()]
        with _Book(good) as book:
            self.sheet = {name: part for name, part in book.parts.items()}
        self.method = zipfile.ZIP_DEFLATED
        self.patch: Callable[[Path], None] | None = None

    def get(self, name: str) -> bytes:
        return next(data for n, data in self.parts if n == name)

    def set(self, name: str, data: bytes) -> None:
        self.parts = [(n, data if n == name else d) for n, d in self.parts]

    def change(self, name: str, fn: Callable[[bytes], bytes]) -> None:
        self.set(name, fn(self.get(name)))

    def add(self, name: str, data: bytes) -> None:
        self.parts.append((name, data))

    def unit_sheet(self, fn: Callable[[bytes], bytes]) -> None:
        self.change(self.sheet[UNIT_SHEET], fn)

    def add_sheet(self, name: str, sheet_data: bytes, after: bytes = b"") -> None:
        """A new worksheet ``name`` whose <sheetData> holds ``sheet_data`` (then ``after``)."""
        part = "xl/worksheets/sheet99.xml"
        xml = (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b"<sheetData>" + sheet_data + b"</sheetData>" + after + b"</worksheet>"
        )
        self.add(part, xml)
        self.change(
            "xl/workbook.xml",
            lambda d: d.replace(b"</sheets>", f'<sheet name="{name}" sheetId="99" r:id="rId99"/></sheets>'.encode()),
        )
        rel = f'<Relationship Id="rId99" Type="{REL}/worksheet" Target="worksheets/sheet99.xml"/>'
        self.change(
            "xl/_rels/workbook.xml.rels", lambda d: d.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
        )
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
        override = f'<Override PartName="/{part}" ContentType="{kind}"/>'
        self.change("[Content_Types].xml", lambda d: d.replace(b"</Types>", override.encode() + b"</Types>"))

    def write(self, path: Path) -> Path:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about a duplicate name: that is the point
            with zipfile.ZipFile(path, "w", self.method) as zf:
                for name, data in self.parts:
                    zf.writestr(name, data)
        if self.patch is not None:
            self.patch(path)
        return path


def _in_row(row: int, cells: bytes) -> Callable[[bytes], bytes]:
    """Add ``cells`` at the end of row ``row`` of a sheet."""

    def fn(data: bytes) -> bytes:
        out, n = re.subn(
            rb'(<row r="%d"[^>]*>.*?)(</row>)' % row,
            lambda m: m.group(1) + cells + m.group(2),
            data,
            count=1,
            flags=re.S,
        )
        assert n == 1
        return out

    return fn


def _before(tag: bytes, extra: bytes) -> Callable[[bytes], bytes]:
    def fn(data: bytes) -> bytes:
        assert tag in data
        return data.replace(tag, extra + tag, 1)

    return fn


def _prolog(doctype: bytes) -> Callable[[bytes], bytes]:
    return lambda d: d.replace(b"?>", b"?>" + doctype, 1)


def _bigger_than_recorded(part: str) -> Callable[[Path], None]:
    """Record ``part`` as 1,000 bytes in the zip's directory (local header too), keep its real data and CRC."""

    def patch(path: Path) -> None:
        data = bytearray(path.read_bytes())
        name = part.encode()
        local = data.index(b"PK\x03\x04")
        while data[local + 30 : local + 30 + len(name)] != name:
            local = data.index(b"PK\x03\x04", local + 4)
        struct.pack_into("<I", data, local + 22, 1000)
        central = data.index(b"PK\x01\x02")
        while data[central + 46 : central + 46 + len(name)] != name:
            central = data.index(b"PK\x01\x02", central + 4)
        struct.pack_into("<I", data, central + 24, 1000)
        path.write_bytes(bytes(data))

    return patch


# ---------------------------------------------------------------- the poisons


def _scratch_far(p: Parts) -> None:
    p.add_sheet(SCRATCH, b'<row r="60000"><c r="ZZ60000"><v>1</v></c></row>')


def _noise(n: int, choices: bytes, seed: int) -> bytes:
    """``n`` bytes drawn from ``choices``: content that does not compress like a zip bomb."""
    return bytes(random.Random(seed).choices(choices, k=n))


def _million_styled(p: Parts) -> None:
    """A million empty cells, each with a style (Excel writes such cells for a formatted range)."""
    styles = _noise(1_000_000, b"0123456789", 1)
    rows = b"".join(
        b"<row>" + b"".join(b'<c s="%c"/>' % styles[r * 10 + c] for c in range(10)) + b"</row>" for r in range(100_000)
    )
    p.add_sheet(SCRATCH, rows)


def _overlapping_merges(p: Parts) -> None:
    merges = b'<mergeCells count="200">' + b'<mergeCell ref="A1:J100"/>' * 200 + b"</mergeCells>"
    p.add_sheet(SCRATCH, b'<row r="100"><c r="J100"><v>1</v></c></row>', merges)


def _strings(p: Parts, extra: bytes) -> None:
    p.change("xl/sharedStrings.xml", _before(b"</sst>", extra))


def _styles(p: Parts) -> None:
    ids = _noise(300_000, b"0123456", 2)
    xfs = b"".join(
        b'<xf numFmtId="0" fontId="%c" fillId="%c" borderId="%c" xfId="0"/>' % tuple(ids[3 * i : 3 * i + 3])
        for i in range(100_000)
    )
    p.change("xl/styles.xml", _before(b"</cellXfs>", xfs))


def _deep(p: Parts) -> None:
    p.change("docProps/app.xml", _before(b"</Properties>", b"<a>" * 100_000 + b"</a>" * 100_000))


LAUGHS = (
    b'<!DOCTYPE sst [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)
XXE = b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


def _xxe(p: Parts) -> None:
    p.unit_sheet(_prolog(XXE))
    p.unit_sheet(_in_row(3, b'<c r="C3" t="inlineStr"><is><t>&x;</t></is></c>'))


def _many_parts(p: Parts) -> None:
    for i in range(5000):
        p.add(f"customXml/item{i}.xml", b"<a/>")


def _macro(p: Parts) -> None:
    p.add("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    rel = '<Relationship Id="rId98" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
    p.change("xl/_rels/workbook.xml.rels", _before(b"</Relationships>", rel.encode()))


def _external_link(p: Parts) -> None:
    p.add(
        "xl/externalLinks/externalLink1.xml",
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>',
    )
    rel = f'<Relationship Id="rId1" Type="{REL}/externalLinkPath" Target="file:///C:/data/other.xlsx" TargetMode="External"/>'
    p.add("xl/externalLinks/_rels/externalLink1.xml.rels", f'<Relationships xmlns="x">{rel}</Relationships>'.encode())
    p.unit_sheet(_with_formula(b"B4", b"[1]Sheet1!A1"))


def _with_formula(cell: bytes, text: bytes) -> Callable[[bytes], bytes]:
    """The cell ``cell`` (holding a value) computed by the formula ``text``."""

    def fn(data: bytes) -> bytes:
        out, n = re.subn(
            rb'(<c r="' + cell + rb'"[^>]*>)<v>', lambda m: m.group(1) + b"<f>" + text + b"</f><v>", data, count=1
        )
        assert n == 1
        return out

    return fn


def _formula(text: bytes) -> Build:
    def build(p: Parts) -> None:
        p.unit_sheet(_with_formula(b"B4", text))

    return build


def _linked_image(p: Parts) -> None:
    rel = f'<Relationships xmlns="x"><Relationship Id="rId1" Type="{REL}/image" Target="\\\\attacker\\share\\logo.png" TargetMode="External"/></Relationships>'
    p.add("xl/worksheets/_rels/sheet2.xml.rels", rel.encode())


def _bzip2(p: Parts) -> None:
    p.method = zipfile.ZIP_BZIP2


def _duplicate(p: Parts) -> None:
    p.add(p.sheet[UNIT_SHEET], _in_row(3, b'<c r="XFD3"><v>1</v></c>')(p.get(p.sheet[UNIT_SHEET])))


def _lying(p: Parts) -> None:
    p.patch = _bigger_than_recorded(p.sheet[UNIT_SHEET])


def _xlsb_renamed(p: Parts) -> None:
    p.parts = [(n, d) for n, d in p.parts if n != "xl/workbook.xml"] + [("xl/workbook.bin", b"\x83\x01\x00")]


def _bomb(p: Parts) -> None:
    p.add("xl/media/image1.png", b"\0" * (25 * MB))


def _claims_summary(p: Parts) -> None:
    """Says it is a summary of 100,000 units (so the scan allows a province's size) but is one unit's."""
    prop = (
        '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="9" name="xltool.summary_units">'
        "<vt:lpwstr>100000</vt:lpwstr></property>"
    )
    p.change("docProps/custom.xml", _before(b"</Properties>", prop.encode()))


POISONS: tuple[Poison, ...] = (
    Poison("extent-XFD1048576", lambda p: p.unit_sheet(_before(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')),
           beyond("第 1,048,576 行"), roster_area(UNIT_SHEET, "B1048576", "2,097,152")),
    Poison("extent-ZZ60000", lambda p: p.unit_sheet(_before(b"</sheetData>", b'<row r="60000"><c r="ZZ60000"><v>1</v></c></row>')),
           beyond("第 60,000 行"), roster_area(UNIT_SHEET, "ZZ60000", "42,120,000")),
    Poison("far-cell-XFD3", lambda p: p.unit_sheet(_in_row(3, b'<c r="XFD3"><v>1</v></c>')),
           beyond(" XFD3 处"), TABLE),
    Poison("lying-dimension", lambda p: p.unit_sheet(lambda d: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', d)),
           beyond(" XFD1048576 处"), roster_area(UNIT_SHEET, "XFD1048576", "17,179,869,184")),
    Poison("merged-whole-sheet", lambda p: p.unit_sheet(_before(b"</worksheet>", b'<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>')),
           beyond(" XFD1048576 处"), roster_area(UNIT_SHEET, "XFD1048576", "17,179,869,184")),
    Poison("scratch-sheet-ZZ60000", _scratch_far,
           "工作表“草稿”的范围达到 ZZ60000（42,120,000 个单元格），超出了年报工作簿能有的大小（各表合计最多 100,000 个单元格），" + HOSTILE,
           roster_area(SCRATCH, "ZZ60000", "42,120,000")),
    Poison("million-styled-cells", _million_styled, too_many("单元格", "100,000"), TABLE, slow=True),
    Poison("duplicate-cells", lambda p: p.unit_sheet(_in_row(3, b'<c r="B3" s="1"/>' * 30_000)),
           too_many("单元格（工作表“单位信息”）", "26,520"), TABLE),
    Poison("overlapping-merges", _overlapping_merges, too_many("单元格", "100,000"), TABLE),
    Poison("strings-100k", lambda p: _strings(p, b"".join(b"<si><t>%d</t></si>" % i for i in range(100_000))),
           too_many("文字条目（共享字符串）", "20,000"), TABLE, slow=True),
    Poison("strings-5MB", lambda p: _strings(p, b"<si><t>" + _noise(5 * MB, b"abcdefghijklmnopqrstuvwxyz", 3) + b"</t></si>"),
           "文件中的文字（共享字符串）有 5.0 MB，超出了年报工作簿能有的大小（4 MB），" + HOSTILE, TABLE),
    Poison("styles-100k", _styles, too_many("单元格格式（xf）", "64,000"),
           "文件中的单元格格式（xf）超过 64,000 个，超出了名单能有的数量，" + HOSTILE, slow=True),
    Poison("deep-nesting", _deep, "文件中的 XML 嵌套超过 64 层，" + HOSTILE),
    Poison("billion-laughs", lambda p: p.change("xl/sharedStrings.xml", _prolog(LAUGHS)), UNSAFE),
    Poison("external-entity", _xxe, UNSAFE),
    Poison("thousands-of-parts", _many_parts, "压缩包里有 5,019 个部件（工作簿通常不到 100 个），" + HOSTILE, slow=True),
    Poison("zip-bomb", _bomb, "文件解压后异常庞大（25 MB，20 个部件），" + HOSTILE),
    Poison("vbaProject", _macro, MACRO),
    Poison("macro-sheet", lambda p: p.add("xl/macrosheets/sheet1.xml", b"<xm:macrosheet/>"), MACRO),
    Poison("external-link", _external_link, external("外部链接 xl/externalLinks/externalLink1.xml")),
    Poison("external-formula", _formula(b"[1]Sheet1!A1"), external("单元格 单位信息!B4 的公式 =[1]Sheet1!A1")),
    Poison("external-path-formula", _formula(rb"'C:\data\[other.xlsx]Sheet1'!A1"),
           external(r"单元格 单位信息!B4 的公式 ='C:\data\[other.xlsx]Sheet1'!A1")),
    Poison("dde-formula", _formula(b"cmd|'/c calc'!A0"), external("单元格 单位信息!B4 的公式 =cmd|'/c calc'!A0")),
    Poison("linked-image", _linked_image, external(r"\\attacker\share\logo.png")),
    Poison("embedded-object", lambda p: p.add("xl/embeddings/oleObject1.bin", b"\0" * 64),
           "工作簿中嵌入了其他文件或控件（xl/embeddings/oleObject1.bin）：年报工作簿用不到它们，打开时却可能运行其中的程序，"
           "已拒绝读取。请删除嵌入的对象，保存后再试。"),
    Poison("xlsb", lambda p: None, XLSB, suffix=".xlsb"),
    Poison("xlsb-renamed", _xlsb_renamed, XLSB),
    Poison("duplicate-part", _duplicate, "压缩包里有两个同名的部件“xl/worksheets/sheet2.xml”，不同的软件会读到不同的内容，" + HOSTILE),
    Poison("bigger-than-recorded", _lying, "部件“xl/worksheets/sheet2.xml”解压后比文件目录中记录的更大，" + HOSTILE),
    Poison("bzip2-parts", _bzip2, CORRUPT),
    Poison("reference-past-XFD", lambda p: p.unit_sheet(_in_row(5, b'<c r="AAAAAAAAA5"><v>1</v></c>')),
           "工作表“单位信息”中有无效的单元格地址“AAAAAAAAA5”，文件已损坏或被改动，已拒绝读取。"),
    Poison("row-past-2^32", lambda p: p.unit_sheet(_before(b"</sheetData>", b'<row r="4294967297"><c r="A4294967297"><v>1</v></c></row>')),
           "工作表“单位信息”中有无效的单元格地址“4294967297”，文件已损坏或被改动，已拒绝读取。"),
    Poison("claims-100000-units", _claims_summary,
           "工作簿标明是 100,000 个单位的汇总，却没有这么多单位的明细，" + HOSTILE, TABLE),
    Poison("unknown-encoding", lambda p: p.change("_rels/.rels", lambda d: d.replace(b'encoding="UTF-8"', b'encoding="UTF-L"', 1)), CORRUPT),
)  # fmt: skip

BY_NAME = {p.name: p for p in POISONS}


def build(good: Path, folder: Path, poisons: tuple[Poison, ...] = POISONS) -> dict[str, Path]:
    """Write each poison into ``folder`` (as ``{name}{suffix}``) from the good workbook ``good``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for poison in poisons:
        parts = Parts(good)
        poison.build(parts)
        out[poison.name] = parts.write(folder / f"{poison.name}{poison.suffix}")
    return out
