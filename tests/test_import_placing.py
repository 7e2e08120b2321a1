"""Placing figures by both headers: each mechanism of the placer, and each layout a published report
was seen to break it with, on small documents written here (invented text, the form's labels).

A figure goes to (row, column) only when its row label and its column header name them; where the
layout leaves that open the figure is reported unread with the reason, never placed by guess.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xltool.form import spec as specs
from xltool.form.spec import leaves
from xltool.importers import headers, lines
from xltool.importers.lines import Line, Piece
from xltool.importers.model import Table, Text
from xltool.importers.values import Column, readings
from xltool.sources import importing as run

SPEC = specs.load()
TITLE = "某某县某某局2023年政府信息公开工作年度报告"
T3_HEAD = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


def doc(*parts: str | list[str]) -> str:
    """A text report: its lines, given one by one or in lists."""
    return "\n".join(line for part in parts for line in ([part] if isinstance(part, str) else part))


# 表二's headers, which tell the form a report is printed on (the tests below print other tables)
T2_TEXT = doc(
    ["二、主动公开政府信息情况", "第二十条第（一）项", "信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |"],
    [
        "第二十条第（五）项",
        "信息内容 | 本年处理决定数量 |",
        "第二十条第（八）项",
        "信息内容 | 本年收费金额（单位：万元） |",
    ],
)
T2_HTML = "<h2>二、主动公开政府信息情况</h2>" + "".join(
    f"<p>{line.strip(' |').replace(' | ', '　')}</p>" for line in T2_TEXT.split("\n")[1:]
)


def read(tmp_path: Path, body: str, name: str = "r.txt") -> run.Reading:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return run.read_report(path)


def cells(reading: run.Reading) -> dict[str, Any]:
    assert reading.placement is not None
    return {**reading.placement.values, **reading.placement.printed}


def block(table: str, key: str) -> Any:
    return next(b for b in SPEC.table(table).blocks if b.key == key)


def page(body: str, title: str = TITLE) -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>"


def tr(*cells: str) -> str:
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


# ---------------------------------------------------------------- columns by their headers


def test_columns_printed_in_another_order_follow_their_headers(tmp_path: Path) -> None:
    """本年废止件数 printed before 本年制发件数: 18 is 废止, 8 is 制发 (once read as each other)."""
    table = (
        "<table>"
        + tr("第二十条第（一）项", "第二十条第（一）项", "第二十条第（一）项", "第二十条第（一）项")
        + tr("信息内容", "本年废止件数", "本年制发件数", "现行有效件数")
        + tr("规章", "0", "0", "0")
        + tr("行政规范性文件", "18", "8", "25")
        + "</table>"
    )
    body = page(f"<h1>{TITLE}</h1><h2>二、主动公开政府信息情况</h2>{table}")
    found = cells(read(tmp_path, body, "r.html"))
    assert (found["t2.normative.issued"], found["t2.normative.repealed"], found["t2.normative.in_force"]) == (8, 18, 25)
    text = doc(
        [
            TITLE,
            "二、主动公开政府信息情况",
            "第二十条第（一）项",
            "信息内容 | 本年废止件数 | 本年制发件数 | 现行有效件数 |",
        ],
        ["规章 | 0 | 0 | 0 |", "行政规范性文件 | 18 | 8 | 25 |"],
    )
    found = cells(read(tmp_path, text))
    assert (found["t2.normative.issued"], found["t2.normative.repealed"]) == (8, 18)


def table3_html(order: list[str], rows: dict[str, list[int]], *, groups: bool = True) -> str:
    """表三 as a web page prints it, its applicant columns in ``order`` (leaf labels)."""
    cols = leaves(block("t3", "applications").columns)
    by_label = {c.label: c for c in cols}
    head2 = []
    head3 = []
    for label in order:
        if by_label[label].path[-1].label == "法人或其他组织" and groups:
            if "法人或其他组织" not in head2:
                head2.append("法人或其他组织")
            head3.append(label)
        else:
            head2.append(label)
    legal = [x for x in order if by_label[x].path[-1].label == "法人或其他组织"]
    out = ["<table>", f"<tr><td rowspan='3' colspan='3'>{T3_HEAD}</td><td colspan='{len(order)}'>申请人情况</td></tr>"]
    out.append(
        "<tr>"
        + "".join(
            f"<td colspan='{len(legal)}'>{h}</td>" if h == "法人或其他组织" else f"<td rowspan='2'>{h}</td>"
            for h in head2
        )
        + "</tr>"
    )
    out.append("<tr>" + "".join(f"<td>{h}</td>" for h in head3) + "</tr>")
    for label, figures in rows.items():
        out.append(f"<tr><td colspan='3'>{label}</td>" + "".join(f"<td>{v}</td>" for v in figures) + "</tr>")
    return "".join(out) + "</table>"


def test_total_first_and_sub_columns_in_another_order(tmp_path: Path) -> None:
    order = ["总计", "其他", "自然人", "法律服务机构", "商业企业", "科研机构", "社会公益组织"]
    rows = {
        "一、本年新收政府信息公开申请数量": [10, 1, 2, 2, 0, 0, 5],
        "二、上年结转政府信息公开申请数量": [3, 0, 0, 0, 0, 0, 3],
    }
    body = page(f"<h1>{TITLE}</h1>{T2_HTML}<h2>三、收到和处理政府信息公开申请情况</h2>{table3_html(order, rows)}")
    found = cells(read(tmp_path, body, "r.html"))
    new = {k.split(".")[2]: v for k, v in found.items() if k.startswith("t3.new.")}
    assert new == {"total": 10, "other": 1, "natural": 5, "legal": 2, "business": 2, "research": 0, "nonprofit": 0}
    # the same header flattened into text (its rows one after another): read back the same
    text = doc(
        [
            TITLE,
            T2_TEXT,
            "三、收到和处理政府信息公开申请情况",
            T3_HEAD,
            "申请人情况",
            "总计",
            "法人或其他组织",
            "自然人",
        ],
        ["其他", "法律服务机构", "商业企业", "科研机构", "社会公益组织"],
        ["一、本年新收政府信息公开申请数量 | 10 | 1 | 2 | 2 | 0 | 0 | 5 |"],
    )
    found = cells(read(tmp_path, text))
    new = {k.split(".")[2]: v for k, v in found.items() if k.startswith("t3.new.")}
    assert new == {"total": 10, "other": 1, "legal": 2, "business": 2, "research": 0, "nonprofit": 0, "natural": 5}


def test_swapped_headers_without_their_figures_import_the_swapped_figures(tmp_path: Path) -> None:
    """The header decides: 自然人 and 商业企业 headers swapped, figures left: the figures swap."""
    order = ["商业企业", "自然人", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    order = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    html = table3_html(order, {"一、本年新收政府信息公开申请数量": [7, 2, 0, 0, 0, 0, 9]})
    swapped = html.replace(">自然人<", ">@<").replace(">商业企业<", ">自然人<").replace(">@<", ">商业企业<")
    body = page(f"<h1>{TITLE}</h1>{T2_HTML}<h2>三、收到和处理政府信息公开申请情况</h2>{swapped}")
    found = cells(read(tmp_path, body, "r.html"))
    assert (found["t3.new.natural"], found["t3.new.business"]) == (2, 7)


def test_flattened_headers_read_back_level_by_level() -> None:
    applications = block("t3", "applications")
    three_rows = "申请人情况 自然人 法人或其他组织 总计 商业企业 科研机构 社会公益组织 法律服务机构 其他"
    got = headers.flattened([three_rows], applications)
    assert got is not None and got.certain
    assert [c.key for c in got.leaves if c] == [
        "natural",
        "business",
        "research",
        "nonprofit",
        "legal",
        "other",
        "total",
    ]
    cases = block("t4", "cases")
    t4 = (
        "行政复议 行政诉讼 结果维持 结果纠正 其他结果 尚未审结 总计 未经复议直接起诉 复议后起诉 "
        + "结果维持 结果纠正 其他结果 尚未审结 总计 " * 2
    )
    got = headers.flattened([t4], cases)
    assert (
        got is not None and got.certain and [c.key for c in got.leaves if c] == [c.key for c in leaves(cases.columns)]
    )
    # 复议后起诉 printed before 未经复议直接起诉: its sub-columns are read first
    swapped = t4.replace("未经复议直接起诉 复议后起诉", "复议后起诉 未经复议直接起诉")
    got = headers.flattened([swapped], cases)
    assert (
        got is not None
        and got.certain
        and [c.key for c in got.leaves if c][5:7] == ["after_review_upheld", "after_review_corrected"]
    )
    # a group label left out of a header over several rows: its place is not known
    got = headers.flattened([three_rows.replace("法人或其他组织 ", "")], applications)
    assert got is not None and not got.certain


def test_a_header_the_form_does_not_name_is_its_order_only_where_the_totals_agree(tmp_path: Path) -> None:
    """数据1 … 数据6 | 总计 (a converter's names): the form's order, kept where the row adds up."""
    body = doc(
        [TITLE, T2_TEXT, "三、收到和处理政府信息公开申请情况"],
        ["### 一、本年新收政府信息公开申请数量", "", "| 数据1 | 数据2 | 数据3 | 数据4 | 数据5 | 数据6 | 总计 |"],
        ["|---|---|---|---|---|---|---|", "| 3 | 1 | 0 | 0 | 0 | 0 | 4 |", ""],
        ["### 二、上年结转政府信息公开申请数量", "", "| 数据1 | 数据2 | 数据3 | 数据4 | 数据5 | 数据6 | 总计 |"],
        ["|---|---|---|---|---|---|---|", "| 1 | 1 | 0 | 0 | 0 | 0 | 5 |", ""],
    )
    reading = read(tmp_path, body, "r.md")
    found = cells(reading)
    assert [found[f"t3.new.{k}"] for k in ("natural", "business", "research", "total")] == [3, 1, 0, 4]
    assert "t3.carry_in.natural" not in found
    assert reading.placement is not None
    assert reading.placement.missing["t3.carry_in.natural"] == (
        "表头未能逐栏认出，按表式的栏目顺序读出的数字与本行总计不符，无法确定各栏"
    )
    origin = reading.placement.origins["t3.new.business"]
    assert (origin.row_label, origin.column_label) == ("一、本年新收政府信息公开申请数量", f"数据2{headers.BY_ORDER}")


def test_no_header_at_all(tmp_path: Path) -> None:
    """Bare rows of figures under their labels, no header printed: the form's order where the
    row's total agrees; a row of 表二 (no total to check) only where its figures are all alike."""
    body = doc(
        [TITLE, "二、主动公开政府信息情况", "规章 0 0 0", "行政规范性文件 3 1 20"],
        ["三、收到和处理政府信息公开申请情况", "一、本年新收政府信息公开申请数量 5 1 0 0 0 0 6"],
        ["二、上年结转政府信息公开申请数量 1 0 0 0 0 0 2"],
    )
    reading = read(tmp_path, body)
    found = cells(reading)
    assert [found[f"t2.rules.{k}"] for k in ("issued", "repealed", "in_force")] == [0, 0, 0]
    assert [found[f"t3.new.{k}"] for k in ("natural", "business", "total")] == [5, 1, 6]
    assert reading.placement is not None
    assert (
        reading.placement.missing["t2.normative.issued"] == "表头未能逐栏认出，这一行没有可以核对的总计，无法确定各栏"
    )
    assert "t3.carry_in.natural" in reading.placement.missing


# ---------------------------------------------------------------- rows by their labels


def test_row_labels_worded_otherwise(tmp_path: Path) -> None:
    body = doc(
        [
            TITLE,
            T2_TEXT,
            "三、收到和处理政府信息公开申请情况",
            "自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | 总计 |",
        ],
        ["2.其他法律和行政法规禁止公开 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |"],
        ["1.申请人无正当理由逾期不补正、行政机关不再受理其政府信息公开申请 | 2 | 0 | 0 | 0 | 0 | 0 | 2 |"],
        ["行政机关不再处理其政府信息公开申请 | 4 | 0 | 0 | 0 | 0 | 0 | 4 |"],
    )
    reading = read(tmp_path, body)
    found = cells(reading)
    assert (found["t3.prohibited.natural"], found["t3.no_correction.natural"]) == (1, 2)
    assert "t3.unpaid.natural" not in found  # a fragment both （六）1 and （六）2 end with: neither
    assert reading.placement is not None
    assert reading.placement.origins["t3.prohibited.natural"].row_label == "2.其他法律和行政法规禁止公开"


def test_a_row_label_in_a_sentence_before_the_table_is_not_the_row(tmp_path: Path) -> None:
    prose = "本年度主动公开政府规章和规范性文件类信息12条，行政许可信息5条"
    run_together = (
        f"{TITLE}\n一、总体情况\n本年度工作平稳。\n二、主动公开政府信息情况{prose}。第二十条第（一）项信息内容本年制发件数"
        "本年废止件数现行有效件数规章000行政规范性文件102第二十条第（五）项信息内容本年处理决定数量行政许可0"
        "三、收到和处理政府信息公开申请情况"
    )
    one_cell_a_line = doc(
        [TITLE, "二、主动公开政府信息情况", prose, "第二十条第（一）项", "信息内容", "本年制发件数", "本年废止件数"],
        ["现行有效件数", "规章", "0", "0", "0", "行政规范性文件", "1", "0", "2", "第二十条第（五）项", "信息内容"],
        ["本年处理决定数量", "行政许可", "0", "三、收到和处理政府信息公开申请情况"],
    )
    for body in (run_together, one_cell_a_line):
        found = cells(read(tmp_path, body))
        assert [found[f"t2.normative.{k}"] for k in ("issued", "repealed", "in_force")] == [1, 0, 2]
        assert (found["t2.rules.issued"], found["t2.license.decisions"]) == (0, 0)


def test_sub_rows_in_another_order_and_a_table_split_in_two(tmp_path: Path) -> None:
    head = table3_html(
        ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"],
        {"2.其他法律行政法规禁止公开": [2, 0, 0, 0, 0, 0, 2], "1.属于国家秘密": [1, 0, 0, 0, 0, 0, 1]},
    )
    rest = (
        "<table>" + tr("（四）无法提供", "1.本机关不掌握相关政府信息", "4", "1", "0", "0", "0", "0", "5") + "</table>"
    )
    body = page(f"<h1>{TITLE}</h1>{T2_HTML}<h2>三、收到和处理政府信息公开申请情况</h2>{head}<p>（续表）</p>{rest}")
    found = cells(read(tmp_path, body, "r.html"))
    assert (found["t3.secret.natural"], found["t3.prohibited.natural"]) == (1, 2)
    assert [found[f"t3.not_held.{k}"] for k in ("natural", "business", "total")] == [4, 1, 5]


# ---------------------------------------------------------------- totals as printed


def test_a_printed_total_row_that_disagrees_is_kept_and_reported(tmp_path: Path) -> None:
    """（七）总计 prints 自然人 28 where the outcome rows add to 26: kept as printed, check says so."""
    body = report_text(**{"（七）总计 | 26 | 0 | 0 | 0 | 0 | 0 | 26 |": "（七）总计 | 28 | 0 | 0 | 0 | 0 | 0 | 28 |"})
    path = tmp_path / "r.txt"
    path.write_text(body, encoding="utf-8")
    outcome = run.import_reports([path], tmp_path / "r.xlsx")[0]
    assert (outcome.reading.constants["t3.total.natural"], outcome.reading.constants["t3.total.total"]) == (28, 28)
    assert outcome.result is not None
    found = [(f.rule, f.cell, f.message) for f in outcome.result.findings if f.rule.startswith("T3")]
    assert (
        "T3-3",
        "D29",
        "自然人列：（七）总计填报为 28，按各项办理结果相加应为 26。请恢复总计公式或改正数字。",
    ) in found


# ---------------------------------------------------------------- figures that run together


def test_a_figure_runs_into_the_next_sentence(tmp_path: Path) -> None:
    """行政事业性收费02025年，我局…: 0 (a number never starts with 0); 52025年 could be 5 or 52."""
    head = (
        f"{TITLE}\n一、总体情况\n本年度工作平稳。\n二、主动公开政府信息情况第二十条第（一）项信息内容本年制发件数"
        "本年废止件数现行有效件数规章000第二十条第（八）项信息内容本年收费金额（单位：万元）"
    )
    reading = read(tmp_path, head + "行政事业性收费02025年，我局将继续做好公开工作。三、收到和处理政府信息公开申请情况")
    assert cells(reading)["t2.fees.amount"] == 0
    reading = read(tmp_path, head + "行政事业性收费52025年，我局将继续做好公开工作。三、收到和处理政府信息公开申请情况")
    assert reading.placement is not None and "t2.fees.amount" not in cells(reading)
    assert reading.placement.missing["t2.fees.amount"] == "数字后面紧接着正文（“52025”），不能确定数字在哪里结束"


@pytest.mark.parametrize(
    ("printed", "columns", "figures"),
    [
        ("15-15", ("count", "signed_count", "count"), [15, -1, 5]),
        ("16减12", ("count", "signed_count", "count"), [16, -1, 2]),
        ("0+11", ("count", "signed_count", "count"), [0, 1, 1]),
        ("00元", ("count", "money"), [0, 0]),
        ("1个246900元", ("count", "money"), [1, 246900]),
        ("1000001", ("count",) * 7, [1, 0, 0, 0, 0, 0, 1]),
    ],
)
def test_run_together_figures_with_signs_and_units(printed: str, columns: tuple[str, ...], figures: list[Any]) -> None:
    cols = [Column(t, ("元", "万元") if t == "money" else ()) for t in columns]  # type: ignore[arg-type]
    assert readings([printed], cols) == [figures]


def test_signed_changes_and_amounts_on_the_2019_form(tmp_path: Path) -> None:
    body = (
        "某某镇2020年政府信息公开工作年度报告\n一、总体情况\n本年度工作平稳。\n二、主动公开政府信息情况第二十条第（五）项信息内容"
        "上一年项目数量本年增/减处理决定数量行政许可15-15其他对外管理服务事项16减12第二十条第（九）项信息内容采购项目数量"
        "采购总金额政府集中采购1个246900元三、收到和处理政府信息公开申请情况"
    )
    reading = read(tmp_path, body)
    assert reading.spec is not None and reading.spec.form_version == "2019"
    found = cells(reading)
    assert [found[f"t2.license.{k}"] for k in ("prior_items", "change", "decisions")] == [15, -1, 5]
    assert [found[f"t2.other_services.{k}"] for k in ("prior_items", "change", "decisions")] == [16, -1, 2]
    assert (found["t2.procurement.items"], found["t2.procurement.amount"]) == (1, 246900)
    assert reading.values["t2.procurement.amount.unit"] == "元"
    zero = read(tmp_path, body.replace("1个246900元", "00元"), "zero.txt")
    assert (cells(zero)["t2.procurement.items"], cells(zero)["t2.procurement.amount"]) == (0, 0)


# ---------------------------------------------------------------- labels and figures apart


def pdf_line(y: int, *pieces: tuple[str, float]) -> Line:
    """A PDF line as the PDF parser hands it on: its pieces with their x positions."""
    text = " ".join(t for t, _ in pieces)
    return Line(text, "第 3 页", tuple(Piece(t, x, x + 12 * len(t)) for t, x in pieces), top=14.0 * y, height=12.0)


def test_a_label_wrapped_over_three_lines_in_a_pdf() -> None:
    """2.申请人逾期未按收费通知 / 要求缴纳费用、行政机关不 0 … / 再处理其政府信息公开申请: one row."""
    figures = [(str(v), 300 + 40 * k) for k, v in enumerate([1, 0, 0, 0, 0, 0, 1])]
    rows = [
        pdf_line(1, ("1.申请人无正当理由逾期不补正、", 60)),
        pdf_line(2, ("行政机关不再处理其政府信息公", 60), *figures),
        pdf_line(3, ("开申请", 60)),
        pdf_line(4, ("2.申请人逾期未按收费通知", 60)),
        pdf_line(
            5, ("要求缴纳费用、行政机关不", 60), *[(str(v), 300 + 40 * k) for k, v in enumerate([2, 0, 0, 0, 0, 0, 2])]
        ),
        pdf_line(6, ("再处理其政府信息公开申请", 60)),
        pdf_line(7, ("3.其他", 60), *[("0", 300 + 40 * k) for k in range(7)]),
    ]
    [table] = lines.to_blocks(rows)
    assert isinstance(table, Table)
    assert table.rows[1][:3] == ("2.申请人逾期未按收费通知", "要求缴纳费用、行政机关不", "再处理其政府信息公开申请")
    assert table.rows[1][3:] == ("2", "0", "0", "0", "0", "0", "2")


def test_figures_printed_apart_from_their_labels_are_not_paired(tmp_path: Path) -> None:
    """Three labels, then three rows of figures: which row is whose cannot be told (once read 1 where
    the report says 4). Rows that are all alike (every one 0) can be paired either way."""
    head = [
        TITLE,
        T2_TEXT,
        "三、收到和处理政府信息公开申请情况",
        "自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | 总计 |",
    ]
    head += ["一、本年新收政府信息公开申请数量 | 5 | 0 | 0 | 0 | 0 | 0 | 5 |"]
    labels = [
        "（四）无法提供 |",
        "1.本机关不掌握相关政府信息 |",
        "2.没有现成信息需要另行制作 |",
        "3.补正后申请内容仍不明确 |",
    ]
    figures = ["| 4 | 0 | 0 | 0 | 0 | 0 | 4 |", "| 1 | 0 | 0 | 0 | 0 | 0 | 1 |", "| 0 | 0 | 0 | 0 | 0 | 0 | 0 |"]
    reading = read(tmp_path, "\n".join(head + labels + figures))
    found = cells(reading)
    assert not any(k.startswith(("t3.not_held", "t3.needs_making", "t3.unclear")) for k in found)
    assert reading.placement is not None
    assert reading.placement.missing["t3.needs_making.natural"] == (
        "原文把这 3 行的标签和 3 行数字分开印出，无法确定哪行数字属于哪一行"
    )
    zeros = read(tmp_path, "\n".join(head + labels + [figures[2]] * 3), "zeros.txt")
    assert [cells(zeros)[f"t3.{k}.natural"] for k in ("not_held", "needs_making", "unclear")] == [0, 0, 0]


# ---------------------------------------------------------------- sections


def report_text(**replace: str) -> str:
    from .test_import_layouts import render, sample_cells

    body = render(sample_cells(), "pipes")
    for old, new in replace.items():
        body = body.replace(old, new)
    return body


def test_a_report_with_a_part_of_its_own_is_read(tmp_path: Path) -> None:
    """Seven parts: an extra 二 inserted, so the tables stand under 三/四/五 and the rest moves on."""
    body = report_text().replace(
        "二、主动公开政府信息情况", "二、政务公开工作亮点\n本年度建成政务公开专区。\n三、主动公开政府信息情况", 1
    )
    for old, new in (("三、收到和处理", "四、收到和处理"), ("四、政府信息公开行政复议", "五、政府信息公开行政复议")):
        body = body.replace(old, new, 1)
    body = body.replace("五、存在的主要问题", "六、存在的主要问题").replace(
        "六、其他需要报告的事项", "七、其他需要报告的事项"
    )
    reading = read(tmp_path, body)
    assert reading.problem is None and reading.placement is not None and reading.placement.missing == {}
    assert reading.values["s5.problems"] == "宣传不够。"
    assert reading.values["s6.other"] == "" and reading.values["s6.fee"] == "本年度未收取信息处理费。"


def test_headings_in_other_words_keep_their_text(tmp_path: Path) -> None:
    body = (
        report_text()
        .replace("一、总体情况", "一、概述")
        .replace("六、其他需要报告的事项", "六、需要说明的其他事项与附表")
    )
    reading = read(tmp_path, body)
    assert reading.values["s1.active"] == "本年度工作平稳推进。"
    assert reading.values["s6.fee"] == "本年度未收取信息处理费。"


# ---------------------------------------------------------------- the grid placer's outputs


def test_provenance_names_the_table_row_and_column(tmp_path: Path) -> None:
    body = page(
        f"<h1>{TITLE}</h1>{T2_HTML}<h2>三、收到和处理政府信息公开申请情况</h2>"
        + table3_html(
            ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"],
            {"一、本年新收政府信息公开申请数量": [7, 2, 0, 0, 0, 0, 9]},
        )
    )
    reading = read(tmp_path, body, "r.html")
    assert reading.placement is not None
    origin = reading.placement.origins["t3.new.business"]
    assert (origin.table, origin.row, origin.column, origin.where) == ("第 1 个表格", 4, 5, "第 1 个表格第 4 行")
    assert (origin.row_label, origin.column_label, origin.text) == ("一、本年新收政府信息公开申请数量", "商业企业", "2")


def test_a_markdown_table_and_text_lines_become_grids() -> None:
    blocks = lines.to_blocks(
        [Line(t, f"第 {i} 行") for i, t in enumerate(["前言。", "规章", "0", "0", "0", "行政许可 5", "说明。"], 1)]
    )
    assert blocks[0] == Text("前言。", "第 1 行")
    assert isinstance(blocks[1], Table) and blocks[1].rows == (("规章", "0", "0", "0"), ("行政许可", "5"))
    assert blocks[1].row_wheres == ("第 3 行", "第 6 行")
    assert blocks[2] == Text("说明。", "第 7 行")


def test_decimal_amount_in_a_grid(tmp_path: Path) -> None:
    table = "<table>" + tr("信息内容", "本年收费金额（单位：万元）") + tr("行政事业性收费", "12.50") + "</table>"
    body = page(f"<h1>{TITLE}</h1>{T2_HTML}<p>第二十条第（八）项</p>{table}")
    assert cells(read(tmp_path, body, "r.html"))["t2.fees.amount"] == Decimal("12.50")


@pytest.mark.slow
def test_an_unruled_pdf_table_by_the_positions_of_its_words(tmp_path: Path, soffice: str) -> None:
    """A PDF whose table has no ruled lines (LibreOffice's PDF of a borderless page table): cells by
    the gaps between words, each figure under its header by position (总计 printed first, headers
    wrapped over two lines), labels wrapped over two and three lines around their figures."""
    from .helpers import libreoffice_pdf

    order = ["总计", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    rows = {
        "一、本年新收政府信息公开申请数量": [5, 4, 1, 0, 0, 0, 0],
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请": [1, 1, 0, 0, 0, 0, 0],
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请": [2, 0, 2, 0, 0, 0, 0],
        "3.其他": [0, 0, 0, 0, 0, 0, 0],
    }
    head = "".join(f"<td>{h}</td>" for h in order)
    body = "".join(
        f"<tr><td>{label}</td>" + "".join(f"<td>{v}</td>" for v in figures) + "</tr>" for label, figures in rows.items()
    )
    table = f"<table style='border:none;width:100%'><col style='width:28%'>{'<col>' * 7}<tr><td></td>{head}</tr>{body}</table>"
    html = tmp_path / "无框线.html"
    paragraphs = "".join(f"<p>{line.strip(' |').replace(' | ', '　')}</p>" for line in T2_TEXT.split("\n"))
    html.write_text(
        page(f"<p>{TITLE}</p>{paragraphs}<p>三、收到和处理政府信息公开申请情况</p>{table}"), encoding="utf-8"
    )
    pdf = libreoffice_pdf(soffice, html, tmp_path)
    reading = run.read_report(pdf)
    found = cells(reading)
    for label, figures in rows.items():
        key = next(r.leaf.key for r in rows_index() if r.leaf.label == label)
        got = [
            found.get(f"t3.{key}.{leaf}")
            for leaf in ("total", "natural", "business", "research", "nonprofit", "legal", "other")
        ]
        assert got == figures, label
    assert reading.placement is not None
    origin = reading.placement.origins["t3.unpaid.business"]
    assert (origin.column_label, origin.text, origin.where[0], origin.where[-1]) == ("商业企业", "2", "第", "页")


def rows_index() -> Any:
    from xltool.importers import rows

    return rows.index(SPEC)


def test_cells_split_by_runs_of_spaces(tmp_path: Path) -> None:
    body = doc(
        [TITLE, "二、主动公开政府信息情况", "第二十条第（一）项", "信息内容  本年废止件数  本年制发件数  现行有效件数"],
        ["规章  0  0  0", "行政规范性文件  18  8  25", "三、收到和处理政府信息公开申请情况"],
    )
    found = cells(read(tmp_path, body))
    assert [found[f"t2.normative.{k}"] for k in ("issued", "repealed", "in_force")] == [8, 18, 25]


@pytest.mark.parametrize(
    "sample", sorted((Path(__file__).parent.parent / "samples").glob("*.xlsx")), ids=lambda p: p.stem
)
def test_our_own_markdown_reads_back(tmp_path: Path, sample: Path) -> None:
    """`xltool render … -o x.md` (a Markdown table a block, its column headers as paths 申请人情况／自然人)."""
    from xltool.documents.render import render
    from xltool.submission import computed
    from xltool.workbook.reader import read as read_workbook

    source = read_workbook(sample)
    reading = run.read_report(render(source, tmp_path / f"{sample.stem}.md"))
    assert reading.placement is not None and reading.placement.missing == {}
    assert cells(reading) == computed(source.spec, source.values)


def test_a_header_in_another_order_that_cannot_be_read_column_by_column_is_no_order(tmp_path: Path) -> None:
    """其他 printed first, one header cell a line, no 法人或其他组织: was it one header row (其他 is
    the first column) or several (其他 under a group)? Neither the printed order nor the form's is
    taken. The same header on one line, its cells side by side over the figures, decides."""
    header = ["其他", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "总计"]
    rows = ["一、本年新收政府信息公开申请数量", "1", "4", "0", "0", "0", "0", "5"]
    rows += ["二、上年结转政府信息公开申请数量", "0", "2", "0", "0", "0", "0", "2"]
    reading = read(
        tmp_path, doc([TITLE, T2_TEXT, "三、收到和处理政府信息公开申请情况"], header, rows, ["五、存在的主要问题"])
    )
    assert reading.placement is not None
    assert not any(k.startswith(("t3.new.", "t3.carry_in.")) for k in cells(reading))
    why = "表头的栏目顺序与表式不同，又不能逐栏认出，无法确定各栏"
    assert (reading.placement.missing["t3.new.natural"], reading.placement.missing["t3.carry_in.other"]) == (why, why)
    side_by_side = read(
        tmp_path,
        doc([TITLE, T2_TEXT, "三、收到和处理政府信息公开申请情况", " | ".join(header) + " |"])
        + "\n一、本年新收政府信息公开申请数量 | 1 | 4 | 0 | 0 | 0 | 0 | 5 |",
        "one-line.txt",
    )
    assert (cells(side_by_side)["t3.new.other"], cells(side_by_side)["t3.new.natural"]) == (1, 4)


# ---------------------------------------------------------------- properties: never another figure


def _permuted(nodes: tuple[Any, ...], draw: Any) -> list[Any]:
    """A column tree with every level's order shuffled: [(node, children permuted), …]."""
    order = draw(st.permutations(list(nodes)))
    return [(n, _permuted(n.children, draw)) for n in order]


def _leaves_of(tree: list[Any]) -> list[Any]:
    return [x for n, kids in tree for x in (_leaves_of(kids) if kids else [n])]


def _printed_by_level(tree: list[Any]) -> list[str]:
    """The header as its rows print it, one row after another (a leaf spans the rows below it)."""
    out: list[str] = []
    level = tree
    while level:
        out += [n.label for n, _ in level]
        level = [k for _, kids in level for k in kids]
    return out


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_flattened_headers_in_any_order_read_back(data: Any) -> None:
    for table, key in (("t3", "applications"), ("t4", "cases")):
        columns = block(table, key)
        tree = _permuted(columns.columns, data.draw)
        got = headers.flattened([" ".join(_printed_by_level(tree))], columns)
        assert got is not None and got.certain
        # each column the form's own (a repeated 结果维持 under the group printed above it), in the printed order
        assert [id(c.node) for c in got.leaves if c is not None] == [id(n) for n in _leaves_of(tree)]


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=40), min_size=6, max_size=6), st.booleans())
def test_run_together_rows_read_right_or_not_at_all(parts: list[int], spaced: bool) -> None:
    """A row of 表三 printed with its cells run together (or some split by spaces): one reading left
    after its printed total, and it is the printed row; or none is taken."""
    row = [*parts, sum(parts)]
    printed = [" ".join(map(str, row))] if spaced else ["".join(map(str, row))]
    found = readings(printed, [Column("count")] * 7, [(0, 1, 2, 3, 4, 5, 6)])
    assert len(found) > 1 or found == [row] or not found
    if spaced:
        assert readings(printed[0].split(), [Column("count")] * 7, [(0, 1, 2, 3, 4, 5, 6)]) == [row]


def test_a_real_arithmetic_error_in_a_grid_is_imported_as_printed(tmp_path: Path) -> None:
    """The layout of a web page's table is not in doubt: a row whose 总计 is wrong keeps its figures
    (check reports the error); only a layout read by assumption needs the totals to agree."""
    order = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    html = table3_html(order, {"一、本年新收政府信息公开申请数量": [7, 2, 0, 0, 0, 0, 10]})
    body = page(f"<h1>{TITLE}</h1>{T2_HTML}<h2>三、收到和处理政府信息公开申请情况</h2>{html}")
    found = cells(read(tmp_path, body, "r.html"))
    assert (found["t3.new.natural"], found["t3.new.business"], found["t3.new.total"]) == (7, 2, 10)


def test_a_table_four_total_that_disagrees_is_kept(tmp_path: Path) -> None:
    body = report_text(**{"0 | 0 | 0 | 1 | 1 | 0 |": "0 | 0 | 0 | 1 | 3 | 0 |"})
    path = tmp_path / "r.txt"
    path.write_text(body, encoding="utf-8")
    outcome = run.import_reports([path], tmp_path / "r.xlsx")[0]
    assert outcome.reading.constants["t4.cases.review_total"] == 3
    assert outcome.result is not None
    assert [(f.rule, f.cell) for f in outcome.result.findings if f.rule == "T4-1"] == [("T4-1", "E6")]


def test_pdf_figures_printed_apart_from_their_labels() -> None:
    """In a PDF's lines: three labels, and the figures well below them (not beside, not right under)."""
    from xltool.importers import pipeline
    from xltool.importers.model import Document

    header = [
        (h, 300 + 40 * k)
        for k, h in enumerate(["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"])
    ]
    labels = ["1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作", "3.补正后申请内容仍不明确"]
    lines_ = [
        pdf_line(1, *header),
        pdf_line(2, ("一、本年新收政府信息公开申请数量", 60), *[(v, 300 + 40 * k) for k, v in enumerate("5000005")]),
    ]
    lines_ += [pdf_line(3 + k, (label, 60)) for k, label in enumerate(labels)]
    lines_ += [
        pdf_line(8 + k, *[(v, 300 + 40 * j) for j, v in enumerate(row)])
        for k, row in enumerate(["4000004", "1000001", "0000000"])
    ]
    t2 = [Text(line, "第 1 页") for line in T2_TEXT.split("\n")]
    blocks = (
        Text(TITLE, "第 1 页"),
        *t2,
        Text("三、收到和处理政府信息公开申请情况", "第 1 页"),
        *lines.to_blocks(lines_),
    )
    reading = pipeline.read_document(Document(Path("r.pdf"), "pdf", blocks))
    found = cells(reading)
    assert [found[f"t3.new.{k}"] for k in ("natural", "total")] == [5, 5]
    assert not any(k.startswith(("t3.not_held", "t3.needs_making", "t3.unclear")) for k in found)
    assert reading.placement is not None
    assert (
        reading.placement.missing["t3.unclear.total"]
        == "原文把这 3 行的标签和 3 行数字分开印出，无法确定哪行数字属于哪一行"
    )


def test_a_label_overprinted_by_a_repeated_header_is_still_its_row() -> None:
    """A PDF page break: the repeated header's note runs into the first row's label cell
    (第三项加第四项之 8.属于行政加 8.第四项之 属于行政/查询事项): its numbering and words are the row's."""
    from xltool.importers import rows

    found, why = rows.match(specs.load("2019"), ["", "", "第三项加第四项之 8.属于行政加 8.第四项之 属于行政\n查询事项"])
    assert found is not None and (found.row.leaf.key, found.fuzzy, why) == ("inquiry", True, None)
    assert rows.match(SPEC, ["第三项加第四项之和 属于行政查询"])[0] is None  # no numbering printed: not by resemblance


def test_a_signature_right_under_a_table_of_text_is_still_the_signature(tmp_path: Path) -> None:
    """Text whose last table runs into the unit's name and the date: the lines after the table's last
    figures are not the table's, and the date is the signature's."""
    from xltool.importers import dates, text

    path = tmp_path / "r.txt"
    body = doc(
        [TITLE, "四、政府信息公开行政复议、行政诉讼情况", "结果维持  结果纠正  其他结果  尚未审结  总计"],
        ["0  0  0  0  0"],
    )
    path.write_text(body + "\n某某县某某局\n2024年1月20日\n", encoding="utf-8")
    parsed = text.parse(path)
    assert isinstance(parsed.blocks[-3], Table) and parsed.blocks[-1] == Text("2024年1月20日", "第 6 行")
    found = dates.published(parsed, "某某县某某局")
    assert found is not None and (found.date.isoformat(), found.how) == ("2024-01-20", dates.SIGNATURE)
