"""Narrative rules N-FIGURE, N-YEAR, N-CLAIM: each phrase family with true and false examples of our own."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from xltool import numbers
from xltool.checks import narrative, rules
from xltool.cli import app
from xltool.form import spec as specs
from xltool.sources.checking import check
from xltool.sources.merging import merge
from xltool.submission import Finding, Submission, blank_values
from xltool.workbook.annotate import ANNOTATION_SHEET

from .helpers import fill
from .sample_data import CHEPAIZI, SHUYANG, write_valid

runner = CliRunner()

SPEC = specs.load()
READER = narrative.reader_for(SPEC)
assert READER is not None
FORMS = ("2019", "2021")  # the phrasing both forms' vocabularies share is tested on each
T3 = "三、收到和处理政府信息公开申请情况"
T4 = "四、政府信息公开行政复议、行政诉讼情况"


def submission(
    texts: dict[str, str], year: int = 2023, summary: bool = False, form: str = "2021", **numbers: Any
) -> Submission:
    spec = specs.load(form)
    values: dict[str, Any] = blank_values(spec) | {"unit.unit_name": "某某局", "unit.report_year": year}
    values |= {k.replace("__", "."): v for k, v in numbers.items()}
    values |= texts
    props = {"summary_units": "3"} if summary else {}
    return Submission(spec, "x.xlsx", values, properties=props)


def n_findings(sub: Submission) -> list[Finding]:
    return [f for f in rules.apply(sub) if f.rule.startswith("N-") and f.rule not in ("N-SECTION", "N-PART")]


def reader(form: str = "2021") -> narrative.Reader:
    got = narrative.reader_for(specs.load(form))
    assert got is not None
    return got


def stated(text: str, form: str = "2021") -> list[tuple[str, Decimal]]:
    return [(f.quantity, f.value) for f in reader(form).figures(text)]


# ---------------------------------------------------------------- figures and sentences


@pytest.mark.parametrize(
    ("text", "value"),
    [("两", 2), ("十", 10), ("十二", 12), ("二十", 20), ("一百零五", 105), ("三千二百", 3200), ("两万零三十", 20030),
     ("〇", 0), ("零", 0), ("二三", None), ("百", 100)],
)  # fmt: skip
def test_chinese_numerals(text: str, value: int | None) -> None:
    assert numbers.chinese_number(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("收到政府信息公开申请两件", 2), ("收到政府信息公开申请十二件", 12), ("收到政府信息公开申请２６件", 26),
     ("收到政府信息公开申请1,295件", 1295), ("收到政府信息公开申请1，295件", 1295), ("收到政府信息公开申请 1295 件", 1295),
     ("本年度本机关通过各种渠道共收到政府信息公开\n申请 26 件", 26)],
)  # fmt: skip
@pytest.mark.parametrize("form", FORMS)
def test_figures_in_every_notation(text: str, value: int, form: str) -> None:
    assert stated(text, form) == [("new", value)]


def test_sentences_split_at_full_stops_and_line_breaks() -> None:
    parts = narrative.sentences("第一句。第二句！\n第三句\n\n  \n第四句")
    assert [s.norm for s in parts] == ["第一句。", "第二句！", "第三句", "第四句"]
    assert [s.index for s in parts] == [0, 1, 2, 3]


def test_a_long_line_broken_mid_sentence_is_one_sentence() -> None:
    text = "（二）依申请公开\n全年共收到政府信息公开申请 26 件，均已在法定期限内\n答复，无结转。\n（三）政府信息管理\n各项工作"
    assert [s.norm for s in narrative.sentences(text)] == [
        "（二）依申请公开",
        "全年共收到政府信息公开申请26件，均已在法定期限内答复，无结转。",
        "（三）政府信息管理",
        "各项工作",
    ]


# ---------------------------------------------------------------- attribution (precision first)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 收到 / 受理 / 新收
        ("本年度共受理政府信息公开申请2件，均已答复。", [("new", 2)]),
        ("全年新收政府信息公开申请 26 件。", [("new", 26)]),
        ("2023年度我局共收到依申请信息公开26件。", [("new", 26)]),
        ("全年收到3件政府信息公开申请。", [("new", 3)]),
        # 上年结转, 办结, 结转下年度
        ("办结 1191 件（含上年结转 189 件）。", [("carry_in", 189)]),  # 办结 needs 申请 in the sentence
        ("受理信息公开申请1295件，办结1191件（含上年结转189件）。", [("new", 1295), ("handled", 1191), ("carry_in", 189)]),
        ("收到信息公开申请5件，已答复4件，结转下年度继续办理1件。", [("new", 5), ("handled", 4), ("carry_out", 1)]),
        ("收到信息公开申请5件，另有1件结转下年度。", [("new", 5), ("carry_out", 1)]),
        # outcomes; 予以公开及部分公开 is their sum, not 部分公开
        ("收到信息公开申请3件，予以公开1件，部分公开1件，不予公开1件。", [("new", 3), ("disclosed", 1), ("partly", 1), ("refused", 1)]),
        ("依申请公开情况：其中，予以公开及部分公开 208 件（17.46%），不予公开 20 件（1.68%），无法提供 564 件，不予处理 80 件，"
         "其他处理 319 件（26.78%，含申请人主动撤回 157 件）。",
         [("disclosed_or_partly", 208), ("refused", 20), ("unable", 564), ("not_processed", 80), ("other_handling", 319)]),
        # per applicant type after a head figure
        ("收到信息公开申请26件，其中自然人20件、法人或其他组织6件。",
         [("new", 26), ("new·自然人", 20), ("new·法人或其他组织", 6)]),
        ("收到信息公开申请26件。其中自然人20件、商业企业6件。", [("new", 26), ("new·自然人", 20), ("new·商业企业", 6)]),
        ("自然人申请20件。", []),  # no head figure: whose row?
        ("收到信息公开申请11件，其中网络申请5件，信函申请6件。", [("new", 11)]),
        # 行政复议, 行政诉讼
        ("因政府信息公开被申请行政复议2件、被提起行政诉讼1件。", [("review", 2), ("litigation", 1)]),
        ("行政复议2件。", []),
        # 行政许可 / 处罚 / 强制: 处理决定数量 on both forms
        ("全年作出行政许可决定320件、行政处罚决定135件、行政强制54件。", [("license", 320), ("penalty", 135), ("coercion", 54)]),
        ("作出行政许可处理决定20件。", [("license", 20)]),
        # 信息处理费 (part 六)
        ("发出收费通知2件，收取信息处理费200元。", [("fee_notices", 2), ("fee_collected", 200)]),
        # sentences about other things never attribute
        ("处理群众留言92条，主动公开政府信息14571条，召开会议3次，较上年增长12%。", []),
        ("其中主动公开信息数169，依申请公开信息数317条，不予公开24条。", []),
        ("通过12345平台受理群众诉求累计受理2840件，已办理2840件。", []),
        ("全年受理网络问政182件。", []),
        ("刊登市政府规章、市政府部门行政规范性文件等 243 件。", []),
        ("完成公文公开属性审查 166 件。", []),
        ("公开类别主要涉及政策规范性文件类信息4条。", []),
        ("收到行政复议申请书2件。", []),
        ("政务服务中心全年受理申请3000件。", []),  # other applications
        ("全年办理行政复议案件120件，行政诉讼案件30件。", []),
        ("收到信息公开申请约30余件。", []),
        ("2023年度依申请公开数为12件。", []),
    ],
)  # fmt: skip
def test_attribution(text: str, expected: list[tuple[str, Any]], form: str) -> None:
    assert stated(text, form) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("全年主动公开市政府规章 22 件、市政府及市政府办公厅行政规范性文件 34 件。",
         [("rules_issued", 22), ("normative_issued", 34)]),
        ("本年制定规范性文件8件，废止规范性文件2件，现行有效规范性文件18件。",
         [("normative_issued", 8), ("normative_repealed", 2), ("normative_in_force", 18)]),
        ("现行有效规章5件。", [("rules_in_force", 5)]),
        ("行政事业性收费3.5万元。", [("fees", Decimal("3.5"))]),
        ("行政事业性收费35000元。", [("fees", Decimal("3.5000"))]),
    ],
)  # fmt: skip
def test_attribution_of_table_two_on_the_2021_form(text: str, expected: list[tuple[str, Any]]) -> None:
    """表二 of 2021: 本年制发 / 本年废止 / 现行有效件数 of 规章 and 规范性文件, 收费金额 in 万元."""
    assert stated(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 本年新制作 (制发, 制定, 制作) and 本年新公开 (公开, 发布) are two columns here
        ("全年主动公开市政府规章 22 件、市政府及市政府办公厅行政规范性文件 34 件。",
         [("rules_published", 22), ("normative_published", 34)]),
        ("本年新制作规范性文件9件，新公开规范性文件9件，对外公开规范性文件总数21件。",
         [("normative_made", 9), ("normative_published", 9), ("normative_public_total", 21)]),
        ("本年制定规范性文件8件，废止规范性文件2件，现行有效规范性文件18件。", [("normative_made", 8)]),
        ("累计公开规章5件。", [("rules_public_total", 5)]),
        # no such cell on this form: 现行有效, 废止, 收费金额; 上一年项目数量 and 本年增/减 count 项, not 件
        ("现行有效规章5件。", []),
        ("行政事业性收费3.5万元。", []),
        ("行政许可事项本年新增3项。", []),
        ("公开行政处罚类15条。", []),
    ],
)  # fmt: skip
def test_attribution_of_table_two_on_the_2019_form(text: str, expected: list[tuple[str, Any]]) -> None:
    """表二 of 2019: 本年新制作 / 本年新公开 / 对外公开总数量, and 处理决定数量."""
    assert stated(text, "2019") == expected


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a reply named by its outcome belongs to the outcome, never to 办结 (all replies)
        ("所有办结的信息公开申请中同意公开答复 9 件、部分公开答复 0 件、不予公开答复 2 件。",
         [("disclosed", 9), ("partly", 0), ("refused", 2)]),
        ("信息公开申请中，无法提供答复的3件，不予处理答复1件。", [("unable", 3), ("not_processed", 1)]),
        ("本年度收到信息公开申请5件，予以公开答复的4件，已答复5件。", [("new", 5), ("disclosed", 4), ("handled", 5)]),
        # narrowed by a word that names no single row (公开: 予以公开 or with 部分公开?) or by a delay: silent
        ("办结依申请2件，其中公开答复1件，无法提供1件。", [("unable", 1)]),
        ("依申请公开答复12件。", []),
        ("收到信息公开申请5件，延期答复2件，逾期办结1件。", [("new", 5)]),
        ("信息公开申请中，作出不予公开决定2件、予以公开决定的9件。", [("refused", 2), ("disclosed", 9)]),
        # after a part of the applications, figures count that part only
        ("本年度收到信息公开申请5件。上年结转的申请中，予以公开2件。", [("new", 5)]),
        ("自然人提出的信息公开申请中，予以公开3件、不予公开1件。", []),
        ("通过网络提交的信息公开申请中，已办结4件；收到信息公开申请5件。", []),  # to the end of the sentence
        ("收到信息公开申请26件，其中自然人20件。在办结的申请中，同意公开答复9件。", [("new", 26), ("new·自然人", 20), ("disclosed", 9)]),
    ],
)  # fmt: skip
def test_a_figure_belongs_to_the_phrase_that_names_it(text: str, expected: list[tuple[str, Any]], form: str) -> None:
    assert stated(text, form) == expected


@pytest.mark.parametrize("form", FORMS)
def test_replies_named_by_their_outcome_agree_with_the_table(form: str) -> None:
    """Three figures of three outcomes, each equal to its row: no finding (they were 办结 totals)."""
    text = "所有办结的信息公开申请中同意公开答复 9 件、部分公开答复 0 件、不予公开答复 2 件。"
    year = 2023 if form == "2021" else 2020
    table = {"t3__new__natural": 11, "t3__disclosed__natural": 9, "t3__secret__natural": 2}
    assert n_findings(submission({"s1.on_request": text}, year=year, form=form, **table)) == []
    other = {"t3__new__natural": 2, "t3__disclosed__natural": 1, "t3__not_held__natural": 1}
    assert n_findings(submission({"s1.on_request": "办结依申请2件，其中公开答复1件，无法提供1件。"}, **other)) == []


def test_equally_long_phrases_of_two_quantities_are_skipped() -> None:
    assert READER is not None
    found = READER.figures("收到信息公开申请3件，予以公开及部分公开3件。")
    assert [f.quantity for f in found] == ["new", "disclosed_or_partly"]  # longest phrase wins, not 部分公开


# ---------------------------------------------------------------- N-FIGURE


def test_figure_message_names_the_narrative_and_the_table_cell() -> None:
    sub = submission(
        {"s1.on_request": "本年度，共受理政府信息公开申请2件，均已答复。"}, t3__new__natural=3, t3__disclosed__natural=3
    )
    [found] = n_findings(sub)
    assert (found.rule, found.severity, found.sheet, found.cell, found.value, found.expected) == (
        "N-FIGURE", "warning", "一、总体情况", "A6", 2, 3)  # fmt: skip
    assert found.message == (
        "文字“共受理政府信息公开申请2件”与表三 一、本年新收政府信息公开申请数量 总计"
        "（三、收到和处理政府信息公开申请情况!J6）3 不一致。"
    )


def test_figure_equal_to_the_table_or_to_new_plus_carried_is_no_finding() -> None:
    text = {"s1.on_request": "全年收到政府信息公开申请5件。"}
    assert n_findings(submission(text, t3__new__natural=5, t3__disclosed__natural=5)) == []
    both = submission(text, t3__new__natural=4, t3__carry_in__natural=1, t3__disclosed__natural=5)
    assert n_findings(both) == []  # 收到 may count 新收 + 上年结转


def test_sum_of_disclosed_and_partly() -> None:
    sub = submission(
        {"s1.on_request": "收到信息公开申请275件，予以公开及部分公开258件。"},
        t3__new__natural=275, t3__disclosed__natural=200, t3__partly__natural=75,
    )  # fmt: skip
    [found] = n_findings(sub)
    assert found.message == (
        "文字“予以公开及部分公开258件”与表三 （一）予以公开+（二）部分公开 总计"
        "（三、收到和处理政府信息公开申请情况!J8:J9）275 不一致。"
    )


def test_group_rows_are_named_by_their_group() -> None:
    sub = submission(
        {"s1.on_request": "收到信息公开申请3件，不予公开2件。"},
        t3__new__natural=3,
        t3__secret__natural=1,
        t3__inquiry__natural=2,
    )
    [found] = n_findings(sub)
    assert "与表三 （三）不予公开 总计（三、收到和处理政府信息公开申请情况!J10:J17）3 不一致。" in found.message


def test_applicant_type_figures() -> None:
    sub = submission(
        {"s1.on_request": "收到信息公开申请26件，其中自然人20件、法人或其他组织6件。"},
        t3__new__natural=21, t3__new__legal=5, t3__disclosed__natural=21, t3__disclosed__legal=5,
    )  # fmt: skip
    found = n_findings(sub)
    assert [(f.value, f.expected) for f in found] == [(20, 21), (6, 5)]
    assert "表三 一、本年新收政府信息公开申请数量 自然人（三、收到和处理政府信息公开申请情况!D6）21" in found[0].message
    assert (
        "表三 一、本年新收政府信息公开申请数量 法人或其他组织（三、收到和处理政府信息公开申请情况!E6:I6）5"
        in found[1].message
    )


def test_t4_and_t2_and_part_six_figures() -> None:
    sub = submission(
        {
            "s1.oversight": "全年因政府信息公开被申请行政复议1件，被提起行政诉讼3件。",
            "s1.active": "本年制发规范性文件8件，作出行政处罚决定10件，行政事业性收费2万元。",
            "s6.fee": "本年度发出收费通知1件，收取信息处理费100元。",
        },
        t4__cases__review_upheld=2, t4__cases__direct_pending=1, t4__cases__after_review_upheld=2,
        t2__normative__issued=8, t2__penalty__decisions=12, t2__fees__amount=Decimal("2.0"),
        s6__fee_notices=1, s6__fee_collected=Decimal("150"),
    )  # fmt: skip
    assert [f.message for f in n_findings(sub)] == [
        "文字“作出行政处罚决定10件”与表二 行政处罚 本年处理决定数量（二、主动公开政府信息情况!B12）12 不一致。",
        "文字“全年因政府信息公开被申请行政复议1件”与表四 行政复议·总计（四、政府信息公开行政复议、行政诉讼情况!E6）2 不一致。",
        "文字“收取信息处理费100元”与实际收取金额（元）（六、其他需要报告的事项!B5）150 不一致。",
    ]  # 行政诉讼 3 = 未经复议直接起诉 1 + 复议后起诉 2: no finding


def test_2019_form_figures_name_its_own_cells() -> None:
    """（六）其他处理 is one row of the 2019 form; 表二 has 本年新制作数量 (its cells, its addresses)."""
    sub = submission(
        {
            "s1.on_request": "收到政府信息公开申请5件，予以公开3件，其他处理1件。",
            "s1.active": "本年新制作规范性文件9件，作出行政处罚决定10件。",
        },
        year=2020, form="2019",
        t3__new__natural=5, t3__disclosed__natural=3, t3__otherwise__natural=2,
        t2__normative__made=8, t2__penalty__decisions=10,
    )  # fmt: skip
    assert [f.message for f in n_findings(sub)] == [
        "文字“本年新制作规范性文件9件”与表二 规范性文件 本年新制作数量（二、主动公开政府信息情况!B6）8 不一致。",
        "文字“其他处理1件”与表三 （六）其他处理 总计（三、收到和处理政府信息公开申请情况!J26）2 不一致。",
    ]


@pytest.mark.parametrize("form", FORMS)
def test_claims_and_years_on_either_form(form: str) -> None:
    sub = submission(
        {"s1.on_request": "本年度未收到政府信息公开申请。", "s1.active": "截至2019年底，累计公开政府信息1000条。"},
        year=2020, form=form, t3__new__natural=2, t3__disclosed__natural=2,
    )  # fmt: skip
    assert [(f.rule, f.value, f.expected) for f in n_findings(sub)] == [
        ("N-YEAR", 2019, 2020),
        ("N-CLAIM", "本年度未收到政府信息公开申请", 2),
    ]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("共收到政府信息公开申请0条。", [("new", 0)]),  # 申请 itself counted in 条
        ("本年度受理信息公开申请3条，其中自然人2条、法人或其他组织1条。",
         [("new", 3), ("new·自然人", 2), ("new·法人或其他组织", 1)]),
        ("全年收到3条政府信息公开申请。", [("new", 3)]),
        ("共收到政府信息公开申请3条，其中法人1件、自然人2件。", [("new", 3), ("new·自然人", 2)]),  # 法人: which rows?
        # 条 counts documents and messages everywhere else
        ("其中主动公开信息数169，依申请公开信息数317条，不予公开24条。", []),
        ("收到依申请公开3条。", []),
        ("予以公开3条，不予处理1条。", []),
        ("处理群众留言92条，收到信息公开申请相关咨询20条。", []),
    ],
)  # fmt: skip
def test_applications_counted_in_tiao(text: str, expected: list[tuple[str, Any]], form: str) -> None:
    assert stated(text, form) == expected


def test_contradictions_stated_in_tiao_are_found() -> None:
    table = {"t3__new__natural": 3, "t3__disclosed__natural": 3}
    none = submission({"s1.on_request": "本年度共收到政府信息公开申请0条。"}, **table)
    assert [(f.rule, f.value, f.expected, f.message) for f in n_findings(none)] == [
        ("N-FIGURE", 0, 3, "文字“本年度共收到政府信息公开申请0条”与表三 一、本年新收政府信息公开申请数量 总计"
         "（三、收到和处理政府信息公开申请情况!J6）3 不一致。"),
    ]  # fmt: skip
    split = submission({"s1.on_request": "共收到政府信息公开申请3条，其中法人1件、自然人2件。"}, **table)
    assert [(f.rule, f.value, f.expected, f.message) for f in n_findings(split)] == [
        ("N-FIGURE", 2, 3, "文字“自然人2件”与表三 一、本年新收政府信息公开申请数量 自然人"
         "（三、收到和处理政府信息公开申请情况!D6）3 不一致。"),
    ]  # fmt: skip


def test_unreadable_cells_are_not_compared() -> None:
    sub = submission({"s1.on_request": "收到信息公开申请2件。"}, t3__new__natural="3件")
    assert n_findings(sub) == []


def test_all_zero_tables_are_left_to_p_zero_tables() -> None:
    found = rules.apply(submission({"s1.on_request": "收到政府信息公开申请3件。"}))
    assert [f.rule for f in found if f.rule in ("P-ZERO-TABLES", "N-FIGURE")] == ["P-ZERO-TABLES"]  # one, not two


# ---------------------------------------------------------------- N-CLAIM


def claimed(text: str, form: str = "2021") -> list[tuple[str, str]]:
    return [(c.claim.key, c.quantity) for c in reader(form).claims(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("本年度未收到政府信息公开申请。", [("no_applications", "new")]),
        ("2023年我局未收到依申请公开事宜。", [("no_applications", "new")]),
        ("本年度没有收到信息公开申请，渠道畅通。", [("no_applications", "new")]),
        ("本年度无政府信息公开申请。", [("no_applications", "new")]),
        ("作出补正告知，目前未收到该申请人提交的补正。", []),
        ("未收到信息公开申请人补正材料。", []),
        ("本年度收到政府信息公开申请3件。所有申请均已办理完成。", [("all_handled", "carry_out")]),
        ("收到的依申请公开申请均已按要求办理完成，无结转。", [("all_handled", "carry_out"), ("all_handled", "carry_out")]),
        ("信息公开申请全部办结。", [("all_handled", "carry_out")]),
        ("所有申请均已办理完成。", []),  # which applications? no 信息公开 / 依申请 near it
        ("群众诉求全部办结。", []),  # not about applications
        ("全部申请均在法定期限内答复。", []),  # answered in time is not 办结
        ("上年无结转申请。", [("no_carry_in", "carry_in")]),
        ("因政府信息公开被申请行政复议，均获维持。", [("all_upheld", "review_contested")]),
        ("信息公开行政诉讼均被维持。", [("all_upheld", "litigation_contested")]),
        ("信息公开行政复议和行政诉讼结果均获维持。", [("all_upheld", "contested")]),
        ("全年办理行政复议案件120件，均获维持。", []),  # a 司法局's own work, not about disclosure
        ("全年未发生因依申请公开被行政复议纠错或行政诉讼败诉情形。", [("none_corrected", "corrected")]),
        ("依申请公开工作行政复议无被纠错情况。", [("none_corrected", "review_corrected")]),
        ("没有因政府信息公开针对本局申请行政复议或行政诉讼的事项。", [("no_cases", "cases")]),
        ("本年度未发生政府信息公开行政复议案件。", [("no_cases", "review")]),
        ("未发生因信息公开被提起行政诉讼的情况。", [("no_cases", "litigation")]),
        ("避免因答复不规范发生行政复议、诉讼等情况。", []),
        ("本年度未收取信息处理费。", [("no_fee", "fee_collected")]),
        ("本年度没有产生信息公开处理费。", [("no_fee", "fee_collected")]),
        ("县发展和改革局政府信息公开未发生收费情况。", [("no_fee", "fee_collected")]),
        ("本单位未发生行政事业性收费。", []),
        ("申请公开政府信息的数量明显超过合理范围的，本机关将收取信息处理费。", []),
        ("本年度共收取信息处理费。", [("fee_paid", "fee_collected")]),
        ("本年度未发出收费通知，未收取信息处理费。", [("no_notices", "fee_notices"), ("no_fee", "fee_collected")]),
    ],
)  # fmt: skip
@pytest.mark.parametrize("form", FORMS)
def test_claims(text: str, expected: list[tuple[str, str]], form: str) -> None:
    assert claimed(text, form) == expected


def test_claim_contradicted_by_the_table() -> None:
    sub = submission(
        {"s1.on_request": "本年度收到信息公开申请3件，所有申请均已办理完成。", "s6.fee": "本年度未收取信息处理费。"},
        t3__new__natural=3, t3__disclosed__natural=2, t3__carry_out__natural=1, s6__fee_collected=Decimal("20"),
    )  # fmt: skip
    assert [(f.rule, f.cell, f.message) for f in n_findings(sub)] == [
        ("N-CLAIM", "A6", "文字“所有申请均已办理完成”与表三 四、结转下年度继续办理 总计（三、收到和处理政府信息公开申请情况!J30）1 矛盾。"),
        ("N-CLAIM", "A6", "文字“本年度未收取信息处理费”与实际收取金额（元）（六、其他需要报告的事项!B5）20 矛盾。"),
    ]  # fmt: skip


def test_claims_the_tables_bear_out_are_no_findings() -> None:
    texts = {
        "s1.on_request": "本年度未收到政府信息公开申请，所有申请均已办结。",
        "s1.oversight": "未发生政府信息公开行政复议、行政诉讼案件。",
        "s6.fee": "本年度未发出收费通知，未收取信息处理费。",
    }
    assert n_findings(submission(texts)) == []


def test_claims_of_t4() -> None:
    sub = submission(
        {"s1.oversight": "本年度因政府信息公开发生行政复议2件，均获维持；未发生行政诉讼。"},
        t4__cases__review_upheld=1, t4__cases__review_pending=1, t4__cases__direct_upheld=1,
    )  # fmt: skip
    assert [f.message for f in n_findings(sub)] == [
        "文字“均获维持”与表四 行政复议·结果纠正+尚未审结（四、政府信息公开行政复议、行政诉讼情况!B6,D6）1 矛盾。",
        "文字“未发生行政诉讼”与表四 行政诉讼·总计（四、政府信息公开行政复议、行政诉讼情况!J6,O6）1 矛盾。",
    ]


def test_no_applications_while_new_applications() -> None:
    sub = submission({"s1.on_request": "本年度未收到政府信息公开申请。"}, t3__new__natural=2, t3__disclosed__natural=2)
    [found] = n_findings(sub)
    assert found.message == (
        "文字“本年度未收到政府信息公开申请”与表三 一、本年新收政府信息公开申请数量 总计"
        "（三、收到和处理政府信息公开申请情况!J6）2 矛盾。"
    )


def test_a_figure_of_the_claims_quantity_speaks_instead() -> None:
    sub = submission({"s6.fee": "本年度共收取信息处理费200元。"}, s6__fee_collected=0)
    assert [f.rule for f in n_findings(sub)] == ["N-FIGURE"]


# ---------------------------------------------------------------- N-YEAR


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("本报告所列数据的统计期限自2022年1月1日起至2022年12月31日止。", [2022]),
        ("本年度报告中所列数据统计期限为 2025\n年 1 月 1 日至 12 月 31 日。", [2025]),
        ("本报告统计时限为2023年1月1日至2024年12月31日。", [2023, 2024]),
        ("截至2021年底，累计公开政府信息1000条。", [2021]),
        ("截止2021年12月31日，共有3个栏目。", [2021]),
        ("较2022年增长12%，2025年将继续深化公开。", []),
        ("针对 2024 年工作中存在的主要问题，重点采取如下措施。", []),
        ("国办函〔2020〕109号规定的收费标准。", []),
    ],
)
@pytest.mark.parametrize("form", FORMS)
def test_years(text: str, years: list[int], form: str) -> None:
    assert [y.year for y in reader(form).years(text)] == years


def test_year_of_another_report() -> None:
    sub = submission({"s1.active": "截至2021年底，累计公开政府信息1000条。"}, year=2022)
    [found] = n_findings(sub)
    assert (found.rule, found.cell, found.value, found.expected) == ("N-YEAR", "A4", 2021, 2022)
    assert found.message == "文字“截至2021年底”写的是 2021 年，本报告年度为 2022 年，可能沿用了往年的文字。"
    assert n_findings(submission({"s1.active": "截至2022年底，累计公开政府信息1000条。"}, year=2022)) == []


# ---------------------------------------------------------------- where the rules run


def test_sections_five_and_six_are_read_too() -> None:
    sub = submission({"s5.problems": "截至2021年底仍有问题。", "s6.other": "截至2021年底无。"}, year=2023)
    assert [(f.sheet, f.cell) for f in n_findings(sub)] == [
        ("五、存在的主要问题及改进情况", "A4"),
        ("六、其他需要报告的事项", "A8"),
    ]


def test_a_summarys_own_narratives_get_the_same_rules() -> None:
    sub = submission(
        {"s1.on_request": "全县共收到政府信息公开申请30件。"},
        summary=True,
        t3__new__natural=31,
        t3__disclosed__natural=31,
    )
    assert [(f.rule, f.value, f.expected) for f in n_findings(sub)] == [("N-FIGURE", 30, 31)]


# ---------------------------------------------------------------- check --annotate, render, merge


def contradicting(tmp_path: Path, name: str = "沭阳.xlsx", **texts: str) -> Path:
    values = {**SHUYANG, "s1.on_request": "全年收到政府信息公开申请 25 件，均在法定期限内答复。"}
    return write_valid(tmp_path / name, values | {k.replace("__", "."): v for k, v in texts.items()})


NARRATIVE_MESSAGE = (
    "文字“全年收到政府信息公开申请 25 件”与表三 一、本年新收政府信息公开申请数量 总计"
    "（三、收到和处理政府信息公开申请情况!J6）26 不一致。"
)


def test_check_reports_it_as_a_warning_on_the_narrative_cell(tmp_path: Path) -> None:
    path = contradicting(tmp_path)
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"✓ {path}（沭阳县发展和改革局）：通过（1 个提醒）",
        f"  提醒 N-FIGURE 一、总体情况!A6 {NARRATIVE_MESSAGE}",
    ]


def test_annotate_marks_the_narrative_cell(tmp_path: Path) -> None:
    out = tmp_path / "标注.xlsx"
    result = runner.invoke(app, ["check", str(contradicting(tmp_path)), "--annotate", str(out)])
    assert result.exit_code == 0
    wb = openpyxl.load_workbook(out)
    cell = wb["一、总体情况"]["A6"]
    assert cell.comment.text == f"提醒 N-FIGURE：{NARRATIVE_MESSAGE}"
    assert cell.fill.fgColor.rgb.endswith("FFEB9C")  # the warning fill
    assert list(wb[ANNOTATION_SHEET].iter_rows(min_row=2, values_only=True)) == [
        ("提醒", "N-FIGURE", "一、总体情况", "A6", NARRATIVE_MESSAGE)
    ]


def test_render_does_not_block_on_narrative_warnings(tmp_path: Path) -> None:
    out = tmp_path / "年报.md"
    result = runner.invoke(app, ["render", str(contradicting(tmp_path)), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "全年收到政府信息公开申请 25 件" in out.read_text(encoding="utf-8")


def test_merge_checks_inputs_and_a_summarys_own_narratives(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    contradicting(inputs, "a.xlsx")
    write_valid(inputs / "b.xlsx", {**CHEPAIZI})
    first = tmp_path / "县汇总.xlsx"
    outcome = merge(sorted(inputs.glob("*.xlsx")), first, unit="某某县人民政府")
    assert outcome.exit_code == 0  # warnings do not keep a unit out of the summary
    assert [f.rule for p in outcome.merged for f in p.findings if f.rule == "N-FIGURE"] == ["N-FIGURE"]
    written = fill(first, tmp_path / "县汇总（已撰写）.xlsx", {"s1.on_request": "全县共收到政府信息公开申请30件。"})
    [result] = check([written])
    assert result.submission is not None and result.submission.summary_units == 2
    assert [(f.rule, f.cell, f.value, f.expected) for f in result.findings if f.rule.startswith("N-F")] == [
        ("N-FIGURE", "A6", 30, 26)
    ]


# ---------------------------------------------------------------- the two forms' vocabularies


def test_the_two_forms_differ_only_where_their_cells_do() -> None:
    """Each form declares its own vocabulary (its own legal text); what both forms have alike
    (表三 but （六）, 表四, 第六部分, claims, years) must be worded alike, so a fix reaches both."""
    old, new = specs.load("2019").narrative, specs.load("2021").narrative
    assert old is not None and new is not None
    alike = ("claims", "years", "continues", "breakdown", "subsets")  # units: 2019 has no 万元 cell
    assert [getattr(old, name) for name in alike] == [getattr(new, name) for name in alike]
    assert {k: v for k, v in old.fragments.items() if k in new.fragments} == {
        k: v for k, v in new.fragments.items() if k in old.fragments
    }
    mine = {q.key: q for q in old.quantities}
    theirs = {q.key: q for q in new.quantities}
    differ = sorted(k for k in mine.keys() & theirs.keys() if mine[k] != theirs[k])
    assert differ == ["other_handling"]  # （六）其他处理: one row on the 2019 form
    assert mine["other_handling"].phrases == theirs["other_handling"].phrases
    assert sorted(mine.keys() - theirs.keys()) == [
        "normative_made", "normative_public_total", "normative_published",
        "rules_made", "rules_public_total", "rules_published",
    ]  # fmt: skip
    assert sorted(theirs.keys() - mine.keys()) == [
        "fees", "normative_in_force", "normative_issued", "normative_repealed",
        "rules_in_force", "rules_issued", "rules_repealed",
    ]  # fmt: skip
    assert len(mine.keys() & theirs.keys()) == 26


# ---------------------------------------------------------------- the vocabulary is checked at load


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            'rows = ["new"]\ncolumns = ["total"]\nalso',
            'rows = ["newx"]\ncolumns = ["total"]\nalso',
            "unknown cells ['t3.newx.total']",
        ),
        ('quantity = "carry_out"\ncontradicted', 'quantity = "carry_outx"\ncontradicted', "unknown quantity"),
        ('"{receive}{kind}申请{total}{n|条}"', '"{receive}{kinds}申请{total}{n|条}"', "unknown placeholder"),
        ('"部分公开{reply}{total}{n}"', '"部分公开{reply|答复}{total}{n}"', "measure words are for {n} only"),
        ('"部分公开{reply}{total}{n}"', '"部分公开(?:{reply}{total}{n}"', "missing )"),
    ],
)
@pytest.mark.parametrize("form", FORMS)
def test_a_vocabulary_typo_fails_at_load(old: str, new: str, says: str, form: str) -> None:
    from importlib import resources

    from xltool.errors import DefinitionError

    name = specs.SPEC_FILES[form]
    text = resources.files("xltool.specs").joinpath(name).read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(DefinitionError, match=re.escape(says)):
        specs.parse(text.replace(old, new, 1), name)


def test_the_part_a_text_is_written_under_is_context_too() -> None:
    """（二）依申请公开 is about applications: a bare 收到申请 there counts; under （一）主动公开 not."""
    numbers = {"t3__new__natural": 3, "t3__disclosed__natural": 3}
    under_requests = submission({"s1.on_request": "本年度共收到申请2件。"}, **numbers)
    assert [(f.rule, f.value, f.expected) for f in n_findings(under_requests)] == [("N-FIGURE", 2, 3)]
    assert n_findings(submission({"s1.active": "本年度共收到申请2件。"}, **numbers)) == []
