"""The review's workbook: 评查结果, 问题清单, 跨年核对, 单位汇总 and 图表, in the house style (frozen
header row with filters, landscape pages that fit the width and repeat the header, one unit's rows
never cut by a page break when they fit on a page). xlsxwriter stays in :mod:`xltool.workbook.template`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xltool.form import spec as specs
from xltool.form.layout import SEVERITY_LABEL, rowcol, text_width
from xltool.review import indicators
from xltool.review.core import Outcome, UnitSummary
from xltool.review.model import Problem, Row
from xltool.review.reports import by_rule, main_problems
from xltool.summary import analytics
from xltool.text import normalise
from xltool.workbook import charts, template
from xltool.workbook.charts import Chart

RESULTS, PROBLEMS, YEARS, UNITS, CHARTS = "评查结果", "问题清单", "跨年核对", "单位汇总", "图表"
TOP_RULES = 15
NESTED_LABEL = "／"  # a table cell's name in our form: 行／列
BANDS = ((0, 0), (1, 2), (3, 5), (6, 10), (11, None))
MISSING = "未见"  # a year without the unit's report in 单位汇总
UNKNOWN = "（未能识别）"  # the unit of a report whose title gave none


def write(o: Outcome, path: Path) -> None:
    drawn = chart_data(o)
    sheets = [results(o), problems(o), years(o), units(o)]
    template.write_tables(path, sheets, finish=lambda wb: charts.write(wb, CHARTS, drawn))


def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def _form(row: Row) -> str:
    return f"{row.form} 年表式" if row.form else ""


def _fit(rows: Sequence[Sequence[Any]], column: int, least: float, most: float) -> float:
    return min(most, max([least, *(text_width(str(r[column])) + 2.0 for r in rows)]))


def unit_of(r: Row) -> str:
    return r.unit or UNKNOWN


def ordered(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (normalise(r.unit) or "\uffff", r.year or 0, r.file))


# ---------------------------------------------------------------- 评查结果

RESULT_HEADER = (
    "单位名称",
    "报告年度",
    "表式",
    "来源",
    "来源文件",
    "发布日期",
    "日期依据",
    "公开期限",
    "是否按期",
    "读到的单元格",
    "表式的单元格",
    "错误",
    "提醒",
    "各规则的问题数",
    "跨年核对",
    "主要问题",
)


def result_cells(r: Row) -> tuple[Any, ...]:
    verdict = r.on_time + (f"（{r.on_time_note}）" if r.on_time_note else "")
    if r.on_time == "逾期" and r.published and r.due:
        verdict = f"逾期 {(r.published - r.due).days} 天"
    return (
        unit_of(r),
        r.year if r.year is not None else "",
        _form(r),
        r.kind,
        r.file,
        _iso(r.published),
        r.published_from,
        _iso(r.due),
        verdict if r.reviewed else "",
        r.cells_read if r.reviewed else "",
        r.cells_expected if r.reviewed else "",
        r.errors,
        r.warnings,
        by_rule(r),
        r.cross_year if r.reviewed else "",
        main_problems(r),
    )


def results(o: Outcome) -> template.ExtraSheet:
    rows = tuple(result_cells(r) for r in ordered(o.rows))
    widths: tuple[float, ...] = (_fit(rows, 0, 16, 30), 7.0, 11.0, 11.0, _fit(rows, 4, 16, 36), 11.0, 9.0, 11.0)
    widths += (16.0, 7.0, 7.0, 5.0, 5.0, 16.0, 24.0, 44.0)
    return template.ExtraSheet(
        RESULTS, RESULT_HEADER, rows, widths, paper="A3", repeat_first_column=True, filters=True, header_height=2
    )


# ---------------------------------------------------------------- 问题清单

PROBLEM_HEADER = (
    "单位名称",
    "报告年度",
    "规则",
    "级别",
    "问题",
    "表式中的位置",
    "原文中的位置",
    "原文",
    "说明",
    "来源文件",
)


BLANK = "C-BLANK"  # one line per table row in 问题清单 (a report that printed a row blank has a cell each)


def _rows_of(r: Row) -> list[tuple[Problem, str, str]]:
    """(problem, where, message) of one report, errors first; blank cells of one table row as one line."""
    order = {"error": 0, "warning": 1, "info": 2}
    out: list[tuple[Problem, str, str]] = []
    blanks: dict[tuple[str, int], list[Problem]] = {}
    for p in sorted(r.problems, key=lambda p: order[p.finding.severity]):
        f = p.finding
        if f.rule == BLANK and f.sheet and f.cell and p.what:
            line = blanks.setdefault((f.sheet, rowcol(f.cell)[0]), [])
            if not line:
                out.append((p, "", ""))  # stands for the whole row: filled in below
            line.append(p)
            continue
        out.append((p, f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or ""), f.message))
    for i, (p, where, message) in enumerate(out):
        if where or message:
            continue
        line = blanks[(p.finding.sheet or "", rowcol(p.finding.cell or "A1")[0])]
        if len(line) == 1:
            out[i] = (p, f"{p.finding.sheet}!{p.finding.cell}", p.finding.message)
            continue
        row_name = p.what.split(NESTED_LABEL)[0]
        columns = "、".join(q.what.split(NESTED_LABEL)[-1] for q in line)
        span = f"{p.finding.sheet}!{line[0].finding.cell}:{line[-1].finding.cell}"
        out[i] = (p, span, f"{row_name}：{columns}为空（{len(line)} 个单元格）。")
    return out


def problems(o: Outcome) -> template.ExtraSheet:
    body: list[tuple[Any, ...]] = []
    groups: list[int] = []
    last_unit = None
    for r in ordered(o.rows):
        for p, where, message in _rows_of(r):
            if r.unit != last_unit:
                groups.append(len(body))
                last_unit = r.unit
            f = p.finding
            source = p.source_text or f.quote or ""
            body.append(
                (
                    unit_of(r),
                    r.year if r.year is not None else "",
                    f.rule,
                    SEVERITY_LABEL[f.severity],
                    p.title,
                    where,
                    p.source_where,
                    source,
                    message,
                    r.file,
                )
            )
    rows = tuple(body)
    widths = (_fit(rows, 0, 14, 26), 7.0, 10.0, 5.0, 22.0, 16.0, 18.0, 22.0, 50.0, _fit(rows, 9, 12, 30))
    return template.ExtraSheet(
        PROBLEMS, PROBLEM_HEADER, rows, widths, paper="A3", filters=True, groups=tuple(groups), header_height=2
    )


# ---------------------------------------------------------------- 跨年核对


def years_header() -> tuple[str, ...]:
    c = analytics.carry(specs.load())
    return ("单位名称", "报告年度", "对照的数", *c.titles(), "核对结果", "报告文件")


def years(o: Outcome) -> template.ExtraSheet:
    """Each pair of years as two lines, one above the other: this year's 上年结转 and last year's 结转下年度."""
    c = analytics.carry(specs.load())
    this, last = (f"{when}{name}" for when, name in zip(("本年", "上年"), c.names, strict=True))
    body: list[tuple[Any, ...]] = []
    groups: list[int] = []
    for pair in sorted(o.pairs, key=lambda p: (normalise(p.unit), p.year)):
        groups.append(len(body))
        if not pair.compared:
            body.append((pair.unit, pair.year, "", *([""] * len(c.columns)), pair.verdict, pair.file))
            continue
        mine = ["" if a is None else a for a, _b in pair.carried]
        theirs = ["" if b is None else b for _a, b in pair.carried]
        body.append((pair.unit, pair.year, this, *mine, pair.verdict, pair.file))
        body.append((pair.unit, pair.year - 1, last, *theirs, "", pair.last_file))
    header = years_header()
    for q in o.questions:
        groups.append(len(body))
        body.append((f"待确认：{q.kind}", "", "", *([""] * len(c.columns)), q.message, "、".join(q.files)))
    rows = tuple(body)
    widths = (_fit(rows, 0, 14, 28), 7.0, 16.0, *([8.0] * len(c.columns)), 40.0, _fit(rows, len(header) - 1, 16, 40))
    return template.ExtraSheet(
        YEARS,
        header,
        rows,
        widths,
        paper="A3",
        repeat_first_column=True,
        filters=True,
        groups=tuple(groups),
        header_height=2,
    )


# ---------------------------------------------------------------- 单位汇总


def units_header(o: Outcome) -> tuple[str, ...]:
    spec = specs.load()
    head = ["单位名称", "层级"]
    if o.roster is not None:
        head.append("在名单中")
    head += ["报告数", "报告年度", "缺少年度", *(f"{y} 年\n错误" for y in o.years), "提醒合计", "指标年度"]
    for ind in spec.indicators:
        head += [ind.name + ("（%）" if ind.share else ""), "百分位"]
    return (*head, "异常")


def unit_cells(o: Outcome, u: UnitSummary) -> tuple[Any, ...]:
    spec = specs.load()
    cells: list[Any] = [u.name, u.level or "不明"]
    if o.roster is not None:
        cells.append("是" if u.on_roster else "否")
    cells += [len(u.years), "、".join(map(str, u.years)) or "无", "、".join(map(str, u.missing)) or "无"]
    cells += [u.errors.get(y, "") if y in u.years else MISSING for y in o.years]
    cells += [u.warnings, u.latest if u.latest is not None else ""]
    marks = []
    for i, ind in enumerate(spec.indicators):
        value = u.values[i] if i < len(u.values) else None
        rank = u.ranks[i] if i < len(u.ranks) else None
        cells += ["" if value is None else indicators.shown(value, share=ind.share), "" if rank is None else rank]
        if i < len(u.marks) and u.marks[i]:
            marks.append(f"{ind.name}{u.marks[i]}")
    return (*cells, "；".join(marks))


def units(o: Outcome) -> template.ExtraSheet:
    rows = tuple(unit_cells(o, u) for u in o.units)
    header = units_header(o)
    fixed = 3 if o.roster is not None else 2
    widths = [_fit(rows, 0, 14, 28), 22.0, *([6.0] if o.roster is not None else [])]
    widths += [5.0, 20.0, 20.0, *([6.5] * len(o.years)), 6.0, 6.0]
    widths += [9.0, 6.0] * len(specs.load().indicators)
    widths.append(24.0)
    shapes = [""] * len(header)
    for i, ind in enumerate(specs.load().indicators):
        shapes[fixed + 5 + len(o.years) + 2 * i] = "0.0" if ind.share else "0"
    return template.ExtraSheet(
        UNITS,
        header,
        rows,
        tuple(widths),
        paper="A3",
        repeat_first_column=True,
        number_formats=tuple(shapes),
        filters=True,
        header_height=3,
    )


# ---------------------------------------------------------------- 图表


def chart_data(o: Outcome) -> list[Chart]:
    out: list[Chart] = []
    counts = Counter((p.title, p.finding.severity) for r in o.rows for p in r.problems)
    found = {t for t, _s in counts}  # most often first, then by title (a set's order varies from run to run)
    titles = sorted(found, key=lambda t: (-sum(n for (tt, _s), n in counts.items() if tt == t), t))
    top = list(reversed(titles[:TOP_RULES]))  # a bar chart draws its first category at the bottom
    if top:
        series = tuple((SEVERITY_LABEL[s], tuple(counts[(t, s)] for t in top)) for s in ("error", "warning"))
        out.append(Chart(f"各类问题的数量（前 {len(top)} 类）", "bar", tuple(top), series, axis="处"))
    per_unit: Counter[str] = Counter()
    for r in o.rows:
        if r.unit:
            per_unit[normalise(r.unit)] += r.errors + r.warnings
    if per_unit:
        labels = tuple(f"{lo} 个" if lo == hi else f"{lo}—{hi} 个" if hi else f"{lo} 个以上" for lo, hi in BANDS)
        banded = tuple(sum(1 for n in per_unit.values() if lo <= n and (hi is None or n <= hi)) for lo, hi in BANDS)
        out.append(
            Chart("各单位的问题数（错误与提醒，各年度合计）", "column", labels, (("单位数", banded),), axis="个")
        )
    years = sorted({r.year for r in o.rows if r.year is not None and r.reviewed})
    if years:
        verdicts = ("按时", "逾期", "无法判断", "不适用")
        series = tuple(
            (v, tuple(sum(1 for r in o.rows if r.year == y and r.reviewed and r.on_time == v) for y in years))
            for v in verdicts
        )
        out.append(Chart("各年度按期公开情况", "column", tuple(f"{y} 年" for y in years), series, axis="份"))
    return out
