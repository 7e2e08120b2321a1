"""`xltool check`: one negative test per finding kind (exact rule, cell, message), round trips."""

from __future__ import annotations

import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from xltool.cli import app
from xltool.form import spec as specs
from xltool.sources.checking import check
from xltool.sources.merging import merge
from xltool.submission import Finding
from xltool.workbook import template
from xltool.workbook.reader import read

from .helpers import fill, libreoffice_resave
from .sample_data import CHEPAIZI, SHUYANG, TOWN_2020, write_valid

runner = CliRunner()
BASES = {"2021": SHUYANG, "2019": TOWN_2020}  # a valid unit on each form
T2 = "二、主动公开政府信息情况"
T3 = "三、收到和处理政府信息公开申请情况"
T4 = "四、政府信息公开行政复议、行政诉讼情况"


@pytest.fixture(params=list(BASES))
def valid(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    return write_valid(tmp_path / "valid.xlsx", BASES[request.param])


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


@pytest.mark.parametrize(
    ("base", "extra"),
    [
        (SHUYANG, {"t2.fees.amount": Decimal("190.457379")}),
        (TOWN_2020, {"t2.procurement.amount": Decimal("19.990001"), "t2.procurement.amount.unit": "万元"}),
    ],
    ids=["2021", "2019"],
)
def test_round_trip_values_equal_what_was_filled(tmp_path: Path, base: dict[str, Any], extra: dict[str, Any]) -> None:
    values = dict(base) | extra | {"t3.carry_in.legal": 2, "t3.carry_out.legal": 2}
    path = variant(tmp_path, base, values)
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
@pytest.mark.slow
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


def test_stale_cached_total(tmp_path: Path) -> None:
    """A cached value (as Excel/WPS write them) that differs from the recomputed total."""
    valid = write_valid(tmp_path / "valid.xlsx", SHUYANG)
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


@pytest.mark.parametrize(
    ("base", "year", "message"),
    [
        (
            CHEPAIZI,
            2020,
            "报告年度为 2020，但本表式（国办公开办函〔2021〕30号）适用于 2021 年及以后的年度报告。"
            "2020 年度报告应使用国办公开办函〔2019〕60号表式，请换用该表式的模板重新填写。",
        ),
        (
            TOWN_2020,
            2022,  # real: a 2022 report published on the 2019 form (format notes §5 E1)
            "报告年度为 2022，但本表式（国办公开办函〔2019〕60号）适用于 2019—2020 年的年度报告。"
            "2022 年度报告应使用国办公开办函〔2021〕30号表式，请换用该表式的模板重新填写。",
        ),
        (
            TOWN_2020,
            2018,
            "报告年度为 2018，但本表式（国办公开办函〔2019〕60号）适用于 2019—2020 年的年度报告。"
            "2018 年度报告应使用的表式 xltool 不认识（支持国办公开办函〔2019〕60号表式（2019—2020 年的年度报告）、"
            "国办公开办函〔2021〕30号表式（2021 年及以后的年度报告）），请换用该表式的模板重新填写。",
        ),
    ],
    ids=["2020-on-2021-form", "2022-on-2019-form", "2018"],
)
def test_year_and_form_disagree(tmp_path: Path, base: dict[str, Any], year: int, message: str) -> None:
    found = only(variant(tmp_path, base, {"unit.report_year": year}))
    assert (found.rule, found.cell) == ("M-YEAR", "B4")
    assert found.message == message


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
    assert found.message == "文字部分提到了“全年共收到政府信息公开申请3件”，但第三部分表格全部为 0。请核对表格或文字。"


# ---------------------------------------------------------------- the 2019 form


def test_2019_signed_change_may_be_negative_and_only_there(tmp_path: Path) -> None:
    path = variant(tmp_path, TOWN_2020, {"t2.penalty.change": -7, "t2.penalty.prior_items": -1})
    found = only(path)
    assert (found.rule, found.sheet, found.cell) == ("C-NEGATIVE", T2, "B13")
    assert found.message == "行政处罚／上一年项目数量为负数 -1。请填写 0 或正数。"
    assert read(path).values["t2.penalty.change"] == -7
    fraction = only(variant(tmp_path, TOWN_2020, {"t2.fees.change": 1.5}, name="f"))
    assert (fraction.rule, fraction.cell) == ("C-FRACTION", "C17")


def test_2019_amount_needs_its_unit(tmp_path: Path) -> None:
    found = only(variant(tmp_path, TOWN_2020, {"t2.procurement.amount.unit": None}))
    assert (found.rule, found.severity, found.sheet, found.cell) == ("C-UNIT", "error", T2, "D20")
    assert (
        found.message
        == "政府集中采购／采购总金额为 251000.5，但没有选择金额单位。请在右侧单元格的下拉列表中选择：元、万元。"
    )
    zero = variant(tmp_path, TOWN_2020, {"t2.procurement.amount": 0, "t2.procurement.amount.unit": None}, name="z")
    assert findings_of(zero) == []  # nothing bought: no unit needed
    wrong = only(variant(tmp_path, TOWN_2020, {"t2.procurement.amount.unit": "千元"}, name="w"))
    assert (wrong.rule, wrong.cell) == ("C-CHOICE", "D20")
    assert wrong.message == "政府集中采购／采购总金额的单位填的是“千元”，不在可选范围内。请从下拉列表中选择：元、万元。"
    typed = only(variant(tmp_path, TOWN_2020, {"t2.procurement.amount": "251000元"}, name="t"))
    assert (typed.rule, typed.cell) == ("C-TEXT", "C20")  # the unit typed into the cell, as real reports did


def test_2019_t3_other_handling_is_one_row(tmp_path: Path) -> None:
    sub = read(write_valid(tmp_path / "v.xlsx", TOWN_2020))
    ws = openpyxl.load_workbook(tmp_path / "v.xlsx")[T3]
    assert (ws["B26"].value, ws["B27"].value, ws["A28"].value) == (
        "（六）其他处理",
        "（七）总计",
        "四、结转下年度继续办理",
    )
    assert ws["D27"].value == "=SUM(D8:D26)" and sub.number("t3.total.total") == 3
    unbalanced = variant(tmp_path, TOWN_2020, {"t3.otherwise.natural": 2}, name="u")
    assert [(f.rule, f.cell) for f in findings_of(unbalanced)] == [("T3-1", "D28"), ("T3-1", "J28")]


# ---------------------------------------------------------------- cross-year


def test_carry_over_from_last_year(tmp_path: Path) -> None:
    last = variant(
        tmp_path, {**SHUYANG, "unit.report_year": 2023}, {"t3.carry_out.natural": 2, "t3.new.natural": 28}, name="last"
    )
    this = variant(tmp_path, {**SHUYANG, "unit.report_year": 2024}, {"t2.normative.in_force": 26}, name="this")
    found = findings_of(this, last)
    assert [(f.rule, f.cell, f.value, f.expected) for f in found] == [
        ("CY-1", "D7", 0, 2),
        ("CY-1", "J7", 0, 2),
        ("CY-6", "A4", None, None),  # the same sample's text both years: truly copied (a warning: after errors)
    ]
    assert found[0].message == "自然人列：上年结转填报为 0，上年度报告“结转下年度继续办理”为 2。两者应相等。"
    assert findings_of(this) == []  # without --previous no cross-year rule runs


def test_running_total_and_copy_paste(tmp_path: Path) -> None:
    last = variant(tmp_path, {**SHUYANG, "unit.report_year": 2023}, {}, name="last")
    same = variant(tmp_path, {**SHUYANG, "unit.report_year": 2024}, {}, name="same")
    found = findings_of(same, last)
    assert [(f.rule, f.cell) for f in found] == [("CY-6", "A4"), ("CY-2", "D6"), ("CY-5", None)]
    assert found[0].message == (
        "一、总体情况：文字与上年度报告基本相同（100% 的文字片段相同，数字不计），请核对是否照抄了上年的内容。"
    )
    assert found[1].message == "行政规范性文件：现行有效件数为 18，按上年 18 件 + 本年制发 − 本年废止应为 26。请核对。"
    assert found[2].message == "第二、三、四部分表格的全部数字与上年度报告完全相同，请核对是否照抄了上年数据。"


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


def test_2019_running_count_of_items(tmp_path: Path) -> None:
    last = variant(tmp_path, {**TOWN_2020, "unit.report_year": 2019}, {}, name="last")
    this = variant(tmp_path, TOWN_2020, {"t2.license.prior_items": 12}, name="this")
    found = findings_of(this, last)
    assert [(f.rule, f.cell, f.value, f.expected) for f in found] == [
        ("CY-6", "A4", None, None),
        ("CY-3", "B9", 12, 10),
        ("CY-5", None, None, None),
    ]
    assert found[1].message == "行政许可：上一年项目数量为 12，按上年度报告的 12 项加上年度的本年增/减应为 10。请核对。"


# ---------------------------------------------------------------- crossing from the 2019 form to the 2021 form


def test_carry_over_across_the_form_change(tmp_path: Path) -> None:
    """A 2021 report checked against a 2020 one on the 2019 form: 上年结转 per column against last
    year's 结转下年度继续办理; table 二's running total and the copy check have no counterpart."""
    carried = {"t3.carry_out.natural": 1, "t3.carry_out.business": 2, "t3.new.natural": 4, "t3.new.business": 2}
    last = variant(tmp_path, TOWN_2020, carried, name="last2020")
    this = variant(tmp_path, {**SHUYANG, "unit.report_year": 2021}, {"t3.carry_in.natural": 1}, name="this2021")
    found = findings_of(this, last)
    assert [(f.rule, f.cell, f.value, f.expected) for f in found] == [
        ("CY-1", "E7", 0, 2),
        ("CY-1", "J7", 1, 3),
        ("T3-1", "D30", 27, 26),  # this year's own balance, for carrying 1 in without handling it
        ("T3-1", "J30", 27, 26),
    ]
    assert found[0].message == "商业企业列：上年结转填报为 0，上年度报告“结转下年度继续办理”为 2。两者应相等。"


def test_previous_on_a_later_form_is_refused(tmp_path: Path) -> None:
    last = tmp_path / "last.xlsx"  # a 2019 report on the 2021 form
    template.write(last, specs.load("2021"), {**SHUYANG, "unit.report_year": 2019})
    this = write_valid(tmp_path / "this.xlsx", TOWN_2020)
    result = runner.invoke(app, ["check", str(this), "--previous", str(last)])
    assert result.exit_code == 2
    assert result.stderr == (
        "错误：--previous 指定的工作簿是国办公开办函〔2021〕30号表式，被检查的工作簿是国办公开办函〔2019〕60号表式，"
        "两者之间没有对应关系，无法核对跨年度关系。\n"
    )


def test_template_previous_from_a_2019_form_workbook(tmp_path: Path) -> None:
    last = variant(tmp_path, TOWN_2020, {"t3.carry_out.natural": 1, "t3.new.natural": 4}, name="last")
    out = tmp_path / "2021.xlsx"
    result = runner.invoke(app, ["template", "--previous", str(last), "-o", str(out)])
    assert (result.exit_code, result.stderr) == (0, "已生成 1 份模板。\n")
    sub = read(out)
    assert sub.spec.form_version == "2021" and sub.values["unit.report_year"] == 2021
    assert sub.unit_name == "甲镇人民政府" and sub.values["t3.carry_in.natural"] == 1
    ws = openpyxl.load_workbook(out)[T3]
    assert ws["D7"].value == 1 and ws["D7"].protection.locked
    forced = runner.invoke(app, ["template", "--previous", str(last), "--form", "2019", "-o", str(tmp_path / "f.xlsx")])
    assert forced.exit_code == 0 and read(tmp_path / "f.xlsx").values["t3.carry_in.natural"] == 1


# ---------------------------------------------------------------- engines


@pytest.mark.slow
@pytest.mark.parametrize(
    ("base", "broken", "rules"),
    [
        (SHUYANG, {"t3.carry_out.natural": 1, "t2.fees.amount": "2万"}, ["C-TEXT", "T3-1", "T3-1", "T4-1"]),
        (TOWN_2020, {"t3.carry_out.natural": 1, "t2.license.change": -3}, ["T3-1", "T3-1", "T4-1"]),
    ],
    ids=["2021", "2019"],
)
def test_libreoffice_saved_workbook_checks_the_same(
    tmp_path: Path, soffice: str, base: dict[str, Any], broken: dict[str, Any], rules: list[str]
) -> None:
    path = variant(tmp_path, base, broken, {(T4, "E6"): 5})
    saved = libreoffice_resave(soffice, path, tmp_path / "lo")
    ours = [f.to_json() for f in findings_of(path)]
    theirs = [f.to_json() for f in findings_of(saved)]
    assert ours == theirs
    assert [f["rule"] for f in ours] == rules


# ---------------------------------------------------------------- last year's merge summary as --previous

COUNTY = Path(__file__).parent.parent / "samples" / "county"
COUNTY_2022 = COUNTY / "青禾县2022年汇总.xlsx"  # 13 units; 住建局 did not report in 2022


def county_unit(name: str) -> Path:
    return COUNTY / "报表" / f"{name}2023年报.xlsx"


def test_a_unit_is_checked_against_its_own_row_of_last_years_summary() -> None:
    """Not against the county's totals (CY-1 4 and 5 for every unit, CY-2 from the county's 表二)."""
    police = runner.invoke(app, ["check", str(county_unit("青禾县公安局")), "--previous", str(COUNTY_2022)])
    assert (police.exit_code, police.stderr) == (0, "")
    assert police.stdout == f"✓ {county_unit('青禾县公安局')}（青禾县公安局）：通过\n"
    east = check([county_unit("青禾县东城街道办事处")], COUNTY_2022)[0].findings
    assert [(f.rule, f.cell, f.value, f.expected) for f in east] == [("CY-1", "D7", 0, 1), ("CY-1", "J7", 0, 1)]
    assert east[0].message == "自然人列：上年结转填报为 0，上年度报告“结转下年度继续办理”为 1。两者应相等。"


def test_a_unit_missing_from_last_years_summary_is_checked_without_comparing(tmp_path: Path) -> None:
    """A warning, not a refusal: this year's check stands; a new or renamed unit has nothing to compare."""
    new = county_unit("青禾县住房和城乡建设局")
    result = runner.invoke(app, ["check", str(new), "--previous", str(COUNTY_2022), "--json"])
    assert result.exit_code == 0
    assert [f["rule"] for f in json.loads(result.stdout)["files"][0]["findings"]] == []
    assert result.stderr == (
        f"注意：上年汇总 {COUNTY_2022}（青禾县人民政府，2022 年度，13 个单位）中没有“青禾县住房和城乡建设局”，"
        "未核对上年结转等跨年度关系（一个单位不与汇总数比较）。若单位名称与上年不同，请改用该单位上年度自己的工作簿作 --previous。\n"
    )
    nameless = fill(county_unit("青禾县公安局"), tmp_path / "无名.xlsx", {"unit.unit_name": None})
    result = runner.invoke(app, ["check", str(nameless), "--previous", str(COUNTY_2022)])
    assert result.exit_code == 1  # R-NAME, its own finding
    assert result.stderr.startswith(
        f"注意：被检查的工作簿没有填写单位名称，无法在上年汇总 {COUNTY_2022}（青禾县人民政府，2022 年度，13 个单位）中找到它，"
    )


def test_the_carried_row_alone_is_no_copy_of_last_year(tmp_path: Path) -> None:
    """Only the carry rows of a unit are known from a summary: CY-5 (identical tables) cannot be told."""
    pending = {"t3.carry_in.natural": 1, "t3.carry_out.natural": 1}
    base = {k: v for k, v in SHUYANG.items() if not k.startswith(("t2.", "t3.", "t4."))}
    base |= {"s1.on_request": "依申请公开渠道保持畅通。"}
    last = write_valid(tmp_path / "2022.xlsx", {**base, **pending, "unit.report_year": 2022})
    summary = tmp_path / "2022年汇总.xlsx"
    assert merge([last], summary, unit="某某县人民政府", jobs=1).exit_code == 0
    this = write_valid(tmp_path / "2023.xlsx", {**base, **pending, "unit.report_year": 2023})
    assert findings_of(this, summary) == []
    assert [f.rule for f in findings_of(this, last)] == ["CY-6", "CY-5"]  # its own report: truly the same


def test_text_copied_from_last_year(tmp_path: Path) -> None:
    """CY-6: a written section that says what last year's said, with only its figures changed, is a
    copy; a section rewritten, or too short to tell (六 may be 无 every year), is not."""
    base = {**SHUYANG, "unit.report_year": 2023}
    last = variant(tmp_path, base, {}, name="last")
    words = "本机关严格落实政府信息公开条例，通过门户网站、政务新媒体和公开专栏主动公开各类信息"
    figures = {**SHUYANG, "unit.report_year": 2024, "t2.normative.in_force": 26}
    texts = {k: v for k, v in SHUYANG.items() if k.startswith("s1.")}
    updated = {k: v.replace("26", "31") for k, v in texts.items()}  # only a figure differs
    same = variant(tmp_path, figures | updated, {}, name="same")
    cy6 = [f for f in findings_of(same, last) if f.rule == "CY-6"]
    assert [(f.sheet, f.cell) for f in cy6] == [("一、总体情况", "A4")]
    rewritten = dict.fromkeys(texts, "") | {
        "s1.active": f"{words}，全年更新教育、医疗领域信息。",
        "s1.on_request": "依申请公开工作由法规科统一登记，做到件件有回复。",
        "s1.management": "开展信息清理，对过时文件标注失效。",
        "s1.platform": "完成网站集约化迁移，栏目重新梳理。",
        "s1.oversight": "将公开工作纳入年度考核，组织全员培训两次。",
    }
    other = variant(tmp_path, figures | rewritten, {}, name="other")
    assert [f.rule for f in findings_of(other, last) if f.rule == "CY-6"] == []
    short = {"s6.other": "无。"}
    a = variant(tmp_path, base | short, {}, name="a")
    b = variant(tmp_path, figures | rewritten | short, {}, name="b")
    assert [f for f in findings_of(b, a) if f.rule == "CY-6"] == []


def test_a_summary_is_not_checked_against_one_units_report(tmp_path: Path) -> None:
    summary = tmp_path / "2023年汇总.xlsx"
    units = [county_unit("青禾县公安局"), county_unit("青禾县城关镇人民政府")]
    assert merge(units, summary, unit="青禾县人民政府", jobs=1).exit_code == 0
    last = variant(tmp_path, {**SHUYANG, "unit.report_year": 2022}, {}, name="one")
    result = runner.invoke(app, ["check", str(summary), "--previous", str(last)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"错误：被检查的是汇总工作簿（2 个单位），而 {last} 是一个单位自己的年度报告：汇总数不能与一个单位比较。"
        "--previous 请用上年度的汇总工作簿。\n"
    )
    totals = check([summary], COUNTY_2022)[0].findings  # a summary against a summary: totals with totals
    assert [(f.rule, f.cell, f.value, f.expected) for f in totals if f.rule == "CY-1"] == [
        ("CY-1", "D7", 1, 4),
        ("CY-1", "E7", 0, 1),
        ("CY-1", "J7", 1, 5),
    ]


def test_template_previous_from_last_years_summary_takes_the_units_own_row(tmp_path: Path) -> None:
    out = tmp_path / "东城2023.xlsx"
    args = ["template", "--previous", str(COUNTY_2022), "-o", str(out)]
    result = runner.invoke(app, [*args, "--unit", "青禾县东城街道办事处"])
    assert (result.exit_code, result.stderr) == (0, "已生成 1 份模板。\n")
    sub = read(out)
    assert (sub.unit_name, sub.year, sub.text("unit.unit_type")) == ("青禾县东城街道办事处", 2023, "街道办事处")
    carried = {k.split(".")[2]: v for k, v in sub.values.items() if k.startswith("t3.carry_in.")}
    assert carried == {"natural": 1, "business": 0, "research": 0, "nonprofit": 0, "legal": 0, "other": 0}
    assert openpyxl.load_workbook(out)[T3]["D7"].protection.locked
    nameless = runner.invoke(app, args)
    assert nameless.exit_code == 2
    assert nameless.stderr == (
        f"错误：{COUNTY_2022} 是汇总工作簿（13 个单位），不是一个单位自己的年度报告。"
        "用它预填“上年结转”时，请用 --unit 指定单位名称：预填的是该单位自己上年的“结转下年度继续办理”。\n"
    )
    missing = runner.invoke(app, [*args, "--unit", "青禾县住房和城乡建设局", "--force"])
    assert missing.exit_code == 2
    assert missing.stderr == (
        f"错误：上年汇总 {COUNTY_2022}（青禾县人民政府，2022 年度，13 个单位）中没有“青禾县住房和城乡建设局”，"
        "无法为它预填“上年结转”。请核对 --unit 的单位名称（应与上年汇总“各单位结转”表中的一致），"
        "或改用该单位上年度自己的工作簿作 --previous。\n"
    )
    assert read(out).unit_name == "青禾县东城街道办事处"  # the refused run wrote nothing


@pytest.mark.parametrize("form", ["2019", "2021"])
def test_a_workbook_naming_another_unit_than_expected(tmp_path: Path, form: str) -> None:
    """Rule P-UNIT (kind expected): the caller (the portal's link) knows which unit must report."""
    from xltool.checks.check import check as check_values

    base = CHEPAIZI if form == "2021" else TOWN_2020
    sub = read(write_valid(tmp_path / "v.xlsx", base))
    named = sub.unit_name
    assert check_values(sub) == check([tmp_path / "v.xlsx"], expected={"unit.unit_name": f" {named} "})[0].findings
    (found,) = [f for f in check([tmp_path / "v.xlsx"], expected={"unit.unit_name": "某某局"})[0].findings]
    assert (found.rule, found.severity, found.sheet, found.cell) == ("P-UNIT", "error", "单位信息", "B3")
    assert (found.value, found.expected) == (named, "某某局")
    assert found.message == f"单位名称填写为“{named}”，而这个链接属于“某某局”。请使用本单位的模板，或改正单位名称。"
