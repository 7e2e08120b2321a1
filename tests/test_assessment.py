"""The assessment rules (A-RECTIFY, A-FEE, A-PERIOD; kind ``states``), the deadlines and rule D-LATE
(kind ``deadline``): planted cases with exact messages, and the real reports, where every finding is
true (each was read: the report does not say it) and no report that says it is flagged."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from xltool.checks import assessment
from xltool.checks.check import check
from xltool.form import spec as specs
from xltool.submission import (
    DOCUMENT_PROPERTY,
    PUBLISHED_FROM_PROPERTY,
    PUBLISHED_PROPERTY,
    Submission,
    blank_values,
)

from .review_data import PLACEHOLDER, values

UNIT = "青禾县交通运输局"


def submission(year: int = 2023, **changes: object) -> Submission:
    spec = specs.for_year(year)
    data = blank_values(spec) | values(UNIT, year, {}, f"{year + 1}年1月20日")
    data |= {k.replace("__", "."): v for k, v in changes.items()}
    return Submission(spec, "x", data)


def assessed(sub: Submission) -> list[tuple[str, str | None, str]]:
    return [(f.rule, f.cell, f.message) for f in check(sub, assess=True) if f.rule.startswith(("A-", "D-"))]


# ---------------------------------------------------------------- A-RECTIFY


def test_a_fifth_part_that_never_mentions_last_year_is_flagged_with_its_place() -> None:
    sub = submission(s5__improvements="下一步将加强培训。" + PLACEHOLDER)
    assert assessed(sub) == [
        (
            "A-RECTIFY",
            "A4",
            "“五、存在的主要问题及改进情况”没有提到上年度问题的整改情况（未见“整改”“上年度”“2022年”等字样）。"
            "评估通常要求写明上年度报告所列问题是否已经整改、怎样整改。",
        )
    ]
    finding = next(f for f in check(sub, assess=True) if f.rule == "A-RECTIFY")
    assert finding.sheet == "五、存在的主要问题及改进情况"
    assert finding.quote == (PLACEHOLDER + "\n下一步将加强培训。" + PLACEHOLDER)[:40].replace("\n", " ")


@pytest.mark.parametrize(
    "words",
    [
        "针对去年发现的问题，已落实。",
        "对上一年度的问题逐一改正。",
        "2022 年存在的问题已解决。",
        "整改到位。",
        "上年问题已改进。",
    ],
)
def test_any_common_wording_of_last_years_problems_passes(words: str) -> None:
    assert assessed(submission(s5__improvements=words)) == []


def test_an_empty_fifth_part_is_left_to_n_section() -> None:
    sub = submission(s5__problems=None, s5__improvements=None)
    rules = [f.rule for f in check(sub, assess=True)]
    assert "N-SECTION" in rules and "A-RECTIFY" not in rules


def test_the_assessment_rules_are_off_in_check_unless_asked() -> None:
    sub = submission(s5__improvements="下一步将加强培训。")
    assert "A-RECTIFY" not in [f.rule for f in check(sub)]
    assert "A-RECTIFY" in [f.rule for f in check(sub, assess=True)]


# ---------------------------------------------------------------- A-FEE


def test_a_sixth_part_without_a_fee_statement_is_flagged_when_its_figures_are_not_filled() -> None:
    sub = submission(s6__fee_notices=None, s6__fee_collected=None, s6__fee="无其他需要报告的事项。", s6__other="")
    assert assessed(sub) == [
        (
            "A-FEE",
            "A6",  # the text of （一）信息处理费收取情况, below its two figures
            "“六、其他需要报告的事项”没有写明信息处理费的收取情况。没有收取也应写明（如“本年度未收取信息处理费”）。",
        )
    ]


def test_a_fee_statement_in_words_or_in_the_figures_passes() -> None:
    words = submission(s6__fee_notices=None, s6__fee_collected=None, s6__fee="本年度未收取信息处理费。")
    figures = submission(s6__fee="无。")  # the figures (0, 0) are filled: the rendered report states them
    assert assessed(words) == [] and assessed(figures) == []


# ---------------------------------------------------------------- A-PERIOD


def test_a_published_report_that_states_no_statistical_period_is_flagged() -> None:
    sub = submission()
    sub.properties[DOCUMENT_PROPERTY] = "青禾县交通运输局2023年政府信息公开工作年度报告\n一、总体情况\n" + PLACEHOLDER
    assert assessed(sub) == [
        ("A-PERIOD", None, "报告没有写明统计期限（如“本报告所列数据的统计期限为2023年1月1日至2023年12月31日”）。")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "本报告所列数据的统计期限自2023年1月1日起至2023年12月31日止。",
        "统计时间为 2023 年全年。",
        "时间范围：2023年1月1日—12月31日",
    ],
)
def test_a_statistical_period_in_any_common_wording_passes(text: str) -> None:
    sub = submission()
    sub.properties[DOCUMENT_PROPERTY] = text
    assert assessed(sub) == []


def test_a_workbook_is_not_asked_for_its_period() -> None:
    """A workbook has no published text: its rendered report prints the period (render's opening)."""
    assert assessed(submission()) == []


# ---------------------------------------------------------------- deadlines and D-LATE


@pytest.mark.parametrize(
    ("unit_type", "name", "level", "due"),
    [
        ("", "青禾县住房和城乡建设局", "县级以上人民政府部门", date(2024, 1, 31)),
        ("", "青禾县乡村振兴局", "县级以上人民政府部门", date(2024, 1, 31)),
        ("", "上海市人民政府办公厅", "县级以上人民政府部门", date(2024, 1, 31)),
        ("", "青禾县人民政府", "县级以上地方人民政府", date(2024, 3, 31)),
        ("", "北京市海淀区人民政府", "县级以上地方人民政府", date(2024, 3, 31)),
        ("", "青禾县城关镇人民政府", "乡镇人民政府、街道办事处", None),
        ("", "青禾县东城街道办事处", "乡镇人民政府、街道办事处", None),
        ("", "车排子镇", "乡镇人民政府、街道办事处", None),
        ("县级人民政府", "青禾县开发区管委会", "县级以上地方人民政府", date(2024, 3, 31)),  # the type wins
        ("其他", "青禾县卫健委", "县级以上人民政府部门", date(2024, 1, 31)),  # 其他: the name decides
    ],
)
def test_a_units_level_and_deadline_come_from_its_type_then_its_name(
    unit_type: str, name: str, level: str, due: date | None
) -> None:
    deadline = specs.load().deadline_for(unit_type, name)
    assert deadline is not None and deadline.level == level and deadline.due(2023) == due


@pytest.mark.parametrize("name", ["青禾县经济开发区管委会", "某某镇党政办公室", "青禾县政务服务中心", ""])
def test_a_unit_whose_level_cannot_be_known_has_no_deadline(name: str) -> None:
    assert specs.load().deadline_for("", name) is None


def test_the_deadlines_cite_article_49_and_sit_in_both_forms() -> None:
    for version in specs.SPEC_FILES:
        spec = specs.load(version)
        assert [d.level for d in spec.deadlines] == [
            "乡镇人民政府、街道办事处",
            "县级以上地方人民政府",
            "县级以上人民政府部门",
        ]
        assert all("第四十九条" in d.source for d in spec.deadlines)
        assert [(d.month, d.day) for d in spec.deadlines] == [(None, None), (3, 31), (1, 31)]


def published(sub: Submission, when: str, how: str = "落款日期") -> Submission:
    sub.properties[PUBLISHED_PROPERTY] = when
    sub.properties[PUBLISHED_FROM_PROPERTY] = how
    return sub


def test_a_department_report_published_after_31_january_is_late() -> None:
    sub = published(submission(), "2024-02-05")
    assert assessed(sub) == [
        (
            "D-LATE",
            None,
            "县级以上人民政府部门应在 2024年1月31日 前公开上一年度的年度报告，本报告的落款日期为 2024年2月5日，"
            "晚了 5 天（条例第四十九条）。",
        )
    ]
    assert "D-LATE" in [f.rule for f in check(sub)]  # a statutory rule: on in check too


def test_on_the_deadline_is_on_time_and_a_town_has_no_verdict() -> None:
    assert assessed(published(submission(), "2024-01-31")) == []
    town = published(submission(unit__unit_name="青禾县城关镇人民政府", unit__unit_type="乡镇人民政府"), "2024-06-01")
    assert assessed(town) == []
    t = assessment.timeliness(specs.load(), "乡镇人民政府", "", 2023, date(2024, 6, 1), "落款日期")
    assert (t.verdict, t.reason) == ("不适用", "条例未规定期限")


def test_the_verdict_says_why_there_is_none() -> None:
    spec = specs.load()
    assert assessment.timeliness(spec, "", "青禾县政务服务中心", 2023, date(2024, 1, 1), "").reason == "单位层级不明"
    assert assessment.timeliness(spec, "", "青禾县教育局", 2023, None, "").reason == "未载明发布日期"
    late = assessment.timeliness(spec, "", "青禾县人民政府", 2023, date(2024, 4, 2), "发布时间")
    assert (late.verdict, late.due, late.days_late) == ("逾期", date(2024, 3, 31), 2)


# ---------------------------------------------------------------- the real reports

# Every assessment finding on the complete real reports, each read and true: the 五 of these reports
# states problems and next year's plans but never last year's rectification; 六 of gwh-2019/2020/2021
# says only 无其他需要报告的事项, of 004 only 暂无; gonganju, 004 and chepaizi print no statistical period.
CORPUS_FINDINGS = {
    "001_pingtan-gonganju_2021.txt": ["A-PERIOD", "A-RECTIFY"],
    "004_pingtan-ziranziyuan_2020.txt": ["A-FEE", "A-PERIOD", "A-RECTIFY"],
    "005_pingtan-shichangjianguan_2023.txt": ["A-RECTIFY"],
    "007_pingtan-jiaotongjianshe_2022.txt": ["A-RECTIFY"],
    "009_pingtan-shehuishiye_2022.txt": ["A-RECTIFY"],
    "012_pingtan-haitanpianqu_2023.txt": ["A-RECTIFY"],
    "025_shuyang_fgj_2023_full.txt": [],  # （二）整改措施
    "028_shanghai_szfbgt_2025_full_pdfext.txt": [],  # 2024 年工作中存在问题的改进情况
    "chepaizi-2023.txt": ["A-PERIOD", "A-RECTIFY"],
    "series/gwh-2019.txt": ["A-FEE", "A-RECTIFY"],
    "series/gwh-2020.txt": ["A-FEE", "A-RECTIFY"],
    "series/gwh-2021.txt": ["A-FEE", "A-RECTIFY"],
    "series/gwh-2022.txt": [],  # 督促整改; 未收取信息处理费
    "series/gwh-2023.txt": ["A-RECTIFY"],
    "series/gwh-2024.txt": ["A-RECTIFY"],
    "series/gwh-2025.txt": ["A-RECTIFY"],
}


def test_the_assessment_rules_on_the_real_reports(shared_reports: Path) -> None:
    from xltool.sources.reviewing import read_one

    found = {}
    for name in CORPUS_FINDINGS:
        source = read_one(shared_reports / name, name)
        assert source.submission is not None, name
        found[name] = sorted(f.rule for f in check(source.submission, assess=True) if f.rule.startswith("A-"))
    assert found == CORPUS_FINDINGS
