"""`xltool check`: one negative test per finding kind (exact rule, cell, message), round trips."""

from __future__ import annotations

import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from xltool.checks.check import check
from xltool.cli import app
from xltool.submission import Finding
from xltool.workbook.reader import read

from .helpers import fill, libreoffice_resave
from .sample_data import CHEPAIZI, SHUYANG, write_valid

runner = CliRunner()
T2 = "二、主动公开政府信息情况"
T3 = "三、收到和处理政府信息公开申请情况"
T4 = "四、政府信息公开行政复议、行政诉讼情况"


@pytest.fixture()
def valid(tmp_path: Path) -> Path:
    return write_valid(tmp_path / "valid.xlsx", SHUYANG)


def findings_of(path: Path, previous: Path | None = None) -> list[Finding]:
    return check([path], previous)[0].findings


def only(path: Path, previous: Path | None = None) -> Finding:
    found = findings_of(path, previous)
    assert len(found) == 1, found
    return found[0]


def variant(tmp_path: Path, base: dict[str, Any], values: dict[str, Any], raw: Any = None, name: str = "v") -> Path:
    clean = write_valid(tmp_path / f"{name}-clean.xlsx", base)
    return fill(clean, tmp_path / f"{name}.xlsx", values, raw)


def test_valid_samples_are_clean(valid: Path) -> None:
    assert findings_of(valid) == []


def test_round_trip_values_equal_what_was_filled(tmp_path: Path) -> None:
    values = dict(SHUYANG) | {"t2.fees.amount": Decimal("190.457379"), "t3.carry_in.legal": 2, "t3.carry_out.legal": 2}
    path = variant(tmp_path, SHUYANG, values)
    sub = read(path)
    for key, value in values.items():
        assert sub.values[key] == value, key
    assert findings_of(path) == []


# ---------------------------------------------------------------- cell findings


@pytest.mark.parametrize(
    ("key", "raw", "rule", "cell", "message"),
    [
        (
            "t3.carry_in.natural",
            None,
            "C-BLANK",
            "D7",
            "二、上年结转政府信息公开申请数量／自然人为空。请填写，无数据填 0。",
        ),
        (
            "t3.new.natural",
            "减4",
            "C-TEXT",
            "D6",
            "一、本年新收政府信息公开申请数量／自然人填的是“减4”，不是数字。请只填阿拉伯数字（如 3），不要带单位或文字，无数据填 0。",
        ),
        (
            "t3.new.business",
            "3件",
            "C-TEXT",
            "E6",
            "一、本年新收政府信息公开申请数量／商业企业填的是“3件”，不是数字。请只填阿拉伯数字（如 3），不要带单位或文字，无数据填 0。",
        ),
        (
            "t4.cases.review_upheld",
            "/",
            "C-TEXT",
            "A6",
            "行政复议·结果维持填的是“/”，不是数字。请只填阿拉伯数字（如 3），不要带单位或文字，无数据填 0。",
        ),
        (
            "t2.license.decisions",
            "无",
            "C-TEXT",
            "B9",
            "行政许可／本年处理决定数量填的是“无”，不是数字。请只填阿拉伯数字（如 3），不要带单位或文字，无数据填 0。",
        ),
        ("t2.coercion.decisions", -1, "C-NEGATIVE", "B13", "行政强制／本年处理决定数量为负数 -1。请填写 0 或正数。"),
        ("t2.penalty.decisions", 2.5, "C-FRACTION", "B12", "行政处罚／本年处理决定数量为 2.5，件数必须是整数。"),
        (
            "t2.fees.amount",
            Decimal("1.1234567"),
            "C-DECIMALS",
            "B16",
            "行政事业性收费／本年收费金额（单位：万元）为 1.1234567，最多保留 6 位小数。",
        ),
        (
            "unit.unit_type",
            "镇政府",
            "C-CHOICE",
            "B5",
            "单位类型填的是“镇政府”，不在可选范围内。请从下拉列表中选择：乡镇人民政府、街道办事处、县级人民政府部门、县级人民政府、市级人民政府部门、市级人民政府、省级人民政府部门、省级人民政府、其他。",
        ),
    ],
)
def test_cell_findings(tmp_path: Path, key: str, raw: Any, rule: str, cell: str, message: str) -> None:
    found = only(variant(tmp_path, CHEPAIZI, {key: raw}))
    assert (found.rule, found.cell, found.message, found.severity) == (rule, cell, message, "error")


def test_text_number_is_read_as_number(tmp_path: Path) -> None:
    """A number typed as text ('3 or full-width ３) is still the number; nothing to report."""
    path = variant(tmp_path, CHEPAIZI, {"t2.penalty.decisions": "３", "t2.coercion.decisions": " 4 "})
    assert findings_of(path) == []
    assert read(path).values["t2.penalty.decisions"] == 3


def test_formula_replaced_by_equal_constant(tmp_path: Path) -> None:
    found = only(variant(tmp_path, SHUYANG, {}, {(T3, "J6"): 26}))
    assert (found.rule, found.sheet, found.cell) == ("F-FORMULA", T3, "J6")
    assert (
        found.message
        == "一、本年新收政府信息公开申请数量／总计的合计公式被改成了“26”。请恢复公式 =SUM(D6:I6)（或重新使用空白模板填写）。"
    )


def test_formula_altered(tmp_path: Path) -> None:
    found = only(variant(tmp_path, SHUYANG, {}, {(T4, "E6"): "=SUM(A6:C6)"}))
    assert (found.rule, found.cell, found.value, found.expected) == ("F-FORMULA", "E6", "=SUM(A6:C6)", "=SUM(A6:D6)")


def test_formula_deleted(tmp_path: Path) -> None:
    found = only(variant(tmp_path, CHEPAIZI, {}, {(T3, "D29"): None}))
    assert (found.rule, found.cell, found.message) == (
        "F-FORMULA",
        "D29",
        "（七）总计／自然人的合计公式被改成了“”。请恢复公式 =SUM(D8:D28)（或重新使用空白模板填写）。",
    )


def test_stale_cached_total(tmp_path: Path, valid: Path) -> None:
    """A cached value (as Excel/WPS write them) that differs from the recomputed total."""
    out = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(valid) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet5.xml":
                data, n = re.subn(rb'(<c r="J6"[^>]*><f>SUM\(D6:I6\)</f><v>)26(</v>)', rb"\g<1>25\g<2>", data)
                assert n == 1
            dst.writestr(item, data)
    found = only(out)
    assert (found.rule, found.cell, found.value, found.expected) == ("F-CACHE", "J6", 25, 26)
    assert (
        found.message
        == "一、本年新收政府信息公开申请数量／总计显示的合计为 25，按所填数字重新计算应为 26。请在表格软件中重新计算（F9）后保存。"
    )


def test_label_changed(tmp_path: Path) -> None:
    found = only(variant(tmp_path, CHEPAIZI, {}, {(T2, "A6"): "规范性文件"}))
    assert (found.rule, found.sheet, found.cell) == ("L-LABEL", T2, "A6")
    assert found.message == "A6应为“行政规范性文件”，实际为“规范性文件”。表格结构被改动，请使用原模板重新填写。"


def test_label_with_half_width_brackets_is_the_same_label(tmp_path: Path) -> None:
    path = variant(tmp_path, CHEPAIZI, {}, {(T3, "B8"): "(一) 予以公开"})
    assert findings_of(path) == []


# ---------------------------------------------------------------- rules of the form


def test_t3_1_per_column(tmp_path: Path) -> None:
    found = findings_of(
        variant(tmp_path, SHUYANG, {"t3.carry_out.natural": 1, "t3.new.natural": 34, "t3.disclosed.natural": 32})
    )
    assert [(f.rule, f.cell, f.value, f.expected) for f in found] == [
        ("T3-1", "D30", 34, 33),
        ("T3-1", "J30", 34, 33),
        ("N-FIGURE", "A6", 26, 34),  # the text still says 收到申请 26 件
    ]
    assert found[0].message == "自然人列：一+二=34，三（七）+四=33，相差 1。请核对本列的新收、结转和办理结果数字。"


def test_t3_1_total_column_reported_once(tmp_path: Path) -> None:
    found = findings_of(variant(tmp_path, SHUYANG, {"t3.carry_out.business": 1}))
    assert [(f.rule, f.cell) for f in found] == [("T3-1", "E30"), ("T3-1", "J30")]
    assert found[1].message == "总计列：一+二=26，三（七）+四=27，相差 1。请核对本列的新收、结转和办理结果数字。"


def test_t3_2_typed_total(tmp_path: Path) -> None:
    found = only(variant(tmp_path, SHUYANG, {}, {(T3, "J8"): 27}))
    assert (found.rule, found.cell, found.value, found.expected) == ("T3-2", "J8", 27, 26)
    assert found.message == "（一）予以公开：总计填报为 27，按各类申请人相加应为 26。请恢复总计公式或改正数字。"


def test_t3_3_typed_outcome_total(tmp_path: Path) -> None:
    found = only(variant(tmp_path, SHUYANG, {}, {(T3, "D29"): 25}))
    assert (found.rule, found.cell) == ("T3-3", "D29")
    assert found.message == "自然人列：（七）总计填报为 25，按各项办理结果相加应为 26。请恢复总计公式或改正数字。"


def test_t4_1_typed_total(tmp_path: Path) -> None:
    found = only(variant(tmp_path, SHUYANG, {}, {(T4, "E6"): 2}))
    assert (found.rule, found.cell) == ("T4-1", "E6")
    assert found.message == "行政复议：总计填报为 2，四项结果相加应为 1。请恢复总计公式或改正数字。"


def test_required_and_recommended_unit_fields(tmp_path: Path) -> None:
    found = findings_of(variant(tmp_path, CHEPAIZI, {"unit.unit_name": None, "unit.phone": None}))
    assert [(f.rule, f.severity, f.cell, f.message) for f in found] == [
        ("M-REQUIRED", "error", "B3", "单位信息“单位名称”未填写。"),
        ("M-RECOMMENDED", "warning", "B9", "单位信息“联系电话”未填写，建议补充。"),
    ]


def test_year_before_the_form(tmp_path: Path) -> None:
    found = only(variant(tmp_path, CHEPAIZI, {"unit.report_year": 2020}))
    assert (found.rule, found.cell) == ("M-YEAR", "B4")
    assert found.message == "报告年度为 2020，但本表式（国办公开办函〔2021〕30号）适用于 2021 年及以后的年度报告。"


def test_year_as_text(tmp_path: Path) -> None:
    found = only(variant(tmp_path, CHEPAIZI, {"unit.report_year": "2023年"}))
    assert (found.rule, found.cell) == ("C-TEXT", "B4")


def test_empty_section_and_part(tmp_path: Path) -> None:
    found = findings_of(variant(tmp_path, CHEPAIZI, {"s5.problems": None, "s5.improvements": "", "s1.oversight": None}))
    assert [(f.rule, f.severity, f.sheet, f.cell, f.message) for f in found] == [
        (
            "N-SECTION",
            "error",
            "五、存在的主要问题及改进情况",
            "A4",
            "“五、存在的主要问题及改进情况”全部未填写。这是年度报告的法定内容，不能遗漏。",
        ),
        ("N-PART", "warning", "一、总体情况", "A12", "“一、总体情况”中“（五）监督保障”未填写。"),
    ]


def test_town_reporting_rules(tmp_path: Path) -> None:
    found = only(variant(tmp_path, CHEPAIZI, {"t2.rules.in_force": 2}))
    assert (found.rule, found.severity, found.cell) == ("P-TOWN-RULES", "warning", "D5")
    assert (
        found.message
        == "单位类型为乡镇人民政府，但规章填报了数字（2）。乡镇、街道不能制定规章，请核对是否应填在“行政规范性文件”行。"
    )


def test_fee_in_yuan_instead_of_wan(tmp_path: Path) -> None:
    found = only(variant(tmp_path, CHEPAIZI, {"t2.fees.amount": 25000}))
    assert (found.rule, found.severity, found.cell) == ("P-FEE-UNIT", "warning", "B16")
    assert (
        found.message == "本年收费金额为 25000 万元，数额异常大，可能把“元”当成了“万元”。请核对（1 万元 = 10000 元）。"
    )


def test_zero_tables_but_narrative_mentions_applications(tmp_path: Path) -> None:
    found = only(variant(tmp_path, CHEPAIZI, {"s1.on_request": "全年共收到政府信息公开申请3件，均已按期答复。"}))
    assert (found.rule, found.severity, found.cell) == ("P-ZERO-TABLES", "warning", "A6")
    assert found.message == "文字部分提到了“收到政府信息公开申请3件”，但第三部分表格全部为 0。请核对表格或文字。"


# ---------------------------------------------------------------- cross-year


def test_carry_over_from_last_year(tmp_path: Path) -> None:
    last = variant(
        tmp_path, {**SHUYANG, "unit.report_year": 2023}, {"t3.carry_out.natural": 2, "t3.new.natural": 28}, name="last"
    )
    this = variant(tmp_path, {**SHUYANG, "unit.report_year": 2024}, {"t2.normative.in_force": 26}, name="this")
    found = findings_of(this, last)
    assert [(f.rule, f.cell, f.value, f.expected) for f in found] == [("CY-1", "D7", 0, 2), ("CY-1", "J7", 0, 2)]
    assert found[0].message == "自然人列：上年结转填报为 0，上年度报告“结转下年度继续办理”为 2。两者应相等。"
    assert findings_of(this) == []  # without --previous no cross-year rule runs


def test_running_total_and_copy_paste(tmp_path: Path) -> None:
    last = variant(tmp_path, {**SHUYANG, "unit.report_year": 2023}, {}, name="last")
    same = variant(tmp_path, {**SHUYANG, "unit.report_year": 2024}, {}, name="same")
    found = findings_of(same, last)
    assert [(f.rule, f.cell) for f in found] == [("CY-2", "D6"), ("CY-5", None)]
    assert found[0].message == "行政规范性文件：现行有效件数为 18，按上年 18 件 + 本年制发 − 本年废止应为 26。请核对。"
    assert found[1].message == "第二、三、四部分表格的全部数字与上年度报告完全相同，请核对是否照抄了上年数据。"


def test_template_previous_prefills_and_locks_carry_over(tmp_path: Path) -> None:
    last = variant(
        tmp_path, {**SHUYANG, "unit.report_year": 2023}, {"t3.carry_out.natural": 2, "t3.new.natural": 28}, name="last"
    )
    out = tmp_path / "2024.xlsx"
    result = runner.invoke(app, ["template", "--previous", str(last), "-o", str(out)])
    assert result.exit_code == 0, result.output
    sub = read(out)
    assert sub.values["unit.report_year"] == 2024 and sub.unit_name == "沭阳县发展和改革局"
    assert sub.values["t3.carry_in.natural"] == 2
    ws = openpyxl.load_workbook(out)[T3]
    assert ws["D7"].value == 2 and ws["D7"].protection.locked and not ws["D6"].protection.locked
    result = runner.invoke(app, ["template", "--previous", str(last), "--year", "2026", "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2
    assert result.stderr == f"错误：{last} 是 2023 年度的报告，不是 2026 年的上一年度。\n"


# ---------------------------------------------------------------- engines


def test_libreoffice_saved_workbook_checks_the_same(tmp_path: Path, soffice: str) -> None:
    path = variant(tmp_path, SHUYANG, {"t3.carry_out.natural": 1, "t2.fees.amount": "2万"}, {(T4, "E6"): 5})
    saved = libreoffice_resave(soffice, path, tmp_path / "lo")
    ours = [f.to_json() for f in findings_of(path)]
    theirs = [f.to_json() for f in findings_of(saved)]
    assert ours == theirs
    assert [f["rule"] for f in ours] == ["C-TEXT", "T3-1", "T3-1", "T4-1"]
