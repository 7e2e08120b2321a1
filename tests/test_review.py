"""``xltool review``: the core on reports in memory (linking, pairs, questions, roster, indicators,
--year), the command on real reports (exit codes, text, --json, the workbook's sheets), refusals."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xltool.cli import app
from xltool.form import spec as specs
from xltool.review import identity, indicators
from xltool.review.core import Outcome, Review
from xltool.review.model import REPORT, WORKBOOK, Problem, PublicationDates, Row, Source, dates_from_rows
from xltool.review.sheets import chart_data
from xltool.submission import (
    DOCUMENT_PROPERTY,
    PUBLISHED_FROM_PROPERTY,
    PUBLISHED_PROPERTY,
    Finding,
    Submission,
    blank_values,
)
from xltool.summary.roster import Member, Roster
from xltool.workbook.reader import sheet_rows

from .review_data import FIGURES, values

UNIT = "青禾县交通运输局"
PERIOD = "本报告所列数据的统计期限为{y}年1月1日至{y}年12月31日。"


def report(unit: str, year: int, *, form: str | None = None, published: str | None = None, **changes: Any) -> Source:
    """A published report of ``unit`` as review receives it, on its year's form (or ``form``)."""
    spec = specs.load(form) if form else specs.for_year(year)
    figures = {k: v for k, v in FIGURES.get(year, FIGURES[2021]).items() if k.startswith(("t3.", "t4."))}
    changes = {k.replace("__", "."): v for k, v in changes.items()}
    data = blank_values(spec) | values(unit, year, figures, f"{year + 1}年1月20日") | changes
    data.pop("unit.unit_type")
    sub = Submission(spec, f"{unit}{year}.html", {k: v for k, v in data.items() if v is not None or k in changes})
    sub.properties[DOCUMENT_PROPERTY] = PERIOD.format(y=year)
    if published:
        sub.properties |= {PUBLISHED_PROPERTY: published, PUBLISHED_FROM_PROPERTY: "发布时间"}
    return Source(f"{unit}{year}.html", sub, REPORT)


def run(*sources: Source, **options: Any) -> Any:
    review = Review(**options)
    review.add(list(sources))
    return review.finish()


def problems(outcome: Any, file: str) -> list[str]:
    return sorted(p.finding.rule for r in outcome.rows if r.file == file for p in r.problems)


def test_a_clean_series_links_every_year_and_finds_nothing() -> None:
    o = run(*(report(UNIT, y, published=f"{y + 1}-01-20") for y in FIGURES))
    assert [(r.year, r.errors, r.warnings, r.on_time) for r in o.rows] == [(y, 0, 0, "按时") for y in FIGURES]
    assert [(p.year, p.verdict) for p in o.pairs] == [
        (2022, "一致"),
        (2023, "一致"),
        (2024, "一致"),
    ]
    assert o.pairs[0].carried[0] == (1, 1)  # 自然人: 2022's 上年结转 and 2021's 结转下年度
    assert o.rows[1].cross_year == f"与 2021 年度（{UNIT}2021.html）：一致"
    assert o.questions == [] and o.exit_code == 0


def test_a_wrong_carry_over_is_found_on_the_later_year_with_both_sides() -> None:
    o = run(report(UNIT, 2022), report(UNIT, 2023, t3__carry_in__natural=2, t3__new__natural=7))
    found = [p for r in o.rows for p in r.problems if p.finding.rule == "CY-1"]
    assert [(p.finding.cell, p.finding.message, p.source_where) for p in found] == [
        (
            "D7",
            "自然人列：上年结转填报为 2，上年度报告“结转下年度继续办理”为 1。两者应相等。",
            f"上年度报告：{UNIT}2022.html",
        ),
        (
            "J7",
            "总计列：上年结转填报为 2，上年度报告“结转下年度继续办理”为 1。两者应相等。",
            f"上年度报告：{UNIT}2022.html",
        ),
    ]
    assert o.pairs[0].carried[0] == (2, 1) and o.pairs[0].verdict == "上年结转=上年度结转下年度继续办理"
    assert o.exit_code == 1


def test_the_pair_findings_are_those_of_check_with_last_years_report() -> None:
    """Review checks each report once and then each pair: together, exactly check(sub, previous)."""
    from xltool.checks.check import check

    this, last = report(UNIT, 2023), report(UNIT, 2022)
    assert this.submission is not None and last.submission is not None
    this.submission.values["t3.carry_in.natural"] = 5
    found = check(this.submission, last.submission, assess=True)
    # less the workbook's unit details, which a published report is not asked for (M-RECOMMENDED)
    expected = sorted((f.rule, f.cell, f.message) for f in found if f.rule != "M-RECOMMENDED")
    assert [f.rule for f in found].count("CY-1") == 2
    o = run(last, this)
    row = next(r for r in o.rows if r.year == 2023)
    assert sorted((p.finding.rule, p.finding.cell, p.finding.message) for p in row.problems) == expected


def test_across_the_form_change_the_carry_over_is_still_checked() -> None:
    o = run(report(UNIT, 2020), report(UNIT, 2021, t3__carry_in__natural=4))
    assert o.rows[0].form == "2019" and o.rows[1].form == "2021"
    assert next(p.finding.message for p in o.rows[1].problems if p.finding.rule == "CY-1").startswith(
        "自然人列：上年结转填报为 4，上年度报告“结转下年度继续办理”为 1。"
    )


def test_a_report_on_the_wrong_form_is_an_m_year_error_and_its_pair_says_why_it_is_not_compared() -> None:
    o = run(report(UNIT, 2021), report(UNIT, 2022, form="2019"))
    wrong = o.rows[1]
    assert [p.finding.rule for p in wrong.problems] == ["M-YEAR"]
    assert wrong.cross_year.endswith(
        "未核对：国办公开办函〔2021〕30号表式与国办公开办函〔2019〕60号表式之间没有对应关系"
    )
    assert [(p.year, p.compared, p.carried, p.findings) for p in o.pairs] == [(2022, False, (), [])]


def test_a_renamed_unit_is_a_question_never_a_link() -> None:
    renamed = "青禾县交通运输委员会"
    o = run(report(UNIT, 2021), report(UNIT, 2022), report(renamed, 2023, t3__carry_in__natural=9))
    assert [p.year for p in o.pairs] == [2022]  # 2023 is not compared with 2022: a person decides
    assert [q.kind for q in o.questions] == ["名称相近"]
    assert o.questions[0].message == (
        f"“{UNIT}”（2021—2022 年）与“{renamed}”（2023 年）名称相近，可能是同一单位改名或写法不同。两者未作跨年核对，请核实。"
    )
    assert "CY-1" not in problems(o, f"{renamed}2023.html")


def test_names_match_after_full_and_half_width_and_spaces() -> None:
    o = run(report(UNIT, 2021), report("青禾县 交通运输局", 2022))
    assert [p.year for p in o.pairs] == [2022] and o.questions == []


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        ("青禾县卫生健康局", "青禾县卫生健康委员会", True),
        ("青禾县发展和改革局", "青禾县发展改革局", True),
        ("平潭综合实验区管委会办公室", "管委会办公室", True),
        ("青禾县东城街道办事处", "青禾县西城街道办事处", False),
        ("青禾县城关镇人民政府", "青禾县柳河镇人民政府", False),
        ("青禾县教育局", "青禾县公安局", False),
    ],
)
def test_near_names(a: str, b: str, near: bool) -> None:
    assert identity.near(a, b) is near


def test_two_reports_of_one_year_are_a_question() -> None:
    twin = report(UNIT, 2021)
    twin.file = "副本.docx"
    o = run(report(UNIT, 2021), twin)
    assert [q.files for q in o.questions] == [(f"{UNIT}2021.html", "副本.docx")]


def test_the_roster_lists_the_units_without_a_report_in_each_year_and_gives_the_level() -> None:
    roster = Roster(
        "名单.csv",
        (
            Member(2, (("unit_name", UNIT), ("unit_type", "县级人民政府部门"))),
            Member(3, (("unit_name", "青禾县开发区管委会"), ("unit_type", "县级人民政府"))),
        ),
    )
    dev = report("青禾县开发区管委会", 2022, published="2023-04-03")
    o = run(report(UNIT, 2021), dev, report("青禾县档案馆", 2022), roster=roster)
    assert o.missing == {2021: ["青禾县开发区管委会"], 2022: [UNIT]}
    assert o.unlisted == ["青禾县档案馆"]
    late = next(r for r in o.rows if r.unit == "青禾县开发区管委会")
    assert (late.level, late.on_time, str(late.due)) == (
        "县级以上地方人民政府",
        "逾期",
        "2023-03-31",
    )  # from the roster's type
    assert {u.name: u.on_roster for u in o.units} == {UNIT: True, "青禾县开发区管委会": True, "青禾县档案馆": False}


def test_dates_given_by_the_caller_decide_the_verdict() -> None:
    given = PublicationDates("日期.csv", {}, {(UNIT, 2022): date(2023, 2, 2)})
    o = run(report(UNIT, 2022), dates=given)
    row = o.rows[0]
    assert (row.on_time, row.published_from, [p.finding.rule for p in row.problems]) == (
        "逾期",
        "发布日期（据清单）",
        ["D-LATE"],
    )
    late = row.problems[0].finding.message
    assert late == (
        "县级以上人民政府部门应在 2023年1月31日 前公开上一年度的年度报告，本报告的发布日期（据清单）为 2023年2月2日，"
        "晚了 2 天（条例第四十九条）。"
    )


def test_the_dates_list_is_read_by_file_or_by_unit_and_year() -> None:
    given = dates_from_rows(
        [
            ("文件", "单位名称", "报告年度", "发布日期"),
            ("a/b.html", "", "", "2024-01-05"),
            ("", UNIT, "2023", "2024年1月6日"),
        ],
        "日期.csv",
    )
    assert given.of("a/b.html", None, None) == date(2024, 1, 5)
    assert given.of("x.html", "青禾县交通运输局", 2023) == date(2024, 1, 6)
    with pytest.raises(Exception, match="第 2 行：发布日期“1月5日”无法识别"):
        dates_from_rows([("文件", "发布日期"), ("a.html", "1月5日")], "日期.csv")
    with pytest.raises(Exception, match="第一行应为列名：发布日期，以及文件或单位名称和报告年度"):
        dates_from_rows([("单位", "日期")], "日期.csv")


def test_year_reviews_one_year_and_uses_the_year_before_for_the_pairs() -> None:
    o = run(*(report(UNIT, y) for y in FIGURES), year=2023)
    assert [r.year for r in o.rows] == [2023] and [p.year for p in o.pairs] == [2023] and o.skipped == 2


def test_a_report_that_cannot_be_read_is_a_row_with_its_reason() -> None:
    o = run(Source("坏.pdf", None, REPORT, "这个文件不是 PDF。"), report(UNIT, 2021))
    bad = o.rows[0]
    assert (bad.file, bad.reviewed, [p.finding.message for p in bad.problems]) == (
        "坏.pdf",
        False,
        ["这个文件不是 PDF。"],
    )
    assert o.exit_code == 1


def test_a_published_report_is_not_asked_for_the_workbooks_unit_details() -> None:
    published = run(report(UNIT, 2021))
    book = report(UNIT, 2021)
    book.kind = WORKBOOK
    workbook = run(book)
    assert problems(published, f"{UNIT}2021.html") == []
    assert problems(workbook, f"{UNIT}2021.html") == ["M-RECOMMENDED"]  # its 单位类型 is for the filler to fill


def test_indicators_percentiles_and_outliers() -> None:
    assert indicators.percentiles([0, 0, 5, 10, None]) == [25, 25, 62, 88, None]
    counts = [3, 4, 5, 5, 6, 4, 3, 5, 400]
    assert (
        indicators.outliers(counts, share=False)[-1] == "偏高"
        and indicators.outliers(counts, share=False)[:8] == [""] * 8
    )
    assert indicators.outliers([0] * 9 + [50], share=False) == [""] * 10  # a flat group: nothing stands out
    assert indicators.outliers([1, 2, 300], share=False) == ["", "", ""]  # too few units


def test_each_units_indicators_in_its_latest_year() -> None:
    o = run(report(UNIT, 2023), report(UNIT, 2024), report("青禾县教育局", 2024, t3__new__natural=3))
    transport = next(u for u in o.units if u.name == UNIT)
    assert transport.latest == 2024 and transport.years == (2023, 2024)
    assert transport.values[0] == 12 and transport.ranks[0] == 75  # 新收申请: 12 against 教育局's


# ---------------------------------------------------------------- the command


def test_review_command_on_real_reports(shared_reports: Path, tmp_path: Path) -> None:
    out = tmp_path / "评查结果.xlsx"
    files = [str(shared_reports / "series" / f"gwh-{y}.txt") for y in (2021, 2022)]
    result = CliRunner().invoke(app, ["review", *files, "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == "评查 2 份报告（1 个单位，2021—2022 年度）：2 份无错误，0 份有错误，0 份无法评查。"
    assert lines[2] == "按期公开：按时 1 份，逾期 0 份，无法判断 1 份。"
    assert lines[3] == "跨年核对：1 组相邻年度，0 组不一致。"
    assert lines[5] == "✓ gwh-2022.txt（平潭综合实验区管委会办公室，2022 年度）：错误 0，提醒 0；无"
    names = ["评查结果", "问题清单", "跨年核对", "单位汇总", "图表"]
    sheets = sheet_rows(out, names)
    assert list(sheets) == names
    assert sheets["评查结果"][1][:9] == (
        "平潭综合实验区管委会办公室",
        2021,
        "2021 年表式",
        "已发布报告",
        "gwh-2021.txt",
        "2022-01-15",
        "页面时间",
        "2022-01-31",
        "按时",
    )
    assert sheets["跨年核对"][1][:4] == ("平潭综合实验区管委会办公室", 2022, "本年上年结转", 0)


def test_review_json_has_stable_field_names(shared_reports: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    files = [str(shared_reports / "series" / "gwh-2023.txt"), str(shared_reports / "series" / "gwh-2024.txt")]
    result = CliRunner().invoke(app, ["review", *files, "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == [
        "workbook",
        "exit_code",
        "years",
        "reports",
        "pairs",
        "questions",
        "units",
        "roster",
        "skipped",
    ]
    assert list(data["reports"][0]) == [
        "file", "kind", "unit", "year", "form", "reviewed", "reason", "level", "published", "published_from",
        "deadline", "on_time", "on_time_note", "days_late", "cells_read", "cells_expected", "errors", "warnings",
        "by_rule", "cross_year", "main_problems", "indicators", "findings",
    ]  # fmt: skip
    assert list(data["reports"][0]["findings"][0]) == [
        "rule", "severity", "sheet", "cell", "message", "value", "expected", "title", "source_where", "source_text",
    ]  # fmt: skip
    assert data["pairs"][0]["carried"][0] == {
        "column": "自然人",
        "carried_in": 0,
        "carried_out_last_year": 0,
        "equal": True,
    }
    assert list(data["units"][0]["indicators"][0]) == ["key", "name", "value", "percentile", "outlier"]


def test_review_refuses_to_overwrite_and_names_what_it_cannot_read(shared_reports: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"keep")
    result = CliRunner().invoke(app, ["review", str(shared_reports / "chepaizi-2023.txt"), "-o", str(out)])
    assert result.exit_code == 2 and f"{out} 已存在。为免覆盖，请换一个文件名，或加 --force 覆盖。" in result.output
    assert out.read_bytes() == b"keep"
    bad = tmp_path / "坏.pdf"
    bad.write_bytes(b"not a pdf")
    result = CliRunner().invoke(app, ["review", str(bad), "-o", str(tmp_path / "o.xlsx")])
    assert result.exit_code == 1
    assert sheet_rows(tmp_path / "o.xlsx", ["评查结果"])["评查结果"][1][4] == "坏.pdf"
    result = CliRunner().invoke(app, ["review", str(bad), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 2 and "评查结果工作簿必须以 .xlsx 结尾" in result.output


def test_review_command_on_the_sample_county_with_its_roster(tmp_path: Path) -> None:
    """The README's example: 13 workbooks of 2023, one with an error, one unit on the roster without a report."""
    county = Path(__file__).resolve().parent.parent / "samples" / "county"
    out = tmp_path / "评查结果.xlsx"
    result = CliRunner().invoke(
        app, ["review", str(county / "报表"), "-o", str(out), "--roster", str(county / "名单.csv")]
    )
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[1] == "评查 13 份报告（13 个单位，2023 年度）：12 份无错误，1 份有错误，0 份无法评查。"
    assert lines[2] == "按期公开：按时 0 份，逾期 0 份，无法判断 7 份，不适用 6 份（条例未规定其期限）。"
    assert (
        "✗ 青禾县教育局2023年报.xlsx（青禾县教育局，2023 年度）：错误 2，提醒 1；错误：一+二=三（七）+四（2 处）；提醒：写明上年度问题的整改情况"
        in lines
    )
    assert lines[-2:] == ["  2023 年度未见报告 1 个：青禾县石桥乡人民政府", "  不在名单中 1 个：青禾县住房和城乡建设局"]
    units = sheet_rows(out, ["单位汇总"])["单位汇总"]
    assert units[0][:6] == ("单位名称", "层级", "在名单中", "报告数", "报告年度", "缺少年度")
    shiqiao = next(r for r in units if r[0] == "青禾县石桥乡人民政府")
    assert shiqiao[1:6] == ("乡镇人民政府、街道办事处", "是", 0, "无", "2023")


def test_a_report_of_a_year_without_a_form_keeps_its_unit_and_year(tmp_path: Path) -> None:
    from xltool.sources.reviewing import read_one

    page = tmp_path / "旧.txt"
    page.write_text("青禾县教育局2018年政府信息公开工作年度报告\n一、总体情况\n", encoding="utf-8")
    source = read_one(page, "旧.txt")
    assert (source.submission, source.unit, source.year) == (None, "青禾县教育局", 2018)
    assert source.reason.startswith("这是 2018 年度的报告，没有适用的表式，无法导入。")
    row = run(source).rows[0]
    assert (row.unit, row.year, row.reviewed) == ("青禾县教育局", 2018, False)


def test_chart_categories_with_equal_counts_come_in_one_order() -> None:
    """Kinds of problem found as often as each other are charted by title, whatever the hash seed:
    the same reports give the same workbook, byte for byte."""
    titles = [f"第{n}类问题" for n in "九八七六五四三二一"]
    row = Row("a.html", REPORT, UNIT, 2023, "2021")
    row.problems = [Problem(Finding("R", "error", t), t) for t in titles]
    drawn = chart_data(Outcome([row], [], [], [], (2023,)))
    assert drawn[0].categories == tuple(reversed(sorted(titles)))
