"""Drafts of the written parts from the figures (issue 20): the words, their agreement with the
narrative rules, the clerk's own text untouched, the marker, and render's refusal of unfinished
documents (issue 19)."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from xltool.checks import rules
from xltool.checks.check import check
from xltool.checks.narrative import reader_for
from xltool.cli import app
from xltool.documents.draft import area_word, draft, unfinished
from xltool.form import spec as specs
from xltool.form.layout import DRAFT_FILL, INSTRUCTIONS_SHEET, for_spec
from xltool.submission import DRAFTED_PROPERTY, SUMMARY, Submission, Value, blank_values, drafted_stamp
from xltool.workbook.reader import read

from .conftest import ROOT
from .helpers import FORMS, fill, libreoffice_resave
from .sample_data import CHEPAIZI, PINGTAN_2020, SHUYANG, write_valid

runner = CliRunner()
NARRATIVE_RULES = {"N-FIGURE", "N-CLAIM", "N-YEAR", "P-ZERO-TABLES"}
PROSE = ("s1.active", "s1.on_request", "s1.management", "s1.platform", "s1.oversight", "s5.problems")
COUNTY = ROOT / "samples" / "county"
SHUYANG_PLATFORM = "  门户网站专栏按季度检查更新。\n\n第二段，行首有全角空格：\n　　“引号”与<尖括号>&。  "


def cleared(values: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The values with these text parts emptied (the clerk has not written them yet)."""
    return {**values, **dict.fromkeys(keys)}


def submission(values: dict[str, Any], **properties: str) -> Submission:
    spec = specs.for_year(values["unit.report_year"])
    merged = blank_values(spec) | values
    return Submission(spec, "x.xlsx", merged, properties=dict(properties))


def narrative_findings(sub: Submission) -> list[tuple[str, str | None, str]]:
    """The findings of the rules that read prose (rules.apply: every rule of the form but the cell checks)."""
    return [(f.rule, f.cell, f.message) for f in rules.apply(sub) if f.rule in NARRATIVE_RULES]


# ---------------------------------------------------------------- the words


def test_a_department_on_the_2021_form() -> None:
    d = draft(submission(cleared(SHUYANG, "s1.active", "s1.on_request", "s6.fee")))
    assert d.texts == {
        "s1.active": "本年度制发行政规范性文件8件。截至年底，现行有效行政规范性文件18件。"
        "全年未作出行政许可、行政处罚和行政强制决定。未收取行政事业性收费。",
        "s1.on_request": "本年度共新收政府信息公开申请26件，其中自然人26件。办结政府信息公开申请26件，其中予以公开26件。"
        "\n因政府信息公开工作被申请行政复议1件（尚未审结1件）。",
        "s6.fee": "本年度未发出收费通知，未收取信息处理费。",
    }
    assert d.to_write == ()


def test_a_town_with_nothing_to_report_gets_statements_of_none() -> None:
    d = draft(submission(cleared(CHEPAIZI, *PROSE, "s1.on_request", "s6.fee")))
    assert d.texts == {
        "s1.active": "本年度未制发、废止规章和行政规范性文件。全年未作出行政许可、行政处罚和行政强制决定。未收取行政事业性收费。",
        "s1.on_request": "本年度未收到政府信息公开申请。\n未发生因政府信息公开工作被申请行政复议、提起行政诉讼的情况。",
        "s6.fee": "本年度未发出收费通知，未收取信息处理费。",
    }
    # what figures cannot say is left to the writer, in the form's order
    assert d.to_write == ("s1.management", "s1.platform", "s1.oversight", "s5.problems")


def test_the_2019_form_drafts_in_its_own_words() -> None:
    """新制作 / 新公开 / 累计公开 规范性文件 (not 制发 … 行政规范性文件), and its single （六）其他处理."""
    d = draft(submission(cleared(PINGTAN_2020, "s1.active", "s1.on_request")))
    assert d.texts == {
        "s1.active": "本年度新制作规范性文件9件、新公开规范性文件9件。截至年底，累计公开规范性文件21件。"
        "全年作出行政处罚决定14件、行政强制决定14件。",
        "s1.on_request": "本年度共新收政府信息公开申请9件，其中自然人9件。办结政府信息公开申请10件，其中予以公开2件、"
        "部分公开4件、无法提供2件（本机关不掌握相关政府信息2件）、其他处理2件。"
        "\n未发生因政府信息公开工作被申请行政复议、提起行政诉讼的情况。",
    }
    assert "行政规范性文件" not in d.texts["s1.active"] and "制发" not in d.texts["s1.active"]


def test_kinds_in_the_forms_order_and_words_nonzero_only() -> None:
    values = cleared(SHUYANG, "s1.on_request") | {
        "t3.new.natural": 20,
        "t3.new.business": 3,
        "t3.new.other": 1,
        "t3.carry_in.natural": 2,
        "t3.disclosed.natural": 15,
        "t3.partly.business": 3,
        "t3.process.natural": 1,
        "t3.not_held.natural": 3,
        "t3.not_held.other": 1,
        "t3.repeated.natural": 1,
        "t3.unpaid.natural": 1,
        "t3.carry_out.natural": 1,
        "t4.cases.review_pending": 0,
        "t4.cases.review_corrected": 1,
        "t4.cases.direct_upheld": 1,
        "t4.cases.after_review_upheld": 1,
        "t4.cases.after_review_pending": 1,
    }
    assert draft(submission(values)).texts["s1.on_request"] == (
        "本年度共新收政府信息公开申请24件，其中自然人20件、法人或其他组织4件（商业企业3件、其他1件）；"
        "上年结转政府信息公开申请2件。"
        "办结政府信息公开申请25件，其中予以公开15件、部分公开3件、不予公开1件（属于四类过程性信息1件）、"
        "无法提供4件（本机关不掌握相关政府信息4件）、不予处理1件（重复申请1件）、"
        "其他处理1件（申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请1件）；"
        "结转下年度继续办理1件。"
        # 行政诉讼: 未经复议直接起诉 and 复议后起诉 summed by result
        "\n因政府信息公开工作被申请行政复议1件（结果纠正1件）；被提起行政诉讼3件（结果维持2件、尚未审结1件）。"
    )


def test_a_summary_speaks_for_its_area_and_compares_with_last_year() -> None:
    values = cleared(SHUYANG, "s1.on_request", "s6.fee") | {"unit.unit_name": "青禾县人民政府"}
    sub = submission(values, **{SUMMARY: "12"})
    last = {"t3.new.total": 20, "t3.new.natural": 20}
    text = draft(sub, last).texts["s1.on_request"]
    assert text.startswith("本年度全县共新收政府信息公开申请26件，比上年增加6件、增长30.0%，其中自然人26件。全县办结")
    assert draft(sub).texts["s6.fee"] == "本年度全县未发出收费通知，未收取信息处理费。"
    assert draft(sub, last, unit_word="本机关").texts["s6.fee"] == "本年度本机关未发出收费通知，未收取信息处理费。"


@pytest.mark.parametrize(
    ("last", "clause"),
    [
        (30, "，比上年减少4件、下降13.3%"),
        (26, "，与上年持平"),
        (0, "，上年为0件"),  # never a percentage on a zero base
        (3, "，比上年增加23件、增长766.7%"),
    ],
)
def test_year_over_year_clause(last: int, clause: str) -> None:
    text = draft(submission(cleared(SHUYANG, "s1.on_request")), {"t3.new.total": last}).texts["s1.on_request"]
    assert text.startswith(f"本年度共新收政府信息公开申请26件{clause}，其中自然人26件。")


def test_no_clause_where_last_year_has_no_counterpart() -> None:
    text = draft(submission(cleared(SHUYANG, "s1.on_request")), {}).texts["s1.on_request"]
    assert text.startswith("本年度共新收政府信息公开申请26件，其中自然人26件。")


@pytest.mark.parametrize(
    ("unit", "word"),
    [
        ("青禾县人民政府", "全县"),
        ("青禾县人民政府办公室", "全县"),
        ("某某市某某区人民政府", "全区"),
        ("某某自治区人民政府", "全区"),
        ("某某市人民政府", "全市"),
        ("某某旗人民政府", "全旗"),
        ("青禾县东城街道办事处", "全街道"),
        ("青禾县教育局", "本机关"),
        ("县", "本机关"),
    ],
)
def test_area_word_from_the_summary_units_name(unit: str, word: str) -> None:
    assert area_word(specs.load(), unit) == word


def test_an_unreadable_figure_is_never_guessed() -> None:
    """A cell the reader could not read (None) leaves its sentence out; the others are drafted."""
    values = cleared(SHUYANG, "s1.on_request") | {"t3.disclosed.natural": None}
    text = draft(submission(values)).texts["s1.on_request"]
    assert "办结" not in text and text.startswith("本年度共新收政府信息公开申请26件")
    assert "因政府信息公开工作被申请行政复议1件" in text


def test_a_clerks_text_is_never_drafted_over() -> None:
    d = draft(submission(cleared(SHUYANG, "s1.active")))
    assert set(d.texts) == {"s1.active"}  # s1.on_request, s6.fee: the clerk's own


# ---------------------------------------------------------------- the narrative rules agree with every draft


COUNT = st.one_of(st.just(0), st.just(0), st.integers(1, 9), st.integers(10, 5000))
AMOUNT = {
    places: st.one_of(st.just(Decimal(0)), st.integers(1, 10**8).map(lambda n, p=places: Decimal(n).scaleb(-p)))
    for places in (2, 6)
}
DRAWN = {
    "count": COUNT,
    "signed_count": st.integers(-50, 50),
    "wan_yuan": AMOUNT[6],
    "money": AMOUNT[6],
    "yuan": AMOUNT[2],
}


@st.composite
def random_submission(draw: st.DrawFn, form: str) -> Submission:
    """Any figures a workbook may hold (balanced or not), every text part empty; sometimes a summary."""
    spec = specs.load(form)
    values: dict[str, Value] = blank_values(spec)
    inputs = [c for c in spec.inputs() if c.type in DRAWN]
    drawn = draw(st.tuples(*(DRAWN[c.type] for c in inputs)))
    values |= {c.key: v for c, v in zip(inputs, drawn, strict=True)}
    for cell, unit_key in spec.chosen_units():
        values[unit_key] = draw(st.sampled_from(list(cell.col.node.units)))
    values["s6.fee_notices"], values["s6.fee_collected"] = draw(st.tuples(COUNT, AMOUNT[2]))
    year = spec.min_year if spec.max_year is None else spec.max_year
    summary = draw(st.booleans())
    values |= {"unit.unit_name": "青禾县人民政府" if summary else "甲镇人民政府", "unit.report_year": year}
    return Submission(spec, "x.xlsx", values, properties={SUMMARY: "5"} if summary else {})


def agree(form: str, data: st.DataObject) -> None:
    """Zero N-FIGURE / N-CLAIM / N-YEAR / P-ZERO-TABLES findings on any draft; and the rules do read
    the drafts: every non-zero figure a draft states is attributed to its quantity."""
    sub = data.draw(random_submission(form))
    last = data.draw(st.one_of(st.none(), st.fixed_dictionaries({"t3.new.total": st.integers(0, 100)})))
    d = draft(sub, last)
    sub.values.update(d.texts)
    assert narrative_findings(sub) == [], d.texts
    spec, reader = sub.spec, reader_for(sub.spec)
    assert spec.drafting is not None and spec.narrative is not None and reader is not None
    labels = {f"{s.key}.{p.key}": p.label for s in spec.sections for p in s.parts}
    for part in spec.drafting.parts:
        read_ = {f.quantity for f in reader.figures(d.texts.get(part.part, ""), labels[part.part])}
        for sentence in part.sentences:
            for item in sentence.items:
                keys = spec.narrative.quantity(item.quantity).cell_keys()
                if sum(sub.number(k) for k in keys):
                    assert item.quantity in read_, (item.quantity, d.texts[part.part])


@pytest.mark.parametrize("form", FORMS)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_drafts_of_random_workbooks_agree_with_their_tables(form: str, data: st.DataObject) -> None:
    agree(form, data)


@pytest.mark.slow
@pytest.mark.parametrize("form", FORMS)
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_drafts_of_many_random_workbooks_agree_with_their_tables(form: str, data: st.DataObject) -> None:
    agree(form, data)


# ---------------------------------------------------------------- xltool draft on files


@pytest.fixture
def unfinished_book(tmp_path: Path) -> Path:
    """沭阳 with 一（一）（二）（三） and 六（一） not yet written; its other texts are the clerk's."""
    values = cleared(SHUYANG, "s1.active", "s1.on_request", "s1.management", "s6.fee")
    values["s1.platform"] = SHUYANG_PLATFORM
    return write_valid(tmp_path / "沭阳.xlsx", values)


def test_draft_writes_a_copy_with_drafts_and_leaves_the_clerks_text(unfinished_book: Path, tmp_path: Path) -> None:
    before = read(unfinished_book)
    raw_before = unfinished_book.read_bytes()
    out = tmp_path / "沭阳草稿.xlsx"
    result = runner.invoke(app, ["draft", str(unfinished_book), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}\n"
    assert result.stderr.splitlines() == [
        "已起草 3 个部分：一、总体情况／（一）主动公开、一、总体情况／（二）依申请公开、"
        "六、其他需要报告的事项／（一）信息处理费收取情况。请核对、补充后再使用。",
        "尚需撰写 1 个部分：一、总体情况／（三）政府信息管理。",
    ]
    assert unfinished_book.read_bytes() == raw_before  # the input is never touched
    after = read(out)
    drafted = ("s1.active", "s1.on_request", "s6.fee")
    # everything but the drafted parts reads exactly as before: the clerk's text byte for byte
    assert {k: v for k, v in after.values.items() if k not in drafted} == {
        k: v for k, v in before.values.items() if k not in drafted
    }
    # and cell by cell: every cell of every sheet holds what it held (formulas included), but the drafted ones
    layout = for_spec(after.spec)
    places = {(layout.locate(k)[0].name, layout.locate(k)[1].address) for k in drafted}
    old, new = openpyxl.load_workbook(unfinished_book), openpyxl.load_workbook(out)
    assert old.sheetnames == new.sheetnames
    for ws in old.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if (ws.title, c.coordinate) not in places:
                    assert new[ws.title][c.coordinate].value == c.value, (ws.title, c.coordinate)
    sheet, cell = layout.locate("s1.platform")
    assert new[sheet.name][cell.address].value.encode("utf-8") == SHUYANG_PLATFORM.encode("utf-8")
    assert after.text("s1.active").startswith("本年度制发行政规范性文件8件。")
    assert after.properties[DRAFTED_PROPERTY] == drafted_stamp({k: after.text(k) for k in sorted(drafted)})
    # marked: the drafted cells are orange, 填报说明 lists them
    wb = new
    for key in drafted:
        sheet, cell = layout.locate(key)
        assert wb[sheet.name][cell.address].fill.fgColor.rgb == "00" + DRAFT_FILL.lstrip("#")
    platform_sheet, platform_cell = layout.locate("s1.platform")
    assert wb[platform_sheet.name][platform_cell.address].fill.fgColor.rgb != "00" + DRAFT_FILL.lstrip("#")
    notes = [c.value for c in wb[INSTRUCTIONS_SHEET]["A"] if c.value]
    assert "四、xltool 起草的草稿" in notes
    assert "　　一、总体情况／（二）依申请公开" in notes
    assert notes[-3:] == [
        "下列部分无法根据数字起草，请撰写：",
        "　　一、总体情况／（三）政府信息管理",
        "橙色：xltool 起草的草稿",
    ]


def test_check_warns_for_each_unedited_draft_and_not_once_it_is_edited(unfinished_book: Path, tmp_path: Path) -> None:
    out = tmp_path / "草稿.xlsx"
    assert runner.invoke(app, ["draft", str(unfinished_book), "-o", str(out)]).exit_code == 0
    findings = [(f.rule, f.severity, f.sheet, f.cell, f.message) for f in check(read(out)) if f.rule == "D-DRAFT"]
    message = "“一、总体情况／（一）主动公开”仍是 xltool 根据表格数字起草的草稿，未经修改。请核对、补充本单位的情况后再发布（改动后即不再视为草稿）。"
    # 六（一） only restates its own two figures: it needs no review
    assert findings == [
        ("D-DRAFT", "warning", "一、总体情况", "A4", message),
        ("D-DRAFT", "warning", "一、总体情况", "A6", message.replace("（一）主动公开", "（二）依申请公开")),
    ]
    edited = fill(out, tmp_path / "改过.xlsx", {"s1.active": read(out).text("s1.active") + "同时做好政策解读。"})
    assert [f.cell for f in check(read(edited)) if f.rule == "D-DRAFT"] == ["A6"]
    # the same text saved again (line ends aside) is still the draft
    crlf = fill(out, tmp_path / "原样.xlsx", {"s1.on_request": read(out).text("s1.on_request") + "\r\n"})
    assert [f.cell for f in check(read(crlf)) if f.rule == "D-DRAFT"] == ["A4", "A6"]


def test_redrafting_refreshes_unedited_drafts_and_keeps_edited_ones(unfinished_book: Path, tmp_path: Path) -> None:
    first = tmp_path / "一稿.xlsx"
    runner.invoke(app, ["draft", str(unfinished_book), "-o", str(first)])
    own = read(first).text("s1.active") + "另做好解读。"
    changed = fill(first, tmp_path / "改数.xlsx", {"t3.new.natural": 27, "t3.carry_out.natural": 1, "s1.active": own})
    second = tmp_path / "二稿.xlsx"
    result = runner.invoke(app, ["draft", str(changed), "-o", str(second)])
    assert result.exit_code == 0, result.output
    sub = read(second)
    assert sub.text("s1.active") == own  # edited: the writer's
    assert sub.text("s1.on_request").startswith("本年度共新收政府信息公开申请27件")  # the new figures
    assert set(sub.drafts) == {"s1.on_request", "s6.fee"}
    assert [c.value for c in openpyxl.load_workbook(second)[INSTRUCTIONS_SHEET]["A"]].count(
        "四、xltool 起草的草稿"
    ) == 1


def test_draft_with_last_years_workbook(tmp_path: Path) -> None:
    last = write_valid(tmp_path / "2022.xlsx", SHUYANG | {"unit.report_year": 2022, "t3.new.natural": 20})
    book = write_valid(tmp_path / "2023.xlsx", cleared(SHUYANG, "s1.on_request"))
    out = tmp_path / "草稿.xlsx"
    result = runner.invoke(app, ["draft", str(book), "-o", str(out), "--previous", str(last)])
    assert result.exit_code == 0, result.output
    assert read(out).text("s1.on_request").startswith("本年度共新收政府信息公开申请26件，比上年增加6件、增长30.0%，")


def test_draft_refuses_a_county_summary_as_a_units_last_year(tmp_path: Path) -> None:
    book = write_valid(tmp_path / "2023.xlsx", cleared(SHUYANG, "s1.on_request"))
    county = COUNTY / "青禾县2022年汇总.xlsx"
    result = runner.invoke(app, ["draft", str(book), "-o", str(tmp_path / "x.xlsx"), "--previous", str(county)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"错误：{county} 是汇总工作簿，而要起草的是单位自己的年度报告：同比只能与同一范围的上年数字比较。"
        "--previous 请用本单位上年度的工作簿或年度报告。\n"
    )
    assert not (tmp_path / "x.xlsx").exists()


def test_draft_refuses_a_last_year_that_is_not_last_year(tmp_path: Path) -> None:
    book = write_valid(tmp_path / "2023.xlsx", cleared(SHUYANG, "s1.on_request"))
    older = write_valid(tmp_path / "2021.xlsx", SHUYANG | {"unit.report_year": 2021})
    result = runner.invoke(app, ["draft", str(book), "-o", str(tmp_path / "x.xlsx"), "--previous", str(older)])
    assert (result.exit_code, result.stderr) == (
        2,
        f"错误：{older} 是 2021 年度的，不是 2023 年的上一年度，无法同比。\n",
    )


def test_draft_refuses_a_workbook_with_errors_unless_forced(tmp_path: Path) -> None:
    broken = ROOT / "samples" / "invalid" / "勾稽不平.xlsx"
    out = tmp_path / "x.xlsx"
    result = runner.invoke(app, ["draft", str(broken), "-o", str(out)])
    assert result.exit_code == 1 and not out.exists()
    assert result.stderr.splitlines()[0] == (
        f"{broken} 有 5 个错误，未起草：草稿照表格的数字写，表格要先改对。请先改正（xltool check 可查看全部），或加 --force 照现有数字起草："
    )


def test_an_empty_section_is_what_drafting_is_for_not_a_reason_to_refuse(tmp_path: Path) -> None:
    """A clerk who filled the tables and nothing of 一 (N-SECTION, an error) gets the drafts."""
    book = write_valid(tmp_path / "表格填好.xlsx", cleared(SHUYANG, *PROSE, "s1.on_request", "unit.filler"))
    assert {f.rule for f in check(read(book)) if f.severity == "error"} == {"N-SECTION"}
    out = tmp_path / "草稿.xlsx"
    result = runner.invoke(app, ["draft", str(book), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert set(read(out).drafts) == {"s1.active", "s1.on_request"}


def test_draft_of_a_finished_workbook_is_a_plain_copy(tmp_path: Path) -> None:
    valid = ROOT / "samples" / "沭阳县发展和改革局2023年报.xlsx"
    out = tmp_path / "x.xlsx"
    result = runner.invoke(app, ["draft", str(valid), "-o", str(out)])
    assert result.exit_code == 0
    assert result.stderr == f"{valid} 没有可以根据数字起草的空白部分，已原样复制。\n"
    assert out.read_bytes() == valid.read_bytes()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("x.docx", "错误：草稿工作簿必须以 .xlsx 结尾：{out}\n"),
        ("exists.xlsx", "错误：{out} 已存在。请换一个文件名，或加 --force 覆盖。\n"),
    ],
)
def test_draft_output_refusals(unfinished_book: Path, tmp_path: Path, name: str, message: str) -> None:
    out = tmp_path / name
    if name == "exists.xlsx":
        out.write_bytes(b"keep")
    result = runner.invoke(app, ["draft", str(unfinished_book), "-o", str(out)])
    assert (result.exit_code, result.stderr) == (2, message.format(out=out))
    assert not out.exists() or out.read_bytes() == b"keep"
    same = runner.invoke(app, ["draft", str(unfinished_book), "-o", str(unfinished_book)])
    assert same.exit_code == 2 and "就是输入的工作簿" in same.stderr


@pytest.mark.slow
def test_drafts_survive_a_libreoffice_save(unfinished_book: Path, tmp_path: Path, soffice: str) -> None:
    out = tmp_path / "草稿.xlsx"
    runner.invoke(app, ["draft", str(unfinished_book), "-o", str(out)])
    saved = libreoffice_resave(soffice, out, tmp_path / "lo")
    assert read(saved).drafts == read(out).drafts
    assert read(saved).drafts_to_review() == ["s1.active", "s1.on_request"]
    assert [f.rule for f in check(read(saved))] == [f.rule for f in check(read(out))]


# ---------------------------------------------------------------- render refuses unfinished documents


@pytest.mark.slow
def test_render_refuses_drafts_and_parts_still_to_write(unfinished_book: Path, tmp_path: Path) -> None:
    book = tmp_path / "草稿.xlsx"
    runner.invoke(app, ["draft", str(unfinished_book), "-o", str(book)])
    out = tmp_path / "年报.docx"
    result = runner.invoke(app, ["render", str(book), "-o", str(out)])
    assert result.exit_code == 1 and not out.exists()
    assert result.stderr.splitlines() == [
        f"{book} 还有 3 个部分没有完成，未生成文档：年度报告的法定内容不能遗漏，草稿须经核对修改。",
        "  一、总体情况／（一）主动公开：仍是未经修改的草稿",
        "  一、总体情况／（二）依申请公开：仍是未经修改的草稿",
        "  一、总体情况／（三）政府信息管理：未填写",
        "请补写、修改后重试；或加 --allow-draft 生成标注“〔草稿〕”的草稿文档。",
    ]
    assert runner.invoke(app, ["render", str(book), "-o", str(out), "--allow-draft"]).exit_code == 0
    header = zipfile.ZipFile(out).read("word/header1.xml").decode("utf-8")
    assert "〔草稿〕" in header
    md = tmp_path / "年报.md"
    assert runner.invoke(app, ["render", str(book), "-o", str(md), "--allow-draft"]).exit_code == 0
    text = md.read_text(encoding="utf-8")
    assert text.startswith("〔草稿〕\n\n# 沭阳县发展和改革局2023年政府信息公开工作年度报告\n")
    assert "### （三）政府信息管理\n\n〔待撰写〕\n" in text


def test_render_refuses_a_units_empty_part_with_the_reason(tmp_path: Path) -> None:
    """A part left empty (N-PART is only a warning for check) is not published silently."""
    book = write_valid(tmp_path / "车排子.xlsx", cleared(CHEPAIZI, "s6.other"))
    result = runner.invoke(app, ["render", str(book), "-o", str(tmp_path / "x.html")])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1:3] == [
        "  六、其他需要报告的事项／（二）其他需要报告的事项：未填写",
        "请补写、修改后重试；或加 --allow-draft 生成标注“〔草稿〕”的草稿文档。",
    ]


def test_a_county_summary_is_a_draft_report(tmp_path: Path) -> None:
    """Issue 19: the county's report from its summary is no longer written with 一 and 五 empty."""
    summary = tmp_path / "县汇总.xlsx"
    merged = runner.invoke(
        app,
        [
            "merge",
            str(COUNTY / "报表"),
            "-o",
            str(summary),
            "--unit",
            "青禾县人民政府",
            "--previous",
            str(COUNTY / "青禾县2022年汇总.xlsx"),
        ],
    )
    assert merged.exit_code == 1, merged.output  # one sample workbook has errors, left out
    sub = read(summary)
    assert sub.text("s1.on_request").startswith(
        "本年度全县共新收政府信息公开申请56件，比上年增加12件、增长27.3%，其中自然人47件、法人或其他组织9件"
    )
    assert narrative_findings(sub) == []
    assert unfinished(sub) == [
        ("s1.active", "仍是未经修改的草稿"),
        ("s1.on_request", "仍是未经修改的草稿"),
        ("s1.management", "未填写"),
        ("s1.platform", "未填写"),
        ("s1.oversight", "未填写"),
        ("s5.problems", "未填写"),
        ("s5.improvements", "未填写"),
        ("s6.other", "未填写"),
    ]
    notes = dict(r[:2] for r in openpyxl.load_workbook(summary)["汇总说明"].values)
    assert notes["文字部分"] == (
        "已根据汇总数字起草（草稿，橙色单元格，须核对修改）：一、总体情况／（一）主动公开、一、总体情况／（二）依申请公开、"
        "六、其他需要报告的事项／（一）信息处理费收取情况。须由汇总单位撰写：一、总体情况／（三）政府信息管理、"
        "一、总体情况／（四）政府信息公开平台建设、一、总体情况／（五）监督保障、五、存在的主要问题及改进情况／（一）存在的主要问题、"
        "五、存在的主要问题及改进情况／（二）改进情况、六、其他需要报告的事项／（二）其他需要报告的事项。各单位的文字见“各单位文字”表，供参考。"
    )
    out = tmp_path / "县年报.docx"
    refused = runner.invoke(app, ["render", str(summary), "-o", str(out)])
    assert refused.exit_code == 1 and "一、总体情况／（三）政府信息管理：未填写" in refused.stderr
    assert "五、存在的主要问题及改进情况／（一）存在的主要问题：未填写" in refused.stderr


def test_merge_unit_word_option(tmp_path: Path) -> None:
    summary = tmp_path / "汇总.xlsx"
    args = ["merge", str(COUNTY / "报表"), "-o", str(summary), "--unit", "青禾县政务公开办", "--unit-word", "全县"]
    runner.invoke(app, args)
    assert read(summary).text("s6.fee") == "本年度全县未发出收费通知，未收取信息处理费。"
    runner.invoke(app, ["merge", str(COUNTY / "报表"), "-o", str(tmp_path / "无名.xlsx")])
    assert read(tmp_path / "无名.xlsx").text("s6.fee") == "本年度未发出收费通知，未收取信息处理费。"


@pytest.mark.slow
def test_the_portals_summary_document_is_stamped_as_a_draft(tmp_path: Path) -> None:
    from xltool.serve.collection import build_summary

    books = sorted((COUNTY / "报表").glob("*.xlsx"))[:3]
    files = [(str(p), read(p).unit_name) for p in books]
    out, document = tmp_path / "summary.xlsx", tmp_path / "summary.docx"
    build_summary(files, [name for _p, name in files], "青禾县人民政府", str(out), str(document))
    assert "〔草稿〕" in zipfile.ZipFile(document).read("word/header1.xml").decode("utf-8")
    assert "全县" in read(out).text("s1.on_request")
