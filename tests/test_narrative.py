"""Narrative rules N-FIGURE, N-YEAR, N-CLAIM: each phrase family with true and false examples of our own."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from xltool.checks import narrative, rules
from xltool.form import spec as specs
from xltool.submission import Finding, Submission, blank_values

SPEC = specs.load()
READER = narrative.reader_for(SPEC)
assert READER is not None
T3 = "三、收到和处理政府信息公开申请情况"
T4 = "四、政府信息公开行政复议、行政诉讼情况"


def submission(texts: dict[str, str], year: int = 2023, summary: bool = False, **numbers: Any) -> Submission:
    values: dict[str, Any] = blank_values(SPEC) | {"unit.unit_name": "某某局", "unit.report_year": year}
    values |= {k.replace("__", "."): v for k, v in numbers.items()}
    values |= texts
    props = {"summary_units": "3"} if summary else {}
    return Submission(SPEC, "x.xlsx", values, properties=props)


def n_findings(sub: Submission) -> list[Finding]:
    return [f for f in rules.apply(sub) if f.rule.startswith("N-") and f.rule not in ("N-SECTION", "N-PART")]


def stated(text: str) -> list[tuple[str, Decimal]]:
    assert READER is not None
    return [(f.quantity, f.value) for f in READER.figures(text)]


# ---------------------------------------------------------------- figures and sentences


@pytest.mark.parametrize(
    ("text", "value"),
    [("两", 2), ("十", 10), ("十二", 12), ("二十", 20), ("一百零五", 105), ("三千二百", 3200), ("两万零三十", 20030),
     ("〇", 0), ("零", 0), ("二三", None), ("百", 100)],
)  # fmt: skip
def test_chinese_numerals(text: str, value: int | None) -> None:
    assert narrative.chinese_number(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("收到政府信息公开申请两件", 2), ("收到政府信息公开申请十二件", 12), ("收到政府信息公开申请２６件", 26),
     ("收到政府信息公开申请1,295件", 1295), ("收到政府信息公开申请1，295件", 1295), ("收到政府信息公开申请 1295 件", 1295),
     ("本年度本机关通过各种渠道共收到政府信息公开\n申请 26 件", 26)],
)  # fmt: skip
def test_figures_in_every_notation(text: str, value: int) -> None:
    assert stated(text) == [("new", value)]


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
        ("受理申请1295件，办结1191件（含上年结转189件）。", [("new", 1295), ("handled", 1191), ("carry_in", 189)]),
        ("收到申请5件，已答复4件，结转下年度继续办理1件。", [("new", 5), ("handled", 4), ("carry_out", 1)]),
        ("收到申请5件，另有1件结转下年度。", [("new", 5), ("carry_out", 1)]),
        # outcomes; 予以公开及部分公开 is their sum, not 部分公开
        ("收到申请3件，予以公开1件，部分公开1件，不予公开1件。", [("new", 3), ("disclosed", 1), ("partly", 1), ("refused", 1)]),
        ("其中，予以公开及部分公开 208 件（17.46%），不予公开 20 件（1.68%），无法提供 564 件，不予处理 80 件，"
         "其他处理 319 件（26.78%，含申请人主动撤回 157 件）。",
         [("disclosed_or_partly", 208), ("refused", 20), ("unable", 564), ("not_processed", 80), ("other_handling", 319)]),
        # per applicant type after a head figure
        ("收到申请26件，其中自然人20件、法人或其他组织6件。",
         [("new", 26), ("new·自然人", 20), ("new·法人或其他组织", 6)]),
        ("收到申请26件。其中自然人20件、商业企业6件。", [("new", 26), ("new·自然人", 20), ("new·商业企业", 6)]),
        ("自然人申请20件。", []),  # no head figure: whose row?
        ("收到申请11件，其中网络申请5件，信函申请6件。", [("new", 11)]),
        # 行政复议, 行政诉讼
        ("因政府信息公开被申请行政复议2件、被提起行政诉讼1件。", [("review", 2), ("litigation", 1)]),
        # 规章, 行政规范性文件
        ("全年主动公开市政府规章 22 件、市政府及市政府办公厅行政规范性文件 34 件。",
         [("rules_issued", 22), ("normative_issued", 34)]),
        ("本年制定规范性文件8件，废止规范性文件2件，现行有效规范性文件18件。",
         [("normative_issued", 8), ("normative_repealed", 2), ("normative_in_force", 18)]),
        ("现行有效规章5件。", [("rules_in_force", 5)]),
        # 行政许可 / 处罚 / 强制, 收费
        ("全年作出行政许可决定320件、行政处罚决定135件、行政强制54件。", [("license", 320), ("penalty", 135), ("coercion", 54)]),
        ("行政事业性收费3.5万元。", [("fees", Decimal("3.5"))]),
        ("行政事业性收费35000元。", [("fees", Decimal("3.5000"))]),
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
        ("收到申请约30余件。", []),
        ("2023年度依申请公开数为12件。", []),
    ],
)  # fmt: skip
def test_attribution(text: str, expected: list[tuple[str, Any]]) -> None:
    assert stated(text) == expected


def test_equally_long_phrases_of_two_quantities_are_skipped() -> None:
    assert READER is not None
    found = READER.figures("收到申请3件，予以公开及部分公开3件。")
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
        {"s1.on_request": "收到申请275件，予以公开及部分公开258件。"},
        t3__new__natural=275, t3__disclosed__natural=200, t3__partly__natural=75,
    )  # fmt: skip
    [found] = n_findings(sub)
    assert found.message == (
        "文字“予以公开及部分公开258件”与表三 （一）予以公开+（二）部分公开 总计"
        "（三、收到和处理政府信息公开申请情况!J8:J9）275 不一致。"
    )


def test_group_rows_are_named_by_their_group() -> None:
    sub = submission(
        {"s1.on_request": "收到申请3件，不予公开2件。"},
        t3__new__natural=3,
        t3__secret__natural=1,
        t3__inquiry__natural=2,
    )
    [found] = n_findings(sub)
    assert "与表三 （三）不予公开 总计（三、收到和处理政府信息公开申请情况!J10:J17）3 不一致。" in found.message


def test_applicant_type_figures() -> None:
    sub = submission(
        {"s1.on_request": "收到申请26件，其中自然人20件、法人或其他组织6件。"},
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
            "s1.oversight": "全年被申请行政复议1件，被提起行政诉讼3件。",
            "s1.active": "本年制发规范性文件8件，作出行政处罚决定10件，行政事业性收费2万元。",
            "s6.fee": "本年度发出收费通知1件，收取信息处理费100元。",
        },
        t4__cases__review_upheld=2, t4__cases__direct_pending=1, t4__cases__after_review_upheld=2,
        t2__normative__issued=8, t2__penalty__decisions=12, t2__fees__amount=Decimal("2.0"),
        s6__fee_notices=1, s6__fee_collected=Decimal("150"),
    )  # fmt: skip
    assert [f.message for f in n_findings(sub)] == [
        "文字“作出行政处罚决定10件”与表二 行政处罚 本年处理决定数量（二、主动公开政府信息情况!B12）12 不一致。",
        "文字“全年被申请行政复议1件”与表四 行政复议·总计（四、政府信息公开行政复议、行政诉讼情况!E6）2 不一致。",
        "文字“收取信息处理费100元”与实际收取金额（元）（六、其他需要报告的事项!B5）150 不一致。",
    ]  # 行政诉讼 3 = 未经复议直接起诉 1 + 复议后起诉 2: no finding
