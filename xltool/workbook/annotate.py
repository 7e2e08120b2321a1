"""The only module that imports openpyxl: the ``--annotate`` copy, the drafted copy (``xltool draft``),
and openpyxl's formula translator.

openpyxl takes ~70 ms to import and the check path does not need it, so it is imported inside the
functions (start-up time); the reader asks :func:`translate` only when a workbook holds an Excel
shared formula.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from xltool.errors import InputFileError
from xltool.form.layout import SEVERITY_LABEL, Cell
from xltool.submission import PROPERTY_PREFIX, Finding
from xltool.workbook.atomic import atomic_path
from xltool.workbook.files import CORRUPT

ANNOTATION_SHEET = "核查结果"
_FILLS = {"error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7"}


def annotate(src: Path, findings: list[Finding], out: Path) -> None:
    """Write a copy of ``src`` with every finding's cell highlighted and commented, plus a 核查结果 sheet."""
    # openpyxl takes ~70 ms to import; only an --annotate copy needs it
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = _load(src)
    notes: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.sheet and f.cell and f.sheet in wb.sheetnames:
            notes.setdefault((f.sheet, f.cell), []).append(f)
    for (sheet, address), items in notes.items():
        cell = wb[sheet][address]
        worst = min(items, key=lambda f: ("error", "warning", "info").index(f.severity))
        cell.fill = PatternFill("solid", fgColor=_FILLS[worst.severity])
        text = "\n".join(f"{SEVERITY_LABEL[f.severity]} {f.rule}：{f.message}" for f in items)
        cell.comment = Comment(text, "xltool", width=360, height=120)
    if ANNOTATION_SHEET in wb.sheetnames:
        del wb[ANNOTATION_SHEET]
    ws = wb.create_sheet(ANNOTATION_SHEET, 0)
    ws.append(["严重程度", "规则", "工作表", "单元格", "说明"])
    for f in findings:
        ws.append([SEVERITY_LABEL[f.severity], f.rule, f.sheet or "", f.cell or "", f.message])
        if f.sheet and f.cell and f.sheet in wb.sheetnames:
            link = ws.cell(ws.max_row, 4)
            link.hyperlink = f"#'{f.sheet}'!{f.cell}"
            link.font = Font(color="0563C1", underline="single")
    if not findings:
        ws.append(["", "", "", "", "未发现问题。"])
    for col, width in zip("ABCDE", (10, 14, 34, 8, 90), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2):
        row[4].alignment = Alignment(wrap_text=True, vertical="top")
    for cell in ws[1]:
        cell.font = Font(bold=True)
    wb.active = 0
    with atomic_path(out) as tmp:
        wb.save(tmp)


def _load(src: Path) -> Any:
    # openpyxl takes ~70 ms to import; only an --annotate or a drafted copy needs it
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return openpyxl.load_workbook(src)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ParseError, ValueError, OSError) as exc:
        raise InputFileError(str(src), CORRUPT) from exc


def write_texts(
    src: Path,
    out: Path,
    texts: dict[tuple[str, str], str],
    *,
    fill: str,
    properties: dict[str, str],
    notes: tuple[str, tuple[Cell, ...], dict[int, float]] | None = None,
) -> None:
    """Write a copy of ``src`` with ``texts`` in their cells ((sheet, address) -> text) filled with
    ``fill``, custom ``properties`` set (``xltool.`` + name), and ``notes`` (sheet, its cells, row
    heights) written from their first row down, over whatever stood there. Nothing else changes
    (openpyxl keeps protection, validation, merged cells and formulas; spreadsheet programs
    recalculate the totals on opening)."""
    # openpyxl takes ~70 ms to import; only a drafted copy needs it
    from openpyxl.packaging.custom import StringProperty
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    wb = _load(src)
    colour = PatternFill("solid", fgColor=fill.lstrip("#"))
    for (sheet, address), text in texts.items():
        cell = wb[sheet][address]
        cell.value = text
        cell.fill = colour
    names = {PROPERTY_PREFIX + name for name in properties}
    wb.custom_doc_props.props = [p for p in wb.custom_doc_props.props if p.name not in names]
    for name, value in properties.items():
        wb.custom_doc_props.append(StringProperty(name=PROPERTY_PREFIX + name, value=value))
    if notes is not None and notes[0] in wb.sheetnames and notes[1]:
        ws, cells, heights = wb[notes[0]], notes[1], notes[2]
        first = min(c.row for c in cells)
        for row in range(first + 1, max(ws.max_row, first) + 1):  # an earlier draft's notes
            ws.cell(row, 1).value = None
        thin = Side(style="thin")
        for c in cells:
            target = ws.cell(c.row + 1, c.col + 1, c.text)
            target.alignment = Alignment(wrap_text=True, vertical="center", horizontal="left")
            target.font = Font(name="宋体", size=10 if c.role == "note" else 11, bold=c.role == "caption",
                               color="595959" if c.role == "note" else None)  # fmt: skip
            if c.role == "legend":
                target.fill = PatternFill("solid", fgColor=fill.lstrip("#"))
                target.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        for row, height in heights.items():
            if row >= first:
                ws.row_dimensions[row + 1].height = height
    with atomic_path(out) as tmp:
        wb.save(tmp)


def translate(formula: str, origin: str, address: str) -> str:
    """A shared formula as it reads in another cell (relative references move).

    A formula openpyxl cannot tokenize (unbalanced quotes or brackets) is kept as written: it is
    not the template's formula anyway, and the total check reports it.
    """
    # openpyxl takes ~70 ms to import; only a workbook with an Excel shared formula needs it
    from openpyxl.formula.tokenizer import TokenizerError
    from openpyxl.formula.translate import Translator

    try:
        return Translator(formula, origin).translate_formula(address)
    except (TokenizerError, IndexError, ValueError):
        return formula
