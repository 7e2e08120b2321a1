"""The reader: calamine values plus the sheet XML show every cell exactly as openpyxl would.

openpyxl (read-only, formulas not evaluated) is the reference: for every label, input and total
cell of every sample, and of workbooks with junk of every cell type, the reader's grid must hold
the same value. Shared formulas, error cells and escaped formula text get their own tests.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from xltool.errors import InputFileError
from xltool.form import spec as specs
from xltool.form.layout import for_spec
from xltool.sources.checking import check
from xltool.workbook import package as scanning
from xltool.workbook.files import CORRUPT, preflight
from xltool.workbook.reader import OPTIONAL_SHEETS, _as_number, _Book, _formulas, _scan, read

from .helpers import fill, libreoffice_resave
from .sample_data import CHEPAIZI, SHUYANG, write_valid
from .test_properties import junk

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = for_spec(specs.load())
T3 = "三、收到和处理政府信息公开申请情况"
SAMPLES = sorted((ROOT / "samples").rglob("*.xlsx"))


def kind(value: Any) -> tuple[str, Any]:
    """Compare values, not int/float spelling: openpyxl reads <v>26</v> as int, <v>2.5</v> as float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return type(value).__name__, value
    return "number", value


def assert_same_as_openpyxl(path: Path) -> int:
    """Every form cell and every cached total of ``path`` as openpyxl reads it; returns cells compared."""
    compared = 0
    formulas = openpyxl.load_workbook(path, read_only=True)
    values = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        with _Book(path) as book:
            assert book.sheetnames == formulas.sheetnames
            for sheet in LAYOUT.sheets:
                if sheet.name in OPTIONAL_SHEETS:
                    continue
                grid, cached = book.sheet(sheet.name)
                theirs = list(formulas[sheet.name].iter_rows(values_only=True))
                shown = list(values[sheet.name].iter_rows(values_only=True))
                for cell in sheet.cells:
                    ours = grid[cell.row][cell.col] if cell.row < len(grid) and cell.col < len(grid[cell.row]) else None
                    ref = theirs[cell.row][cell.col] if cell.row < len(theirs) else None
                    assert kind(ours) == kind(ref), (path.name, sheet.name, cell.address)
                    if isinstance(ref, str) and ref.startswith("=") and cell.address in cached:
                        assert _as_number(cached[cell.address]) == shown[cell.row][cell.col], (sheet.name, cell.address)
                    compared += 1
    finally:
        formulas.close()
        values.close()
    return compared


@pytest.mark.slow
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_samples_read_as_openpyxl_reads_them(path: Path) -> None:
    assert assert_same_as_openpyxl(path) > 250


def junk_workbook(tmp_path: Path) -> Path:
    """Every kind of cell a clerk or a program can leave in the inputs, labels and totals."""
    path = fill(write_valid(tmp_path / "clean.xlsx", SHUYANG), tmp_path / "filled.xlsx", {})
    wb = openpyxl.load_workbook(path)
    ws = wb[T3]
    raw: dict[str, Any] = {
        "D6": dt.datetime(2024, 1, 1),
        "E6": dt.datetime(2024, 3, 15, 12, 30),
        "F6": dt.time(8, 30),
        "G6": True,
        "H6": "#N/A",  # openpyxl writes an error cell
        "I6": "=1+2",
        "D7": '=IF(D6<>0,"a&b",0)',
        "E7": "  3 ",
        "F7": 0.1,
        "G7": 1e-7,
        "H7": 123456789012345.0,
        "I7": "",
        "D8": "１２",
        "A6": "一、本年新收 & 其他",
    }
    for address, value in raw.items():
        ws[address] = value
    ws["D9"] = 45000
    ws["D9"].number_format = "yyyy年m月d日"
    wb.save(path)
    return path


def test_junk_reads_as_openpyxl_reads_it(tmp_path: Path) -> None:
    assert_same_as_openpyxl(junk_workbook(tmp_path))


@pytest.mark.slow
def test_junk_saved_by_libreoffice_reads_as_openpyxl_reads_it(tmp_path: Path, soffice: str) -> None:
    """LibreOffice writes real cached values, its own string table and styles."""
    assert_same_as_openpyxl(libreoffice_resave(soffice, junk_workbook(tmp_path), tmp_path / "lo"))


def rewrite_sheet(src: Path, dst: Path, sheet: str, *subs: tuple[bytes, bytes]) -> Path:
    with _Book(src) as book:
        part = book.parts[sheet]
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                for pattern, replacement in subs:
                    data, n = re.subn(pattern, replacement, data)
                    assert n == 1, pattern
            zout.writestr(item, data)
    return dst


def shared(src: Path, dst: Path, master: bytes) -> Path:
    """J6:J8 as one shared formula, as Excel writes a formula filled down."""
    return rewrite_sheet(
        src,
        dst,
        T3,
        (rb"<f>SUM\(D6:I6\)</f>", b'<f t="shared" ref="J6:J8" si="0">' + master + b"</f>"),
        (rb"<f>SUM\(D7:I7\)</f>", b'<f t="shared" si="0"/>'),
        (rb"<f>SUM\(D8:I8\)</f>", b'<f t="shared" si="0"/>'),
    )


def test_shared_formula_is_expanded_per_cell(tmp_path: Path) -> None:
    path = shared(write_valid(tmp_path / "v.xlsx", SHUYANG), tmp_path / "shared.xlsx", b"SUM(D6:I6)")
    with _Book(path) as book:
        grid, _ = book.sheet(T3)
    assert [grid[r][9] for r in (5, 6, 7)] == ["=SUM(D6:I6)", "=SUM(D7:I7)", "=SUM(D8:I8)"]
    assert check([path])[0].findings == []
    assert_same_as_openpyxl(path)


def test_wrong_shared_formula_is_reported_in_every_cell(tmp_path: Path) -> None:
    path = shared(write_valid(tmp_path / "v.xlsx", SHUYANG), tmp_path / "shared.xlsx", b"SUM(D6:H6)")
    found = [(f.rule, f.cell, f.value) for f in check([path])[0].findings]
    assert found == [
        ("F-FORMULA", "J6", "=SUM(D6:H6)"),
        ("F-FORMULA", "J7", "=SUM(D7:H7)"),
        ("F-FORMULA", "J8", "=SUM(D8:H8)"),
    ]


@pytest.mark.parametrize("master", [b"SUM(D6:I6))", b"&quot;abc"], ids=["extra-bracket", "open-quote"])
def test_shared_formula_that_cannot_be_parsed(tmp_path: Path, master: bytes) -> None:
    path = shared(write_valid(tmp_path / "v.xlsx", SHUYANG), tmp_path / "shared.xlsx", master)
    found = [(f.rule, f.cell, f.value) for f in check([path])[0].findings]
    text = "=" + master.decode().replace("&quot;", '"')
    assert found == [("F-FORMULA", "J6", text), ("F-FORMULA", "J7", text), ("F-FORMULA", "J8", text)]


def test_error_and_formula_in_input_cells_are_text(tmp_path: Path) -> None:
    path = fill(write_valid(tmp_path / "v.xlsx", CHEPAIZI), tmp_path / "e.xlsx", {}, {(T3, "D6"): "#DIV/0!"})
    path = fill(path, tmp_path / "f.xlsx", {}, {(T3, "E6"): "=1+2"})
    found = [(f.rule, f.cell, f.value) for f in check([path])[0].findings]
    assert found == [("C-TEXT", "D6", "#DIV/0!"), ("C-TEXT", "E6", "=1+2")]
    assert read(path).values["t3.new.natural"] is None


def test_date_typed_into_a_count(tmp_path: Path) -> None:
    path = fill(
        write_valid(tmp_path / "v.xlsx", CHEPAIZI), tmp_path / "d.xlsx", {"t3.new.natural": dt.date(2024, 1, 5)}
    )
    (finding,) = check([path])[0].findings
    assert (finding.rule, finding.cell, finding.value) == ("C-TEXT", "D6", "2024-01-05 00:00:00")


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    path = write_valid(tmp_path_factory.mktemp("pkg") / "v.xlsx", SHUYANG)
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.mark.slow
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure is reproduced, never "flaky"
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@example(part=1, cut=34, patch=b"L", keep=True)  # _rels/.rels declaring encoding="UTF-L" (LookupError)
@given(part=st.integers(0, 99), cut=st.integers(0, 1 << 17), patch=st.binary(max_size=8), keep=st.booleans())
def test_damaged_xml_is_read_or_refused_never_a_crash(
    package: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory, part: int, cut: int, patch: bytes, keep: bool
) -> None:
    """Any part cut short, or with bytes overwritten, is either read or refused as corrupt.

    Each draw is independent of the others (a cut is clamped to its part, not drawn within it):
    when a draw's bounds depended on an earlier draw, hypothesis's shrinker replayed a failing
    example inconsistently and reported FlakyStrategyDefinition instead of the failure, which was
    an XML declaration naming an unknown encoding (LookupError escaped the reader).
    """
    names = sorted(n for n in package if n.endswith((".xml", ".rels")))
    name = names[part % len(names)]
    data = package[name]
    cut = min(cut, len(data))
    damaged = data[:cut] + patch + (data[cut + len(patch) :] if keep else b"")
    path = tmp_path_factory.mktemp("dmg") / "d.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        for n, d in package.items():
            zf.writestr(n, damaged if n == name else d)
    try:
        read(path)
    except InputFileError as exc:
        assert exc.reason  # a Chinese message for the clerk, never a traceback


ENCODINGS = ["UTF-L", "rot13", "GBK", "UTF-16", "idna", "punycode", "cp437"]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("name", ["_rels/.rels", "xl/workbook.xml", "xl/sharedStrings.xml", "docProps/custom.xml"])
def test_xml_declared_in_another_encoding_is_refused_as_corrupt(
    package: dict[str, bytes], tmp_path: Path, name: str, encoding: str
) -> None:
    """Office writes UTF-8; a part declaring another encoding (unknown ones raised LookupError,
    multi-byte ones ValueError) would read differently in each library: refused."""
    path = tmp_path / "d.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        for n, d in package.items():
            zf.writestr(n, d.replace(b'encoding="UTF-8"', f'encoding="{encoding}"'.encode(), 1) if n == name else d)
    with pytest.raises(InputFileError) as caught:
        read(path)
    assert caught.value.reason == CORRUPT


@pytest.mark.parametrize("rows_too", [False, True], ids=["cells", "cells-and-rows"])
def test_cells_without_their_optional_address(tmp_path: Path, rows_too: bool) -> None:
    """Some writers leave out r="D6" (it is optional): a cell follows the one before it."""
    valid = write_valid(tmp_path / "v.xlsx", SHUYANG)
    tag = rb"<(?:c|row)\b[^>]*>" if rows_too else rb"<c\b[^>]*>"
    with _Book(valid) as book:
        part = book.parts[T3]
    out = tmp_path / "no-r.xlsx"
    with zipfile.ZipFile(valid) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                data, n = re.subn(tag, lambda m: re.sub(rb' r="[A-Z]*\d+"', b"", m.group(0)), data)
                assert n > 200 and re.search(tag.replace(rb"[^>]*>", rb'[^>]* r="'), data) is None
            zout.writestr(item, data)
    assert_same_as_openpyxl(out)
    assert check([out])[0].findings == []
    assert read(out).values == read(valid).values


FORM_CELLS = [(s.name, c.address) for s in LAYOUT.sheets if s.name not in OPTIONAL_SHEETS for c in s.cells]
# Not _x000D_-style text: OOXML reads _xHHHH_ in a string as an escaped character, as Excel and
# calamine do; openpyxl writes and reads it verbatim, so the two references disagree on purpose.
text_like = st.one_of(
    junk.filter(lambda v: not (isinstance(v, str) and re.search(r"_x[0-9A-Fa-f]{4}_", v))),
    st.sampled_from(["<&>\"'", "a\nb", "  前后空格  ", "=SUM(D6:I6)", "=D6<>0", "'3", "1E3", "-0"]),
)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.dictionaries(st.sampled_from(FORM_CELLS), text_like, min_size=1, max_size=6))
def test_any_junk_reads_as_openpyxl_reads_it(
    package: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory, cells: dict[tuple[str, str], Any]
) -> None:
    folder = tmp_path_factory.mktemp("junk")
    base = folder / "base.xlsx"
    with zipfile.ZipFile(base, "w") as zf:
        for name, data in package.items():
            zf.writestr(name, data)
    assert_same_as_openpyxl(fill(base, folder / "j.xlsx", {}, cells))


# ---------------------------------------------------------------- formula cells found quickly

SHEET = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>%s</sheetData></worksheet>'
FORMULA_SHEETS = [
    b'<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f>SUM(A1:A1)</f><v>1</v></c></row>',
    b'<row r="2"><c r="C2"><f t="shared" ref="C2:C4" si="0">A2+1</f><v>2</v></c></row>'
    b'<row r="3"><c r="C3"><f t="shared" si="0"/><v>3</v></c></row><row r="4"><c r="C4"><f t="shared" si="0"/></c></row>',
    b'<row r="1"><c r="A1" t="str"><f>"a"&amp;"b"</f><v>ab</v></c><c r="B1" s="2"><f>IF(A1&gt;0,1,2)</f><v>1</v></c></row>',
    b'<row r="1"><c r="A1" t="e"><v>#N/A</v></c><c r="B1"><f>A1</f><v>#N/A</v></c></row>',  # an error cell
    b'<row r="1"><c r="A1"><f>1+1</f><v>2</v></c><c><f>A1</f><v>2</v></c></row>',  # a cell without r
    b'<row><c r="A1"><f>1</f></c></row><row><c><f>2</f></c></row>',  # rows without r
    b'<row r="1"><x:c xmlns:x="urn:x" r="A1"><x:f>1</x:f><x:v>1</x:v></x:c></row>',  # prefixed
    b'<row r="1"><c r="A1"><v>1</v><f>1</f></c><c r="B1"><is><t>f</t></is></c></row>',  # <f> after <v>
    b'<row r="1"><c r="A1"><f></f><v>0</v></c><c r="B1"><f/></c></row>',  # empty formulas
    b'<row r="1"><c r="A1"><f>1</f><v></v></c><c\nr="B1"><f>2</f><v>2</v></c></row>',  # r after a newline
]


@pytest.mark.parametrize("cells", FORMULA_SHEETS)
def test_formula_cells_found_quickly_as_by_looking_at_every_cell(cells: bytes) -> None:
    xml = SHEET % cells
    assert _scan(xml) == _scan(xml, every=True)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_sheet_has_its_formulas_found_quickly(path: Path) -> None:
    """The samples are written as Office writes (so the quick search is the one used) and it
    finds what looking at every cell finds."""
    with zipfile.ZipFile(path) as zf:
        sheets = [zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets
    for xml in sheets:
        assert _formulas(xml) is not None
        assert _scan(xml) == _scan(xml, every=True)


@pytest.mark.parametrize(
    "path", [*SAMPLES, *sorted((ROOT / "tests" / "fixtures").glob("*.xlsx"))], ids=lambda p: p.name
)
def test_the_scan_hands_the_reader_the_sheets_it_would_find_itself(path: Path) -> None:
    """The reader takes the sheets' parts and their XML from the scan: the same as reading
    xl/workbook.xml and its relationships again, and the same bytes as the zip's."""
    found = preflight(path)
    with _Book(path) as book, zipfile.ZipFile(path) as zf:
        assert found.sheets == book.parts
        assert list(found.sheets) == book.sheetnames
        assert set(found.xml) == set(book.parts.values())
        assert all(found.xml[part] == zf.read(part) for part in found.xml)


def test_sheets_named_twice_or_pointing_nowhere_are_found_as_the_reader_finds_them(tmp_path: Path) -> None:
    good = write_valid(tmp_path / "good.xlsx", SHUYANG)
    with zipfile.ZipFile(good) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    book = parts["xl/workbook.xml"]
    first = re.search(rb"<sheet [^>]*/>", book)
    assert first is not None
    twice = first.group(0).replace(b'sheetId="', b'sheetId="9')
    parts["xl/workbook.xml"] = book.replace(
        b"</sheets>", twice + b'<sheet name="nowhere" sheetId="77" r:id="rId77"/></sheets>'
    )
    with zipfile.ZipFile(tmp_path / "odd.xlsx", "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    found = preflight(tmp_path / "odd.xlsx")  # calamine refuses the sheet pointing nowhere: ask the XML alone
    plain = _Book.__new__(_Book)
    with zipfile.ZipFile(tmp_path / "odd.xlsx") as plain.zip:
        assert found.sheets == plain._sheet_parts()
    assert found.sheets["nowhere"] == ""
    assert list(found.sheets).count(first.group(0).split(b'"')[1].decode()) == 1


def test_past_the_kept_size_the_reader_inflates_the_sheets_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan keeps at most package.KEPT bytes of sheet XML (a hostile summary cannot make it
    hold gigabytes); the reader reads the rest from the zip, with the same result."""
    path = ROOT / "samples" / "车排子镇2023年报.xlsx"
    whole = read(path)
    monkeypatch.setattr(scanning, "KEPT", 20_000)
    found = preflight(path)
    assert 0 < sum(map(len, found.xml.values())) <= 20_000 and set(found.xml) < set(found.sheets.values())
    part = read(path)
    assert (part.values, part.findings, part.reported) == (whole.values, whole.findings, whole.reported)
