from __future__ import annotations

import html
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn

from xltool.documents import render as rendering
from xltool.documents.render import Grid, GridCell, Heading, Paragraph, TableView, document, number_text, render
from xltool.errors import OutputError, UsageError
from xltool.form import spec as specs
from xltool.form.spec import FormSpec, Node
from xltool.submission import Submission, Value, blank_values

from .conftest import golden
from .helpers import FORMS
from .sample_data import PINGTAN_2020

SPEC = specs.load()

# Figures of 沭阳县发展和改革局's 2023 report (tables 二–四); the narratives are our own sample text.
SAMPLE: dict[str, Value] = {
    "unit.unit_name": "沭阳县发展和改革局",
    "unit.report_year": 2023,
    "unit.fill_date": "2024年1月17日",
    "s1.active": "本年度通过门户网站公开各类政府信息，重点公开规范性文件和财政预决算信息。\n"
    "规范性文件均在印发后及时公开，并同步发布政策解读。",
    "s1.on_request": "本年度新收政府信息公开申请26件，均在法定期限内答复。",
    "s1.management": "落实公开前保密审查和公开属性审查。",
    "s1.platform": "\n　　门户网站专栏按季度检查更新。\r\n\r\n",
    "s1.oversight": "将政务公开纳入年度考核，本年度未发生责任追究情况。",
    "s5.problems": "政策解读的形式还比较单一。",
    "s5.improvements": "一是丰富解读形式。\n二是加强业务培训。",
    "s6.other": "无。",
    "t2.normative.issued": 8,
    "t2.normative.in_force": 18,
    "t3.new.natural": 26,
    "t3.disclosed.natural": 26,
    "t4.cases.review_pending": 1,
}


# the same on each form: the 2019 form's sample has the figures of a real 2020 report (sample_data.py)
SAMPLES: dict[str, dict[str, Value]] = {"2021": SAMPLE, "2019": PINGTAN_2020}


def submission(form: str = "2021", **overrides: Value) -> Submission:
    spec = specs.load(form)
    values = blank_values(spec)
    values.update(SAMPLES[form])
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return Submission(spec, "sample.xlsx", values)


def table_labels(spec: FormSpec) -> Iterator[str]:
    """Every label the official form prints in tables 二/三/四 (rows of label-less blocks are not printed)."""

    def walk(nodes: tuple[Node, ...]) -> Iterator[str]:
        for node in nodes:
            yield node.label
            yield from walk(node.children)

    for table in spec.tables():
        for block in table.blocks:
            yield from (t for t in (block.caption, block.corner) if t)
            yield from walk(block.columns)
            if block.label_columns:
                yield from walk(block.rows)


def grids(spec: FormSpec, sub: Submission) -> list[Grid]:
    return [item.grid for ch in document(sub).chapters for item in ch.content if isinstance(item, TableView)]


def positions(c: GridCell) -> Iterator[tuple[int, int]]:
    for r in range(c.row, c.row + c.rowspan):
        for col in range(c.col, c.col + c.colspan):
            yield r, col


class _Html(HTMLParser):
    """Collects the tables (cells with spans and text), paragraphs and every start tag of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[tuple[str, dict[str, str | None], str]]]] = []
        self.paragraphs: list[str] = []
        self.tags: list[str] = []
        self._cell: tuple[str, dict[str, str | None]] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("th", "td", "p", "h1", "h2", "h3"):
            self._cell, self._text = (tag, dict(attrs)), []

    def handle_endtag(self, tag: str) -> None:
        if self._cell is None or tag != self._cell[0]:
            return
        text = "".join(self._text)
        if tag in ("th", "td"):
            self.tables[-1][-1].append((tag, self._cell[1], text))
        else:
            self.paragraphs.append(text)
        self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._text.append(data)


def parse_html(text: str) -> _Html:
    parser = _Html()
    parser.feed(text)
    parser.close()
    return parser


def html_grid(rows: list[list[tuple[str, dict[str, str | None], str]]]) -> set[tuple[int, int, int, int, str]]:
    """(row, col, rowspan, colspan, text) of every cell, placing cells as a browser does."""
    taken: set[tuple[int, int]] = set()
    out = set()
    for r, row in enumerate(rows):
        col = 0
        for _tag, attrs, text in row:
            while (r, col) in taken:
                col += 1
            rs, cs = int(attrs.get("rowspan") or 1), int(attrs.get("colspan") or 1)
            out.add((r, col, rs, cs, text))
            taken.update((r + i, col + j) for i in range(rs) for j in range(cs))
            col += cs
    return out


@pytest.fixture(scope="module", params=FORMS)
def form(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory: pytest.TempPathFactory, form: str) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("render")
    sub = submission(form)
    return {suffix: render(sub, folder / f"report.{suffix}") for suffix in ("html", "md", "docx")}


def golden_name(form: str, suffix: str) -> str:
    return f"render_sample{'' if form == '2021' else '_' + form}.{suffix}"


# ---------------------------------------------------------------- the model


@pytest.mark.slow
def test_golden_html(sample_files: dict[str, Path], form: str) -> None:
    golden(golden_name(form, "html"), sample_files["html"].read_text(encoding="utf-8"))


def test_golden_markdown(sample_files: dict[str, Path], form: str) -> None:
    golden(golden_name(form, "md"), sample_files["md"].read_text(encoding="utf-8"))


def test_title_opening_and_sections_in_official_order() -> None:
    doc = document(submission())
    assert doc.title == "沭阳县发展和改革局2023年政府信息公开工作年度报告"
    assert doc.title_lines == ("沭阳县发展和改革局", "2023年政府信息公开工作年度报告")
    assert "统计期限为2023年1月1日至2023年12月31日" in doc.preamble[0].text
    assert [ch.heading for ch in doc.chapters] == [s.heading for s in SPEC.sections]
    assert [ch.landscape for ch in doc.chapters] == [False, False, True, True, False, False]
    assert doc.closing == (Paragraph("沭阳县发展和改革局", "right"), Paragraph("2024年1月17日", "right"))


def test_narrative_parts_keep_paragraphs_and_mark_unwritten_parts() -> None:
    doc = document(submission(s1__management="", s1__platform="第一段\r\n\r\n　　第二段  \n"))
    assert doc.chapters[0].content == (
        Heading("（一）主动公开", 2),
        Paragraph("本年度通过门户网站公开各类政府信息，重点公开规范性文件和财政预决算信息。"),
        Paragraph("规范性文件均在印发后及时公开，并同步发布政策解读。"),
        Heading("（二）依申请公开", 2),
        Paragraph("本年度新收政府信息公开申请26件，均在法定期限内答复。"),
        Heading("（三）政府信息管理", 2),
        Paragraph("〔待撰写〕"),
        Heading("（四）政府信息公开平台建设", 2),
        Paragraph("第一段"),
        Paragraph("第二段"),
        Heading("（五）监督保障", 2),
        Paragraph("将政务公开纳入年度考核，本年度未发生责任追究情况。"),
    )
    assert doc.stamp == "〔草稿〕"
    assert document(submission()).stamp is None


@pytest.mark.parametrize(
    ("notices", "collected", "sentence"),
    [
        (0, 0, "本年度未发出收费通知，未收取信息处理费。"),
        (3, Decimal("120.50"), "本年度发出收费通知3件，实际收取信息处理费120.50元。"),
        (2, 0, "本年度发出收费通知2件，未收取信息处理费。"),
    ],
)
def test_fee_figures_as_a_sentence_before_the_part_text(notices: int, collected: Value, sentence: str) -> None:
    doc = document(submission(s6__fee_notices=notices, s6__fee_collected=collected, s6__fee="收费按国家规定执行。"))
    assert doc.chapters[5].content == (
        Heading("（一）信息处理费收取情况", 2),
        Paragraph(sentence),
        Paragraph("收费按国家规定执行。"),
        Heading("（二）其他需要报告的事项", 2),
        Paragraph("无。"),
    )


@pytest.mark.parametrize(
    "text",
    [
        "本年度未发生信息处理费收费情况。",  # issue 19: said once, not twice
        "本年度未收取信息处理费。",
        "本年度未发出收费通知。",
        "全年共收取信息处理费0元。",
    ],
)
def test_no_fee_sentence_where_the_text_already_states_the_fees(text: str) -> None:
    doc = document(submission(s6__fee=text))
    assert doc.chapters[5].content[:2] == (Heading("（一）信息处理费收取情况", 2), Paragraph(text))


def test_the_fee_sentence_stays_where_the_text_says_something_else() -> None:
    doc = document(submission(s6__fee="严格执行收费管理办法。"))
    assert doc.chapters[5].content[1] == Paragraph("本年度未发出收费通知，未收取信息处理费。")


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (26, "26"), (12345, "12345"), (Decimal("1.2500"), "1.2500"), (Decimal("1E+2"), "100")],
)
def test_number_text(value: int | Decimal, text: str) -> None:
    assert number_text(value) == text


def test_grids_have_the_official_merges() -> None:
    t2, t3, t4 = grids(SPEC, submission())
    spans = {g.key: {c.text: (c.rowspan, c.colspan) for c in g.cells if c.role != "value"} for g in (t2, t3, t4)}
    assert (t2.rows, t2.cols, t2.header_rows) == (14, 4, 0)
    assert spans["t2"]["第二十条第（一）项"] == (1, 4)
    assert spans["t2"]["本年处理决定数量"] == (1, 3)
    assert [(c.text, c.colspan) for c in t2.cells if c.key == "t2.fees.amount"] == [("0", 3)]
    assert (t3.rows, t3.cols, t3.header_rows) == (28, 10, 3)
    assert spans["t3"]["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"] == (3, 3)
    assert spans["t3"]["申请人情况"] == (1, 7)
    assert spans["t3"]["自然人"] == spans["t3"]["总计"] == (2, 1)
    assert spans["t3"]["法人或其他组织"] == (1, 5)
    assert spans["t3"]["一、本年新收政府信息公开申请数量"] == (1, 3)
    assert spans["t3"]["三、本年度办理结果"] == (22, 1)
    assert spans["t3"]["（一）予以公开"] == spans["t3"]["（七）总计"] == (1, 2)
    groups = ("（三）不予公开", "（四）无法提供", "（五）不予处理", "（六）其他处理")
    assert [spans["t3"][k] for k in groups] == [(8, 1), (3, 1), (5, 1), (3, 1)]
    assert (t4.rows, t4.cols, t4.header_rows) == (4, 15, 3)
    assert spans["t4"]["行政复议"] == (1, 5)
    assert spans["t4"]["行政诉讼"] == (1, 10)
    assert spans["t4"]["未经复议直接起诉"] == spans["t4"]["复议后起诉"] == (1, 5)
    for grid in (t2, t3, t4):  # the cells tile the grid exactly
        covered = [p for c in grid.cells for p in positions(c)]
        assert sorted(covered) == [(r, c) for r in range(grid.rows) for c in range(grid.cols)]


def test_2019_grids_have_the_2019_layout_and_show_the_chosen_unit() -> None:
    t2, t3, _t4 = grids(specs.load("2019"), submission("2019"))
    spans = {g.key: {c.text: (c.rowspan, c.colspan) for c in g.cells if c.role != "value"} for g in (t2, t3)}
    assert (t2.rows, t2.cols) == (18, 4)
    assert spans["t2"]["第二十条第（九）项"] == (1, 4)
    assert spans["t2"]["采购总金额"] == (1, 2)
    assert [(c.text, c.colspan) for c in t2.cells if c.key and c.key.startswith("t2.procurement")] == [
        ("19", 1),
        ("1690.9913万元", 2),  # the amount and the unit its filler chose, as one printed cell
    ]
    assert [c.text for c in t2.cells if c.key == "t2.penalty.change"] == ["143"]
    assert (t3.rows, t3.cols, t3.header_rows) == (26, 10, 3)
    assert spans["t3"]["三、本年度办理结果"] == (20, 1)
    assert spans["t3"]["（六）其他处理"] == spans["t3"]["（七）总计"] == (1, 2)
    assert [c.text for c in t3.cells if c.key == "t3.otherwise.total"] == ["2"]
    md = rendering.to_markdown(document(submission("2019", t2__procurement__amount__unit="元")))
    assert "| 政府集中采购 | 19 | 1690.9913元 |" in md
    for grid in (t2, t3):
        covered = [p for c in grid.cells for p in positions(c)]
        assert sorted(covered) == [(r, c) for r in range(grid.rows) for c in range(grid.cols)]


def test_totals_are_recomputed_not_taken_from_the_file() -> None:
    sub = submission(
        t3__new__natural=20, t3__new__business=3, t3__new__legal=2, t3__new__total=999, t3__disclosed__legal=2
    )
    values = {c.key: c.text for g in grids(SPEC, sub) for c in g.cells if c.key}
    assert values["t3.new.total"] == "25"
    assert values["t3.total.total"] == "28"
    assert values["t3.total.legal"] == "2"
    assert values["t4.cases.review_total"] == "1"


# ---------------------------------------------------------------- html


def test_html_tables_reproduce_the_grids(sample_files: dict[str, Path], form: str) -> None:
    page = parse_html(sample_files["html"].read_text(encoding="utf-8"))
    expected = grids(specs.load(form), submission(form))
    assert len(page.tables) == len(expected) == 3
    for rows, grid in zip(page.tables, expected, strict=True):
        assert html_grid(rows) == {(c.row, c.col, c.rowspan, c.colspan, c.text) for c in grid.cells}
        assert {tag for row in rows for tag, _, _ in row} == {"th", "td"}


def test_every_official_label_is_in_the_html_and_the_docx(sample_files: dict[str, Path], form: str) -> None:
    spec = specs.load(form)
    page = parse_html(sample_files["html"].read_text(encoding="utf-8"))
    html_cells = {text for table in page.tables for row in table for _, _, text in row}
    d = docx.Document(str(sample_files["docx"]))
    docx_cells = {cell.text for table in d.tables for row in table.rows for cell in row.cells}
    labels = list(table_labels(spec))
    assert len(labels) > 60
    assert [x for x in labels if x not in html_cells] == []
    assert [x for x in labels if x not in docx_cells] == []
    parts = [p.label for s in spec.sections for p in s.parts if s.key != "s6" or SAMPLES[form].get(f"s6.{p.key}")]
    headings = [s.heading for s in spec.sections] + parts
    assert [h for h in headings if h not in page.paragraphs] == []
    assert [h for h in headings if h not in [p.text for p in d.paragraphs]] == []


@pytest.mark.slow
def test_html_escapes_all_text(tmp_path: Path) -> None:
    script = "<script>alert('x')</script>"
    formula = "=cmd|' /C calc'!A0"
    sub = submission(unit__unit_name="甲&乙<局>", s1__active=f"{script}\n{formula}", s5__problems='"引号" & <b>粗</b>')
    text = render(sub, tmp_path / "x.html").read_text(encoding="utf-8")
    page = parse_html(text)
    assert "script" not in page.tags and "b" not in page.tags
    assert "<script" not in text.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert script in page.paragraphs and formula in page.paragraphs
    assert '"引号" & <b>粗</b>' in page.paragraphs
    assert "甲&乙<局>2023年政府信息公开工作年度报告" in page.paragraphs
    d = docx.Document(str(render(sub, tmp_path / "x.docx")))
    assert {script, formula} <= {p.text for p in d.paragraphs}
    md = render(sub, tmp_path / "x.md").read_text(encoding="utf-8")
    assert "<script" not in md and "<b>" not in md and "&lt;script&gt;alert('x')&lt;/script&gt;" in md


# ---------------------------------------------------------------- docx


@pytest.mark.slow
def test_docx_tables_match_the_grids_cell_by_cell(sample_files: dict[str, Path], form: str) -> None:
    d = docx.Document(str(sample_files["docx"]))
    expected = grids(specs.load(form), submission(form))
    assert len(d.tables) == len(expected)
    for table, grid in zip(d.tables, expected, strict=True):
        assert (len(table.rows), len(table.columns)) == (grid.rows, grid.cols)
        assert table.style is not None and table.style.name == "Table Grid"
        owner: dict[Any, GridCell] = {}
        for c in grid.cells:
            top = table.cell(c.row, c.col)
            assert top.text == c.text
            assert top.grid_span == c.colspan
            assert top._tc.vMerge == ("restart" if c.rowspan > 1 else None)
            for r, col in positions(c):
                tc = table.cell(r, col)._tc
                assert owner.setdefault(tc, c) is c, f"{grid.key} ({r},{col}) merged into the wrong cell"
        assert len(owner) == len(grid.cells)
        header = [row._tr.trPr is not None and row._tr.trPr.find(qn("w:tblHeader")) is not None for row in table.rows]
        assert header == [r < grid.header_rows for r in range(grid.rows)]


def test_docx_pages_and_fonts(sample_files: dict[str, Path], form: str) -> None:
    d = docx.Document(str(sample_files["docx"]))
    sizes = [(s.orientation, round(s.page_width.mm), round(s.page_height.mm)) for s in d.sections]  # type: ignore[union-attr]
    portrait, landscape = (WD_ORIENT.PORTRAIT, 210, 297), (WD_ORIENT.LANDSCAPE, 297, 210)
    assert sizes == [portrait, landscape, portrait]
    assert [round(m.mm) for m in (d.sections[0].top_margin, d.sections[0].left_margin)] == [37, 28]  # type: ignore[union-attr]

    def east_asia(style: str) -> str | None:
        return d.styles[style].element.rPr.rFonts.get(qn("w:eastAsia"))  # type: ignore[no-any-return]

    fonts = {s: east_asia(s) for s in ("Normal", "Heading 1", "Heading 2", "Report Title", "Table Text")}
    assert fonts == {
        "Normal": "仿宋",
        "Heading 1": "黑体",
        "Heading 2": "楷体",
        "Report Title": "宋体",
        "Table Text": "仿宋",
    }
    assert d.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsiaTheme")) is None
    title = d.paragraphs[0]
    assert title.style is not None and title.style.name == "Report Title"
    assert (
        title.text
        == {
            "2021": "沭阳县发展和改革局\n2023年政府信息公开工作年度报告",
            "2019": "平潭综合实验区自然资源与生态环境局\n2020年政府信息公开工作年度报告",
        }[form]
    )
    assert [p.text for p in d.paragraphs if p.style is not None and p.style.name == "Heading 1"] == [
        s.heading for s in specs.load(form).sections
    ]
    # the landscape section holds tables 三 and 四 with their headings
    body = d.element.body
    breaks = [i for i, el in enumerate(body) if el.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is not None]
    tables = [i for i, el in enumerate(body) if el.tag == qn("w:tbl")]
    assert breaks[0] < tables[1] < tables[2] < breaks[1]
    assert tables[0] < breaks[0]


@pytest.mark.slow
def test_a_short_title_stays_on_one_line(tmp_path: Path) -> None:
    d = docx.Document(str(render(submission(unit__unit_name="甲镇"), tmp_path / "x.docx")))
    assert d.paragraphs[0].text == "甲镇2023年政府信息公开工作年度报告"


# ---------------------------------------------------------------- files and errors


@pytest.mark.parametrize("name", ["report.pdf", "report", "report.docx.txt"])
def test_unknown_suffix_is_a_usage_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError) as exc:
        render(submission(), tmp_path / name)
    assert exc.value.message == f"无法识别输出文件“{name}”的格式：成文文件的扩展名应为 .docx、.html 或 .md。"
    assert list(tmp_path.iterdir()) == []


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    out = render(submission(), tmp_path / "REPORT.HTML")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_missing_unit_name_or_year_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as exc:
        render(submission(unit__unit_name=" ", unit__report_year=None), tmp_path / "x.html")
    assert exc.value.message == "无法成文：单位信息“单位名称”“报告年度”未填写。请在工作簿中补充后重试。"


def test_missing_output_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as exc:
        render(submission(), tmp_path / "nope" / "x.html")
    assert exc.value.message == f"无法写入 {tmp_path / 'nope' / 'x.html'}：输出文件夹 {tmp_path / 'nope'} 不存在。"


def test_never_overwrites_the_input(tmp_path: Path) -> None:
    source = tmp_path / "in.html"
    source.write_text("keep", encoding="utf-8")
    sub = Submission(SPEC, str(source), submission().values)
    with pytest.raises(OutputError):
        render(sub, source)
    assert source.read_text(encoding="utf-8") == "keep"


def test_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "x.md"
    out.write_text("old", encoding="utf-8")
    assert render(submission(), out) == out
    assert out.read_text(encoding="utf-8").startswith("# 沭阳县发展和改革局")  # finished: no 〔草稿〕
    assert [p.name for p in tmp_path.iterdir()] == ["x.md"]

    def full(path: Path, text: str) -> None:
        path.write_text(text[:10], encoding="utf-8")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rendering, "_write_text", full)
    before = out.read_text(encoding="utf-8")
    with pytest.raises(OutputError) as exc:
        render(submission(), out)
    assert exc.value.message == f"无法写入 {out}：No space left on device。"
    assert out.read_text(encoding="utf-8") == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.md"]


def test_html_text_is_unescaped_text_of_the_model(sample_files: dict[str, Path], form: str) -> None:
    text = sample_files["html"].read_text(encoding="utf-8")
    doc = document(submission(form))
    assert f"<title>{html.escape(doc.title)}</title>" in text
    assert text.count("<table ") == 3
