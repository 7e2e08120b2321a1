"""``xltool merge``: sum many units' workbooks into a summary that is itself a valid workbook.

Every input is read and checked exactly as ``xltool check`` does it. Workers return only what the
summary needs (a :class:`Part`: numbers to sum, key figures and narratives per unit, findings),
never a Submission, so ten thousand inputs fit in memory. Sums are exact (ints and Decimal) and are
taken in a fixed order (unit name, then file), so the summary depends neither on the input order nor
on the number of processes. A summary lists its units in a 单位明细 sheet that a later merge reads
back: merging summaries gives what merging all their units directly gives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from xltool import __version__
from xltool.checks.check import FileResult
from xltool.documents import draft as drafts
from xltool.errors import UsageError
from xltool.form import spec as specs
from xltool.form.layout import SEVERITY_LABEL, text_width
from xltool.form.spec import FormSpec
from xltool.submission import (
    DRAFTED_PROPERTY,
    SUMMARY,
    Counted,
    Finding,
    Number,
    Submission,
    Value,
    computed,
    drafted_stamp,
    shown,
)
from xltool.summary import analytics
from xltool.summary import roster as rosters
from xltool.summary.figures import UnitRow, figures_of, key_figures
from xltool.text import normalise
from xltool.workbook import charts, template

NOTES_SHEET, DETAIL_SHEET, TEXTS_SHEET = "汇总说明", "单位明细", "各单位文字"
FILE, STATUS, TOTAL = "文件", "状态", "合计"
MERGED, REJECTED = "已汇总", "未汇总"
NO_NAME, UNREAD = "（未填写单位名称）", "（无法读取）"
TEXT_HEADER = ("部分", "方面", "内容")
NESTED = "／"  # joins a summary's file name and the file of one of its units
CHUNK_MIN, CHUNK_MAX = 25, 50  # files per task: one pandera call validates a whole chunk

Progress = Callable[[int], None]


# ---------------------------------------------------------------- what the summary needs


@dataclass(frozen=True)
class Part(Counted):
    """What one input contributes, as a worker returns it."""

    file: str
    unit: str
    year: int | None
    version: str | None
    summary_units: int  # 0 for one unit's own workbook
    numbers: tuple[Number, ...] | None  # numeric inputs in :func:`numeric_keys` order; None if unreadable
    units: tuple[UnitRow, ...]  # the unit itself, or the units a summary lists
    texts: tuple[tuple[str, ...], ...]  # rows of 各单位文字: unit, section, part, text
    findings: tuple[Finding, ...]
    chosen: tuple[str, ...] = ()  # the unit chosen for each money cell (spec.chosen_units order)

    @property
    def readable(self) -> bool:
        return self.numbers is not None


def numeric_keys(spec: FormSpec) -> list[str]:
    """The inputs the definition's merge policy sums (every numeric input of the form)."""
    return spec.summed()


def combine(rows: Iterable[Sequence[Number]], width: int) -> tuple[Number, ...]:
    """Column sums, exact (ints and Decimal), in the order given."""
    total: list[Number] = [0] * width
    for row in rows:
        for i, v in enumerate(row):
            total[i] += v
    return tuple(total)


# ---------------------------------------------------------------- reading (runs in workers)


def part_of(result: FileResult) -> Part:
    """What a checked input contributes to a summary (the worker keeps this, not the Submission)."""
    sub = result.submission
    if sub is None:
        return Part(result.file, "", None, None, 0, None, (), (), tuple(result.findings))
    spec = sub.spec
    table = computed(spec, sub.values)
    numbers = tuple(table[k] if k in table else _number(sub.values.get(k)) for k in numeric_keys(spec))
    findings = list(result.findings)
    if sub.summary_units:
        units, texts = _listed(sub, figures_of(spec, table), findings)
    else:
        figures, carried = figures_of(spec, table), analytics.carry_of(spec, table)
        units = (UnitRow(sub.unit_name, sub.text("unit.unit_type"), "", "", figures, carried),)
        texts = _texts(sub)
    return Part(
        result.file,
        sub.unit_name,
        sub.year,
        spec.form_version,
        sub.summary_units,
        numbers,
        units,
        texts,
        tuple(findings),
        tuple(sub.text(unit_key) for _cell, unit_key in spec.chosen_units()),
    )


def _number(v: Value) -> Number:
    return v if isinstance(v, int | Decimal) else 0


def _texts(sub: Submission) -> tuple[tuple[str, ...], ...]:
    name = sub.unit_name or NO_NAME
    out = []
    if sub.spec.merge.types["text"] != "collect":
        return ()
    for section in sub.spec.sections:
        for part in section.parts:
            text = sub.text(f"{section.key}.{part.key}").strip()
            if text:
                out.append((name, section.heading, part.label, text))
    return tuple(out)


def _listed(
    sub: Submission, total: tuple[Number, ...], findings: list[Finding]
) -> tuple[tuple[UnitRow, ...], tuple[tuple[str, ...], ...]]:
    """The units a summary lists in its 单位明细, checked against its own figures."""
    spec = sub.spec
    sheets = sub.sheets
    units = _detail_rows(spec, sheets.get(DETAIL_SHEET, []))
    carried = _carried(spec, units, sheets.get(analytics.CARRY_SHEET))
    texts = tuple(tuple("" if v is None else str(v) for v in row[:4]) for row in sheets.get(TEXTS_SHEET, [])[1:])
    problem = None
    if units is None:
        problem = f"汇总工作簿缺少“{DETAIL_SHEET}”工作表或其表头被改动，无法核对其中的单位。"
    elif len(units) != sub.summary_units:
        problem = (
            f"汇总工作簿的“{DETAIL_SHEET}”列出 {len(units)} 个已汇总单位，而工作簿记录的是 {sub.summary_units} 个。"
        )
    elif combine((u.figures or () for u in units), len(total)) != total:
        problem = f"汇总工作簿的“{DETAIL_SHEET}”各单位数字之和与汇总表的数字不一致，汇总表可能被改动过。"
    elif (
        carried is not None
        and combine(carried, len(own := analytics.carry_of(spec, computed(spec, sub.values)))) != own
    ):
        problem = f"汇总工作簿的“{analytics.CARRY_SHEET}”各单位数字之和与汇总表的数字不一致，汇总表可能被改动过。"
    if problem is None:
        assert units is not None
        if carried is not None:
            units = tuple(replace(u, carry=c) for u, c in zip(units, carried, strict=True))
        return units, texts
    rule = spec.rule("X-FILE")
    findings.insert(0, Finding(rule.id, rule.severity, rule.message.format(reason=problem), DETAIL_SHEET))
    return (UnitRow(sub.unit_name, "", "", "", total),), texts


def _carried(
    spec: FormSpec, units: tuple[UnitRow, ...] | None, rows: list[tuple[Any, ...]] | None
) -> list[tuple[Number, ...]] | None:
    """Each listed unit's carried figures from the summary's carry sheet; None where a summary has
    none (written by an xltool before it kept them) or lacks a unit (then totals are compared)."""
    if units is None or not rows or tuple(rows[0][2:]) != carry_header(spec)[2:]:
        return None
    found = analytics.carry_rows(rows, len(analytics.carry(spec).cells()))
    out = [found.get((normalise(u.name), u.file)) for u in units]
    return None if any(c is None for c in out) else out  # type: ignore[return-value]


def carry_header(spec: FormSpec) -> tuple[str, ...]:
    labels = {f.key: f.label for f in spec.unit.fields}
    return (labels["unit_name"], FILE, *analytics.carry(spec).header())


def _detail_rows(spec: FormSpec, rows: list[tuple[Any, ...]]) -> tuple[UnitRow, ...] | None:
    if not rows:
        return None
    header = [normalise(v) for v in rows[0]]
    wanted = detail_header(spec)
    if any(normalise(w) not in header for w in wanted):
        return None
    at = [header.index(normalise(w)) for w in wanted]
    out = []
    for row in rows[1:]:
        cells = [row[i] if i < len(row) else None for i in at]
        name, unit_type, inner, status = ("" if v is None else str(v) for v in cells[:4])
        if status.startswith(MERGED):
            figures = tuple(_number(v) for v in cells[4:])
            out.append(UnitRow(name, unit_type, inner, status, figures))
    return tuple(out)


def detail_header(spec: FormSpec) -> tuple[str, ...]:
    labels = {f.key: f.label for f in spec.unit.fields}
    return (labels["unit_name"], labels["unit_type"], FILE, STATUS, *(f.name for f in key_figures(spec)))


# ---------------------------------------------------------------- the merge


@dataclass
class Outcome:
    """The result of a merge: what was merged, what was rejected, what the roster says."""

    unit: str
    year: int | None
    folder: str  # file names in the summary are relative to this folder
    inputs: int
    merged: list[Part]
    rejected: list[Part]
    rows: list[UnitRow]  # 单位明细: the merged units
    shown: dict[str, str]  # input path -> its name in the summary
    spec: FormSpec
    output: Path = Path()  # where :func:`write` put the summary
    roster: rosters.Roster | None = None
    missing: tuple[str, ...] = ()
    unlisted: tuple[str, ...] = ()
    comparison: analytics.Comparison | None = None  # with --previous
    unit_word: str = ""  # the subject of the drafted sentences (全县)
    draft: drafts.Draft | None = None  # what :func:`write` drafted into the summary's text parts

    @property
    def units(self) -> int:
        return len(self.rows)

    @property
    def exit_code(self) -> int:
        differ = self.comparison is not None and bool(self.comparison.diffs)  # rule CY-1 is an error
        return 1 if self.rejected or differ or any(p.errors for p in self.merged) else 0


def merge(
    parts: list[Part],
    *,
    names: dict[str, str] | None = None,
    folder: str = "",
    unit: str | None = None,
    roster: rosters.Roster | None = None,
    include_invalid: bool = False,
    previous: analytics.LastYear | None = None,
    unit_word: str | None = None,
) -> Outcome:
    """Merge checked inputs (:func:`part_of`); see the module docstring. Nothing is written: see :func:`write`.

    ``names`` gives each input's name in the summary (default: ``Part.file``), relative to ``folder``.
    ``roster`` lists the units expected; ``previous`` is last year's summary: each unit's carry-over
    is checked against it and the main figures are compared year over year. ``unit_word`` is the
    subject of the summary's drafted sentences; by default the area of ``unit`` (青禾县人民政府: 全县,
    :func:`xltool.documents.draft.area_word`), none without a ``unit``.
    """
    if not parts:
        raise UsageError("没有要汇总的工作簿。")
    shown = {p.file: p.file for p in parts} | (names or {})
    parts = sorted(parts, key=lambda p: (normalise(p.unit), shown[p.file]))
    _refuse_duplicates(parts)
    merged = [p for p in parts if p.readable and (include_invalid or not p.errors)]
    rejected = [p for p in parts if not (p.readable and (include_invalid or not p.errors))]
    if not merged:
        raise UsageError(f"没有可以汇总的工作簿：{len(parts)} 个输入都未通过校验。\n" + _rejections(rejected))
    year_label = next(f.label for f in specs.load().unit.fields if f.key == "report_year")
    version = _common(merged, "version", "表式版本")  # first: a form's years differ from another's anyway
    year = _common(merged, "year", year_label)
    spec = specs.load(str(version)) if version else specs.load()
    rows = sorted((_row(p, u, shown) for p in merged for u in p.units), key=lambda u: (normalise(u.name), u.file))
    name = (unit or "").strip() or f"汇总（{len(rows)} 个单位）"
    o = Outcome(name, year if isinstance(year, int) else None, folder, len(parts), merged, rejected, rows, shown, spec)
    o.unit_word = unit_word if unit_word is not None else drafts.area_word(spec, name) if (unit or "").strip() else ""
    if roster is not None:
        missing, unlisted = roster.compare([u.name for u in rows] + [u.name for p in rejected for u in p.units])
        o.roster, o.missing, o.unlisted = roster, tuple(missing), tuple(unlisted)
    if previous is not None:
        if o.year is not None and previous.year != o.year - 1:
            raise UsageError(
                f"上年汇总 {previous.file} 是 {previous.year} 年度的，不是 {o.year} 年度的上一年度（应为 {o.year - 1} 年度）。"
            )
        refused = [u.name for p in rejected for u in p.units]  # submitted, but failed the check
        o.comparison = analytics.compare(spec, key_figures(spec), rows, previous, refused)
    return o


def write(o: Outcome, output: Path, now: dt.datetime | None = None) -> None:
    """Write the summary workbook of a merge to ``output`` (atomically)."""
    o.output = Path(output)
    _write(o.spec, o, now)


def _write(spec: FormSpec, o: Outcome, now: dt.datetime | None) -> None:
    """The summary: the form with the summed figures (locked), then 汇总说明, 单位明细, 各单位文字."""
    keys = numeric_keys(spec)
    values: dict[str, Value] = dict(zip(keys, combine((p.numbers or () for p in o.merged), len(keys)), strict=True))
    values |= amounts(spec, o.merged)
    own = {"unit_name": o.unit, "report_year": o.year}  # the policy's "summary" unit fields
    values |= {f"unit.{k}": own[k] for k, policy in spec.merge.unit.items() if policy == "summary"}
    texts = sorted((t for p in o.merged for t in p.texts), key=lambda t: normalise(t[0]))  # stable: form order
    properties = {SUMMARY: str(o.units)}
    o.draft = _drafts(spec, o, values, properties)
    values |= o.draft.texts
    properties[DRAFTED_PROPERTY] = drafted_stamp(o.draft.texts)
    sheets = [
        _notes_sheet(spec, o, values, now),
        _detail(spec, o),
        template.ExtraSheet(
            TEXTS_SHEET, (detail_header(spec)[0], *TEXT_HEADER), tuple(texts), (28.0, 28.0, 30.0, 70.0)
        ),
        _carry_sheet(spec, o),
    ]
    locked = [*keys, *(unit_key for _cell, unit_key in spec.chosen_units()), "unit.report_year"]
    table = computed(spec, values)
    last = o.comparison.last if o.comparison is not None else None
    drawn = analytics.charts(spec, key_figures(spec), table, o.rows, last, o.year)
    template.write(
        o.output,
        spec,
        values,
        locked=locked,
        properties=properties,
        extra_sheets=sheets,
        finish=lambda wb: charts.write(wb, analytics.CHART_SHEET, drawn),
        drafted=o.draft.texts,
        notes=drafts.notes(spec, o.draft),
    )


def _drafts(spec: FormSpec, o: Outcome, values: dict[str, Value], properties: dict[str, str]) -> drafts.Draft:
    """The summary's text parts drafted from its summed figures (with --previous, against last year's)."""
    summary = Submission(spec, str(o.output), dict(values), properties=dict(properties))
    return drafts.draft(summary, o.comparison.last.under(spec) if o.comparison else None, o.unit_word)


def _notes_sheet(spec: FormSpec, o: Outcome, values: dict[str, Value], now: dt.datetime | None) -> template.ExtraSheet:
    rows: list[tuple[Any, ...]] = list(_notes(o, now))
    if o.comparison is None:
        return template.ExtraSheet(NOTES_SHEET, ("项目", "内容"), tuple(rows), (16.0, 100.0))
    at = next(i for i, r in enumerate(rows) if r[0] == "文字部分")  # after the inputs and the roster
    figures = figures_of(spec, computed(spec, values))
    rows[at:at] = analytics.notes(spec, key_figures(spec), figures, o.comparison, o.year)
    return template.ExtraSheet(
        NOTES_SHEET,
        ("项目", "内容"),
        tuple(rows),
        (18.0, 12.0, 12.0, 10.0, 10.0, 56.0),
        span=5,
        number_formats=("", "", "", "", "0.0"),
    )


def _carry_sheet(spec: FormSpec, o: Outcome) -> template.ExtraSheet:
    """What next year's merge needs of each unit: its 上年结转 and 结转下年度, column by column."""
    header = carry_header(spec)
    rows = tuple((u.name or NO_NAME, u.file, *u.carry) for u in o.rows if u.carry is not None)
    widths = (max((text_width(str(r[0])) for r in rows), default=10.0) + 2.5, 40.0, *[12.0] * (len(header) - 2))
    return template.ExtraSheet(analytics.CARRY_SHEET, header, rows, widths, repeat_first_column=True)


def last_year_of(part: Part, path: str) -> analytics.LastYear:
    """Last year's summary (checked as an input is, named ``path`` in messages); refused unless it is a sound summary."""
    if not part.readable:
        raise UsageError(f"上年汇总 {path} 无法读取：{part.findings[0].message}")
    if not part.summary_units:
        raise UsageError(
            f"{path} 不是汇总工作簿（是{_unit_of(part)}自己的年度报告）。--previous 应为上年度用 xltool merge 生成的汇总工作簿。"
        )
    broken = next((f for f in part.findings if f.rule == "X-FILE" and f.sheet == DETAIL_SHEET), None)
    if broken is not None or part.year is None or part.numbers is None:
        reason = broken.message if broken is not None else "“报告年度”未填写。"
        raise UsageError(f"上年汇总 {path} 不能用来比较：{reason}")
    spec = specs.load(part.version) if part.version else specs.load()
    table = dict(zip(numeric_keys(spec), part.numbers, strict=True))
    return analytics.LastYear(
        *(str(path), part.unit, part.year, part.units, part.version),
        computed(spec, table),  # type: ignore[arg-type]
        tuple(f.keys for f in key_figures(spec)),
        tuple(analytics.carry(spec).cells()),
    )


def amounts(spec: FormSpec, parts: list[Part]) -> dict[str, Value]:
    """Money cells whose unit each filler chose: the unit all amounts share, or, when they differ,
    the sum converted exactly to the smallest unit (万元 x 10000 = 元). Amounts of 0 have no say."""
    keys = numeric_keys(spec)
    out: dict[str, Value] = {}
    for n, (cell, unit_key) in enumerate(spec.chosen_units()):
        at, sizes = keys.index(cell.key), cell.col.node.units
        entries = [(p, p.numbers[at], p.chosen[n]) for p in parts if p.numbers is not None and p.numbers[at]]
        units = {unit for _p, _v, unit in entries}
        out[unit_key] = next(iter(units), None)
        if len(units) < 2:
            continue
        for p, _v, unit in entries:
            if unit not in sizes:
                raise UsageError(f"{p.file}：{cell.col.label}没有选择单位，无法与其他单位的金额换算后汇总。")
        total = sum((Decimal(v) * sizes[unit] for _p, v, unit in entries), start=Decimal(0))
        out[cell.key] = int(total) if total == total.to_integral_value() else total
        out[unit_key] = next(iter(sizes))
    return out


def _row(p: Part, u: UnitRow, shown: dict[str, str]) -> UnitRow:
    """A merged unit as 单位明细 lists it: its file relative to the inputs' folder, its status."""
    file = shown[p.file] + (NESTED + u.file if u.file else "")
    return replace(u, file=file, status=u.status or _merged_status(p))


def _refuse_duplicates(parts: list[Part]) -> None:
    """Two readable inputs that contain the same unit: refuse (which one is right is the clerk's call)."""
    files: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for p in parts:
        for u in p.units:
            if u.name:
                files.setdefault(normalise(u.name), []).append(p.file)
                names.setdefault(normalise(u.name), u.name)
    twice = [(names[k], f) for k, f in files.items() if len(f) > 1]
    if twice:
        lines = [f"  {name}：{'、'.join(f)}" for name, f in twice]
        raise UsageError("同一单位有多个工作簿，不能重复汇总。请每个单位只保留一个，再重新汇总：\n" + "\n".join(lines))


def _common(parts: list[Part], attr: str, what: str) -> object:
    """The one report year (form version) of the merged inputs; several: refuse, naming the files."""
    groups: dict[object, list[str]] = {}
    for p in parts:
        if getattr(p, attr) is not None:
            groups.setdefault(getattr(p, attr), []).append(p.file)
    if len(groups) > 1:
        ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), str(kv[0])))
        lines = [f"  {what} {value}：{len(f)} 个文件" for value, f in ordered[:1]]
        lines += [f"  {what} {value}：{'、'.join(f)}" for value, f in ordered[1:]]
        raise UsageError(f"输入的工作簿{what}不一致，不能汇总在一起：\n" + "\n".join(lines))
    return next(iter(groups), None)


def _merged_status(p: Part) -> str:
    return f"{MERGED}（有 {p.errors} 个错误）" if p.errors else MERGED


def _unit_of(p: Part) -> str:
    return p.unit or (NO_NAME if p.readable else UNREAD)


def _who(p: Part) -> str:
    """The unit after a file name in messages; nothing for a file that could not be read."""
    return f"（{_unit_of(p)}）" if p.readable else ""


def _reason(p: Part) -> str:
    if not p.readable:
        return "无法读取：" + p.findings[0].message
    return f"有 {p.errors} 个错误"


def _detail(spec: FormSpec, o: Outcome) -> template.ExtraSheet:
    """单位明细: the 合计 row, each merged unit, each rejected input; with --previous, 新收 against last year."""
    figures = key_figures(spec)
    total = combine((u.figures or () for u in o.rows), len(figures))
    body: list[tuple[Any, ...]] = [(f"{TOTAL}（{o.units} 个单位）", "", "", "", *total)]
    body += [(u.name or NO_NAME, u.unit_type, u.file, u.status, *(u.figures or ())) for u in o.rows]
    header, extra = detail_header(spec), list[float]()
    if o.comparison is not None:
        at = analytics.new_at(spec, figures)
        header += analytics.detail_header(figures[at].name, o.comparison.carry)
        then = sum((u.figures[at] for u in o.comparison.last.units if u.figures), start=0)
        cells = [
            (then, total[at] - then, ""),
            *(analytics.detail_cells(o.comparison, u, u.figures[at] if u.figures else 0) for u in o.rows),
        ]
        body = [(*row, *more) for row, more in zip(body, cells, strict=True)]
        extra = [max(8.0, text_width(header[-3]) + 2.0), max(8.0, text_width(header[-2]) + 2.0)]
        extra.append(min(64.0, max(text_width(str(c[2])) for c in cells) + 2.5))
    for p in o.rejected:
        kind = p.units[0].unit_type if len(p.units) == 1 else ""
        body.append((_unit_of(p), kind, o.shown[p.file], f"{REJECTED}：{_reason(p).split('：')[0]}"))
    # one line per unit: the text columns fit their longest entry (very long ones still wrap)
    name, unit_type, file, status = (
        min(cap, max(text_width(str(r[c])) for r in body) + 2.5) for c, cap in enumerate((40.0, 24.0, 60.0, 30.0))
    )
    # a number wider than its column shows as ####: fit the widest (the 合计 row)
    numbers = [max(7.0, len(str(shown(v))) + 2.0) for v in total]
    widths = (name, max(unit_type, 10.0), file, max(status, 8.0), *numbers, *extra)
    return template.ExtraSheet(DETAIL_SHEET, header, tuple(body), widths, paper="A3", repeat_first_column=True)


def _notes(o: Outcome, now: dt.datetime | None) -> list[tuple[str, str]]:
    when = (now or dt.datetime.now()).strftime("%Y-%m-%d %H:%M")
    year_label = next(f.label for f in specs.load().unit.fields if f.key == "report_year")
    out = [
        ("汇总单位", o.unit),
        (year_label, "" if o.year is None else str(o.year)),
        ("汇总范围", f"{o.units} 个单位（{len(o.merged)} 个工作簿）"),
        ("输入文件", f"共 {o.inputs} 个 = 已汇总 {len(o.merged)} 个 + 未汇总 {len(o.rejected)} 个"),
        ("文件位置", f"{o.folder}（以下及“{DETAIL_SHEET}”中的文件名均相对于此文件夹）"),
    ]
    out += [("未汇总", f"{o.shown[p.file]}{_who(p)}：{_reason(p)}") for p in o.rejected]
    out += [(f"{MERGED}（有错误）", f"{o.shown[p.file]}{_who(p)}：有 {p.errors} 个错误") for p in o.merged if p.errors]
    if o.roster is not None:
        out.append(("名单核对", f"{o.roster.path}：{len(o.roster.members)} 个单位"))
        out.append(("未报送", "、".join(o.missing) if o.missing else "无"))
        out.append(("不在名单中", "、".join(o.unlisted) if o.unlisted else "无"))
    out.append(("文字部分", _texts_note(o)))
    for p in [*o.merged, *o.rejected]:
        for f in p.findings:
            where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or "")
            head = f"{_unit_of(p)}（{o.shown[p.file]}）"
            out.append((f"{SEVERITY_LABEL[f.severity]}", f"{head}{f.rule} {where}：{f.message}"))
    out += [("xltool 版本", __version__), ("汇总时间", when)]
    return out


def _texts_note(o: Outcome) -> str:
    """汇总说明's line on the written parts: what xltool drafted from the summed figures, what is left."""
    d = o.draft or drafts.Draft()

    def names(keys: Iterable[str]) -> str:
        return "、".join(drafts.part_name(o.spec, k) for k in keys)

    said = f"已根据汇总数字起草（草稿，橙色单元格，须核对修改）：{names(d.texts)}。" if d.texts else ""
    left = f"须由汇总单位撰写：{names(d.to_write)}。" if d.to_write else ""
    return f"{said}{left}各单位的文字见“{TEXTS_SHEET}”表，供参考。"


def _rejections(parts: list[Part], shown: int = 5) -> str:
    lines: list[str] = []
    for p in parts:
        lines.append(f"  ✗ {p.file}{_who(p)}：{_reason(p)}")
        errors = [f for f in p.findings if f.severity == "error"] if p.readable else []
        for f in errors[:shown]:
            where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or "-")
            lines.append(f"      {SEVERITY_LABEL[f.severity]} {f.rule} {where} {f.message}")
        if len(errors) > shown:
            lines.append(f"      ……另有 {len(errors) - shown} 个错误，可用 xltool check 查看全部")
    return "\n".join(lines)


def as_text(o: Outcome) -> str:
    """The on-screen result: where the summary is, what was not merged and why, the roster check."""
    lines = [f"已生成汇总工作簿 {o.output}（{o.unit}，{o.units} 个单位）"]
    if o.rejected:
        lines.append(f"未汇总 {len(o.rejected)} 个文件：")
        lines.append(_rejections(o.rejected))
    invalid = [p for p in o.merged if p.errors]
    if invalid:
        lines.append(f"有错误但按 --include-invalid 计入了汇总的 {len(invalid)} 个文件：")
        lines.append(_rejections(invalid))
    if o.roster is not None:
        lines.append(f"名单核对（{o.roster.path}，{len(o.roster.members)} 个单位）：")
        lines.append(f"  未报送 {len(o.missing)} 个" + ("：" + "、".join(o.missing) if o.missing else ""))
        lines.append(f"  不在名单中 {len(o.unlisted)} 个" + ("：" + "、".join(o.unlisted) if o.unlisted else ""))
    if o.comparison is not None:
        lines += analytics.screen(o.comparison)
    lines.append(f"共 {o.inputs} 个输入文件 = 已汇总 {len(o.merged)} 个 + 未汇总 {len(o.rejected)} 个。")
    return "\n".join(lines)
