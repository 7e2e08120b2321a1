"""`xltool merge --previous`: every unit's carry-over against last year's summary, year over year, charts."""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from dataclasses import replace
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from xltool.cli import app
from xltool.form import spec as specs
from xltool.form.layout import col_title
from xltool.form.spec import leaves
from xltool.sources.checking import check
from xltool.sources.merging import merge
from xltool.summary import analytics
from xltool.summary.analytics import CARRY_SHEET, CHART_SHEET, change
from xltool.summary.figures import key_figures
from xltool.summary.merge import DETAIL_SHEET, NOTES_SHEET
from xltool.workbook.reader import read, sheet_rows

from . import county_data
from .conftest import ROOT
from .helpers import fill, libreoffice_pdf
from .sample_data import CHEPAIZI, SHUYANG, write_valid
from .test_merge import NOW, OLD_PREVIOUS, PREVIOUS, T3, T3_COLUMNS, WORKBOOKS, Draw, numbers, unit_values, write_units

runner = CliRunner()
EAST, NATURAL_RESOURCES, POLICE = "青禾县东城街道办事处", "青禾县自然资源局", "青禾县公安局"
T3_LEAVES = {leaf.key: leaf for leaf in leaves(T3.columns)}
CY1 = "{column}列：上年结转填报为 {value}，上年度报告“结转下年度继续办理”为 {expected}。两者应相等。"


@pytest.fixture()
def valid(tmp_path: Path) -> Path:
    """The sample county's twelve valid workbooks (教育局, which has an error, left out)."""
    folder = tmp_path / "报表"
    folder.mkdir()
    for path in WORKBOOKS.glob("*.xlsx"):
        if county_data.INVALID not in path.name:
            shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("previous") / "汇总.xlsx"
    outcome = merge(sorted(WORKBOOKS.glob("*.xlsx")), out, unit="青禾县人民政府", jobs=1, previous=PREVIOUS, now=NOW)
    assert outcome.exit_code == 1
    return out


def notes_from(path: Path, first: str) -> list[tuple[Any, ...]]:
    """汇总说明 from the row named ``first`` to the year-over-year table's last row, trailing blanks cut."""
    rows = sheet_rows(path, [NOTES_SHEET])[NOTES_SHEET]
    start = next(i for i, r in enumerate(rows) if r[0] == first)
    end = next(i for i, r in enumerate(rows) if r[0] == "文字部分")
    return [tuple(v for v in r if v is not None) for r in rows[start:end]]


def test_on_screen_and_exit_code(valid: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "汇总.xlsx"
    args = ["merge", str(valid), "-o", str(out), "--unit", "青禾县人民政府", "--jobs", "1"]
    result = runner.invoke(app, [*args, "--previous", "samples/county/青禾县2022年汇总.xlsx"])
    assert result.exit_code == 1, result.output  # all merged, but two units' carry-over differs (CY-1 is an error)
    assert result.stdout == (
        f"已生成汇总工作簿 {out}（青禾县人民政府，12 个单位）\n"
        "与上年汇总核对（samples/county/青禾县2022年汇总.xlsx，2022 年度，13 个单位）：\n"
        "  上年结转与上年度“结转下年度”不一致 2 个：\n"
        "    青禾县东城街道办事处：自然人列 上年结转 0、上年度结转下年度 1\n"
        "    青禾县自然资源局：自然人列 上年结转 2、上年度结转下年度 1；商业企业列 上年结转 0、上年度结转下年度 1\n"
        "  上年有、本年没有 2 个：青禾县教育局、青禾县石桥乡人民政府\n"
        "  本年有、上年没有 1 个：青禾县住房和城乡建设局\n"
        "共 12 个输入文件 = 已汇总 12 个 + 未汇总 0 个。\n"
    )  # 教育局 sent nothing here: missing
    assert result.stderr == ""


def test_a_unit_rejected_this_year_was_submitted_not_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """教育局 sent its workbook, which failed the check: not "上年有、本年没有" but said to be rejected."""
    monkeypatch.chdir(ROOT)
    out = tmp_path / "汇总.xlsx"
    args = ["merge", "samples/county/报表", "-o", str(out), "--jobs", "1", "--unit", "青禾县人民政府"]
    result = runner.invoke(app, [*args, "--previous", "samples/county/青禾县2022年汇总.xlsx"])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("与上年汇总核对"))
    assert lines[at + 4 :] == [
        "  上年有、本年没有 1 个：青禾县石桥乡人民政府",
        "  上年有、本年未通过校验 1 个：青禾县教育局（本年报送了工作簿，但未通过校验，未计入汇总）",
        "  本年有、上年没有 1 个：青禾县住房和城乡建设局",
        "共 13 个输入文件 = 已汇总 12 个 + 未汇总 1 个。",
    ]
    assert "  ✗ samples/county/报表/青禾县教育局2023年报.xlsx（青禾县教育局）：有 2 个错误" in lines[:at]
    # docs/commands.md shows these lines for the sample's command: the doc and the output agree
    doc = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8").splitlines()
    start = doc.index("    " + lines[at])
    assert [line.removeprefix("    ") for line in doc[start : start + len(lines) - at - 1]] == lines[at:-1]


def test_consistent_units_exit_zero(valid: Path, tmp_path: Path) -> None:
    files = [valid / f"{name}2023年报.xlsx" for name in (POLICE, "青禾县城关镇人民政府")]
    outcome = merge(files, tmp_path / "s.xlsx", jobs=1, previous=PREVIOUS)
    assert outcome.exit_code == 0
    assert outcome.comparison is not None
    assert (outcome.comparison.checked, outcome.comparison.diffs, outcome.comparison.only_this) == (2, {}, ())
    assert len(outcome.comparison.only_last) == 11


def test_the_carried_rows_are_named_as_the_definition_names_them(valid: Path, tmp_path: Path) -> None:
    """上年结转 / 结转下年度 on screen and in 汇总说明 are the short names of the carry rule's rows."""
    outcome = merge([valid / f"{EAST}2023年报.xlsx"], tmp_path / "s.xlsx", jobs=1, previous=PREVIOUS)
    assert outcome.comparison is not None
    text = resources.files("xltool.specs").joinpath("gov_disclosure_2021.toml").read_text(encoding="utf-8")
    renamed = specs.parse(
        text.replace('short = "上年结转"', 'short = "结转进来"').replace('short = "结转下年度"', 'short = "结转出去"')
    )
    outcome.comparison = replace(outcome.comparison, carry=analytics.carry(renamed))
    assert analytics.screen(outcome.comparison)[1:3] == [
        "  结转进来与上年度“结转出去”不一致 1 个：",
        f"    {EAST}：自然人列 结转进来 0、上年度结转出去 1",
    ]
    keys = key_figures(outcome.spec)
    notes = analytics.notes(outcome.spec, keys, (0,) * len(keys), outcome.comparison, 2023)
    assert [row[0] for row in notes[1:3]] == ["结转进来核对", "结转进来不一致"]


def test_notes_list_every_differing_unit_and_the_main_figures(compared: Path) -> None:
    assert notes_from(compared, "上年汇总") == [
        ("上年汇总", f"{PREVIOUS}（青禾县人民政府，2022 年度，13 个单位）"),
        (
            "上年结转核对",
            "两年都有的 11 个单位逐一核对（规则 CY-1：上年结转=上年度结转下年度继续办理），2 个单位不一致。",
        ),
        ("上年结转不一致", f"{EAST}：" + CY1.format(column="自然人", value=0, expected=1)),
        (
            "上年结转不一致",
            f"{NATURAL_RESOURCES}："
            + CY1.format(column="自然人", value=2, expected=1)
            + CY1.format(column="商业企业", value=0, expected=1),
        ),
        ("上年有、本年没有", "青禾县石桥乡人民政府"),
        ("上年有、本年未通过校验", "青禾县教育局：本年报送了工作簿，但未通过校验，未计入汇总"),
        ("本年有、上年没有", "青禾县住房和城乡建设局"),
        ("较上年", "2022 年", "2023 年", "增减", "增减（%）"),
        ("新收", 44, 56, 12, Decimal("27.3")),
        ("上年结转", 0, 3, 3),  # no percent when last year is 0
        ("予以公开", 32, 35, 3, Decimal("9.4")),
        ("部分公开", 2, 3, 1, 50),
        ("不予公开", 0, 4, 4),
        ("无法提供", 5, 12, 7, 140),
        ("不予处理", 0, 2, 2),
        ("其他处理", 0, 0, 0),
        ("办理总计", 39, 56, 17, Decimal("43.6")),
        ("结转下年度", 5, 3, -2, -40),
        ("复议总计", 3, 3, 0, 0),
        ("诉讼总计", 1, 1, 0, 0),
        ("行政许可", 2406, 2724, 318, Decimal("13.2")),
        ("行政处罚", 2239, 2506, 267, Decimal("11.9")),
        ("行政强制", 54, 58, 4, Decimal("7.4")),
        ("收费金额（万元）", Decimal("317.7"), Decimal("417.2741"), Decimal("99.5741"), Decimal("31.3")),
    ]


def test_previous_figures_are_last_years_own_sums(compared: Path) -> None:
    """The 上年 column is the 2022 summary's form, summed from the 2022 workbooks independently here."""
    units = list(county_data.previous_submissions().values())

    def total(row: str) -> int:
        return sum(v for u in units for k, v in u.items() if k.startswith(f"t3.{row}."))

    table = {r[0]: r[1] for r in notes_from(compared, "新收")}
    assert (table["新收"], table["结转下年度"]) == (total("new"), total("carry_out")) == (44, 5)
    assert table["收费金额（万元）"] == sum(county_data.PREVIOUS_FEES.values())


def test_detail_gets_last_years_new_and_each_units_verdict(compared: Path) -> None:
    rows = sheet_rows(compared, [DETAIL_SHEET])[DETAIL_SHEET]
    assert rows[0][20:] == ("上年新收", "新收增减", "上年结转核对")
    extra = {r[0]: r[20:] for r in rows[1:]}
    assert extra["合计（12 个单位）"] == (44, 12, None)
    assert extra[EAST] == (2, 0, "不一致：自然人列 本年 0、上年 1")
    assert extra[NATURAL_RESOURCES] == (14, 4, "不一致：自然人列 本年 2、上年 1；商业企业列 本年 0、上年 1")
    assert extra[POLICE] == (8, 3, "一致")
    assert extra["青禾县住房和城乡建设局"] == (None, None, "上年没有此单位")
    assert extra["青禾县教育局"] == (None, None, None)  # not merged this year: nothing to compare


def test_an_old_summary_is_compared_on_totals_with_a_note(valid: Path, tmp_path: Path) -> None:
    """A summary written before summaries kept per-column carry-overs: totals only, and it says so."""
    out = tmp_path / "s.xlsx"
    outcome = merge(sorted(valid.glob("*.xlsx")), out, jobs=1, previous=OLD_PREVIOUS)
    assert outcome.exit_code == 1
    assert notes_from(out, "上年结转核对")[:3] == [
        (
            "上年结转核对",
            "两年都有的 11 个单位逐一核对（规则 CY-1：上年结转=上年度结转下年度继续办理），1 个单位不一致。",
        ),
        ("核对方式", "全部单位只按总计核对：上年汇总工作簿由旧版 xltool 生成，没有各单位分列的结转数，不能逐列核对。"),
        ("上年结转不一致", f"{EAST}：" + CY1.format(column="总计", value=0, expected=1)),
    ]
    extra = {r[0]: r[20:] for r in sheet_rows(out, [DETAIL_SHEET])[DETAIL_SHEET][1:]}
    assert extra[NATURAL_RESOURCES] == (14, 4, "一致（只按总计核对）")  # 2 = 1 + 1 in total; columns unknown
    assert notes_from(out, "新收")[0] == ("新收", 44, 56, 12, Decimal("27.3"))  # the main figures all the same


@pytest.mark.slow
def test_county_to_city_compares_like_with_like(tmp_path: Path) -> None:
    """Halves merged, then merged again, against last year's halves merged likewise: the county's result."""
    this = tmp_path / "2023"
    shutil.copytree(WORKBOOKS, this)
    (this / f"{county_data.INVALID}2023年报.xlsx").unlink()
    last = county_data.write_previous(tmp_path / "2022")
    for year, files in (("2023", sorted(this.glob("*.xlsx"))), ("2022", last)):
        (tmp_path / f"片{year}").mkdir()
        merge(files[::2], tmp_path / f"片{year}" / "东片.xlsx", unit="东片", jobs=1)
        merge(files[1::2], tmp_path / f"片{year}" / "西片.xlsx", unit="西片", jobs=1)
    merge(sorted((tmp_path / "片2022").glob("*.xlsx")), tmp_path / "市2022.xlsx", unit="市", jobs=1)
    flat = merge(sorted(this.glob("*.xlsx")), tmp_path / "flat.xlsx", unit="市", jobs=1, previous=PREVIOUS)
    nested = merge(
        sorted((tmp_path / "片2023").glob("*.xlsx")), tmp_path / "nested.xlsx", unit="市", jobs=1,
        previous=tmp_path / "市2022.xlsx",
    )  # fmt: skip
    assert flat.comparison is not None and nested.comparison is not None
    assert nested.comparison.diffs == flat.comparison.diffs and len(flat.comparison.diffs) == 2
    assert nested.comparison.by_totals == ()  # per column, through two levels of summaries
    assert (nested.comparison.only_this, nested.comparison.only_last) == (
        flat.comparison.only_this,
        flat.comparison.only_last,
    )
    assert notes_from(tmp_path / "nested.xlsx", "上年结转核对") == notes_from(tmp_path / "flat.xlsx", "上年结转核对")
    detail = [sheet_rows(tmp_path / f"{n}.xlsx", [DETAIL_SHEET, CARRY_SHEET]) for n in ("flat", "nested")]
    for sheet, skip in ((DETAIL_SHEET, 2), (CARRY_SHEET, 1)):  # the file column names the inner summary
        a, b = ([(*r[:skip], *r[skip + 1 :]) for r in d[sheet]] for d in detail)
        assert a == b, sheet


def test_the_carry_sheet_keeps_each_units_columns(compared: Path) -> None:
    rows = sheet_rows(compared, [CARRY_SHEET])[CARRY_SHEET]
    assert rows[0] == (
        "单位名称",
        "文件",
        *(f"上年结转·{c}" for c in ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")),
        *(f"结转下年度·{c}" for c in ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")),
    )
    carried = {r[0]: r[2:] for r in rows[1:]}
    assert carried[NATURAL_RESOURCES] == (2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0)
    assert len(carried) == 12


def test_a_tampered_carry_sheet_is_rejected(valid: Path, tmp_path: Path) -> None:
    merge(sorted(valid.glob("*.xlsx")), tmp_path / "s.xlsx", jobs=1)
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    wb[CARRY_SHEET]["C2"] = 7
    wb.save(tmp_path / "edited.xlsx")
    result = runner.invoke(app, ["merge", str(tmp_path / "edited.xlsx"), "-o", str(tmp_path / "again.xlsx")])
    assert result.exit_code == 2  # its only input is rejected: nothing to merge
    assert "汇总工作簿的“各单位结转”各单位数字之和与汇总表的数字不一致，汇总表可能被改动过。" in result.stderr


# ---------------------------------------------------------------- refusals (exit 2, nothing written)


@pytest.mark.parametrize(
    ("previous", "message"),
    [
        (
            WORKBOOKS / "青禾县公安局2023年报.xlsx",
            "错误：{p} 不是汇总工作簿（是青禾县公安局自己的年度报告）。--previous 应为上年度用 xltool merge 生成的汇总工作簿。\n",
        ),
        (ROOT / "README.md", "错误：上年汇总 {p} 无法读取："),
        (ROOT / "none.xlsx", "错误：上年汇总 {p} 无法读取："),
    ],
)
def test_a_previous_that_is_not_a_summary_is_refused(valid: Path, tmp_path: Path, previous: Path, message: str) -> None:
    out = tmp_path / "s.xlsx"
    result = runner.invoke(app, ["merge", str(valid), "-o", str(out), "--previous", str(previous)])
    assert result.exit_code == 2
    assert result.stderr.startswith(message.format(p=previous)), result.stderr
    assert not out.exists()


def test_a_previous_of_another_year_is_refused(valid: Path, tmp_path: Path, compared: Path) -> None:
    out = tmp_path / "s.xlsx"
    result = runner.invoke(app, ["merge", str(valid), "-o", str(out), "--previous", str(compared)])
    assert (result.exit_code, result.stderr) == (
        2,
        f"错误：上年汇总 {compared} 是 2023 年度的，不是 2023 年度的上一年度（应为 2022 年度）。\n",
    )
    assert not out.exists()


def test_a_tampered_previous_is_refused(valid: Path, tmp_path: Path) -> None:
    edited = fill(PREVIOUS, tmp_path / "改过的2022年汇总.xlsx", {"t2.license.decisions": 1})
    result = runner.invoke(app, ["merge", str(valid), "-o", str(tmp_path / "s.xlsx"), "--previous", str(edited)])
    assert (result.exit_code, result.stderr) == (
        2,
        f"错误：上年汇总 {edited} 不能用来比较：汇总工作簿的“单位明细”各单位数字之和与汇总表的数字不一致，汇总表可能被改动过。\n",
    )


def test_a_previous_inside_the_input_folder_is_not_an_input(valid: Path, tmp_path: Path) -> None:
    shutil.copy(PREVIOUS, valid / "去年汇总.xlsx")
    args = ["merge", str(valid), "-o", str(tmp_path / "s.xlsx"), "--previous", str(valid / "去年汇总.xlsx")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1  # the two differing units
    assert result.stdout.endswith("共 12 个输入文件 = 已汇总 12 个 + 未汇总 0 个。\n")


def test_the_output_may_not_be_the_previous(valid: Path, tmp_path: Path) -> None:
    target = tmp_path / "2022.xlsx"
    shutil.copy(PREVIOUS, target)
    result = runner.invoke(app, ["merge", str(valid), "-o", str(target), "--previous", str(target)])
    assert result.exit_code == 2 and "也是输入之一" in result.stderr
    assert target.read_bytes() == PREVIOUS.read_bytes()


def test_change_and_percent() -> None:
    assert change(56, 44) == (12, Decimal("27.3"))
    assert change(3, 0) == (3, None)
    assert change(0, 0) == (0, None)
    assert change(3, 5) == (-2, Decimal("-40.0"))
    assert change(Decimal("417.2741"), Decimal("317.7")) == (Decimal("99.5741"), Decimal("31.3"))


# ---------------------------------------------------------------- charts


def chart_titles(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        names = sorted((n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)), key=_number)
        return ["".join(re.findall(r"<a:t>(.*?)</a:t>", z.read(n).decode())[:1]) for n in names]


def _number(name: str) -> int:
    return int(re.sub(r"\D", "", name))


def test_charts_of_a_summary(compared: Path, tmp_path: Path) -> None:
    assert chart_titles(compared) == [
        "新收申请的申请人情况",
        "本年度办理结果",
        "新收申请最多的单位（前 9 名）",
        "依申请公开、行政复议和行政诉讼：与上年比较",
        "主动公开政府信息情况：与上年比较",
    ]
    plain = merge(sorted(WORKBOOKS.glob("*.xlsx")), tmp_path / "plain.xlsx", jobs=1)
    assert plain.comparison is None
    assert chart_titles(tmp_path / "plain.xlsx") == chart_titles(compared)[:3]  # no year-over-year without --previous
    data = sheet_rows(compared, [CHART_SHEET])[CHART_SHEET]
    assert (data[0][0], data[1][:2]) == ("新收申请的申请人情况", (None, "新收"))
    assert [r[:2] for r in data[2:8]] == [
        ("自然人", 47),
        ("商业企业", 6),
        ("科研机构", 0),
        ("社会公益组织", 0),
        ("法律服务机构", 3),
        ("其他", 0),
    ]
    top = next(i for i, r in enumerate(data) if r[0] == "新收申请最多的单位（前 9 名）")
    ranked = [r[:2] for r in data[top + 2 : top + 11]]  # the nine units with applications, the largest last
    assert ranked[0] == ("青禾县白沙镇人民政府", 1) and ranked[-1] == (NATURAL_RESOURCES, 18)  # drawn at the top
    assert [v for _name, v in ranked] == [1, 2, 3, 3, 5, 6, 7, 11, 18]  # units without applications left out


def test_a_summary_with_charts_checks_clean_and_merges_again(compared: Path, tmp_path: Path) -> None:
    assert CHART_SHEET in openpyxl.load_workbook(compared, read_only=True).sheetnames
    assert {f.rule for f in check([compared])[0].findings} == {"D-DRAFT"}  # the reader ignores the chart sheet
    assert runner.invoke(app, ["check", str(compared)]).exit_code == 0
    again = merge([compared], tmp_path / "again.xlsx", jobs=1)
    assert again.exit_code == 0 and again.units == 12
    assert numbers(tmp_path / "again.xlsx") == numbers(compared)
    assert read(tmp_path / "again.xlsx").summary_units == 12


# ---------------------------------------------------------------- printing


def test_detail_prints_on_a3_landscape_with_titles_repeated(compared: Path) -> None:
    ws = openpyxl.load_workbook(compared)[DETAIL_SHEET]
    assert (ws.page_setup.orientation, ws.page_setup.paperSize) == ("landscape", 8)
    # one page wide (fitToWidth left out: 1 is its default), as many pages down as it takes
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight, ws.sheet_properties.pageSetUpPr.fitToPage) == (
        None,
        0,
        True,
    )
    assert (ws.print_title_rows, ws.print_title_cols) == ("$1:$1", "$A:$A")


@pytest.mark.slow
def test_detail_in_libreoffice_pdf_is_one_a3_page_wide(compared: Path, tmp_path: Path, soffice: str) -> None:
    pdf = libreoffice_pdf(soffice, compared, tmp_path / "pdf")
    pages = _pages(pdf)
    detail = [p for p in pages if "上年结转核对" in p["text"] and "合计（12 个单位）" in p["text"]]
    assert len(detail) == 1
    assert detail[0]["size"] == ("1190.55", "841.89")  # A3 landscape
    assert "上年结转核对" in detail[0]["text"] and "青禾县西城街道办事处" in detail[0]["text"]


def _pages(pdf: Path) -> list[dict[str, Any]]:
    import subprocess

    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True, check=True)
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info.stdout)
    out = []
    for n, size in enumerate(sizes, start=1):
        text = subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(pdf), "-"], capture_output=True, text=True
        ).stdout
        out.append({"size": size, "text": re.sub(r" {2,}", "\n", text.strip())})
    return out


# ---------------------------------------------------------------- a property


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_carry_over_found_exactly_where_it_differs(data: st.DataObject) -> None:
    """Last year's 结转下年度 = this year's 上年结转 for every unit but one column of one: only that is listed."""
    draw: Draw = lambda lo, hi: data.draw(st.integers(lo, hi))  # noqa: E731
    this = {f"u{i}.xlsx": unit_values(draw, f"单位{i}") for i in range(3)}
    odd, column = f"单位{draw(0, 2)}", T3_COLUMNS[draw(0, len(T3_COLUMNS) - 1)]
    last = {}
    for file, values in this.items():
        before = county_data.values_of(0, values["unit.unit_name"], values["unit.unit_type"], {})
        before |= {"unit.report_year": 2022, "s1.on_request": "依申请公开工作按规定办理。"}
        for col in T3_COLUMNS:  # 一+二=三（七）+四 with nothing handled: 新收 = 结转下年度
            carried = values[f"t3.carry_in.{col}"] + (1 if (values["unit.unit_name"], col) == (odd, column) else 0)
            before |= {f"t3.new.{col}": carried, f"t3.carry_out.{col}": carried}
        last[file] = before
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        merge(write_units(d / "2022", last), d / "2022.xlsx", jobs=1)
        outcome = merge(write_units(d / "2023", this), d / "2023.xlsx", jobs=1, previous=d / "2022.xlsx")
    assert outcome.comparison is not None and outcome.comparison.checked == 3
    diff = outcome.comparison.diffs[odd]
    assert list(outcome.comparison.diffs) == [odd] and diff.columns == (col_title(T3_LEAVES[column]),)
    assert diff.last[0] == diff.this[0] + 1


def two_units(folder: Path, year: int, shu: dict[str, Any], che: dict[str, Any]) -> list[Path]:
    """沭阳县发改局 and 车排子镇 of ``year``, each on the form its year needs (the 2019 form for 2020)."""
    folder.mkdir()
    plain = {"s1.on_request": "依申请公开渠道（当面、信函、网络）保持畅通。", "unit.report_year": year}
    base = {k: v for k, v in SHUYANG.items() if not k.startswith(("t2.", "t3."))}
    return [
        write_valid(folder / "沭阳.xlsx", {**base, **plain, **shu}),
        write_valid(folder / "车排子.xlsx", {**CHEPAIZI, **plain, **che}),
    ]


def test_a_2019_form_summary_is_compared_through_the_declared_correspondence(tmp_path: Path) -> None:
    """A 2020 county summary on the 2019 form against 2021 reports: only what both forms have."""
    shu_2020 = {"t3.new.natural": 28, "t3.disclosed.natural": 26, "t3.otherwise.natural": 1, "t3.carry_out.natural": 1}
    che_2020 = {"t3.new.business": 3, "t3.disclosed.business": 1, "t3.carry_out.business": 2}
    last = two_units(tmp_path / "2020", 2020, {**shu_2020, "t2.license.decisions": 5}, che_2020)
    summary = tmp_path / "2020年汇总.xlsx"
    assert merge(last, summary, unit="某某县人民政府", jobs=1).exit_code == 0
    assert read(summary).spec.form_version == "2019"
    shu_2021 = {"t3.carry_in.natural": 1, "t3.new.natural": 27, "t3.disclosed.natural": 26}
    shu_2021 |= {"t3.other_handling.natural": 2, "t2.license.decisions": 7}
    che_2021 = {"t3.carry_in.business": 1, "t3.new.business": 2, "t3.disclosed.business": 3}
    this = two_units(tmp_path / "2021", 2021, shu_2021, che_2021)
    out = tmp_path / "2021年汇总.xlsx"
    outcome = merge(this, out, unit="某某县人民政府", jobs=1, previous=summary, now=NOW)
    assert outcome.exit_code == 1 and not outcome.rejected  # 车排子镇's carry-over differs: CY-1
    assert outcome.comparison is not None and outcome.comparison.by_totals == ()  # per column: t3 is the same
    assert notes_from(out, "上年结转核对") == [
        (
            "上年结转核对",
            "两年都有的 2 个单位逐一核对（规则 CY-1：上年结转=上年度结转下年度继续办理），1 个单位不一致。",
        ),
        ("上年结转不一致", "车排子镇人民政府：" + CY1.format(column="商业企业", value=1, expected=2)),
        ("上年有、本年没有", "无"),
        ("本年有、上年没有", "无"),
        ("较上年", "2020 年", "2021 年", "增减", "增减（%）"),
        ("新收", 31, 29, -2, Decimal("-6.5")),
        ("上年结转", 0, 2, 2),
        ("予以公开", 27, 29, 2, Decimal("7.4")),
        ("部分公开", 0, 0, 0),
        ("不予公开", 0, 0, 0),
        ("无法提供", 0, 0, 0),
        ("不予处理", 0, 0, 0),
        ("其他处理", 2),  # the 2021 form's rows of it have no counterpart on the 2019 form
        ("办理总计", 28, 31, 3, Decimal("10.7")),
        ("结转下年度", 3, 0, -3, Decimal("-100.0")),
        ("复议总计", 1, 1, 0, 0),
        ("诉讼总计", 0, 0, 0),
        ("行政许可", 5, 7, 2, Decimal("40.0")),  # declared in [succeeds] cells
        ("行政处罚", 0, 0, 0),
        ("行政强制", 0, 0, 0),
        ("收费金额（万元）", 0),  # the 2019 form has no such cell
    ]
    rows = sheet_rows(out, [DETAIL_SHEET])[DETAIL_SHEET]
    at = rows[0].index("上年新收")
    assert {r[0]: r[at : at + 3] for r in rows[2:4]} == {
        "沭阳县发展和改革局": (28, -1, "一致"),
        "车排子镇人民政府": (3, -1, "不一致：商业企业列 本年 1、上年 2"),
    }
