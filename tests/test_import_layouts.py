"""The placer on synthetic reports in every real layout, written here from the definition's labels,
and on adversarial ones (two 表三, rows out of order, not a report, cells that cannot be split)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import opencc
import pytest

from xltool.form import spec as specs
from xltool.form.spec import leaves
from xltool.importers import stream, text
from xltool.importers.model import Document, Table, Text
from xltool.importers.place import place
from xltool.importers.values import Doubt, money_unit, parse_value, splits
from xltool.sources import importing as run
from xltool.submission import computed
from xltool.workbook.reader import read

from .conftest import ROOT

SPEC = specs.load()
SAMPLE = ROOT / "samples" / "沭阳县发展和改革局2023年报.xlsx"
TITLE = "某某县某某局2023年政府信息公开工作年度报告"


def sample_cells() -> dict[str, Any]:
    sub = read(SAMPLE)
    numbers = computed(SPEC, sub.values)
    return {c.key: numbers[c.key] for c in SPEC.cells()}


def table_rows(values: dict[str, Any]) -> list[tuple[str, str | None, list[str]]]:
    """(section heading or caption line, row label, printed figures) in print order."""
    out: list[tuple[str, str | None, list[str]]] = []
    for section in SPEC.sections:
        if section.table is None:
            continue
        out.append((section.heading, None, []))
        for block in section.table.blocks:
            cols = leaves(block.columns)
            if block.caption:
                out.append((block.caption, None, []))
            out.append(("", None, [c.label for c in cols]))
            for row in leaves(block.rows):
                figures = [_shown(values[f"{section.table.key}.{row.key}.{c.key}"]) for c in cols]
                out.append(("", row.label if block.label_columns else None, figures))
    return out


def _shown(v: Any) -> str:
    return "" if v is None else format(v, "f") if isinstance(v, Decimal) else str(v)


def render(values: dict[str, Any], layout: str) -> str:
    """A pasted-text report in one of the layouts real pages come in."""
    lines = [TITLE, "一、总体情况", "本年度工作平稳推进。"]
    for heading, label, figures in table_rows(values):
        if heading:
            lines.append(heading)
            continue
        cells = ([label] if label else []) + figures
        if layout == "pipes":
            lines.append(" | ".join(cells) + " |")
        elif layout == "tabs":
            lines.append("\t".join(cells))
        elif layout == "lines":
            lines.extend(cells)
        elif layout == "spaced":
            lines.extend(x for c in cells for x in ((c, "") if c else ("",)))  # an empty cell: one more blank line
        elif layout == "word":  # a copied Word table: a cell a line after a tab, a blank line ends a row
            lines.extend([*("\t" + c for c in cells), ""])
        elif layout == "alternating":
            lines.extend(x for c in cells for x in (c, "|"))
        elif layout == "spaces":
            lines.append(" ".join(cells))
        elif layout == "together":
            lines.append("".join(cells))
    lines += ["五、存在的主要问题及改进情况", "（一）存在的主要问题", "宣传不够。", "（二）改进情况", "加强培训。"]
    lines += ["六、其他需要报告的事项", "本年度未收取信息处理费。"]
    joined = "".join if layout == "together" else "\n".join
    return joined(lines)


def place_text(tmp_path: Path, body: str, name: str = "r.txt") -> run.Reading:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return run.read_report(path)


def cells_of(reading: run.Reading) -> dict[str, Any]:
    assert reading.placement is not None
    return {**reading.placement.values, **reading.placement.printed}


@pytest.mark.parametrize("layout", ["pipes", "tabs", "lines", "spaced", "word", "alternating", "spaces"])
def test_every_layout_reads_every_cell(tmp_path: Path, layout: str) -> None:
    values = sample_cells()
    reading = place_text(tmp_path, render(values, layout))
    assert reading.placement is not None and reading.placement.missing == {}
    assert cells_of(reading) == values
    assert (reading.unit, reading.year, reading.problem) == ("某某县某某局", 2023, None)


def test_blank_cells_stay_blank_in_every_layout(tmp_path: Path) -> None:
    values = sample_cells() | {"t3.new.business": None, "t3.carry_in.total": None, "t4.cases.review_other": None}
    for layout in ("pipes", "tabs", "lines", "spaced", "word"):
        reading = place_text(tmp_path, render(values, layout), f"{layout}.txt")
        assert cells_of(reading) == values, layout


def test_grid_tables_from_a_parser(tmp_path: Path) -> None:
    """A parser's Table grid (spans resolved: a label repeated across merged columns, a value across
    the columns of a narrow block) reads the same as text."""
    values = sample_cells()
    blocks: list[Any] = [Text(TITLE)]
    rows: list[tuple[str, ...]] = []
    for heading, label, figures in table_rows(values):
        if heading and heading[1] == "、":
            if rows:
                blocks.append(Table(tuple(rows)))
                rows = []
            blocks.append(Text(heading))
        elif heading:
            rows.append((heading,) * 4)
        else:
            cells = ([label, label] if label else []) + figures
            if len(figures) == 1:
                cells += figures * 2  # colspan over the empty value columns
            rows.append(tuple(cells))
    blocks.append(Table(tuple(rows)))
    doc = Document(tmp_path / "grid.html", "html", tuple(blocks))
    placement = place(stream.build(doc), SPEC)
    assert placement.missing == {}
    assert {**placement.values, **placement.printed} == values


def test_run_together_single_digits_and_totals_that_decide(tmp_path: Path) -> None:
    values = {k: 0 for k in sample_cells()}
    values |= {"t3.new.natural": 31, "t3.new.business": 4, "t3.new.total": 35}  # 3140000035: one reading
    values |= {"t3.total.natural": 31, "t3.total.business": 4, "t3.total.total": 35}
    values |= {"t3.disclosed.natural": 31, "t3.disclosed.business": 4, "t3.disclosed.total": 35}
    values |= {"t3.carry_out.natural": 0}
    values |= {"t2.normative.issued": 13, "t2.normative.in_force": 13}  # 13013: several readings
    reading = place_text(tmp_path, render(values, "together"))
    cells = cells_of(reading)
    assert cells["t3.new.natural"] == 31 and cells["t3.new.business"] == 4 and cells["t3.new.total"] == 35
    assert "t2.normative.issued" not in cells
    assert reading.placement.missing["t2.normative.issued"] == "数字连在一起（“13013”），可以有不止一种拆法，无法确定"
    assert {k: v for k, v in cells.items() if k.startswith("t3")} == {
        k: v for k, v in values.items() if k.startswith("t3")
    }


def test_splits() -> None:
    assert splits(["1000001"], 7, [(0, 1, 2, 3, 4, 5, 6)]) == [[1, 0, 0, 0, 0, 0, 1]]
    assert splits(["5730"], 3, []) == [[5, 7, 30], [5, 73, 0]]
    assert splits(["12", "0"], 2, []) == [[12, 0]]
    assert splits(["1210000022"], 7, [(0, 1, 2, 3, 4, 5, 6)]) == [[12, 10, 0, 0, 0, 0, 22]]
    assert splits(["112000013"], 7, [(0, 1, 2, 3, 4, 5, 6)]) == [[1, 12, 0, 0, 0, 0, 13], [11, 2, 0, 0, 0, 0, 13]]


@pytest.mark.parametrize(
    ("printed", "vtype", "value"),
    [
        ("3件", "count", 3),
        ("１２", "count", 12),
        ("1,295", "count", 1295),
        ("0.00万元", "wan_yuan", Decimal("0.00")),
        ("12.5", "wan_yuan", Decimal("12.5")),
        ("减4", "signed_count", -4),
        ("-417", "signed_count", -417),
        ("增3", "signed_count", 3),
        ("", "count", None),
    ],
)
def test_printed_values(printed: str, vtype: Any, value: Any) -> None:
    assert parse_value(printed, vtype) == value


@pytest.mark.parametrize(
    ("printed", "value", "unit"),
    [
        ("1690.9913万元", Decimal("1690.9913"), "万元"),
        ("251000元", 251000, "元"),
        ("0", 0, None),
        ("12 万元", 12, "万元"),
    ],
)
def test_money_amounts_keep_their_printed_unit(printed: str, value: Any, unit: str | None) -> None:
    """The 2019 form's 采购总金额 has no printed unit: the report's own 元 / 万元 fills the unit cell."""
    units = ("元", "万元")
    assert parse_value(printed, "money", units) == value
    assert money_unit(printed, units) == unit
    assert parse_value("25亿元", "money", units) == Doubt("25亿元", "原文为“25亿元”，不是金额")


@pytest.mark.parametrize(
    ("printed", "reason"),
    [
        ("—", "原文为“—”，不能确定是 0 还是未填写"),
        ("/", "原文为“/”，不能确定是 0 还是未填写"),
        ("-2", "原文为“-2”，是负数，本表式这里不能为负"),
        ("3.5", "原文为“3.5”，不是件数"),
        ("约10", "原文为“约10”，不是件数"),
    ],
)
def test_doubtful_values_are_reported(printed: str, reason: str) -> None:
    assert parse_value(printed, "count") == Doubt(printed, reason)


def test_dash_cell_is_reported_not_read(tmp_path: Path) -> None:
    values = sample_cells()
    body = render(values, "pipes").replace("行政许可 | 0 |", "行政许可 | — |")
    reading = place_text(tmp_path, body)
    assert "t2.license.decisions" not in cells_of(reading)
    assert reading.placement.missing == {"t2.license.decisions": "原文为“—”，不能确定是 0 还是未填写"}


def test_traditional_characters_and_spaced_labels(tmp_path: Path) -> None:
    values = sample_cells()
    to_traditional = opencc.OpenCC("s2t")
    body = render(values, "pipes")
    body = (
        to_traditional.convert(body)
        .replace("第二十條第（一）項", "第二十條  第(一)項")
        .replace("商業企業", "商業\n企業")
    )
    assert "規章" in body
    reading = place_text(tmp_path, body)
    assert reading.placement.missing == {}
    assert cells_of(reading) == values


def test_rows_out_of_order(tmp_path: Path) -> None:
    values = sample_cells()
    lines = render(values, "pipes").split("\n")
    a = next(i for i, line in enumerate(lines) if line.startswith("1.属于国家秘密"))
    b = next(i for i, line in enumerate(lines) if line.startswith("2.重复申请"))
    lines[a], lines[b] = lines[b], lines[a]
    reading = place_text(tmp_path, "\n".join(lines))
    assert cells_of(reading) == values


def test_two_tables_that_look_like_table_three(tmp_path: Path, capsys: Any) -> None:
    values = sample_cells()
    other = values | {"t3.new.natural": 99, "t3.new.total": 99}
    first, second = render(values, "pipes"), render(other, "pipes")
    t3 = second[second.index("三、收到") : second.index("四、政府信息公开")]
    body = first.replace(
        "四、政府信息公开", t3.replace("三、收到和处理政府信息公开申请情况", "附表") + "四、政府信息公开", 1
    )
    path = tmp_path / "two.txt"
    path.write_text(body, encoding="utf-8")
    outcome = run.import_reports([path], tmp_path / "two.xlsx")[0]
    assert outcome.reading.problem == (
        "原文中有两个像“三、收到和处理政府信息公开申请情况”的表格，无法确定应当导入哪一个。"
        "请只保留本单位本年度的那一个表格后再导入。"
    )
    assert outcome.workbook is None and outcome.exit_code == 1


def test_total_column_missing(tmp_path: Path) -> None:
    values = sample_cells()
    lines = []
    for line in render(values, "pipes").split("\n"):
        cells = line.split(" | ")
        if line.startswith("自然人 | 商业企业") or len(cells) == 8:
            line = " | ".join(cells[:-1]) + " |"
        lines.append(line)
    reading = place_text(tmp_path, "\n".join(lines))
    cells = cells_of(reading)
    t3_inputs = [c.key for c in SPEC.inputs() if c.table == "t3"]
    assert {k: cells[k] for k in t3_inputs} == {k: values[k] for k in t3_inputs}
    assert all(k in reading.placement.missing for k in values if k.startswith("t3.") and k.endswith(".total"))


def test_not_a_report(tmp_path: Path) -> None:
    reading = place_text(tmp_path, "关于做好冬季防火工作的通知\n各单位：请做好防火工作。\n")
    assert reading.problem == "没有找到政府信息公开工作年度报告的表格（第二、三、四部分），这可能不是年度报告。"


def test_text_encodings(tmp_path: Path) -> None:
    body = render(sample_cells(), "pipes")
    for name, data in (("gbk.txt", body.encode("gbk")), ("bom.txt", b"\xef\xbb\xbf" + body.encode("utf-8"))):
        (tmp_path / name).write_bytes(data)
        doc = text.parse(tmp_path / name)
        assert isinstance(doc.blocks[0], Text) and doc.blocks[0].text == TITLE


def test_markdown_table_becomes_a_grid(tmp_path: Path) -> None:
    path = tmp_path / "t.md"
    path.write_text("标题\n| 信息内容 | 本年制发件数 |\n|---|---|\n| 规章 | 0 |\n", encoding="utf-8")
    doc = text.parse(path)
    assert doc.blocks[1] == Table((("信息内容", "本年制发件数"), ("规章", "0")), "第 2 行起的表格")


def test_narrative_parts(tmp_path: Path) -> None:
    reading = place_text(tmp_path, render(sample_cells(), "pipes"))
    assert reading.values["s5.problems"] == "宣传不够。"
    assert reading.values["s5.improvements"] == "加强培训。"
    assert reading.values["s1.active"] == "本年度工作平稳推进。"  # no part headings: all in the first part
    assert reading.values["s6.fee_notices"] == 0 and reading.values["s6.fee_collected"] == 0


def test_a_page_quoting_table_words_is_not_a_report(tmp_path: Path) -> None:
    reading = place_text(tmp_path, "执法动态\n本月办理行政处罚 5 件，行政许可 12 件。\n")
    assert reading.problem == "没有找到政府信息公开工作年度报告的表格（第二、三、四部分），这可能不是年度报告。"


def part_warnings(tmp_path: Path, body: str) -> tuple[list[tuple[str, str | None, str]], str]:
    """The N-PART findings check gives on the imported workbook, and its unsplit-sections stamp."""
    (tmp_path / "r.txt").write_text(body, encoding="utf-8")
    outcome = run.import_reports([tmp_path / "r.txt"], tmp_path / "r.xlsx")[0]
    assert outcome.result is not None and outcome.result.submission is not None
    found = [(f.sheet, f.cell, f.message) for f in outcome.result.findings if f.rule == "N-PART"]
    return found, outcome.result.submission.properties.get("unsplit_sections", "")


def test_sections_not_split_get_no_part_warnings(tmp_path: Path) -> None:
    """一 and 六 print no part headings: all their text is in their first part, and check does not
    call the other parts empty."""
    assert part_warnings(tmp_path, render(sample_cells(), "tabs")) == ([], "s1,s6")


def test_a_part_left_out_under_part_headings_is_warned(tmp_path: Path) -> None:
    body = render(sample_cells(), "tabs").replace("（二）改进情况\n加强培训。", "（二）改进情况")
    found, unsplit = part_warnings(tmp_path, body)
    assert unsplit == "s1,s6"
    assert found == [("五、存在的主要问题及改进情况", "A6", "“五、存在的主要问题及改进情况”中“（二）改进情况”未填写。")]


def test_a_section_heading_in_other_words_is_placed_by_its_number(tmp_path: Path) -> None:
    """一、工作基本情况 where the form says 一、总体情况: the text up to 二 is section 一 (its first part)."""
    body = render(sample_cells(), "pipes")
    heading = SPEC.sections[0].heading
    assert heading in body
    reading = place_text(tmp_path, body.replace(heading, heading.split("、")[0] + "、工作基本情况"))
    first = f"{SPEC.sections[0].key}.{SPEC.sections[0].parts[0].key}"
    assert reading.values[first] == place_text(tmp_path, body, "same.txt").values[first] != ""
