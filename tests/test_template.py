from __future__ import annotations

import filecmp
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from xltool.cli import app
from xltool.form import spec as specs
from xltool.form.layout import CHECK_SHEET, FAIL, PASS, a1, for_spec
from xltool.submission import computed
from xltool.workbook import template

from .conftest import ROOT, golden
from .helpers import fill, libreoffice_pdf, libreoffice_resave, make_template
from .manifest import manifest

COMMITTED = ROOT / "workbook_templates" / "gov_disclosure_2021.xlsx"
runner = CliRunner()


def test_golden_manifest(tmp_path: Path) -> None:
    path = make_template(tmp_path / "t.xlsx")
    golden("template_2021.manifest.txt", manifest(path))


def test_committed_template_matches_a_fresh_one(tmp_path: Path) -> None:
    fresh = make_template(tmp_path / "t.xlsx")
    assert COMMITTED.exists()
    assert manifest(COMMITTED) == manifest(fresh), (
        "regenerate: python -m xltool template -o workbook_templates/… --force"
    )


def test_same_inputs_give_identical_bytes(tmp_path: Path) -> None:
    a = make_template(tmp_path / "a.xlsx", unit__unit_name="甲镇人民政府", unit__report_year=2024)
    b = make_template(tmp_path / "b.xlsx", unit__unit_name="甲镇人民政府", unit__report_year=2024)
    assert filecmp.cmp(a, b, shallow=False)


def test_only_inputs_are_unlocked_and_every_sheet_protected(tmp_path: Path) -> None:
    spec = specs.load()
    layout = for_spec(spec)
    wb = openpyxl.load_workbook(make_template(tmp_path / "t.xlsx"))
    expected = {
        (s.name, a1(r, col))
        for s, c in layout.keyed("input")
        for r in range(c.row, (c.last_row if c.merged else c.row) + 1)
        for col in range(c.col, (c.last_col if c.last_col is not None else c.col) + 1)
    }
    unlocked = {
        (ws.title, cell.coordinate)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if not cell.protection.locked
    }
    assert unlocked == expected
    inputs = [c for s, c in layout.keyed("input") if s.name.startswith(("二", "三", "四"))]
    assert len(inputs) == 10 + 144 + 12
    assert all(ws.protection.sheet for ws in wb.worksheets)
    numeric = [c for _, c in layout.keyed("input") if c.vtype in ("count", "wan_yuan")]
    sheets = {s.name: s for s in layout.sheets}
    for sheet_name, cell_address in [(s.name, c.address) for s, c in layout.keyed("input") if c in numeric][:5]:
        assert wb[sheet_name][cell_address].value == 0
    assert sheets[CHECK_SHEET]


def test_every_numeric_input_has_validation(tmp_path: Path) -> None:
    layout = for_spec(specs.load())
    wb = openpyxl.load_workbook(make_template(tmp_path / "t.xlsx"))
    for sheet, cell in layout.keyed("input"):
        if cell.vtype not in ("count", "wan_yuan", "yuan", "year"):
            continue
        ws = wb[sheet.name]
        found = [dv for dv in ws.data_validations.dataValidation if cell.address in dv.sqref]
        assert len(found) == 1, (sheet.name, cell.address)
        dv = found[0]
        assert dv.type == {"count": "whole", "year": "whole"}.get(cell.vtype, "decimal")
        assert dv.error and dv.prompt


def test_template_cli_bad_year_exits_2_with_chinese_message(tmp_path: Path) -> None:
    result = runner.invoke(app, ["template", "-o", str(tmp_path / "x.xlsx"), "--year", "2020"])
    assert result.exit_code == 2
    assert result.stderr == (
        "错误：报告年度 2020 不适用本表式：国办公开办函〔2021〕30号表式适用于 2021 年及以后的年度报告；"
        "2020 年度报告应使用 2019 年表式（国办公开办函〔2019〕60号），xltool 暂不支持。\n"
    )
    assert not (tmp_path / "x.xlsx").exists()


def test_template_cli_unwritable_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(app, ["template", "-o", str(blocker / "x.xlsx")])
    assert result.exit_code == 2
    assert result.stderr == f"错误：无法写入 {blocker / 'x.xlsx'}：输出文件夹 {blocker} 不是文件夹。\n"
    assert "Traceback" not in result.output


def test_template_cli_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    out.write_bytes(b"filled by a clerk")
    result = runner.invoke(app, ["template", "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr == f"错误：{out} 已存在。为免覆盖已填写的内容，请换一个文件名，或加 --force 覆盖。\n"
    assert out.read_bytes() == b"filled by a clerk"


def test_template_cli_prefills_unit_and_year(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["template", "-o", str(tmp_path / "t.xlsx"), "--year", "2024", "--unit", "甲镇人民政府"]
    )
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    ws = wb["单位信息"]
    assert (ws["A3"].value, ws["B3"].value, ws["A4"].value, ws["B4"].value) == (
        "单位名称",
        "甲镇人民政府",
        "报告年度",
        2024,
    )
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props["xltool.report_year"] == "2024" and props["xltool.unit"] == "甲镇人民政府"
    assert props["xltool.form_version"] == "2021" and props["xltool.template_id"] == "xltool/gov-disclosure/2021"


def _some_values() -> dict[str, int | Decimal]:
    spec = specs.load()
    values: dict[str, int | Decimal] = {}
    for i, cell in enumerate(spec.inputs()):
        values[cell.key] = Decimal("12.345678") if cell.type == "wan_yuan" else (i * 7) % 11
    return values


def test_libreoffice_recalculates_the_same_totals(tmp_path: Path, soffice: str) -> None:
    spec = specs.load()
    layout = for_spec(spec)
    values = _some_values()
    filled = fill(make_template(tmp_path / "t.xlsx"), tmp_path / "filled.xlsx", dict(values))
    saved = libreoffice_resave(soffice, filled, tmp_path / "lo")
    wb = openpyxl.load_workbook(saved, data_only=True)
    expected = computed(spec, dict(values))
    for sheet, cell in layout.keyed("total"):
        assert wb[sheet.name][cell.address].value == expected[cell.key], (sheet.name, cell.address)
    results = [wb[CHECK_SHEET][c.address].value for _, c in layout.keyed("check")]
    new_natural = values["t3.new.natural"]
    # the filled numbers do not balance 一+二 = 三（七）+四, so some T3-1 checks must show ✗
    assert set(results) <= {PASS, FAIL} and FAIL in results and new_natural >= 0
    # protection, unlocked cells and validation survive a LibreOffice save
    before, after = openpyxl.load_workbook(filled), openpyxl.load_workbook(saved)
    for ws in before.worksheets:
        ws2 = after[ws.title]
        assert ws2.protection.sheet
        unlocked = {c.coordinate for r in ws.iter_rows() for c in r if not c.protection.locked}
        unlocked2 = {c.coordinate for r in ws2.iter_rows() for c in r if not c.protection.locked}
        assert unlocked2 == unlocked, ws.title
        assert len(ws2.data_validations.dataValidation) >= 1 if unlocked else True
        assert sorted(str(dv.sqref) for dv in ws2.data_validations.dataValidation if dv.type) == sorted(
            str(dv.sqref) for dv in ws.data_validations.dataValidation if dv.type
        ), ws.title
    props = {p.name: p.value for p in after.custom_doc_props.props}
    assert props["xltool.form_version"] == "2021"


def test_balanced_figures_show_all_checks_passing_in_libreoffice(tmp_path: Path, soffice: str) -> None:
    layout = for_spec(specs.load())
    values = {"t3.new.natural": 5, "t3.carry_in.natural": 1, "t3.disclosed.natural": 4, "t3.carry_out.natural": 2}
    filled = fill(make_template(tmp_path / "t.xlsx"), tmp_path / "ok.xlsx", values)
    wb = openpyxl.load_workbook(libreoffice_resave(soffice, filled, tmp_path / "lo"), data_only=True)
    assert {wb[CHECK_SHEET][c.address].value for _, c in layout.keyed("check")} == {PASS}


def test_template_prints_to_pdf(tmp_path: Path, soffice: str) -> None:
    pdf = libreoffice_pdf(soffice, make_template(tmp_path / "t.xlsx"), tmp_path / "pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True)
    if info.returncode != 0:
        pytest.skip("pdfinfo not installed")
    pages = int(next(line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages:")))
    assert 9 <= pages <= 12  # one page per sheet, the check list on two


def test_write_rejects_missing_directory(tmp_path: Path) -> None:
    from xltool.errors import UsageError

    with pytest.raises(UsageError):
        template.write(tmp_path / "no" / "t.xlsx", specs.load())
