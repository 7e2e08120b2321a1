"""Write a workbook (blank template, pre-filled template or merged summary) with xlsxwriter.

The only module that imports xlsxwriter. Where things go comes from :mod:`xltool.form.layout`.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from xltool import __version__
from xltool.form.layout import DRAFT_FILL, FAIL, PASS, Cell, Layout, Sheet, for_spec, lines_needed, with_lines
from xltool.form.spec import FormSpec
from xltool.submission import PROPERTY_PREFIX, Value, blank_values, check_result, computed
from xltool.workbook.atomic import atomic_path
from xltool.workbook.filling import Formula, Skeleton

INPUT_FILL = "#FFF2CC"
LOCKED_INPUT_FILL = "#DDEBF7"
TOTAL_FILL = "#E7E6E6"
FONT = "宋体"
FIXED_TIME = dt.datetime(2021, 9, 26)  # the form's date: keeps output byte-identical
PAPER = {"A4": 9, "A3": 8}  # xlsxwriter's paper codes
Finish = Callable[[Any], None]  # gets the xlsxwriter Workbook after the sheets (merge: the 图表 sheet)


@dataclass(frozen=True)
class ExtraSheet:
    """A plain table sheet appended after the form (merge: 单位明细, 汇总说明, 各单位文字)."""

    name: str
    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    widths: tuple[float, ...] = ()
    span: int = 1  # the second cell of a two-cell row (and of the header) spreads over this many columns
    paper: str = "A4"
    repeat_first_column: bool = False  # printed on every page, like the header row
    number_formats: tuple[str, ...] = ()  # by column, for numbers ("" or none: as they are)
    filters: bool = False  # a filter button on every header cell
    groups: tuple[int, ...] = ()  # body rows (0 = the first after the header) that open a group printed on one page
    header_height: int = 1  # lines of the header row (long headers wrap)


def write(
    path: Path,
    spec: FormSpec,
    values: dict[str, Value] | None = None,
    *,
    locked: Iterable[str] = (),
    properties: dict[str, str] | None = None,
    extra_sheets: Sequence[ExtraSheet] = (),
    finish: Finish | None = None,
    constants: dict[str, Value] | None = None,
    drafted: Iterable[str] = (),
    notes: Sequence[tuple[str, str]] = (),
) -> None:
    """Write the form's workbook to ``path`` atomically (temporary file, then rename).

    ``values`` override the blank template's values by key; ``locked`` input keys are written
    locked (pre-filled from last year or a roster). ``finish`` may add sheets of its own (charts)
    by calling the methods of the xlsxwriter Workbook it is given. ``constants`` are written over
    total cells in place of their formulas (None leaves the cell blank): an imported report's totals
    as printed. ``drafted`` text cells are filled as drafts; ``notes`` (role, text) are added to
    填报说明 (:func:`xltool.form.layout.with_lines`).
    """
    layout = for_spec(spec)
    merged = blank_values(spec)
    merged.update(values or {})
    marks = _Marks(frozenset(locked), frozenset(drafted), tuple(notes))
    with atomic_path(Path(path)) as tmp:
        data = None if extra_sheets or finish else _filled(layout, merged, marks, properties or {}, constants or {})
        if data is not None:
            tmp.write_bytes(data)
        else:
            _write(tmp, layout, merged, marks, properties or {}, extra_sheets, finish, constants or {})


def contents(
    spec: FormSpec, values: dict[str, Value] | None = None, constants: dict[str, Value] | None = None
) -> list[tuple[Sheet, list[Any]]]:
    """What :func:`write` puts in the layout's cells, sheet by sheet, the cells in their order: a value
    (None or "" blank, int or float, text) or a :class:`~xltool.workbook.filling.Formula` with the
    value it shows until recalculated. ``values`` override the blank template's, as in :func:`write`."""
    layout = for_spec(spec)
    merged = blank_values(spec)
    merged.update(values or {})
    numbers = computed(spec, merged)
    return [(sheet, _contents(sheet, layout, merged, numbers, constants or {})) for sheet in layout.sheets]


@dataclass(frozen=True)
class _Marks:
    locked: frozenset[str]
    drafted: frozenset[str]
    notes: tuple[tuple[str, str], ...]


def template_properties(spec: FormSpec, values: dict[str, Value]) -> dict[str, str]:
    year = values.get("unit.report_year")
    return {
        "template_id": spec.template_id,
        "form_version": spec.form_version,
        "version": __version__,
        "report_year": "" if year is None else str(year),
        "unit": str(values.get("unit.unit_name") or ""),
    }


def _write(
    path: Path,
    layout: Layout,
    values: dict[str, Value],
    marks: _Marks,
    extra: dict[str, str],
    extra_sheets: Sequence[ExtraSheet],
    finish: Finish | None,
    constants: dict[str, Value],
) -> None:
    spec = layout.spec
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    wb.set_properties({"title": spec.title, "author": "xltool", "created": FIXED_TIME, "comments": spec.basis})
    props = template_properties(spec, values) | extra
    for name, value in props.items():
        _ok(wb.set_custom_property(PROPERTY_PREFIX + name, value, "text"))
    fmt = _Formats(wb)
    numbers = computed(spec, values)
    for sheet in _sheets(layout, marks):
        ws = wb.add_worksheet(sheet.name)
        _sheet(ws, sheet, layout, values, numbers, marks, fmt, constants)
    for extra_sheet in extra_sheets:
        _extra(wb.add_worksheet(extra_sheet.name), extra_sheet, fmt)
    if finish is not None:
        finish(wb)
    wb.worksheets()[1].activate()
    wb.close()


def _sheets(layout: Layout, marks: _Marks) -> tuple[Sheet, ...]:
    """The form's sheets as written: 填报说明 with the notes, if any."""
    return tuple(with_lines(s, marks.notes) if s.kind == "instructions" and marks.notes else s for s in layout.sheets)


# ---------------------------------------------------------------- a form written once, then filled

SKELETONS = 16  # forms x marks x property names kept (a batch uses one or two)
_skeletons: dict[tuple[int, _Marks, tuple[str, ...]], tuple[FormSpec, Skeleton | None]] = {}


def _filled(
    layout: Layout, values: dict[str, Value], marks: _Marks, extra: dict[str, str], constants: dict[str, Value]
) -> bytes | None:
    """The workbook :func:`_write` would write, filled into the form's :class:`Skeleton` (its bytes
    are xlsxwriter's); None when it cannot be filled exactly (xlsxwriter writes it then)."""
    props = template_properties(layout.spec, values) | extra
    skeleton = _skeleton(layout, marks, tuple(props))
    if skeleton is None:
        return None
    numbers = computed(layout.spec, values)
    contents = [_contents(sheet, layout, values, numbers, constants) for sheet in _sheets(layout, marks)]
    return skeleton.fill(contents, list(props.values()))


def _skeleton(layout: Layout, marks: _Marks, names: tuple[str, ...]) -> Skeleton | None:
    """The form's workbook with these marks and property names, written once by xlsxwriter and cut."""
    key = (id(layout.spec), marks, names)
    hit = _skeletons.get(key)
    if hit is None or hit[0] is not layout.spec:
        if len(_skeletons) >= SKELETONS:
            _skeletons.clear()
        with tempfile.TemporaryDirectory(prefix="xltool-") as folder:
            path = Path(folder) / "form.xlsx"
            blank = blank_values(layout.spec)
            _write(path, layout, blank, marks, dict.fromkeys(names, ""), (), None, {})
            cells = [[c.address for c in sheet.cells] for sheet in _sheets(layout, marks)]
            hit = _skeletons[key] = (layout.spec, Skeleton.cut(path.read_bytes(), cells))
    return hit[1]


def _ok(code: int | None) -> None:
    if code not in (None, 0):
        raise RuntimeError(f"xlsxwriter rejected an option (code {code})")


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.wb = wb
        self.cache: dict[tuple[tuple[str, Any], ...], Format] = {}

    def get(self, **props: Any) -> Format:
        key = tuple(sorted(props.items()))
        if key not in self.cache:
            base = {"font_name": FONT, "font_size": 11, "valign": "vcenter", "text_wrap": True}
            self.cache[key] = self.wb.add_format(base | props)
        return self.cache[key]

    def for_cell(self, sheet: Sheet, cell: Cell, locked: bool, drafted: bool = False) -> Format:
        boxed = sheet.kind in ("table", "unit", "checks") or (
            sheet.kind == "narrative" and cell.role != "title" and cell.role != "note"
        )
        border = {"border": 1} if boxed else {}
        if cell.role == "title":
            return self.get(bold=True, font_size=16, align="center", font_name="黑体")
        if cell.role == "note":
            return self.get(font_size=10, font_color="#595959", align="left")
        if cell.role == "legend":
            fill = {"input": INPUT_FILL, "total": TOTAL_FILL, "draft": DRAFT_FILL}.get(cell.style, "#FFFFFF")
            return self.get(bg_color=fill, border=1)
        if cell.role == "caption":
            return self.get(bold=True, align="left", **border)
        if cell.role in ("header", "corner"):
            return self.get(
                bold=cell.role == "header", align="center", font_size=10 if cell.role == "corner" else 11, **border
            )
        if cell.role == "label":
            return self.get(align="left", font_size=10 if sheet.kind == "table" else 11, **border)
        if cell.role == "total":
            return self.get(bg_color=TOTAL_FILL, bold=True, align="center", num_format="0", border=1)
        if cell.role == "check":
            return self.get(align="center", bold=True, border=1)
        # inputs
        fill = DRAFT_FILL if drafted else LOCKED_INPUT_FILL if locked else INPUT_FILL
        if cell.vtype == "text" and cell.merged:
            return self.get(bg_color=fill, locked=locked, align="left", valign="top", border=1)
        number_format = {"count": "0", "signed_count": "0", "year": "0"}.get(cell.vtype or "", "General")
        align = "center" if sheet.kind == "table" else "left"
        return self.get(bg_color=fill, locked=locked, align=align, num_format=number_format, border=1)


def _sheet(
    ws: Worksheet,
    sheet: Sheet,
    layout: Layout,
    values: dict[str, Value],
    numbers: dict[str, Any],
    marks: _Marks,
    fmt: _Formats,
    constants: dict[str, Value],
) -> None:
    for col, width in enumerate(sheet.widths):
        ws.set_column(col, col, width)
    for row, height in sheet.heights:
        ws.set_row(row, height)
    for cell, content in zip(sheet.cells, _contents(sheet, layout, values, numbers, constants), strict=True):
        is_locked = cell.key in marks.locked
        _put(ws, cell, fmt.for_cell(sheet, cell, is_locked, cell.key in marks.drafted), content)
        if cell.role == "input" and not is_locked:
            _validate(ws, cell, layout.spec)
    if sheet.kind == "checks":
        rows = [c.row for c in sheet.cells if c.role == "check"]
        if rows:
            for text, color, font in ((FAIL, "#FFC7CE", "#9C0006"), (PASS, "#C6EFCE", "#006100")):
                _ok(
                    ws.conditional_format(
                        min(rows),
                        2,
                        max(rows),
                        2,
                        {
                            "type": "cell",
                            "criteria": "==",
                            "value": f'"{text}"',
                            "format": fmt.wb.add_format({"bg_color": color, "font_color": font}),
                        },
                    )
                )
    ws.protect(
        "", {"format_rows": True, "format_columns": True, "select_locked_cells": True, "select_unlocked_cells": True}
    )
    ws.set_paper(9)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    if sheet.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)
    if sheet.repeat_rows:
        ws.repeat_rows(*sheet.repeat_rows)
    ws.set_footer("&C第 &P 页，共 &N 页")


def _plain(v: Any) -> Any:
    return float(v) if isinstance(v, Decimal) else v


def _contents(
    sheet: Sheet, layout: Layout, values: dict[str, Value], numbers: dict[str, Any], constants: dict[str, Value]
) -> list[Any]:
    """What each cell of ``sheet`` holds, in the order of its cells: a value as written (None or ""
    blank, int or float, text) or a :class:`Formula` with the value it shows until recalculated."""
    checks = {f"check.{i}": c for i, c in enumerate(layout.checks)}
    out: list[Any] = []
    for cell in sheet.cells:
        if cell.role == "total" and cell.key in constants:
            out.append(_plain(constants[cell.key]))
        elif cell.role == "total":
            assert cell.key is not None
            out.append(Formula(cell.text, _plain(numbers[cell.key])))
        elif cell.role == "check":
            assert cell.key is not None
            out.append(Formula(cell.text, check_result(checks[cell.key], numbers, values)))
        elif cell.role == "input":
            assert cell.key is not None
            out.append(_plain(values.get(cell.key)))
        else:
            out.append(cell.text)
    return out


def _put(ws: Worksheet, cell: Cell, f: Format, content: Any) -> None:
    if cell.merged:
        _ok(ws.merge_range(cell.row, cell.col, cell.last_row, cell.last_col, "", f))
    if isinstance(content, Formula):
        _ok(ws.write_formula(cell.row, cell.col, content.text, f, content.cached))
    elif content is None or content == "":
        _ok(ws.write_blank(cell.row, cell.col, None, f))
    elif isinstance(content, int | float):
        _ok(ws.write_number(cell.row, cell.col, content, f))
    else:
        _ok(ws.write_string(cell.row, cell.col, str(content), f))


def _validate(ws: Worksheet, cell: Cell, spec: FormSpec) -> None:
    title = "填写提示"
    rule: dict[str, Any]
    if cell.vtype == "count":
        rule = {
            "validate": "integer",
            "criteria": ">=",
            "value": 0,
            "error_message": "这里只能填 0 或正整数（件数），不能填文字、小数或负数。无数据请填 0。",
        }
    elif cell.vtype == "signed_count":
        rule = {
            "validate": "integer",
            "criteria": "between",
            "minimum": -(10**9),
            "maximum": 10**9,
            "error_message": "这里只能填整数。",
        }
    elif cell.vtype in ("wan_yuan", "yuan", "money"):
        unit = {"wan_yuan": "（单位：万元）", "yuan": "（单位：元）"}.get(cell.vtype, "（单位在右侧选择）")
        rule = {
            "validate": "decimal",
            "criteria": ">=",
            "value": 0,
            "error_message": f"这里只能填 0 或正数{unit}，不要带单位或文字。",
        }
    elif cell.vtype == "year":
        top = spec.max_year or 2099
        rule = {
            "validate": "integer",
            "criteria": "between",
            "minimum": spec.min_year,
            "maximum": top,
            "error_message": f"报告年度为四位数字，本表式适用于 {spec.years}。",
        }
    elif cell.vtype == "choice":
        rule = {"validate": "list", "source": list(cell.choices), "error_message": "请从下拉列表中选择。"}
    else:
        rule = {"validate": "any"}
    if rule["validate"] != "any":
        rule |= {"error_title": "输入有误", "error_type": "stop", "ignore_blank": True}
    if cell.prompt:
        rule |= {"input_title": title, "input_message": cell.prompt}
    if rule["validate"] == "any" and not cell.prompt:
        return
    last_row = cell.last_row if cell.last_row is not None else cell.row
    last_col = cell.last_col if cell.last_col is not None else cell.col
    _ok(ws.data_validation(cell.row, cell.col, last_row, last_col, rule))


def _extra(ws: Worksheet, sheet: ExtraSheet, fmt: _Formats) -> None:
    head = fmt.get(bold=True, align="center", border=1, bg_color=TOTAL_FILL)
    body = fmt.get(border=1, align="left")
    number = fmt.get(border=1, align="right")
    for col, width in enumerate(sheet.widths):
        ws.set_column(col, col, width)
    widths = _spanned(sheet)
    heights: list[float] = []
    for r, row in enumerate((sheet.header, *sheet.rows)):
        for c, value in enumerate(row):
            f = head if r == 0 else body
            if r and isinstance(value, int | Decimal) and not isinstance(value, bool):
                shape = sheet.number_formats[c] if c < len(sheet.number_formats) else ""
                f = fmt.get(border=1, align="right", num_format=shape) if shape else number
            spans = sheet.span > 1 and len(row) == 2 and c == 1
            cell = Cell(r, c, "label", last_row=r if spans else None, last_col=c + sheet.span - 1 if spans else None)
            _put(ws, cell, f, _plain(value))
        heights.append(
            _fit_row(ws, r, row, widths if len(row) == 2 else sheet.widths, sheet.header_height if r == 0 else 1)
        )
    ws.freeze_panes(1, 1 if sheet.repeat_first_column else 0)
    if sheet.filters and sheet.header:
        _ok(ws.autofilter(0, 0, len(sheet.rows), len(sheet.header) - 1))
    if sheet.groups:
        ws.set_h_pagebreaks(_group_breaks(sheet, heights))
    ws.set_paper(PAPER[sheet.paper])
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0, 0)
    if sheet.repeat_first_column:
        ws.repeat_columns(0, 0)
    ws.set_footer("&C第 &P 页，共 &N 页")


def _spanned(sheet: ExtraSheet) -> tuple[float, ...]:
    """Column widths as a two-cell row sees them: the second cell spans ``sheet.span`` columns."""
    if sheet.span <= 1 or len(sheet.widths) < 2:
        return sheet.widths
    return (sheet.widths[0], sum(sheet.widths[1 : 1 + sheet.span]))


def write_table(path: Path, sheet: ExtraSheet) -> None:
    """A workbook holding one plain table (the summary of a batch, e.g. 导入结果.xlsx), atomically."""
    write_tables(path, (sheet,))


def write_tables(path: Path, sheets: Sequence[ExtraSheet], finish: Finish | None = None) -> None:
    """A workbook of plain tables (review's 评查结果.xlsx), then what ``finish`` adds (charts), atomically."""
    with atomic_path(Path(path)) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False})
        wb.set_properties({"author": "xltool", "created": FIXED_TIME})
        fmt = _Formats(wb)
        for sheet in sheets:
            _extra(wb.add_worksheet(sheet.name), sheet, fmt)
        if finish is not None:
            finish(wb)
        wb.close()


LINE_POINTS = 14.0  # a wrapped line of the house font


def _fit_row(ws: Worksheet, row: int, values: Sequence[Any], widths: Sequence[float], least: int = 1) -> float:
    """Rows of wrapped text get the height they need: spreadsheet programs do not grow them on opening."""
    lines = max(
        (lines_needed(str(v), widths[c]) for c, v in enumerate(values) if isinstance(v, str) and c < len(widths)),
        default=1,
    )
    height = max(lines, least) * LINE_POINTS + 4
    _ok(ws.set_row(row, height))
    return height


# printable height and width of a landscape page in points (margins 0.75 in top and bottom, 0.7 in aside)
_PAGE = {"A4": (595.0 - 108.0, 842.0 - 101.0), "A3": (842.0 - 108.0, 1191.0 - 101.0)}


def _group_breaks(sheet: ExtraSheet, heights: list[float]) -> list[int]:
    """Page breaks that never cut a group of rows (one unit's rows) when the group fits on a page.

    The page holds its printable height divided by the fit-to-width scale (LibreOffice scales a narrow
    table up to the width too; Excel does not, and then fits more rows than counted: a break comes early,
    never inside a group), less the header row that is repeated on every page; a column's width in
    characters is about 5.25 points plus padding.
    """
    tall, wide = _PAGE[sheet.paper]
    width = sum(w * 5.25 + 3.75 for w in sheet.widths) or wide
    room = tall * width / wide - heights[0]
    starts = sorted({g + 1 for g in sheet.groups if 0 <= g < len(sheet.rows)} | {len(heights)})
    breaks: list[int] = []
    used = 0.0
    first = 1
    for start, end in zip([first, *starts], starts, strict=False):
        size = sum(heights[start:end])
        if used and used + size > room and size <= room:
            breaks.append(start)
            used = 0.0
        used = (used + size) % room if size > room else used + size
    return breaks
