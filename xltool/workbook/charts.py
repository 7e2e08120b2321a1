"""The 图表 sheet of a summary: native charts, each next to the small table it draws.

The summary's analytics decide what each :class:`Chart` shows; the template writer calls
:func:`write` with its xlsxwriter Workbook (this module only calls its methods, it does not
import xlsxwriter). Only options that Excel, WPS and LibreOffice all read are used:
embedded charts on a worksheet (no chartsheets), data in worksheet cells referenced by
``[sheet, row, col, …]`` lists (xlsxwriter quotes the Chinese sheet name and caches the values),
explicit CJK fonts for titles, axes, labels and legend (WPS and LibreOffice do not substitute
one for a Latin default), plain styles and no 3-D, gradients or data tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xltool.submission import Number

FONT, TITLE_FONT = "宋体", "黑体"
WIDTH, HEIGHT, BAR_HEIGHT = 720, 360, 26  # pixels; a bar chart grows with its categories
ROW_PIXELS = 20
DATA_COLUMNS = (34.0, 12.0, 12.0)  # the data table: categories, then one column per series
CHART_COLUMN = 4  # charts start at column E, right of the tables
PAGE_ROWS = 50  # rows of a landscape A4 page at the scale that fits tables and charts to its width


@dataclass(frozen=True)
class Chart:
    """One chart and the small table it draws: categories down, one column per series."""

    title: str
    kind: str  # "column", "bar" or "pie"
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[Number, ...]], ...]
    axis: str = "件"


def write(wb: Any, name: str, charts: Sequence[Chart]) -> None:
    """Add the sheet ``name`` holding ``charts`` (and their data) to the xlsxwriter workbook ``wb``."""
    ws = wb.add_worksheet(name)
    head = wb.add_format({"font_name": FONT, "bold": True, "border": 1, "bg_color": "#E7E6E6", "text_wrap": True})
    text = wb.add_format({"font_name": FONT, "border": 1})
    number = wb.add_format({"font_name": FONT, "border": 1, "num_format": "0"})
    title = wb.add_format({"font_name": TITLE_FONT, "bold": True, "font_size": 12})
    for col, width in enumerate(DATA_COLUMNS):
        ws.set_column(col, col, width)
    row, page, breaks = 0, 0, []
    for chart in charts:
        height = max(HEIGHT, BAR_HEIGHT * len(chart.categories) + 110) if chart.kind == "bar" else HEIGHT
        rows = max(len(chart.categories) + 3, math.ceil(height / ROW_PIXELS) + 2)
        if row > page and row + rows > page + PAGE_ROWS:  # a chart is never cut by a page break
            breaks.append(row)
            page = row
        ws.write_string(row, 0, chart.title, title)
        first = row + 1
        ws.write_string(first, 0, "", head)
        for s, (series, _values) in enumerate(chart.series, start=1):
            ws.write_string(first, s, series, head)
        for i, category in enumerate(chart.categories, start=first + 1):
            ws.write_string(i, 0, category, text)
            for s, (_series, values) in enumerate(chart.series, start=1):
                value = values[i - first - 1]
                ws.write_number(i, s, float(value) if isinstance(value, Decimal) else value, number)
        ws.insert_chart(row, CHART_COLUMN, _chart(wb, name, chart, first, height), {"x_offset": 8, "y_offset": 4})
        row += rows
    ws.set_h_pagebreaks(breaks)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_footer("&C第 &P 页，共 &N 页")


def _chart(wb: Any, sheet: str, chart: Chart, first: int, height: int) -> Any:
    out = wb.add_chart({"type": chart.kind})
    last = first + len(chart.categories)
    labels: dict[str, Any] = {"value": True, "font": _font(9)}
    if chart.kind == "pie":
        labels = {"percentage": True, "leader_lines": True, "font": _font(9)}
    for s in range(1, len(chart.series) + 1):
        options = {
            "name": [sheet, first, s],
            "categories": [sheet, first + 1, 0, last, 0],
            "values": [sheet, first + 1, s, last, s],
            "data_labels": labels,
        }
        out.add_series(options if chart.kind == "pie" else options | {"gap": 80})
    out.set_title({"name": chart.title, "name_font": {"name": TITLE_FONT, "size": 12, "bold": True}})
    out.set_legend(
        {"position": "right" if chart.kind == "pie" else "bottom", "font": _font(9)}
        if chart.kind == "pie" or len(chart.series) > 1
        else {"none": True}
    )
    if chart.kind != "pie":
        value_axis = {"num_font": _font(9), "num_format": "0", "major_gridlines": {"visible": True}, "min": 0}
        value_axis |= {"name": chart.axis, "name_font": _font(9, bold=False)}
        category_axis = {"num_font": _font(9)}
        x_axis, y_axis = (value_axis, category_axis) if chart.kind == "bar" else (category_axis, value_axis)
        out.set_x_axis(x_axis)
        out.set_y_axis(y_axis)
    out.set_size({"width": WIDTH, "height": height})
    return out


def _font(size: int, *, bold: bool = False) -> dict[str, Any]:
    return {"name": FONT, "size": size, "bold": bold}
