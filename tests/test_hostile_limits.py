"""The limits of xltool/workbook/package.py: derived from what our workbooks hold, and large enough
for a province's summary; and the small pieces of the scan (cell references, formulas that reach
outside, the budget of a summary).
"""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xltool.cli import app
from xltool.errors import InputFileError
from xltool.form import spec as specs
from xltool.summary.merge import carry_header, detail_header
from xltool.workbook import files, package
from xltool.workbook.package import EXCEL_ROWS, MAX_UNITS, PER_UNIT, UNIT, Budget, Usage, _external, cell_ref
from xltool.workbook.reader import read

from .county_data import values_of
from .hostile import HOSTILE, SCRATCH, Parts
from .sample_data import SHUYANG, write_valid


def usage(path: Path) -> Usage:
    with zipfile.ZipFile(path) as zf:
        return package.scan(path, zf)


@pytest.mark.parametrize("version", specs.SPEC_FILES)
def test_the_allowance_per_unit_holds_what_merge_writes_for_a_unit(version: str) -> None:
    """A summary writes per unit one row of 单位明细 (three more columns with --previous), one of
    各单位结转, and one row of 4 cells per text part in 各单位文字: the allowance is twice that."""
    spec = specs.load(version)
    parts = sum(len(section.parts) for section in spec.sections)
    cells = len(detail_header(spec)) + 3 + len(carry_header(spec)) + 4 * parts
    rows = 2 + parts
    assert 2 * cells <= PER_UNIT.cells
    assert 2 * rows <= PER_UNIT.rows
    assert 2 * (parts + 6) <= PER_UNIT.strings  # its texts, name, type, file, status, verdicts
    assert MAX_UNITS * parts + 1 <= EXCEL_ROWS  # 各单位文字 of the largest summary fits one sheet


@pytest.mark.slow
def test_a_real_summary_uses_under_half_its_allowance_per_unit(tmp_path: Path) -> None:
    """Two merges that differ by 20 units with ~3,000 characters of text each (a long unit report):
    what each unit adds, measured, against :data:`PER_UNIT`."""
    text = "本机关认真贯彻落实政府信息公开条例，" * 19  # 9 parts of ~340 characters
    small, big = tmp_path / "small", tmp_path / "big"
    for i in range(22):
        values = values_of(i % 13, f"测试单位{i:03d}", "县级人民政府部门", {})
        values |= {
            k: f"{i}{k}{text}" for k, v in values.items() if k.startswith(("s1.", "s5.", "s6.")) and isinstance(v, str)
        }
        for folder in (big, small) if i < 2 else (big,):
            folder.mkdir(exist_ok=True)
            write_valid(folder / f"{i}.xlsx", values)
    runner = CliRunner()
    for folder in (small, big):
        result = runner.invoke(app, ["merge", str(folder), "-o", str(tmp_path / f"{folder.name}.xlsx"), "--jobs", "1"])
        assert result.exit_code == 0, result.stdout
    one, many = usage(tmp_path / "small.xlsx"), usage(tmp_path / "big.xlsx")
    assert (one.units, many.units) == (2, 22)
    per = {f.name: (getattr(many, f.name) - getattr(one, f.name)) / 20 for f in dataclasses.fields(Usage)}
    for field in ("elements", "cells", "rows", "strings"):
        assert per[field] <= getattr(PER_UNIT, field) / 2, (field, per[field])
    assert per["string_bytes"] <= PER_UNIT.string_bytes  # text: the long report's 9 KB within 16 KB
    assert per["unpacked"] <= PER_UNIT.unpacked
    assert read(tmp_path / "big.xlsx").summary_units == 22


def test_a_summary_may_hold_what_one_unit_may_not(tmp_path: Path) -> None:
    """The budget follows the summary claim: a summary of 13 units filled to its limit of shared
    strings is read; the same strings in one unit's workbook are refused."""
    summary = Path(__file__).resolve().parent.parent / "samples" / "county" / "青禾县2022年汇总.xlsx"
    good = write_valid(tmp_path / "good.xlsx", SHUYANG)
    extra = Budget.workbook(13).strings - usage(summary).strings
    assert usage(good).strings + extra > UNIT.strings
    more = b"".join(b"<si><t>%d</t></si>" % i for i in range(extra))
    for path in (summary, good):
        parts = Parts(path)
        parts.change("xl/sharedStrings.xml", lambda d: d.replace(b"</sst>", more + b"</sst>"))
        parts.write(tmp_path / f"more-{path.name}")
    assert usage(tmp_path / f"more-{summary.name}").strings == Budget.workbook(13).strings
    with pytest.raises(InputFileError) as caught:
        usage(tmp_path / "more-good.xlsx")
    assert caught.value.reason == "文件中的文字条目（共享字符串）超过 20,000 个，超出了年报工作簿能有的数量，" + HOSTILE


def test_budget_of_a_summary() -> None:
    assert Budget.workbook(0) is UNIT and Budget.workbook(-5) is UNIT
    thirteen = Budget.workbook(13)
    assert thirteen.what == "汇总工作簿（13 个单位）"
    assert thirteen.cells == UNIT.cells + 13 * PER_UNIT.cells
    assert Budget.workbook(10**9) == dataclasses.replace(
        Budget.workbook(MAX_UNITS), what="汇总工作簿（100,000 个单位）"
    )


@pytest.mark.parametrize(
    ("ref", "place"),
    [
        ("A1", (1, 1)),
        ("J30", (30, 10)),
        ("XFD1048576", (1_048_576, 16_384)),
        ("XFE1", None),
        ("A1048577", None),
        ("AAAAAAAAA5", None),
        ("a1", None),
        ("A01", None),
        ("$A$1", None),
        ("A", None),
        ("1", None),
        ("", None),
    ],
)
def test_cell_references_inside_excels_grid(ref: str, place: tuple[int, int] | None) -> None:
    assert cell_ref(ref) == place


@pytest.mark.parametrize(
    ("formula", "outside"),
    [
        ("SUM(D6:I6)", False),
        ("[1]Sheet1!A1", True),
        ("SUM([2]表三!D6:D9)", True),
        ("'C:\\data\\[other.xlsx]Sheet1'!A1", True),
        ("'https://example.org/[a.xlsx]S'!A1+1", True),
        ("cmd|'/c calc'!A0", True),
        ('"[1]说明"&A1', False),  # a text constant
        ('IF(A1="a|b",1,0)', False),
        ("'a|b'!A1", False),  # a quoted sheet name
        ("单位信息!B3", False),
    ],
)
def test_formulas_that_reach_outside(formula: str, outside: bool) -> None:
    assert _external(formula) is outside


def test_what_a_clerk_may_add_is_still_read(tmp_path: Path) -> None:
    """Notes beside the table, a scratch sheet with a table of its own, a hidden sheet, an image:
    none of it is refused."""
    good = write_valid(tmp_path / "good.xlsx", SHUYANG)
    parts = Parts(good)
    note = '<row r="400"><c r="AX400" t="inlineStr"><is><t>备注</t></is></c></row>'.encode()
    parts.unit_sheet(lambda d: d.replace(b"</sheetData>", note + b"</sheetData>"))
    rows = b"".join(
        b'<row r="%d"><c r="A%d"><v>%d</v></c><c r="T%d"><v>1</v></c></row>' % (r, r, r, r) for r in range(1, 2001)
    )
    parts.add_sheet(SCRATCH, rows)
    parts.change(
        "xl/workbook.xml",
        lambda d: d.replace(f'<sheet name="{SCRATCH}"'.encode(), f'<sheet name="{SCRATCH}" state="hidden"'.encode()),
    )
    parts.add("xl/media/image1.png", bytes(range(256)) * 4096)
    path = parts.write(tmp_path / "clerk.xlsx")
    assert read(path).values == read(good).values
    assert usage(path).area == 2000 * 20


@pytest.mark.parametrize(("levels", "refused"), [(200, False), (300, True)])
def test_a_word_document_may_nest_deeper_than_a_workbook(tmp_path: Path, levels: int, refused: bool) -> None:
    """Word nests tables in tables and text boxes: a .docx may reach 256 levels (as deep as lxml,
    under python-docx, reads), a workbook 64."""
    path = tmp_path / "报告.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document>" + "<w:tbl>" * levels + "</w:tbl>" * levels + "</w:document>")
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    if not refused:
        files.inspect_package(path, infos)
        return
    with pytest.raises(InputFileError) as caught:
        files.inspect_package(path, infos)
    assert caught.value.reason == "文件中的 XML 嵌套超过 256 层，" + HOSTILE
