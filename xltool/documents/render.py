"""The document: the publishable annual report of one submission, as .docx, .html or .md.

:func:`document` turns a submission into a small, format-free model (headings, paragraphs, table
grids with merged cells); one writer per format turns the model into a file. Every heading, caption
and label comes from the form definition, and each table grid is the template's own grid
(:mod:`xltool.form.layout`), so the document and the workbook cannot disagree about the form. python-docx
is imported only by :mod:`xltool.documents.docx`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

from xltool.checks.narrative import reader_for
from xltool.documents import draft as drafts
from xltool.documents.model import (
    _GRID_ROLES,
    Chapter,
    Content,
    Document,
    Flat,
    Grid,
    GridCell,
    Heading,
    Paragraph,
    TableView,
    cell_align,
)
from xltool.errors import OutputError, UsageError
from xltool.form.layout import for_spec
from xltool.form.spec import UNIT_SUFFIX, Block, FormSpec, Part, Section, Table, block_cells, leaves
from xltool.submission import Number, Submission, computed, shown
from xltool.workbook.atomic import atomic_path

FORMATS = (".docx", ".html", ".md")
PATH_SEP = " / "  # joins the label path of a row or column in flattened (markdown) tables


def number_text(value: Number) -> str:
    """Integers without separators; Decimals (万元, 元) as entered, never in exponent form."""
    return str(shown(value))


def document(submission: Submission) -> Document:
    """The document of a submission. One with parts unwritten or still holding an unedited draft
    (:func:`xltool.documents.draft.unfinished`) is stamped 〔草稿〕 and shows where text is missing."""
    spec = submission.spec
    unit, year = _identity(submission)
    numbers = computed(spec, submission.values)
    units = {cell.key: submission.text(unit_key) for cell, unit_key in spec.chosen_units()}
    blank = set(drafts.blank_parts(submission))
    chapters = tuple(
        _table_chapter(spec, section, numbers, units)
        if section.table
        else _narrative_chapter(submission, section, blank)
        for section in spec.sections
    )
    closing = [Paragraph(unit, "right")]
    if submission.text("unit.fill_date").strip():
        closing.append(Paragraph(submission.text("unit.fill_date").strip(), "right"))
    rest = f"{year}年政府信息公开工作年度报告"
    return Document(
        title=unit + rest,
        title_lines=(unit, rest),
        preamble=(Paragraph(_opening(spec, unit, year)),),
        chapters=chapters,
        closing=tuple(closing),
        stamp=drafts.STAMP if drafts.unfinished(submission) else None,
    )


def _identity(submission: Submission) -> tuple[str, int]:
    unit, year = submission.unit_name.strip(), submission.year
    fields = {f.key: f.label for f in submission.spec.unit.fields}
    missing = [fields[k] for k, v in (("unit_name", unit), ("report_year", year)) if not v]
    if missing:
        raise UsageError(f"无法成文：单位信息“{'”“'.join(missing)}”未填写。请在工作簿中补充后重试。")
    assert year is not None
    return unit, year


def _opening(spec: FormSpec, unit: str, year: int) -> str:
    return (
        f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《{spec.title}格式》"
        f"（{spec.basis}）的要求编制，报告{unit}{year}年政府信息公开工作情况。"
        f"本报告所列数据的统计期限为{year}年1月1日至{year}年12月31日。"
    )


def _narrative_chapter(submission: Submission, section: Section, blank: set[str]) -> Chapter:
    """A section's parts: each part's figures (unless its text says them already), then its text.
    A part nobody wrote is left out, or in a draft document (``blank`` non-empty) marked 〔待撰写〕."""
    content: list[Content] = []
    for part in section.parts:
        key = f"{section.key}.{part.key}"
        paragraphs = [*_figures(submission, section, part), *_paragraphs(submission.text(key))]
        if key in blank:
            paragraphs = [drafts.TO_WRITE]
        if paragraphs:
            content.append(Heading(part.label, 2))
            content.extend(Paragraph(p) for p in paragraphs)
    return Chapter(section.heading, tuple(content))


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _figures(submission: Submission, section: Section, part: Part) -> list[str]:
    """A part's figures in words, as the definition drafts them (六（一）: the 信息处理费 sentence), or
    标签：值。 where it drafts nothing; nothing where the part's text already states them."""
    if not part.fields or _states_figures(submission, section, part):
        return []
    key = f"{section.key}.{part.key}"
    sentence = drafts.figures_text(submission, key)
    if sentence is not None:
        return [sentence] if sentence else []
    return [f"{f.label}：{number_text(submission.number(f'{section.key}.{f.key}'))}。" for f in part.fields]


def _states_figures(submission: Submission, section: Section, part: Part) -> bool:
    """Whether a part's text states a figure of its own fields or makes a claim about them (本年度未发生
    信息处理费收费情况): then a sentence generated from them would say it twice."""
    reader, vocabulary = reader_for(submission.spec), submission.spec.narrative
    text = submission.text(f"{section.key}.{part.key}")
    if reader is None or vocabulary is None or not text.strip():
        return False
    fields = {f"{section.key}.{f.key}" for f in part.fields}
    own = {q.key for q in vocabulary.quantities if set(q.cell_keys()) <= fields}
    said = {f.quantity for f in reader.figures(text, part.label)} | {
        c.quantity for c in reader.claims(text, part.label)
    }
    return bool(said & own)


def _table_chapter(spec: FormSpec, section: Section, numbers: dict[str, Number], units: dict[str, str]) -> Chapter:
    table = section.table
    assert table is not None
    view = TableView(_grid(spec, table, numbers, units), tuple(_flat(table, b, numbers, units) for b in table.blocks))
    return Chapter(section.heading, (view,), landscape=table.landscape)


def value_text(key: str, numbers: dict[str, Number], units: dict[str, str]) -> str:
    """A table value as printed: a money amount followed by the unit its filler chose (251000元)."""
    return number_text(numbers[key]) + units.get(key, "")


def _grid(spec: FormSpec, table: Table, numbers: dict[str, Number], units: dict[str, str]) -> Grid:
    """The template's grid of this table without its title and note rows, values filled in.

    A money amount and the drop-down of its unit are one printed cell ("1690.9913万元").
    """
    sheet = next(s for s in for_spec(spec).sheets if s.table == table.key)
    unit_cells = {k + UNIT_SUFFIX: k for k in units}
    spans = {
        unit_cells[c.key]: c.last_col if c.last_col is not None else c.col for c in sheet.cells if c.key in unit_cells
    }
    cells = [c for c in sheet.cells if c.role in _GRID_ROLES and c.key not in unit_cells]
    top = min(c.row for c in cells)
    out: list[GridCell] = []
    for c in sorted(cells, key=lambda c: (c.row, c.col)):
        last_row = c.row if c.last_row is None else c.last_row
        last_col = spans.get(c.key or "", c.col if c.last_col is None else c.last_col)
        text = value_text(c.key, numbers, units) if c.key is not None else c.text
        role = _GRID_ROLES[c.role]
        out.append(GridCell(c.row - top, c.col, role, text, last_row - c.row + 1, last_col - c.col + 1, c.key))
    rows = max(c.row + c.rowspan for c in out)
    header_rows = sheet.repeat_rows[1] - top + 1 if sheet.repeat_rows else 0
    return Grid(table.key, rows, len(sheet.widths), sheet.widths, tuple(out), header_rows)


def _flat(table: Table, block: Block, numbers: dict[str, Number], units: dict[str, str]) -> Flat:
    cols = leaves(block.columns)
    values: dict[str, list[str]] = {}
    for cell in block_cells(table.key, block):
        values.setdefault(cell.row.key, []).append(value_text(cell.key, numbers, units))
    rows = tuple(
        (PATH_SEP.join([*(n.label for n in r.path), r.label]), tuple(values[r.key])) for r in leaves(block.rows)
    )
    return Flat(
        caption=block.caption,
        corner=block.corner if block.label_columns else None,
        columns=tuple(PATH_SEP.join([*(n.label for n in c.path), c.label]) for c in cols),
        rows=rows,
    )


# ---------------------------------------------------------------- writing


def render(submission: Submission, out: Path) -> Path:
    """Write the document of a submission to ``out``; the format follows the suffix (.docx, .html, .md).

    The file is written atomically: a temporary file in the same folder, then renamed.
    """
    out = Path(out)
    writer = writer_for(out)
    if Path(submission.source).resolve() == out.resolve():
        raise OutputError(f"输出文件 {out} 就是输入的工作簿，不能覆盖。请另选输出文件名。")
    doc = document(submission)
    with atomic_path(out) as tmp:
        writer(doc, tmp)
    return out


def writer_for(out: Path) -> Callable[[Document, Path], None]:
    suffix = out.suffix.lower()
    if suffix == ".docx":
        from xltool.documents import docx as render_docx  # python-docx loads slowly: only for .docx

        return render_docx.write
    if suffix in (".html", ".md"):
        to_text = to_html if suffix == ".html" else to_markdown
        return lambda doc, path: _write_text(path, to_text(doc))
    allowed = "、".join(FORMATS[:-1]) + " 或 " + FORMATS[-1]
    raise UsageError(f"无法识别输出文件“{out.name}”的格式：成文文件的扩展名应为 {allowed}。")


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


# ---------------------------------------------------------------- html

_SERIF = '"FangSong", "仿宋", "仿宋_GB2312", "STFangsong", "Noto Serif CJK SC", "Source Han Serif SC", serif'
_SONG = '"SimSun", "宋体", "Songti SC", "STSong", "Noto Serif CJK SC", "Source Han Serif SC", serif'
_HEI = '"SimHei", "黑体", "Heiti SC", "STHeiti", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif'
_KAI = '"KaiTi", "楷体", "STKaiti", "Noto Serif CJK SC", serif'
_STYLE = f"""body {{ margin: 0; background: #fff; color: #000; }}
article {{ max-width: 60em; margin: 2em auto; padding: 0 1em; font-family: {_SERIF}; font-size: 16px; line-height: 1.8; }}
h1 {{ font-family: {_SONG}; font-size: 26px; text-align: center; margin: 0 0 1em; }}
h2 {{ font-family: {_HEI}; font-size: 17px; font-weight: normal; margin: 1em 0 .3em; text-indent: 2em; }}
h3 {{ font-family: {_KAI}; font-size: 16px; font-weight: bold; margin: .5em 0 .2em; text-indent: 2em; }}
p {{ margin: 0; text-indent: 2em; text-align: justify; }}
table {{ font-size: 14px; line-height: 1.4; margin: .5em 0 1em; }}"""
_STAMP_STYLE = f"p.stamp {{ font-family: {_HEI}; text-indent: 0; margin-bottom: 1em; }}"
_TABLE = "border-collapse:collapse;width:100%"
_CELL = "border:1px solid #000;padding:4px 6px;vertical-align:middle"


def to_html(doc: Document) -> str:
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(doc.title)}</title>",
        f"<style>\n{_STYLE}\n{_STAMP_STYLE}\n</style>" if doc.stamp else f"<style>\n{_STYLE}\n</style>",
        "</head>",
        "<body>",
        "<article>",
        *([f'<p class="stamp">{e(doc.stamp)}</p>'] if doc.stamp else []),
        f"<h1>{e(doc.title)}</h1>",
    ]
    out.extend(_html_paragraph(p) for p in doc.preamble)
    for chapter in doc.chapters:
        out.append(f"<h2>{e(chapter.heading)}</h2>")
        for item in chapter.content:
            if isinstance(item, Heading):
                out.append(f"<h3>{e(item.text)}</h3>")
            elif isinstance(item, Paragraph):
                out.append(_html_paragraph(item))
            else:
                out.extend(_html_table(item.grid))
    out.extend(_html_paragraph(p) for p in doc.closing)
    out += ["</article>", "</body>", "</html>", ""]
    return "\n".join(out)


def _html_paragraph(p: Paragraph) -> str:
    style = ' style="text-align:right"' if p.align == "right" else ""
    return f"<p{style}>{html.escape(p.text)}</p>"


def _html_table(grid: Grid) -> list[str]:
    total = sum(grid.widths)
    out = [f'<table style="{_TABLE}">', "<colgroup>"]
    out += [f'<col style="width:{w / total * 100:.1f}%">' for w in grid.widths]
    out.append("</colgroup>")
    head = grid.header_rows
    for r in range(grid.rows):
        if r == 0:
            out.append("<thead>" if head else "<tbody>")
        elif r == head:
            out += ["</thead>", "<tbody>"]
        out.append("<tr>")
        out += [_html_cell(c) for c in grid.row(r)]
        out.append("</tr>")
    out += ["</tbody>", "</table>"]
    return out


def _html_cell(c: GridCell) -> str:
    tag = "th" if c.role in ("caption", "corner", "header") else "td"
    spans = (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "") + (f' colspan="{c.colspan}"' if c.colspan > 1 else "")
    style = f"{_CELL};text-align:{cell_align(c)}"
    if c.role == "corner":
        style += ";font-weight:normal"
    return f'<{tag}{spans} style="{style}">{html.escape(c.text)}</{tag}>'


# ---------------------------------------------------------------- markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")
_MD_LIST = re.compile(r"^(\s*)([-+]|\d+\.)(\s)")


def md_text(text: str) -> str:
    """Text as literal markdown: markdown punctuation escaped, HTML made inert."""
    text = _MD_SPECIAL.sub(r"\\\1", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_LIST.sub(
        lambda m: m.group(1) + m.group(2).replace(".", "\\.").replace("-", "\\-").replace("+", "\\+") + m.group(3), text
    )


def to_markdown(doc: Document) -> str:
    out = [md_text(doc.stamp), ""] if doc.stamp else []
    out += [f"# {md_text(doc.title)}", ""]
    out += [line for p in doc.preamble for line in (md_text(p.text), "")]
    for chapter in doc.chapters:
        out += [f"## {md_text(chapter.heading)}", ""]
        for item in chapter.content:
            if isinstance(item, Heading):
                out += [f"### {md_text(item.text)}", ""]
            elif isinstance(item, Paragraph):
                out += [md_text(item.text), ""]
            else:
                for flat in item.flat:
                    out += _md_table(flat)
    out += [line for p in doc.closing for line in (md_text(p.text), "")]
    return "\n".join(out).rstrip("\n") + "\n"


def _md_table(flat: Flat) -> list[str]:
    out = [f"**{md_text(flat.caption)}**", ""] if flat.caption else []
    labelled = flat.corner is not None
    header = ([md_text(flat.corner or "")] if labelled else []) + [md_text(c) for c in flat.columns]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + ("---|" if labelled else "") + "---:|" * len(flat.columns))
    for label, values in flat.rows:
        out.append("| " + " | ".join(([md_text(label)] if labelled else []) + list(values)) + " |")
    out.append("")
    return out
