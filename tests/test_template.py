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
from xltool.workbook.reader import read

from .conftest import ROOT, golden, missing
from .helpers import FORMS, fill, libreoffice_pdf, libreoffice_resave, make_template
from .manifest import manifest

runner = CliRunner()
# input cells of tables 二, 三, 四 (2019: 22 figures of 表二 and the unit drop-down of 采购总金额)
TABLE_INPUTS = {"2021": 10 + 144 + 12, "2019": 22 + 1 + 132 + 12}


@pytest.mark.parametrize("form", FORMS)
def test_golden_manifest(tmp_path: Path, form: str) -> None:
    path = make_template(tmp_path / "t.xlsx", form)
    golden(f"template_{form}.manifest.txt", manifest(path))


@pytest.mark.parametrize("form", FORMS)
def test_committed_template_matches_a_fresh_one(tmp_path: Path, form: str) -> None:
    fresh = make_template(tmp_path / "t.xlsx", form)
    committed = ROOT / "workbook_templates" / specs.SPEC_FILES[form].replace(".toml", ".xlsx")
    assert committed.exists()
    assert manifest(committed) == manifest(fresh), (
        f"regenerate: python -m xltool template --form {form} -o {committed.relative_to(ROOT)} --force"
    )


def test_same_inputs_give_identical_bytes(tmp_path: Path) -> None:
    a = make_template(tmp_path / "a.xlsx", unit__unit_name="甲镇人民政府", unit__report_year=2024)
    b = make_template(tmp_path / "b.xlsx", unit__unit_name="甲镇人民政府", unit__report_year=2024)
    assert filecmp.cmp(a, b, shallow=False)


@pytest.mark.parametrize("form", FORMS)
def test_only_inputs_are_unlocked_and_every_sheet_protected(tmp_path: Path, form: str) -> None:
    spec = specs.load(form)
    layout = for_spec(spec)
    wb = openpyxl.load_workbook(make_template(tmp_path / "t.xlsx", form))
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
    assert len(inputs) == TABLE_INPUTS[form]
    assert all(ws.protection.sheet for ws in wb.worksheets)
    numeric = [c for _, c in layout.keyed("input") if c.vtype in ("count", "wan_yuan")]
    sheets = {s.name: s for s in layout.sheets}
    for sheet_name, cell_address in [(s.name, c.address) for s, c in layout.keyed("input") if c in numeric][:5]:
        assert wb[sheet_name][cell_address].value == 0
    assert sheets[CHECK_SHEET]


@pytest.mark.parametrize("form", FORMS)
def test_every_numeric_input_has_validation(tmp_path: Path, form: str) -> None:
    layout = for_spec(specs.load(form))
    wb = openpyxl.load_workbook(make_template(tmp_path / "t.xlsx", form))
    for sheet, cell in layout.keyed("input"):
        if cell.vtype not in ("count", "signed_count", "wan_yuan", "yuan", "money", "year"):
            continue
        ws = wb[sheet.name]
        found = [dv for dv in ws.data_validations.dataValidation if cell.address in dv.sqref]
        assert len(found) == 1, (sheet.name, cell.address)
        dv = found[0]
        assert dv.type == {"count": "whole", "signed_count": "whole", "year": "whole"}.get(cell.vtype, "decimal")
        if cell.vtype == "signed_count":  # 本年增/减: a decrease is negative
            assert (dv.operator, int(dv.formula1)) == (None, -(10**9))  # None: "between", the default
        assert dv.error and dv.prompt


def test_template_cli_year_without_a_form_exits_2_with_chinese_message(tmp_path: Path) -> None:
    result = runner.invoke(app, ["template", "-o", str(tmp_path / "x.xlsx"), "--year", "2018"])
    assert result.exit_code == 2
    assert result.stderr == (
        "错误：报告年度 2018 没有适用的表式。xltool 支持国办公开办函〔2019〕60号表式（2019—2020 年的年度报告）、"
        "国办公开办函〔2021〕30号表式（2021 年及以后的年度报告）。\n"
    )
    assert not (tmp_path / "x.xlsx").exists()


@pytest.mark.slow
@pytest.mark.parametrize(("year", "form"), [(2019, "2019"), (2020, "2019"), (2021, "2021"), (2024, "2021")])
def test_the_form_follows_the_year(tmp_path: Path, year: int, form: str) -> None:
    result = runner.invoke(app, ["template", "-o", str(tmp_path / "t.xlsx"), "--year", str(year)])
    assert (result.exit_code, result.stderr) == (0, "已生成 1 份模板。\n")
    props = {p.name: p.value for p in openpyxl.load_workbook(tmp_path / "t.xlsx").custom_doc_props.props}
    assert props["xltool.form_version"] == form and props["xltool.template_id"] == f"xltool/gov-disclosure/{form}"
    assert props["xltool.report_year"] == str(year)


def test_form_option_overrides_the_year_with_a_warning(tmp_path: Path) -> None:
    result = runner.invoke(app, ["template", "-o", str(tmp_path / "t.xlsx"), "--year", "2022", "--form", "2019"])
    assert result.exit_code == 0
    assert result.stderr == (
        "注意：国办公开办函〔2019〕60号表式适用于 2019—2020 年的年度报告，2022 年度报告应使用国办公开办函〔2021〕30号表式。"
        "已按 --form 2019 生成国办公开办函〔2019〕60号表式的模板，用它填报的 2022 年度报告校验时会报错。\n"
        "已生成 1 份模板。\n"
    )
    props = {p.name: p.value for p in openpyxl.load_workbook(tmp_path / "t.xlsx").custom_doc_props.props}
    assert props["xltool.form_version"] == "2019"
    agreeing = runner.invoke(app, ["template", "-o", str(tmp_path / "u.xlsx"), "--year", "2020", "--form", "2019"])
    assert (agreeing.exit_code, agreeing.stderr) == (0, "已生成 1 份模板。\n")
    no_year = runner.invoke(app, ["template", "-o", str(tmp_path / "v.xlsx"), "--form", "2019"])
    assert (no_year.exit_code, no_year.stderr) == (0, "已生成 1 份模板。\n")


def test_unknown_form_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["template", "-o", str(tmp_path / "t.xlsx"), "--form", "2018"])
    assert result.exit_code == 2
    assert result.stderr == (
        "错误：没有“2018”表式。--form 可选：2019（国办公开办函〔2019〕60号，2019—2020 年）、"
        "2021（国办公开办函〔2021〕30号，2021 年及以后）。\n"
    )
    assert not (tmp_path / "t.xlsx").exists()


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


def _some_values(spec: specs.FormSpec) -> dict[str, int | Decimal | str]:
    values: dict[str, int | Decimal | str] = {}
    for i, cell in enumerate(spec.inputs()):
        if cell.type in ("wan_yuan", "money"):
            values[cell.key] = Decimal("12.345678")
        else:
            values[cell.key] = (i * 7) % 11 - (5 if cell.type == "signed_count" else 0)
    for _cell, unit_key in spec.chosen_units():
        values[unit_key] = "万元"
    return values


@pytest.mark.slow
@pytest.mark.parametrize("form", FORMS)
def test_libreoffice_recalculates_the_same_totals(tmp_path: Path, soffice: str, form: str) -> None:
    spec = specs.load(form)
    layout = for_spec(spec)
    values = _some_values(spec)
    filled = fill(make_template(tmp_path / "t.xlsx", form), tmp_path / "filled.xlsx", dict(values))
    saved = libreoffice_resave(soffice, filled, tmp_path / "lo")
    wb = openpyxl.load_workbook(saved, data_only=True)
    expected = computed(spec, dict(values))  # type: ignore[arg-type]
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
    assert props["xltool.form_version"] == form
    assert read(saved).values == read(filled).values  # negative 本年增/减 and the chosen unit survive too


@pytest.mark.slow
@pytest.mark.parametrize("form", FORMS)
def test_balanced_figures_show_all_checks_passing_in_libreoffice(tmp_path: Path, soffice: str, form: str) -> None:
    layout = for_spec(specs.load(form))
    values = {"t3.new.natural": 5, "t3.carry_in.natural": 1, "t3.disclosed.natural": 4, "t3.carry_out.natural": 2}
    filled = fill(make_template(tmp_path / "t.xlsx", form), tmp_path / "ok.xlsx", values)
    wb = openpyxl.load_workbook(libreoffice_resave(soffice, filled, tmp_path / "lo"), data_only=True)
    assert {wb[CHECK_SHEET][c.address].value for _, c in layout.keyed("check")} == {PASS}


@pytest.mark.slow
@pytest.mark.parametrize("form", FORMS)
def test_template_prints_to_pdf(tmp_path: Path, soffice: str, form: str) -> None:
    pdf = libreoffice_pdf(soffice, make_template(tmp_path / "t.xlsx", form), tmp_path / "pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True)
    if info.returncode != 0:
        missing("pdfinfo (poppler-utils)")
    pages = int(next(line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages:")))
    assert 9 <= pages <= 12  # one page per sheet, the check list on two


def test_write_rejects_missing_directory(tmp_path: Path) -> None:
    from xltool.errors import UsageError

    with pytest.raises(UsageError):
        template.write(tmp_path / "no" / "t.xlsx", specs.load())
