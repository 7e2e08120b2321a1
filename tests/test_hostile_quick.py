"""The scan's quick clearing (xltool/workbook/package.py: a part counted from its bytes) against the
streamed scan it stands in for: on every workbook, however written, and every hostile one, the two
give the same counts or the same refusal, word for word.

The quick path only ever clears a part; anything it cannot count exactly goes to the streamed scan.
So the hostile variants here are the ones that would fool a careless byte count (a ``>`` inside an
attribute, a comment holding a fake cell, a prefixed tag, a reference written with an entity, a
formula hidden in CDATA or behind a character reference), and a seeded fuzz of the same tricks.
"""

from __future__ import annotations

import random
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xltool.errors import InputFileError
from xltool.form import spec as specs
from xltool.form.layout import for_spec
from xltool.workbook import package
from xltool.workbook.package import MAX_DEPTH, Usage
from xltool.workbook.reader import _scan

from .helpers import fill, libreoffice_resave
from .hostile import POISONS, SCRATCH, UNIT_SHEET, Parts, Poison, _in_row, beyond, build, external, too_many
from .sample_data import SHUYANG, write_valid

ROOT = Path(__file__).resolve().parent.parent
BOOKS = sorted((ROOT / "samples").rglob("*.xlsx")) + sorted((ROOT / "tests" / "fixtures").glob("*.xlsx"))
INPUT_KEYS = [c.key for _, c in for_spec(specs.load()).keyed("input") if c.key]


def verdict(path: Path, *, quick: bool) -> Usage | str:
    try:
        with zipfile.ZipFile(path) as zf:
            return package.scan(path, zf, quick=quick)
    except InputFileError as exc:
        return exc.reason


def streamed_parts(path: Path) -> list[str]:
    """The parts the quick path could not clear (each then streamed), but relationships (always
    streamed: each link is looked at)."""
    left: list[str] = []
    clear = package._Scan.quick

    def spy(self: package._Scan, name: str) -> bool:
        done = clear(self, name)
        if not done and not name.endswith(".rels"):
            left.append(name)
        return done

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(package._Scan, "quick", spy)
        verdict(path, quick=True)
    return left


def same(path: Path) -> Usage | str:
    streamed = verdict(path, quick=False)
    assert verdict(path, quick=True) == streamed
    return streamed


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_valid(tmp_path_factory.mktemp("good") / "沭阳.xlsx", SHUYANG)


@pytest.mark.parametrize("book", BOOKS, ids=lambda p: p.name)
def test_every_sample_is_counted_the_same_and_cleared_by_its_bytes(book: Path) -> None:
    assert isinstance(same(book), Usage)
    assert streamed_parts(book) == []


def test_a_workbook_saved_by_openpyxl_is_cleared_by_its_bytes(good: Path, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(good)
    book.save(tmp_path / "saved.xlsx")
    assert isinstance(same(tmp_path / "saved.xlsx"), Usage)
    assert streamed_parts(tmp_path / "saved.xlsx") == []


@pytest.mark.slow
def test_a_workbook_saved_by_libreoffice_is_cleared_by_its_bytes(good: Path, tmp_path: Path, soffice: str) -> None:
    saved = libreoffice_resave(soffice, good, tmp_path / "out")
    assert isinstance(same(saved), Usage)
    assert streamed_parts(saved) == []


# refused before the scan looks inside: by the zip's directory, its entries or the file's suffix
BEFORE_SCAN = {"thousands-of-parts", "duplicate-part", "xlsb", "xlsb-renamed", "bzip2-parts"}


@pytest.mark.parametrize(
    "poison",
    [
        pytest.param(p, id=p.name, marks=[pytest.mark.slow] if p.slow else [])
        for p in POISONS
        if p.name not in BEFORE_SCAN
    ],
)
def test_every_hostile_workbook_is_refused_the_same(poison: Poison, good: Path, tmp_path: Path) -> None:
    path = build(good, tmp_path, (poison,))[poison.name]
    assert same(path) == poison.reason


def _sheet(fn: Callable[[bytes], bytes]) -> Callable[[Parts], None]:
    return lambda p: p.unit_sheet(fn)


def _row3(cells: bytes) -> Callable[[bytes], bytes]:
    return _in_row(3, cells)


def _nest(levels: int) -> Callable[[Parts], None]:
    inner = b"<a>" * levels + b"</a>" * levels
    return lambda p: p.change("docProps/app.xml", lambda d: d.replace(b"</Properties>", inner + b"</Properties>"))


# (name, change, the streamed scan's verdict): each would pass a careless byte count
TRICKS: list[tuple[str, Callable[[Parts], None], str | None]] = [
    ("far cell, '>' in an attribute", _sheet(_row3(b'<c r="B3" x="a>b"/><c r="XFD3"><v>1</v></c>')), beyond(" XFD3 处")),
    ("far cell ends an empty tag inside a value", _sheet(_row3(b'<c r="XFD3" x="/>"/>')), beyond(" XFD3 处")),
    ("fake far cell in a comment", _sheet(_row3(b'<!-- <c r="XFD3"/> -->')), None),
    ("far cell after a comment", _sheet(_row3(b'<!-- x --><c r="XFD3"/>')), beyond(" XFD3 处")),
    ("prefixed far cell", _sheet(_row3(b'<x:c xmlns:x="urn:x" r="XFD3"/>')), beyond(" XFD3 处")),
    ("far cell without r", _sheet(_row3(b"<c/>" * 20_000)), beyond(" BA3 处")),
    ("r not first", _sheet(_row3(b'<c s="0" r="XFD3"/>')), beyond(" XFD3 处")),
    ("r with single quotes", _sheet(_row3(b"<c r='XFD3'/>")), beyond(" XFD3 处")),
    ("r after a newline", _sheet(_row3(b'<c\nr="XFD3"/>')), beyond(" XFD3 处")),
    ("r as a character reference", _sheet(_row3(b'<c r="&#88;FD3"/>')), beyond(" XFD3 处")),
    ("far row", _sheet(lambda d: d.replace(b"</sheetData>", b'<row r="600"/></sheetData>')), beyond("第 600 行")),
    ("far row, r not first", _sheet(lambda d: d.replace(b"</sheetData>", b'<row ht="1" r="600"/></sheetData>')),
     beyond("第 600 行")),
    ("merge with ref not first",
     _sheet(lambda d: d.replace(b"</worksheet>", b'<mergeCells><mergeCell x="1" ref="A1:XFD2"/></mergeCells></worksheet>')),
     beyond(" XFD2 处")),
    ("hyperlink over a huge range",
     _sheet(lambda d: d.replace(b"</worksheet>", b'<hyperlinks><hyperlink ref="A1:AZ500"/>' * 5 + b"</hyperlinks></worksheet>")),
     too_many("单元格", "100,000")),
    ("DDE formula behind a character reference",
     _sheet(_row3(b'<c r="C3"><f>cmd&#124;\'/c calc\'!A0</f><v>1</v></c>')),
     external("单元格 单位信息!C3 的公式 =cmd|'/c calc'!A0")),
    ("DDE formula in CDATA", _sheet(_row3(b"<c r=\"C3\"><f><![CDATA[cmd|'/c calc'!A0]]></f></c>")),
     external("单元格 单位信息!C3 的公式 =cmd|'/c calc'!A0")),
    ("formula with a '>' in an attribute", _sheet(_row3(b'<c r="C3"><f x="a>b">[1]S!A1</f></c>')),
     external("单元格 单位信息!C3 的公式 =[1]S!A1")),
    ("prefixed formula", _sheet(_row3(b'<c r="C3"><x:f xmlns:x="urn:x">[1]S!A1</x:f></c>')),
     external("单元格 单位信息!C3 的公式 =[1]S!A1")),
    ("nested as deep as allowed", _nest(MAX_DEPTH - 1), None),  # Properties is 1, the last <a> is 64
    ("nested one deeper", _nest(MAX_DEPTH), "文件中的 XML 嵌套超过 64 层，" + package.HOSTILE),
    ("deep nesting behind a comment", lambda p: (p.change("docProps/app.xml", lambda d: d.replace(b"<Properties", b"<!--x--><Properties", 1)), _nest(80)(p)),
     "文件中的 XML 嵌套超过 64 层，" + package.HOSTILE),
    ("strings nested in strings",
     lambda p: p.change("xl/sharedStrings.xml", lambda d: d.replace(b"</sst>", b"<si><si/></si>" * 10_000 + b"</sst>")),
     too_many("文字条目（共享字符串）", "20,000")),
    ("prefixed strings",
     lambda p: p.change("xl/sharedStrings.xml", lambda d: d.replace(b"</sst>", b'<x:si xmlns:x="urn:x"/>' * 20_000 + b"</sst>")),
     too_many("文字条目（共享字符串）", "20,000")),
    ("styles with an empty prefix",
     lambda p: p.change("xl/styles.xml", lambda d: d.replace(b"</cellXfs>", b"<:xf/>" * 64_001 + b"</cellXfs>")),
     too_many("单元格格式（xf）", "64,000")),
    ("scratch sheet far by its rows", lambda p: p.add_sheet(SCRATCH, b'<row r="200000"/>'),
     "工作表“草稿”的范围达到 A200000（200,000 个单元格），超出了年报工作簿能有的大小（各表合计最多 100,000 个单元格），"
     + package.HOSTILE),
    ("scratch sheet just inside", lambda p: p.add_sheet(SCRATCH, b'<row r="100"><c r="ZZ100"/></row>'), None),
    ("relationships part of a sheet linking outside",
     lambda p: p.add("xl/worksheets/_rels/sheet1.xml.rels",
                     b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                     b'<Relationship Id="rId1" Type="x/oleObject" Target="file:///c:/a.exe" TargetMode="External"/>'
                     b"</Relationships>"),
     external("file:///c:/a.exe")),
]  # fmt: skip


@pytest.mark.parametrize(("name", "change", "reason"), TRICKS, ids=[t[0] for t in TRICKS])
def test_tricks_against_the_byte_count_get_the_streamed_verdict(
    name: str, change: Callable[[Parts], None], reason: str | None, good: Path, tmp_path: Path
) -> None:
    parts = Parts(good)
    change(parts)
    found = same(parts.write(tmp_path / "trick.xlsx"))
    if reason is None:
        assert isinstance(found, Usage)
    else:
        assert found == reason


SNIPPETS = [
    b'<c r="XFD3"/>', b'<c r="B3" x="a>b"/>', b"<!-- <c r='XFD3'/> -->", b'<x:c xmlns:x="u" r="AZA9"/>', b"<c/>" * 60,
    b'<row r="999"/>', b"<a>" * 70 + b"</a>" * 70, b"<a>" * 10 + b"</a>" * 10, b"<![CDATA[<c r='XFD1'/>]]>",
    b'<f>[1]S!A1</f>', b"<f>a&#124;b</f>", b'<mergeCell ref="A1:XFD9"/>', b"<si/>" * 30, b'<c r="A1"><is><t>&amp;</t></is></c>',
    b'<hyperlink ref="A1:ZZ999"/>', b"<?pi x?>", b'<c r="ZZ3"><v>1</v></c>', b"<xf/>" * 50, b'x="1"', b">", b"/>", b"<",
]  # fmt: skip
TARGETS = ["sheet", "xl/sharedStrings.xml", "xl/styles.xml", "docProps/app.xml", "[Content_Types].xml"]


@pytest.mark.parametrize("seed", range(40))
def test_fuzzed_parts_get_the_streamed_verdict(seed: int, good: Path, tmp_path: Path) -> None:
    """Snippets dropped at random places (most land between tags; some break the XML): the quick
    path agrees with the streamed scan, whatever the result."""
    rng = random.Random(seed)
    parts = Parts(good)
    for _ in range(rng.randint(1, 4)):
        target = rng.choice(TARGETS)
        name = parts.sheet[rng.choice([UNIT_SHEET, *parts.sheet])] if target == "sheet" else target
        data = parts.get(name)
        at = rng.choice([m for m in range(len(data)) if data[m : m + 1] == b"<"] or [0])
        parts.set(name, data[:at] + rng.choice(SNIPPETS) * rng.choice([1, 1, 2, 30]) + data[at:])
    same(parts.write(tmp_path / f"fuzz{seed}.xlsx"))


def test_a_part_past_the_quick_size_is_streamed(good: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(package, "QUICK_PART", 1000)
    shutil.copy(good, tmp_path / "a.xlsx")
    streamed = streamed_parts(tmp_path / "a.xlsx")
    with zipfile.ZipFile(good) as zf:
        big = {i.filename for i in zf.infolist() if i.file_size > 1000 and i.filename.endswith(".xml")}
    big -= {"xl/workbook.xml"}  # always streamed: its sheets are looked at one by one
    assert big and big <= set(streamed)


TEXTY = st.one_of(
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.sampled_from(["=A1+1", "=SUM(B3:C4)", '="a"&"b"', "=1/0", "#N/A", "<c r='XFD1'/>", "a>b", "]]>", "&amp;", "/>"]),
)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_filled_workbooks_are_counted_and_read_the_same(
    good: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Random values (formulas, error values, markup-like text) in random input cells, saved by
    openpyxl: both scans agree, and formulas found quickly are those found by looking at every cell."""
    keys = data.draw(st.lists(st.sampled_from(INPUT_KEYS), min_size=1, max_size=6, unique=True), label="keys")
    values = {key: data.draw(TEXTY, label=key) for key in keys}
    path = fill(good, tmp_path_factory.mktemp("filled") / "f.xlsx", values)
    assert isinstance(same(path), Usage)
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = zf.read(name)
                assert _scan(xml) == _scan(xml, every=True)
