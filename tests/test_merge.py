"""`xltool merge`: exact sums, a summary that checks clean and merges again, nothing lost, rosters."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from xltool.cli import app
from xltool.form import spec as specs
from xltool.form.layout import text_width
from xltool.form.spec import leaves
from xltool.sources.checking import check
from xltool.sources.merging import merge
from xltool.submission import computed
from xltool.summary.analytics import CARRY_SHEET, CHART_SHEET
from xltool.summary.merge import DETAIL_SHEET, NOTES_SHEET, TEXTS_SHEET, combine, key_figures, numeric_keys
from xltool.workbook import template
from xltool.workbook.reader import read, sheet_rows

from . import county_data
from .conftest import ROOT
from .helpers import FORMS, fill, libreoffice_resave

runner = CliRunner()
SPEC = specs.load()
COUNTY = ROOT / "samples" / "county"
WORKBOOKS = COUNTY / county_data.WORKBOOKS
ROSTER = COUNTY / county_data.ROSTER
PREVIOUS = COUNTY / county_data.PREVIOUS_SUMMARY  # the county's 2022 summary
# the same 2022 summary as merge wrote it before summaries kept each unit's carry-over per column
OLD_PREVIOUS = ROOT / "tests" / "fixtures" / "青禾县2022年汇总（旧版）.xlsx"
NOW = dt.datetime(2024, 1, 20, 9, 30)
MERGED = {f: v for f, v in county_data.submissions().items() if v["unit.unit_name"] != county_data.INVALID}


def expected_sums(units: list[dict[str, Any]], spec: specs.FormSpec = SPEC) -> dict[str, Any]:
    """Every numeric input summed independently of xltool: plain dict arithmetic on the filled values
    (money amounts in their smallest unit, 元: each times the size of the unit its filler chose)."""
    sizes = {cell.key: (unit_key, cell.col.node.units) for cell, unit_key in spec.chosen_units()}
    out: dict[str, Any] = {}
    for values in units:
        for key in numeric_keys(spec):
            size = sizes[key][1][values[sizes[key][0]]] if key in sizes and values.get(key) else 1
            out[key] = out.get(key, 0) + values.get(key, 0) * size
    return out


def numbers(path: Path) -> dict[str, Any]:
    """A workbook's figures; money amounts in their smallest unit (元), as expected_sums gives them."""
    sub = read(path)
    table = computed(sub.spec, sub.values)
    out = {k: table[k] if k in table else sub.values[k] for k in [*table, *numeric_keys(sub.spec)]}
    for cell, unit_key in sub.spec.chosen_units():
        out[cell.key] *= cell.col.node.units.get(sub.text(unit_key), 1)
    return out


def sha(paths: list[Path]) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def write_units(folder: Path, units: dict[str, dict[str, Any]], spec: specs.FormSpec = SPEC) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, values in units.items():
        template.write(folder / name, spec, values)
    return [folder / name for name in units]


@pytest.fixture()
def county(tmp_path: Path) -> Path:
    """A copy of the sample county's workbooks, safe to add files to."""
    return Path(shutil.copytree(WORKBOOKS, tmp_path / "county"))


# ---------------------------------------------------------------- the sample county


def test_committed_county_matches_the_generator(tmp_path: Path) -> None:
    fresh = county_data.build(tmp_path)
    committed = sorted(WORKBOOKS.glob("*.xlsx"))
    assert sorted(p.name for p in fresh if p.parent.name == county_data.WORKBOOKS) == [p.name for p in committed]
    for path in committed:
        assert read(path).values == read(tmp_path / county_data.WORKBOOKS / path.name).values, path.name
    assert (tmp_path / county_data.ROSTER).read_bytes() == ROSTER.read_bytes()
    summary = tmp_path / county_data.PREVIOUS_SUMMARY
    assert read(summary).values == read(PREVIOUS).values
    sheets = [DETAIL_SHEET, TEXTS_SHEET, CARRY_SHEET, CHART_SHEET]
    assert sheet_rows(summary, sheets) == sheet_rows(PREVIOUS, sheets)


def test_county_merge_on_screen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "汇总.xlsx"
    args = ["merge", "samples/county/报表", "-o", str(out), "--unit", "青禾县人民政府"]
    result = runner.invoke(app, [*args, "--roster", "samples/county/名单.csv", "--jobs", "1"])
    assert result.exit_code == 1, result.output
    bad = "samples/county/报表/青禾县教育局2023年报.xlsx"
    assert result.stdout == (
        f"已生成汇总工作簿 {out}（青禾县人民政府，12 个单位）\n"
        "未汇总 1 个文件：\n"
        f"  ✗ {bad}（青禾县教育局）：有 2 个错误\n"
        "      错误 T3-1 三、收到和处理政府信息公开申请情况!D30 自然人列：一+二=6，三（七）+四=5，相差 1。请核对本列的新收、结转和办理结果数字。\n"
        "      错误 T3-1 三、收到和处理政府信息公开申请情况!J30 总计列：一+二=6，三（七）+四=5，相差 1。请核对本列的新收、结转和办理结果数字。\n"
        "名单核对（samples/county/名单.csv，13 个单位）：\n"
        "  未报送 1 个：青禾县石桥乡人民政府\n"
        "  不在名单中 1 个：青禾县住房和城乡建设局\n"
        "共 13 个输入文件 = 已汇总 12 个 + 未汇总 1 个。\n"
    )
    assert result.stderr == ""


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("summary") / "汇总.xlsx"
    outcome = merge(sorted(WORKBOOKS.glob("*.xlsx")), out, unit="青禾县人民政府", roster_path=ROSTER, jobs=1, now=NOW)
    assert outcome.exit_code == 1
    return out


def test_sums_are_exact(summary: Path) -> None:
    got = numbers(summary)
    want = expected_sums(list(MERGED.values()))
    assert {k: got[k] for k in want} == want
    assert got["t2.fees.amount"] == Decimal("417.2741")  # 18.642 + 356.4821 + 42.15, no float drift
    # totals recomputed from the summed inputs equal the sum of each unit's totals
    per_unit = [computed(SPEC, {**SPEC_BLANK, **v}) for v in MERGED.values()]
    for key in ("t3.total.total", "t3.new.total", "t4.cases.review_total", "t3.carry_out.total"):
        assert got[key] == sum(u[key] for u in per_unit), key


SPEC_BLANK = {c.key: 0 for c in SPEC.inputs()}


def test_summary_checks_clean_and_is_stamped(summary: Path) -> None:
    result = runner.invoke(app, ["check", str(summary)])
    assert result.exit_code == 0, result.output
    sub = read(summary)
    assert sub.summary_units == 12
    assert (sub.unit_name, sub.year) == ("青禾县人民政府", 2023)
    assert sub.properties["template_id"] == SPEC.template_id
    # recommended unit fields are the office's to fill; the drafted prose waits for its review (D-DRAFT)
    findings = check([summary])[0].findings
    assert [(f.rule, f.severity, f.sheet, f.cell) for f in findings] == [
        ("D-DRAFT", "warning", "一、总体情况", "A4"),
        ("D-DRAFT", "warning", "一、总体情况", "A6"),
    ]
    drafted = {"s1.active", "s1.on_request", "s6.fee"}  # what figures can say; the rest is the office's to write
    assert set(sub.drafts) == drafted
    assert all(
        bool(sub.text(f"{s.key}.{p.key}")) == (f"{s.key}.{p.key}" in drafted) for s in SPEC.sections for p in s.parts
    )
    assert sub.text("s1.on_request").startswith("本年度全县共新收政府信息公开申请56件，其中自然人")


def test_summary_totals_are_formulas(summary: Path) -> None:
    ws = openpyxl.load_workbook(summary)["三、收到和处理政府信息公开申请情况"]
    assert ws["J29"].value == "=SUM(D29:I29)"
    cached = openpyxl.load_workbook(summary, data_only=True)["三、收到和处理政府信息公开申请情况"]
    assert cached["J29"].value == 56


def test_detail_sheet_lists_every_input_and_adds_up(summary: Path) -> None:
    rows = sheet_rows(summary, [DETAIL_SHEET])[DETAIL_SHEET]
    header, total, *units = rows
    names = [f.name for f in key_figures(SPEC)]
    assert header == ("单位名称", "单位类型", "文件", "状态", *names)
    assert names == [
        "新收",
        "上年结转",
        "予以公开",
        "部分公开",
        "不予公开",
        "无法提供",
        "不予处理",
        "其他处理",
        "办理总计",
        "结转下年度",
        "复议总计",
        "诉讼总计",
        "行政许可",
        "行政处罚",
        "行政强制",
        "收费金额（万元）",
    ]
    assert total[:4] == ("合计（12 个单位）", None, None, None)
    merged = [r for r in units if r[3] == "已汇总"]
    assert len(merged) == 12 and len(units) == 13
    assert units[-1][:4] == ("青禾县教育局", "县级人民政府部门", "青禾县教育局2023年报.xlsx", "未汇总：有 2 个错误")
    assert units[-1][4:] == (None,) * 16
    police = next(r for r in units if r[0] == "青禾县公安局")
    assert police[1:4] == ("县级人民政府部门", "青禾县公安局2023年报.xlsx", "已汇总")
    assert police[4:] == (11, 1, 4, 1, 3, 3, 0, 0, 11, 1, 1, 0, 1520, 2315, 47, Decimal("18.642"))
    got = numbers(summary)
    for i, figure in enumerate(key_figures(SPEC), start=4):
        column = sum(r[i] for r in merged)
        assert column == total[i] == sum(got[k] for k in figure.keys), figure.name


def test_detail_sheet_has_one_line_per_unit(summary: Path) -> None:
    """Each unit on one line of even height: the text columns fit their longest entry."""
    ws = openpyxl.load_workbook(summary)[DETAIL_SHEET]
    heights = {ws.row_dimensions[r].height for r in range(2, ws.max_row + 1)}
    assert heights == {18.0}, heights
    for col in "ABCD":
        longest = max(text_width(str(ws[f"{col}{r}"].value or "")) for r in range(2, ws.max_row + 1))
        assert ws.column_dimensions[col].width >= longest + 1.5, col


def test_notes_sheet_accounts_for_every_input(summary: Path) -> None:
    notes = dict(sheet_rows(summary, [NOTES_SHEET])[NOTES_SHEET][1:6])
    assert notes == {
        "汇总单位": "青禾县人民政府",
        "报告年度": "2023",
        "汇总范围": "12 个单位（12 个工作簿）",
        "输入文件": "共 13 个 = 已汇总 12 个 + 未汇总 1 个",
        "文件位置": f"{WORKBOOKS}（以下及“单位明细”中的文件名均相对于此文件夹）",
    }
    rows = sheet_rows(summary, [NOTES_SHEET])[NOTES_SHEET]
    assert ("未汇总", "青禾县教育局2023年报.xlsx（青禾县教育局）：有 2 个错误") in rows
    assert ("未报送", "青禾县石桥乡人民政府") in rows
    assert ("不在名单中", "青禾县住房和城乡建设局") in rows
    assert ("名单核对", f"{ROSTER}：13 个单位") in rows
    errors = [r[1] for r in rows if r[0] == "错误"]
    assert errors == [
        "青禾县教育局（青禾县教育局2023年报.xlsx）T3-1 三、收到和处理政府信息公开申请情况!D30："
        "自然人列：一+二=6，三（七）+四=5，相差 1。请核对本列的新收、结转和办理结果数字。",
        "青禾县教育局（青禾县教育局2023年报.xlsx）T3-1 三、收到和处理政府信息公开申请情况!J30："
        "总计列：一+二=6，三（七）+四=5，相差 1。请核对本列的新收、结转和办理结果数字。",
    ]
    assert rows[-2] == ("xltool 版本", "0.1.0") and rows[-1] == ("汇总时间", "2024-01-20 09:30")


def test_texts_sheet_gathers_each_merged_units_narratives(summary: Path) -> None:
    rows = sheet_rows(summary, [TEXTS_SHEET])[TEXTS_SHEET]
    assert rows[0] == ("单位名称", "部分", "方面", "内容")
    assert {r[0] for r in rows[1:]} == {v["unit.unit_name"] for v in MERGED.values()}
    police = county_data.submissions()["青禾县公安局2023年报.xlsx"]
    assert ("青禾县公安局", "一、总体情况", "（二）依申请公开", police["s1.on_request"]) in rows
    assert len(rows) - 1 == 12 * 9


# ---------------------------------------------------------------- merging summaries, order, parallelism


def split(county: Path) -> tuple[list[Path], list[Path]]:
    files = sorted(p for p in county.glob("*.xlsx") if county_data.INVALID not in p.name)
    return files[::2], files[1::2]


def test_two_level_merge_equals_flat_merge(county: Path, tmp_path: Path) -> None:
    east, west = split(county)
    flat = merge([*east, *west], tmp_path / "flat.xlsx", unit="县", jobs=1)
    (tmp_path / "level1").mkdir()
    merge(east, tmp_path / "level1" / "east.xlsx", unit="东片", jobs=1)
    merge(west, tmp_path / "level1" / "west.xlsx", unit="西片", jobs=1)
    nested = merge(sorted((tmp_path / "level1").glob("*.xlsx")), tmp_path / "nested.xlsx", unit="县", jobs=1)
    assert nested.exit_code == flat.exit_code == 0
    assert numbers(tmp_path / "nested.xlsx") == numbers(tmp_path / "flat.xlsx")
    assert read(tmp_path / "nested.xlsx").summary_units == len(east) + len(west) == 12
    detail = {name: sheet_rows(tmp_path / name, [DETAIL_SHEET, TEXTS_SHEET]) for name in ("flat.xlsx", "nested.xlsx")}

    def without_file(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [(*r[:2], *r[3:]) for r in rows]

    assert without_file(detail["nested.xlsx"][DETAIL_SHEET]) == without_file(detail["flat.xlsx"][DETAIL_SHEET])
    files = [r[2] for r in detail["nested.xlsx"][DETAIL_SHEET][2:]]
    assert (
        "east.xlsx／青禾县东城街道办事处2023年报.xlsx" in files
        or "west.xlsx／青禾县东城街道办事处2023年报.xlsx" in files
    )
    assert detail["nested.xlsx"][TEXTS_SHEET] == detail["flat.xlsx"][TEXTS_SHEET]


def test_order_and_jobs_do_not_change_the_summary(county: Path, tmp_path: Path) -> None:
    files = sorted(county.glob("*.xlsx"))
    merge(files, tmp_path / "a.xlsx", unit="县", jobs=1, now=NOW)
    steps: list[int] = []
    merge(files[::-1], tmp_path / "b.xlsx", unit="县", jobs=2, chunk=3, now=NOW, progress=steps.append)
    assert sum(steps) == len(files) and len(steps) == 5  # five chunks, read by two spawned processes
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_inputs_are_unchanged(county: Path, tmp_path: Path) -> None:
    files = sorted(county.glob("*.xlsx"))
    before = sha([*files, ROSTER])
    result = runner.invoke(app, ["merge", str(county), "-o", str(tmp_path / "s.xlsx"), "--roster", str(ROSTER)])
    assert result.exit_code == 1
    assert sha([*files, ROSTER]) == before
    assert sorted(county.iterdir()) == files  # no temporary file left behind


# ---------------------------------------------------------------- refusals: nothing is silently dropped


def test_output_that_is_an_input_is_refused(county: Path) -> None:
    target = county / "青禾县公安局2023年报.xlsx"
    before = sha([target])
    result = runner.invoke(app, ["merge", str(county), "-o", str(target)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"错误：输出文件 {target} 也是输入之一，不能覆盖输入。请把汇总工作簿保存到输入文件夹以外，或另取一个文件名。\n"
    )
    assert sha([target]) == before


def test_output_that_is_the_roster_is_refused(county: Path, tmp_path: Path) -> None:
    roster = write_xlsx(tmp_path / "名单.xlsx", [["单位名称"], ["青禾县公安局"]])
    before = sha([roster])
    result = runner.invoke(app, ["merge", str(county), "-o", str(roster), "--roster", str(roster)])
    assert result.exit_code == 2 and "也是输入之一" in result.stderr
    assert sha([roster]) == before


def test_rerun_with_summary_inside_the_input_folder_is_refused(county: Path) -> None:
    out = county / "汇总.xlsx"
    assert runner.invoke(app, ["merge", str(county), "-o", str(out)]).exit_code == 1
    again = runner.invoke(app, ["merge", str(county), "-o", str(out)])
    assert again.exit_code == 2
    assert "也是输入之一" in again.stderr


def test_two_inputs_for_one_unit_are_refused_naming_both(county: Path, tmp_path: Path) -> None:
    copy = county / "公安局（修改稿）.xlsx"
    shutil.copy(county / "青禾县公安局2023年报.xlsx", copy)
    result = runner.invoke(app, ["merge", str(county), "-o", str(tmp_path / "s.xlsx")])
    assert result.exit_code == 2
    assert result.stderr == (
        "错误：同一单位有多个工作簿，不能重复汇总。请每个单位只保留一个，再重新汇总：\n"
        f"  青禾县公安局：{copy}、{county / '青禾县公安局2023年报.xlsx'}\n"
    )
    assert not (tmp_path / "s.xlsx").exists()


def test_a_unit_in_a_summary_and_on_its_own_is_refused(county: Path, tmp_path: Path) -> None:
    east, _west = split(county)
    merge(east, tmp_path / "east.xlsx", jobs=1)
    result = runner.invoke(app, ["merge", str(tmp_path / "east.xlsx"), str(east[0]), "-o", str(tmp_path / "s.xlsx")])
    assert result.exit_code == 2
    name = read(east[0]).unit_name
    assert f"  {name}：" in result.stderr and str(tmp_path / "east.xlsx") in result.stderr


def test_different_report_years_are_refused(county: Path, tmp_path: Path) -> None:
    values = county_data.submissions()["青禾县公安局2023年报.xlsx"] | {"unit.report_year": 2022, "unit.unit_name": "X"}
    template.write(county / "x2022.xlsx", SPEC, values)
    result = runner.invoke(app, ["merge", str(county), "-o", str(tmp_path / "s.xlsx")])
    assert result.exit_code == 2
    assert result.stderr == (
        "错误：输入的工作簿报告年度不一致，不能汇总在一起：\n  报告年度 2023：12 个文件\n"
        f"  报告年度 2022：{county / 'x2022.xlsx'}\n"
    )


def test_unreadable_inputs_are_listed_with_their_reason(county: Path, tmp_path: Path) -> None:
    (county / "旧格式.xls").write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(512))
    (county / "空文件.xlsx").write_bytes(b"")
    out = tmp_path / "s.xlsx"
    result = runner.invoke(app, ["merge", str(county), "-o", str(out)])
    assert result.exit_code == 1
    assert "共 15 个输入文件 = 已汇总 12 个 + 未汇总 3 个。" in result.stdout
    assert (
        f"  ✗ {county / '空文件.xlsx'}：无法读取：文件是空的（0 字节），可能没有保存成功。请重新保存后再试。\n"
        in result.stdout
    )
    status = {r[2]: r[:4] for r in sheet_rows(out, [DETAIL_SHEET])[DETAIL_SHEET][2:]}
    assert status["空文件.xlsx"] == ("（无法读取）", None, "空文件.xlsx", "未汇总：无法读取")
    assert status["旧格式.xls"][3] == "未汇总：无法读取"
    assert len(status) == 15


def test_include_invalid_merges_them_marked(county: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.xlsx"
    result = runner.invoke(app, ["merge", str(county), "-o", str(out), "--include-invalid"])
    assert result.exit_code == 1
    assert "有错误但按 --include-invalid 计入了汇总的 1 个文件：" in result.stdout
    assert "共 13 个输入文件 = 已汇总 13 个 + 未汇总 0 个。" in result.stdout
    assert read(out).summary_units == 13
    assert numbers(out)["t3.new.natural"] == expected_sums(list(county_data.submissions().values()))["t3.new.natural"]
    status = {r[0]: r[3] for r in sheet_rows(out, [DETAIL_SHEET])[DETAIL_SHEET][2:]}
    assert status["青禾县教育局"] == "已汇总（有 2 个错误）"


def test_nothing_mergeable_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "s.xlsx"
    result = runner.invoke(app, ["merge", str(WORKBOOKS / "青禾县教育局2023年报.xlsx"), "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr.startswith("错误：没有可以汇总的工作簿：1 个输入都未通过校验。\n  ✗ ")
    assert not out.exists()


def test_a_tampered_summary_is_rejected(county: Path, tmp_path: Path) -> None:
    east, west = split(county)
    merge(east, tmp_path / "east.xlsx", jobs=1)
    fill(tmp_path / "east.xlsx", tmp_path / "edited.xlsx", {"t2.license.decisions": 1})
    result = runner.invoke(
        app, ["merge", str(tmp_path / "edited.xlsx"), *map(str, west), "-o", str(tmp_path / "s.xlsx")]
    )
    assert result.exit_code == 1
    assert "汇总工作簿的“单位明细”各单位数字之和与汇总表的数字不一致，汇总表可能被改动过。" in result.stdout


def test_bad_output_and_jobs(county: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["merge", str(county), "-o", str(tmp_path / "s.csv")])
    assert (result.exit_code, result.stderr) == (2, f"错误：汇总工作簿必须以 .xlsx 结尾：{tmp_path / 's.csv'}\n")
    result = runner.invoke(app, ["merge", str(county), "-o", str(tmp_path / "s.xlsx"), "--jobs", "0"])
    assert (result.exit_code, result.stderr) == (2, "错误：--jobs 必须是正整数。\n")
    result = runner.invoke(app, ["merge", str(county), "-o", str(tmp_path / "no" / "s.xlsx")])
    assert result.exit_code == 2 and "输出文件夹" in result.stderr


# ---------------------------------------------------------------- engines


@pytest.mark.slow
def test_libreoffice_saved_summary_checks_and_merges_the_same(summary: Path, tmp_path: Path, soffice: str) -> None:
    saved = libreoffice_resave(soffice, summary, tmp_path / "lo")
    assert [f.to_json() for f in check([saved])[0].findings] == [f.to_json() for f in check([summary])[0].findings]
    again = merge([saved], tmp_path / "again.xlsx", jobs=1)
    assert again.exit_code == 0 and again.units == 12
    assert numbers(tmp_path / "again.xlsx") == numbers(summary)


@pytest.mark.slow
def test_libreoffice_saved_2019_summary_checks_and_merges_the_same(tmp_path: Path, soffice: str) -> None:
    base = unit_values(lambda lo, hi: lo, "甲镇人民政府", specs.load("2019"))
    units = {
        "a.xlsx": base
        | {"t2.license.change": -4, "t2.procurement.amount": Decimal("251000.5")}
        | {"t2.procurement.amount.unit": "元"},
        "b.xlsx": base
        | {"unit.unit_name": "乙镇人民政府", "t2.procurement.amount": Decimal("1.234567")}
        | {"t2.procurement.amount.unit": "万元"},
    }
    summary = tmp_path / "汇总.xlsx"
    merge(write_units(tmp_path / "in", units, specs.load("2019")), summary, jobs=1)
    saved = libreoffice_resave(soffice, summary, tmp_path / "lo")
    # LibreOffice keeps the drafted texts and the property that marks them: still drafts
    assert check([saved])[0].findings == check([summary])[0].findings
    assert {f.rule for f in check([summary])[0].findings} == {"D-DRAFT"}
    assert read(saved).values == read(summary).values
    again = merge([saved], tmp_path / "again.xlsx", jobs=1)
    assert again.exit_code == 0 and again.units == 2
    assert numbers(tmp_path / "again.xlsx") == numbers(summary)
    assert read(summary).values["t2.license.change"] == -4 + base["t2.license.change"] < 0  # signed sums


# ---------------------------------------------------------------- rosters


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def test_roster_in_gbk_csv_and_in_xlsx_with_a_title_row(county: Path, tmp_path: Path) -> None:
    names = ["青禾县公安局", "青禾县某某局"]
    gbk = tmp_path / "名单.csv"
    gbk.write_bytes(("单位名称,单位类型\r\n" + "".join(f"{n},县级人民政府部门\r\n" for n in names)).encode("gbk"))
    book = write_xlsx(
        tmp_path / "名单.xlsx",
        [["2023 年度报送名单"], [], ["序号", "单位名称"], *[[i, n] for i, n in enumerate(names)]],
    )
    for roster in (gbk, book):
        result = runner.invoke(app, ["merge", str(county), "-o", str(tmp_path / "s.xlsx"), "--roster", str(roster)])
        assert result.exit_code == 1
        assert f"名单核对（{roster}，2 个单位）：\n  未报送 1 个：青禾县某某局\n  不在名单中 12 个：" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "名称,类型\n公安局,其他\n",
            " 中没有“单位名称”列。名单的第一行应为列名：单位名称（必需）、单位类型、上级单位（可选）。",
        ),
        ("单位名称\n公安局\n 公安局\n", " 中“公安局”出现了两次（第 2 行和第 3 行）。"),
        (
            "单位名称,单位类型\n公安局,县局\n",
            " 第 2 行：单位类型“县局”不在可选范围内（乡镇人民政府、街道办事处、县级人民政府部门、县级人民政府、市级人民政府部门、市级人民政府、省级人民政府部门、省级人民政府、其他）。",
        ),
        ("单位名称\n\n", " 中没有单位（“单位名称”列是空的）。"),
    ],
)
def test_a_bad_roster_stops_before_any_work(county: Path, tmp_path: Path, content: str, message: str) -> None:
    roster = tmp_path / "r.csv"
    roster.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["merge", str(county), "-o", str(tmp_path / "s.xlsx"), "--roster", str(roster)])
    assert (result.exit_code, result.stderr) == (2, f"错误：名单 {roster}{message}\n")
    assert not (tmp_path / "s.xlsx").exists()


def test_roster_file_must_exist_and_be_a_table(county: Path, tmp_path: Path) -> None:
    for roster, message in [
        (tmp_path / "none.csv", f"错误：找不到名单文件 {tmp_path / 'none.csv'}。\n"),
        (
            county / "青禾县公安局2023年报.xlsx",
            f"错误：名单 {county / '青禾县公安局2023年报.xlsx'} 中没有“单位名称”列。",
        ),
    ]:
        result = runner.invoke(app, ["merge", str(county), "-o", str(tmp_path / "s.xlsx"), "--roster", str(roster)])
        assert result.exit_code == 2 and result.stderr.startswith(message)
    doc = tmp_path / "名单.docx"
    doc.write_bytes(b"x")
    result = runner.invoke(app, ["merge", str(county), "-o", str(tmp_path / "s.xlsx"), "--roster", str(doc)])
    assert result.stderr == f"错误：名单 {doc} 应为 .csv 或 .xlsx 文件（WPS、Excel 可另存为这两种格式）。\n"


def test_roster_inside_the_input_folder_is_not_an_input(county: Path, tmp_path: Path) -> None:
    shutil.copy(ROSTER, county / "名单.csv")
    result = runner.invoke(
        app, ["merge", str(county), "-o", str(tmp_path / "s.xlsx"), "--roster", str(county / "名单.csv")]
    )
    assert result.exit_code == 1
    assert "共 13 个输入文件 = 已汇总 12 个 + 未汇总 1 个。" in result.stdout


def test_template_per_roster_unit_prefilled_and_locked(tmp_path: Path) -> None:
    out = tmp_path / "模板"
    result = runner.invoke(app, ["template", "--roster", str(ROSTER), "--year", "2024", "-o", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(out.iterdir())
    assert len(files) == 13 and result.stderr == "已生成 13 份模板。\n"
    town = out / "青禾县石桥乡人民政府2024年政府信息公开工作年度报告填报模板.xlsx"
    assert str(town) in result.stdout.splitlines()
    sub = read(town)
    assert (sub.unit_name, sub.year, sub.text("unit.unit_type"), sub.text("unit.parent_unit")) == (
        "青禾县石桥乡人民政府",
        2024,
        "乡镇人民政府",
        "青禾县人民政府办公室",
    )
    ws = openpyxl.load_workbook(town)["单位信息"]
    assert [ws[f"B{r}"].protection.locked for r in range(3, 11)] == [True, True, True, True, False, False, False, False]
    again = runner.invoke(app, ["template", "--roster", str(ROSTER), "--year", "2024", "-o", str(out)])
    assert again.exit_code == 2
    assert again.stderr.startswith(
        f"错误：{out} 中已有同名文件：青禾县城关镇人民政府2024年政府信息公开工作年度报告填报模板.xlsx、"
    )
    assert (
        runner.invoke(app, ["template", "--roster", str(ROSTER), "-o", str(out), "--year", "2024", "--force"]).exit_code
        == 0
    )


def test_template_per_roster_unit_on_the_form_of_the_year(tmp_path: Path) -> None:
    result = runner.invoke(app, ["template", "--roster", str(ROSTER), "--year", "2020", "-o", str(tmp_path)])
    assert (result.exit_code, result.stderr) == (0, "已生成 13 份模板。\n")
    assert {read(p).spec.form_version for p in tmp_path.iterdir()} == {"2019"}


def test_template_roster_needs_a_folder(tmp_path: Path) -> None:
    for args, message in [
        (
            ["-o", str(tmp_path / "x.xlsx")],
            "错误：使用 --roster 时，请用 -o 指定一个输出文件夹（每个单位一份模板）。\n",
        ),
        ([], "错误：使用 --roster 时，请用 -o 指定一个输出文件夹（每个单位一份模板）。\n"),
        (
            ["-o", str(tmp_path), "--unit", "某局"],
            "错误：--roster 不能和 --unit 或 --previous 一起使用：名单中的每个单位各生成一份模板。\n",
        ),
    ]:
        result = runner.invoke(app, ["template", "--roster", str(ROSTER), *args])
        assert (result.exit_code, result.stderr) == (2, message)


# ---------------------------------------------------------------- properties and a larger run

T3 = SPEC.table("t3").blocks[0]
T3_COLUMNS = [c.key for c in leaves(T3.columns) if not c.node.derived]
T3_OUTCOMES = [r.key for r in leaves(T3.rows) if not r.node.derived and r.key not in ("new", "carry_in", "carry_out")]
OTHER_INPUTS = [c for c in SPEC.inputs() if c.table != "t3"]
TYPES = (county_data.TOWN, county_data.STREET, county_data.DEPT)
Draw = Callable[[int, int], int]


def unit_values(draw: Draw, name: str, spec: specs.FormSpec = SPEC) -> dict[str, Any]:
    """A valid unit: 表三 balances in every column (一+二=三（七）+四); 万元 with up to 6 places;
    on the 2019 form, 本年增/减 of either sign and purchase amounts in 元 or 万元."""
    values: dict[str, Any] = county_data.values_of(0, name, TYPES[draw(0, 2)], {})
    values["unit.report_year"] = max(min(county_data.YEAR, spec.max_year or county_data.YEAR), spec.min_year)
    values["s1.on_request"] = "依申请公开工作按规定办理。"  # no figure for P-ZERO-TABLES to compare
    block = spec.table("t3").blocks[0]
    outcomes = [
        r.key for r in leaves(block.rows) if not r.node.derived and r.key not in ("new", "carry_in", "carry_out")
    ]
    for col in T3_COLUMNS:
        handled = 0
        for _ in range(draw(0, 3)):
            key = f"t3.{outcomes[draw(0, len(outcomes) - 1)]}.{col}"
            values[key] = values.get(key, 0) + 1
            handled += 1
        carry_out = draw(0, 2)
        carry_in = draw(0, handled + carry_out)
        values |= {f"t3.carry_out.{col}": carry_out, f"t3.carry_in.{col}": carry_in}
        values[f"t3.new.{col}"] = handled + carry_out - carry_in
    for cell in (c for c in spec.inputs() if c.table != "t3"):
        if draw(0, 3) == 0:
            if cell.type in ("wan_yuan", "money"):
                values[cell.key] = Decimal(draw(0, 10**8)).scaleb(-6)
            else:
                values[cell.key] = draw(0, 3000) - (1500 if cell.type == "signed_count" else 0)
    for cell, unit_key in spec.chosen_units():
        values[unit_key] = list(cell.col.node.units)[draw(0, len(cell.col.node.units) - 1)]
    for cell in spec.inputs():
        if cell.row.key == "rules":
            values[cell.key] = 0  # towns make no rules
    return values


def test_combine_is_associative_with_zero_as_identity() -> None:
    rows = st.lists(st.one_of(st.integers(0, 10**9), st.decimals(0, 10**6, places=6)), min_size=3, max_size=3)

    @given(st.lists(rows, max_size=6), st.lists(rows, max_size=6), st.lists(rows, max_size=6))
    def law(a: list[list[Any]], b: list[list[Any]], c: list[list[Any]]) -> None:
        ab, bc = combine([*a, *b], 3), combine([*b, *c], 3)
        assert combine([ab, combine(c, 3)], 3) == combine([combine(a, 3), bc], 3) == combine([*a, *b, *c], 3)
        assert combine([combine([], 3), *a], 3) == combine(a, 3)  # the empty summary adds nothing

    law()


@pytest.mark.slow
@pytest.mark.parametrize("form", FORMS)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_merging_is_associative_and_summaries_check_clean(form: str, data: st.DataObject) -> None:
    spec = specs.load(form)
    draw: Draw = lambda lo, hi: data.draw(st.integers(lo, hi))  # noqa: E731
    units = {f"u{i}.xlsx": unit_values(draw, f"单位{i}", spec) for i in range(3)}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        a, b, c = write_units(d / "in", units, spec)
        assert all(r.ok for r in check([a, b, c]))
        merge([a, b, c], d / "flat.xlsx", jobs=1)
        merge([a, b], d / "ab.xlsx", jobs=1)
        merge([b, c], d / "bc.xlsx", jobs=1)
        merge([d / "ab.xlsx", c], d / "ab_c.xlsx", jobs=1)
        merge([a, d / "bc.xlsx"], d / "a_bc.xlsx", jobs=1)
        merge([d / "flat.xlsx"], d / "again.xlsx", jobs=1)  # a summary merged alone is itself
        want = expected_sums(list(units.values()), spec)
        for name in ("flat", "ab_c", "a_bc", "again"):
            got = numbers(d / f"{name}.xlsx")
            assert {k: got[k] for k in want} == want, name
            result = check([d / f"{name}.xlsx"])[0]
            assert result.ok, [f.message for f in result.findings]


@pytest.mark.slow
def test_a_few_hundred_workbooks_through_the_cli_with_two_processes(tmp_path: Path) -> None:
    rng = random.Random(2023)
    units = {f"{i:03d}.xlsx": unit_values(rng.randint, f"第{i:03d}单位") for i in range(300)}
    files = write_units(tmp_path / "in", units)
    before = sha(files)
    out = tmp_path / "汇总.xlsx"
    started = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "xltool",
            "merge",
            str(tmp_path / "in"),
            "-o",
            str(out),
            "--jobs",
            "2",
            "--unit",
            "某市",
        ],
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONIOENCODING": "utf-8"},
        timeout=300,
    )
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.endswith("共 300 个输入文件 = 已汇总 300 个 + 未汇总 0 个。\n")
    got = numbers(out)
    want = expected_sums(list(units.values()))
    assert {k: got[k] for k in want} == want
    assert read(out).summary_units == 300 and sha(files) == before
    print(f"merged 300 workbooks with --jobs 2 in {elapsed:.1f} s")


def test_different_form_versions_are_refused() -> None:
    """The refusal on the parts workers return (and through the CLI in the 2020-summary test)."""
    from dataclasses import replace as with_

    from xltool.errors import UsageError
    from xltool.summary.merge import Part, _common

    a = Part("a.xlsx", "甲镇人民政府", 2023, "2021", 0, (), (), (), ())
    b = with_(a, file="b.xlsx", unit="乙镇人民政府", version="2019")
    with pytest.raises(UsageError) as err:
        _common([a, b], "version", "表式版本")
    assert (
        err.value.message
        == "输入的工作簿表式版本不一致，不能汇总在一起：\n  表式版本 2019：1 个文件\n  表式版本 2021：a.xlsx"
    )


SPEC_2019 = specs.load("2019")


def test_amounts_in_different_units_are_converted_exactly(tmp_path: Path) -> None:
    """采购总金额 in 元 from one unit and in 万元 from another: summed exactly in 元."""
    base = unit_values(lambda lo, hi: lo, "甲镇人民政府", SPEC_2019)
    units = {
        "a.xlsx": {**base, "t2.procurement.amount": Decimal("251000.5"), "t2.procurement.amount.unit": "元"},
        "b.xlsx": {**base, "unit.unit_name": "乙镇人民政府", "t2.procurement.amount": Decimal("1.234567")}
        | {"t2.procurement.amount.unit": "万元"},
        "c.xlsx": {**base, "unit.unit_name": "丙镇人民政府", "t2.procurement.amount": 0}
        | {"t2.procurement.amount.unit": None},  # nothing bought: no unit, no say in the summary's
    }
    a, b, c = write_units(tmp_path / "in", units, SPEC_2019)
    merge([a, b, c], tmp_path / "mixed.xlsx", jobs=1)
    sub = read(tmp_path / "mixed.xlsx")
    assert (sub.values["t2.procurement.amount"], sub.text("t2.procurement.amount.unit")) == (
        Decimal("263346.17"),  # 251000.5 元 + 1.234567 万元 (12345.67 元)
        "元",
    )
    assert check([tmp_path / "mixed.xlsx"])[0].ok
    merge([b, c], tmp_path / "wan.xlsx", jobs=1)  # one unit throughout: kept, nothing converted
    sub = read(tmp_path / "wan.xlsx")
    assert (sub.values["t2.procurement.amount"], sub.text("t2.procurement.amount.unit")) == (
        Decimal("1.234567"),
        "万元",
    )
    merge([tmp_path / "wan.xlsx", a], tmp_path / "again.xlsx", jobs=1)  # a summary merges the same way
    assert numbers(tmp_path / "again.xlsx") == numbers(tmp_path / "mixed.xlsx")


def test_a_2020_summary_and_2021_reports_are_refused(county: Path, tmp_path: Path) -> None:
    base = unit_values(lambda lo, hi: lo, "甲镇人民政府", SPEC_2019)
    old = write_units(
        tmp_path / "old", {"a.xlsx": base, "b.xlsx": {**base, "unit.unit_name": "乙镇人民政府"}}, SPEC_2019
    )
    merge(old, county / "2020年汇总.xlsx", jobs=1, unit="青禾县")
    result = runner.invoke(app, ["merge", str(county), "-o", str(tmp_path / "out.xlsx"), "--jobs", "1"])
    assert result.exit_code == 2
    inputs = len(list(county.glob("*.xlsx"))) - 1 - 1  # less the summary and the invalid workbook (not merged)
    assert result.stderr == (
        "错误：输入的工作簿表式版本不一致，不能汇总在一起：\n"
        f"  表式版本 2021：{inputs} 个文件\n"
        f"  表式版本 2019：{county / '2020年汇总.xlsx'}\n"
    )
    assert not (tmp_path / "out.xlsx").exists()


def test_summary_open_in_wps_gets_a_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows refuses to replace a file that WPS or Excel holds open: say so, keep the old file."""
    out = tmp_path / "汇总.xlsx"
    out.write_bytes(b"last week's summary")

    def locked(src: object, dst: object) -> None:
        raise PermissionError(13, "拒绝访问")

    monkeypatch.setattr("xltool.workbook.atomic.os.replace", locked)
    result = runner.invoke(app, ["merge", str(WORKBOOKS), "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"错误：无法写入 {out}：拒绝访问。如果这个文件正在 WPS 或 Excel 中打开，请先关闭它再试，或另取一个文件名。\n"
    )
    assert out.read_bytes() == b"last week's summary"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["汇总.xlsx"]


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_ctrl_c_stops_a_parallel_merge_at_once(tmp_path: Path) -> None:
    """Ctrl+C reaches the whole console: the merge stops reading, says so, writes nothing, leaves no worker."""
    folder = tmp_path / "报表"
    folder.mkdir()
    source = next(WORKBOOKS.glob("*.xlsx"))
    for n in range(600):
        shutil.copy(source, folder / f"{n:04d}.xlsx")
    out = tmp_path / "汇总.xlsx"
    proc = subprocess.Popen(
        [sys.executable, "-m", "xltool", "merge", str(folder), "-o", str(out), "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while len(children(proc.pid)) < 3 and time.monotonic() < deadline:  # resource tracker and two workers
        time.sleep(0.01)
    workers = children(proc.pid)
    time.sleep(0.2)  # past the moment the main process ignores Ctrl+C while it spawns; workers may still be starting
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err.decode()
    assert err.decode() == "已取消（Ctrl+C）。输出文件都是写完后才改名保存的，不会留下写了一半的文件。\n"
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["报表"]
    deadline = time.monotonic() + 10  # the resource tracker and workers go once they see the main one gone
    while any(Path(f"/proc/{w}").exists() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w for w in workers if Path(f"/proc/{w}").exists()]


def alive(pid: int) -> bool:
    """A process that still runs (a zombie waiting to be reaped has gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_workers_exit_when_the_merge_is_killed_hard(tmp_path: Path) -> None:
    """kill -9 of the merging process (no cleanup runs there): its workers notice and exit at once."""
    folder = tmp_path / "报表"
    folder.mkdir()
    source = next(WORKBOOKS.glob("*.xlsx"))
    for n in range(600):
        shutil.copy(source, folder / f"{n:04d}.xlsx")
    proc = subprocess.Popen(
        [sys.executable, "-m", "xltool", "merge", str(folder), "-o", str(tmp_path / "汇总.xlsx"), "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(children(proc.pid)) < 3 and time.monotonic() < deadline:  # resource tracker and two workers
        time.sleep(0.01)
    time.sleep(1.0)  # the workers are reading their first chunks
    workers = children(proc.pid)
    assert len(workers) >= 3 and proc.poll() is None
    proc.kill()
    proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [w for w in workers if alive(w)]
    for w in left:  # do not leave them running if the test fails
        os.kill(w, signal.SIGKILL)
    assert not left
    assert not (tmp_path / "汇总.xlsx").exists()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_the_portable_parent_watch_alone_ends_an_orphan(tmp_path: Path) -> None:
    """Without prctl (other systems), the watch thread ends a worker whose parent was killed."""
    worker = (
        "import os, sys, time; from xltool import workers; workers._die_with_parent = lambda: None; "
        "workers.start(os.getppid()); print(os.getpid(), flush=True); time.sleep(60)"
    )
    parent = (
        "import subprocess, sys, time; "
        f"p = subprocess.Popen([sys.executable, '-c', {worker!r}], stdout=sys.stdout); time.sleep(60)"
    )
    with subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        orphan = int(proc.stdout.readline())
        assert alive(orphan)
        proc.kill()
        proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while alive(orphan) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(orphan):
        os.kill(orphan, signal.SIGKILL)
        pytest.fail("the orphan outlived its parent")
