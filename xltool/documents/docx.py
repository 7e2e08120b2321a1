"""The .docx writer of the document: the only module that imports python-docx.

Page and type follow the customary 公文 look (GB/T 9704): A4, body 仿宋 三号 at a fixed 28 pt line,
section headings 黑体, part headings 楷体, title 宋体 bold. Fonts are ones every Windows and WPS
installation has. Tables use Word's "Table Grid" with the form's merged cells; wide tables stand on
landscape pages with their header rows repeated.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section as DocxSection
from docx.shared import Length, Mm, Pt, RGBColor
from docx.styles.style import BaseStyle
from docx.table import Table as DocxTable
from docx.table import _Cell

from xltool.documents.model import Document, Grid, GridCell, Heading, Paragraph, cell_align

BODY_FONT, HEADING_FONT, PART_FONT, TITLE_FONT, LATIN_FONT = "仿宋", "黑体", "楷体", "宋体", "Times New Roman"
BODY_SIZE, TITLE_SIZE, LINE = Pt(16), Pt(22), Pt(28)  # 三号, 二号, fixed line pitch
INDENT = Pt(32)  # two characters of 三号
TABLE_SIZE, WIDE_TABLE_SIZE = Pt(10.5), Pt(9)  # 五号, 小五 (tables wider than 6 columns, kept unpadded)
# (top, bottom, left, right): GB/T 9704 margins for portrait; landscape pages trade them for width
PORTRAIT_MARGINS = (Mm(37), Mm(35), Mm(28), Mm(26))
LANDSCAPE_MARGINS = (Mm(25), Mm(22), Mm(22), Mm(22))
A4 = (Mm(210), Mm(297))

TITLE_STYLE, TABLE_STYLE = "Report Title", "Table Text"


def write(doc: Document, path: Path) -> None:
    d = docx.Document()
    d.core_properties.title = doc.title
    d.core_properties.author = "xltool"
    _styles(d)
    _page(d.sections[0], landscape=False)
    _page_numbers(d.sections[0])
    if doc.stamp:
        _stamp(d.sections[0], doc.stamp)
    _title(d, doc)
    for p in doc.preamble:
        _paragraph(d, p)
    landscape = False
    for chapter in doc.chapters:
        if chapter.landscape != landscape:
            landscape = chapter.landscape
            _page(d.add_section(WD_SECTION.NEW_PAGE), landscape=landscape)
        d.add_paragraph(chapter.heading, style="Heading 1")
        for item in chapter.content:
            if isinstance(item, Heading):
                d.add_paragraph(item.text, style="Heading 2")
            elif isinstance(item, Paragraph):
                _paragraph(d, item)
            else:
                _table(d, item.grid, _text_width(d.sections[-1]))
    for p in doc.closing:
        _paragraph(d, p)
    d.save(str(path))


# ---------------------------------------------------------------- styles and pages


def _styles(d: DocxDocument) -> None:
    normal = d.styles["Normal"]
    _font(normal, BODY_FONT, BODY_SIZE)
    pf = normal.paragraph_format  # type: ignore[attr-defined]
    pf.space_before = pf.space_after = Pt(0)
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = LINE
    pf.first_line_indent = INDENT
    pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    pf.widow_control = True
    for name, font in (("Heading 1", HEADING_FONT), ("Heading 2", PART_FONT)):
        style = d.styles[name]
        _font(style, font, BODY_SIZE, bold=False)
        style.paragraph_format.space_before = style.paragraph_format.space_after = Pt(0)  # type: ignore[attr-defined]
        style.paragraph_format.keep_with_next = True  # type: ignore[attr-defined]
    title = d.styles.add_style(TITLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    title.base_style = normal  # type: ignore[attr-defined]
    _font(title, TITLE_FONT, TITLE_SIZE, bold=True)
    tf = title.paragraph_format  # type: ignore[attr-defined]
    tf.alignment = WD_ALIGN_PARAGRAPH.CENTER
    tf.first_line_indent = Pt(0)
    tf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    tf.space_after = LINE
    cell = d.styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    cell.base_style = normal  # type: ignore[attr-defined]
    _font(cell, BODY_FONT, TABLE_SIZE)
    cf = cell.paragraph_format
    cf.first_line_indent = Pt(0)
    cf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    cf.alignment = WD_ALIGN_PARAGRAPH.CENTER
    cf.widow_control = False


def _font(style: BaseStyle, east_asia: str, size: Length, *, bold: bool | None = None) -> None:
    """Set a style's fonts: Latin and East Asian explicitly, with the theme fonts taken off."""
    font = style.font  # type: ignore[attr-defined]
    font.name = LATIN_FONT
    font.size = size
    font.bold = bold
    font.italic = False
    font.color.rgb = RGBColor(0, 0, 0)
    rfonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:hint"), "eastAsia")  # quotes “” and ： in the East Asian font
    lang = style.element.get_or_add_rPr().find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        style.element.get_or_add_rPr().append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _page(section: DocxSection, *, landscape: bool) -> None:
    width, height = A4
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (height, width) if landscape else (width, height)
    margins = LANDSCAPE_MARGINS if landscape else PORTRAIT_MARGINS
    section.top_margin, section.bottom_margin, section.left_margin, section.right_margin = margins


def _page_numbers(section: DocxSection) -> None:
    """A centred “— n —” footer; later sections inherit it."""
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Pt(0)
    p.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    p._p.append(field)
    p.add_run(" —")


def _stamp(section: DocxSection, text: str) -> None:
    """〔草稿〕 at the top left of every page (later sections inherit the header), in 黑体 like a 公文's
    marks above its title."""
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    p.paragraph_format.first_line_indent = Pt(0)
    run = p.add_run(text)
    run.font.size = BODY_SIZE
    run.font.name = LATIN_FONT
    run.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), HEADING_FONT)


def _text_width(section: DocxSection) -> int:
    return int(section.page_width or 0) - int(section.left_margin or 0) - int(section.right_margin or 0)


def _title(d: DocxDocument, doc: Document) -> None:
    """The title on one line if it fits, else broken after the unit name (as printed reports do)."""
    para = d.add_paragraph(style=TITLE_STYLE)
    ems = sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.5 for ch in doc.title)
    lines = (doc.title,) if ems * TITLE_SIZE <= _text_width(d.sections[0]) else doc.title_lines
    for i, line in enumerate(lines):
        run = para.add_run(line)
        if i < len(lines) - 1:
            run.add_break()


def _paragraph(d: DocxDocument, p: Paragraph) -> None:
    para = d.add_paragraph(p.text)
    if p.align == "right":
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        para.paragraph_format.first_line_indent = Pt(0)


# ---------------------------------------------------------------- tables


def _table(d: DocxDocument, grid: Grid, width: int) -> DocxTable:
    table = d.add_table(rows=grid.rows, cols=grid.cols)
    table.style = d.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    total = sum(grid.widths)
    for column, w in zip(table.columns, grid.widths, strict=True):
        column.width = int(width * w / total)
        for cell in column.cells:
            cell.width = column.width
    for r, row in enumerate(table.rows):
        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:cantSplit"))
        if r < grid.header_rows:
            tr_pr.append(OxmlElement("w:tblHeader"))
    wide = grid.cols > 6
    size, pad = (WIDE_TABLE_SIZE, Pt(0)) if wide else (TABLE_SIZE, Pt(3))
    style_id = d.styles[TABLE_STYLE].style_id
    # python-docx's table.cell() lays out the whole table again on every call (quadratic in its
    # cells: 2 s for a summary's three tables): take every cell once, before any merge. Merged
    # spans never overlap, so each span's corner cells, and every unmerged cell, stay valid.
    cells = table._cells
    for c in grid.cells:
        cell = cells[c.row * grid.cols + c.col]
        if c.rowspan > 1 or c.colspan > 1:
            cell = cell.merge(cells[(c.row + c.rowspan - 1) * grid.cols + c.col + c.colspan - 1])
        # keep the table on one page where it fits: every row but the last keeps with the next
        _cell_text(cell, c, style_id, size, pad, keep_with_next=c.row + c.rowspan < grid.rows)
    return table


def _cell_text(cell: _Cell, c: GridCell, style_id: str, size: Length, pad: Length, *, keep_with_next: bool) -> None:
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    para = cell.paragraphs[0]
    para._p.style = style_id  # the style's id, looked up once: Paragraph.style looks it up by name each time
    if pad:
        para.paragraph_format.space_before = para.paragraph_format.space_after = pad
    para.paragraph_format.keep_with_next = keep_with_next or None
    if cell_align(c) == "left":
        para.alignment = WD_ALIGN_PARAGRAPH.LEFT
    run = para.add_run(c.text)
    run.font.size = size
    if c.role in ("caption", "header"):
        run.bold = True
