"""A summary against last year's: every unit's carry-over (rule CY-1 for the whole county at once),
the main figures year over year, and the data of the summary's charts.

Pure functions of what merge already holds (units, key figures, summed values); merge.py reads the
files and writes the sheets. Which rows carry over comes from the definition's ``carry_over``
rule, labels from its headers and from merge's key figures, so nothing here names a form label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from xltool.form import spec as specs
from xltool.form.layout import col_title
from xltool.form.spec import FormSpec, Leaf, leaves
from xltool.submission import Number, shown
from xltool.summary.figures import Figure, UnitRow, short_name
from xltool.text import normalise
from xltool.workbook.charts import Chart

CARRY_SHEET = "各单位结转"
CHART_SHEET = "图表"
JOIN = "·"  # a row's short name and a column's name in a header: 上年结转·自然人
TOP_UNITS = 15
OLD_SUMMARY = "上年汇总工作簿由旧版 xltool 生成，没有各单位分列的结转数"
ONLY_LAST, ONLY_THIS, REJECTED = "上年有、本年没有", "本年有、上年没有", "上年有、本年未通过校验"
REJECTED_WHY = "本年报送了工作簿，但未通过校验，未计入汇总"


# ---------------------------------------------------------------- the carried rows


@dataclass(frozen=True)
class Carry:
    """Rule CY-1's rows: this year's ``this`` row (上年结转) = last year's ``last`` row, per column."""

    table: str
    this: Leaf
    last: Leaf
    columns: tuple[Leaf, ...]  # the input columns
    total: Leaf  # the derived column

    def cells(self) -> list[str]:
        return [f"{self.table}.{row.key}.{c.key}" for row in (self.this, self.last) for c in self.columns]

    def titles(self) -> tuple[str, ...]:
        return tuple(col_title(c) for c in self.columns)

    def header(self) -> tuple[str, ...]:
        return tuple(
            f"{short_name(row.node)}{JOIN}{col_title(c)}" for row in (self.this, self.last) for c in self.columns
        )

    @property
    def names(self) -> tuple[str, str]:
        """The short names of the two rows (上年结转, 结转下年度), as 单位明细 and 各单位结转 name them."""
        return short_name(self.this.node), short_name(self.last.node)


def carry(spec: FormSpec) -> Carry:
    rule = spec.rules_of("carry_over")[0]
    assert rule.table is not None
    block = spec.table(rule.table).blocks[0]
    rows = {r.key: r for r in leaves(block.rows)}
    cols = leaves(block.columns)
    columns = tuple(c for c in cols if not c.node.derived)
    total = next(c for c in cols if c.node.derived)
    return Carry(rule.table, rows[rule.params["this"]], rows[rule.params["last"]], columns, total)


def carry_of(spec: FormSpec, table: dict[str, Number]) -> tuple[Number, ...]:
    """A unit's carried figures (this row per column, then last row per column) from its table."""
    return tuple(table[k] for k in carry(spec).cells())


def carry_rows(rows: list[tuple[Any, ...]], width: int) -> dict[tuple[str, str], tuple[Number, ...]]:
    """The carry sheet of a summary read back: (unit name, file) -> figures; unusable rows left out."""
    out: dict[tuple[str, str], tuple[Number, ...]] = {}
    for row in rows[1:]:
        cells = (*row, *([None] * (2 + width)))[: 2 + width]
        figures = cells[2:]
        if all(isinstance(v, int | Decimal) and not isinstance(v, bool) for v in figures):
            out[normalise(cells[0]), "" if cells[1] is None else str(cells[1])] = tuple(figures)
    return out


# ---------------------------------------------------------------- last year's summary


@dataclass(frozen=True)
class LastYear:
    file: str
    unit: str
    year: int
    units: tuple[UnitRow, ...]
    version: str | None  # its form's version (None: the default form); matched through ``succeeds``
    numbers: dict[str, Number]  # its summed table, by its form's keys
    keys: tuple[tuple[str, ...], ...]  # the cells each of its key figures sums (its units' figures)
    carry_cells: tuple[str, ...]  # the cells of its units' carry rows (:meth:`Carry.cells`)

    def _sources(self, spec: FormSpec, keys: Sequence[str]) -> list[str] | None:
        """The cells of last year's form that ``keys`` of ``spec`` correspond to (:meth:`FormSpec.counterparts`);
        None where one of them has no counterpart there."""
        links = spec.counterparts(specs.load(self.version) if self.version else specs.load())
        return None if any(k not in links for k in keys) else [s for k in keys for s in links[k]]

    def under(self, spec: FormSpec) -> dict[str, Number]:
        """Last year's summed figures under ``spec``'s table keys (a key without counterpart is absent)."""
        links = spec.counterparts(specs.load(self.version) if self.version else specs.load())
        return {k: sum((self.numbers.get(s, 0) for s in src), start=0) for k, src in links.items()}

    def figure(self, spec: FormSpec, figure: Figure) -> Number | None:
        """Last year's value of this year's key figure: its cells' counterparts summed; None without them."""
        sources = self._sources(spec, figure.keys)
        return None if sources is None else sum((self.numbers.get(s, 0) for s in sources), start=0)

    def unit_figure(self, spec: FormSpec, unit: UnitRow, figure: Figure) -> Number | None:
        """A unit's value last year of this year's key figure: its figure of exactly the corresponding cells."""
        sources = self._sources(spec, figure.keys)
        if sources is None or not unit.figures or sorted(sources) not in [sorted(k) for k in self.keys]:
            return None
        return unit.figures[[sorted(k) for k in self.keys].index(sorted(sources))]

    def carry_at(self, spec: FormSpec) -> list[int] | None:
        """Where each of this form's carried-out cells stands in last year's carry rows; None where one
        corresponds to no single carried cell there (then units are compared on the total only)."""
        out = []
        for key in carry(spec).cells()[len(carry(spec).columns) :]:
            sources = self._sources(spec, [key])
            if sources is None or len(sources) != 1 or sources[0] not in self.carry_cells:
                return None
            out.append(self.carry_cells.index(sources[0]))
        return out


@dataclass(frozen=True)
class CarryDiff:
    columns: tuple[str, ...]  # the columns that differ
    this: tuple[Number, ...]  # this year's 上年结转 in those columns
    last: tuple[Number, ...]  # last year's 结转下年度 in those columns


@dataclass(frozen=True)
class Comparison:
    last: LastYear
    carry: Carry  # this year's carried rows (their names in what is shown)
    checked: int  # units found in both years
    diffs: dict[str, CarryDiff]  # by normalised unit name
    by_totals: tuple[str, ...]  # units compared on the total only (a year without per-column figures)
    only_this: tuple[str, ...]
    only_last: tuple[str, ...]  # last year's units with no workbook this year
    last_new: dict[str, Number]  # last year's 新收 by normalised unit name
    rejected: tuple[str, ...] = ()  # last year's units whose workbook this year was submitted but not merged


def compare(
    spec: FormSpec, figures: Sequence[Figure], units: Sequence[UnitRow], last: LastYear, rejected: Sequence[str] = ()
) -> Comparison:
    """Each unit's 上年结转 against its own 结转下年度 last year: per column where both years have them.

    ``rejected`` names the units whose workbooks this year failed the check: last year's among them
    were submitted, not missing."""
    c = carry(spec)
    this_at, carried_out = _index(figures, c, c.this), figures[_index(figures, c, c.last)]
    new = figures[_index(figures, c, _new_row(spec, c))]
    at = last.carry_at(spec)
    columns = c.titles()
    before = {normalise(u.name): u for u in last.units if u.name}
    diffs: dict[str, CarryDiff] = {}
    by_totals: list[str] = []
    width = len(c.columns)
    for unit in units:
        old = before.get(normalise(unit.name))
        if old is None or unit.figures is None or old.figures is None:
            continue
        if unit.carry is not None and old.carry is not None and at is not None:
            names, now, then = columns, unit.carry[:width], tuple(old.carry[i] for i in at)
        else:
            by_totals.append(unit.name)
            carried = last.unit_figure(spec, old, carried_out)
            if carried is None:  # last year's form has no such figure: nothing to compare
                continue
            names, now, then = (col_title(c.total),), (unit.figures[this_at],), (carried,)
        differ = [i for i in range(len(names)) if now[i] != then[i]]
        if differ:
            diffs[normalise(unit.name)] = CarryDiff(
                tuple(names[i] for i in differ), tuple(now[i] for i in differ), tuple(then[i] for i in differ)
            )
    this_names = {normalise(u.name) for u in units}
    refused = {normalise(n) for n in rejected} - this_names
    absent = [u.name for u in last.units if u.name and normalise(u.name) not in this_names]
    return Comparison(
        last,
        c,
        sum(normalise(u.name) in before for u in units),
        diffs,
        tuple(by_totals),
        tuple(u.name for u in units if normalise(u.name) not in before),
        tuple(n for n in absent if normalise(n) not in refused),
        {k: n for k, u in before.items() if (n := last.unit_figure(spec, u, new)) is not None},
        tuple(n for n in absent if normalise(n) in refused),
    )


def _rows(spec: FormSpec, c: Carry) -> list[Leaf]:
    return leaves(spec.table(c.table).blocks[0].rows)


def _index(figures: Sequence[Figure], c: Carry, row: Leaf) -> int:
    """Which key figure is ``row``'s total (新收, 上年结转, 结转下年度 are figures of their own)."""
    key = f"{c.table}.{row.key}.{c.total.key}"
    return next(i for i, f in enumerate(figures) if f.keys == (key,))


def change(this: Number, last: Number) -> tuple[Number, Decimal | None]:
    """The change and the change in percent (one decimal; none when last year is 0)."""
    diff = this - last
    if last == 0:
        return diff, None
    return diff, (Decimal(diff) * 100 / Decimal(last)).quantize(Decimal("0.1"), ROUND_HALF_UP)


# ---------------------------------------------------------------- what the summary shows


def notes(spec: FormSpec, figures: Sequence[Figure], this: Sequence[Number], cmp: Comparison, year: int | None):
    """汇总说明 rows: last year's summary, the carry-over check, units of one year only, the main figures."""
    last = cmp.last
    rule = spec.rules_of("carry_over")[0]
    this_row, _last_row = cmp.carry.names
    out: list[tuple[Any, ...]] = [
        ("上年汇总", f"{last.file}（{last.unit}，{last.year} 年度，{len(last.units)} 个单位）")
    ]
    verdict = f"两年都有的 {cmp.checked} 个单位逐一核对（规则 {rule.id}：{rule.title}），"
    verdict += f"{len(cmp.diffs)} 个单位不一致。" if cmp.diffs else "全部一致。"
    out.append((f"{this_row}核对", verdict))
    if cmp.by_totals:
        which = "全部单位" if len(cmp.by_totals) == cmp.checked else "、".join(cmp.by_totals)
        out.append(("核对方式", f"{which}只按总计核对：{OLD_SUMMARY}，不能逐列核对。"))
    for unit, diff in _named(cmp):
        out.append((f"{this_row}不一致", f"{unit}：" + "".join(diff_text(rule.message, diff))))
    out.append((ONLY_LAST, "、".join(cmp.only_last) or "无"))
    if cmp.rejected:
        out.append((REJECTED, "、".join(cmp.rejected) + f"：{REJECTED_WHY}"))
    out.append((ONLY_THIS, "、".join(cmp.only_this) or "无"))
    out.append(("较上年", f"{last.year} 年", f"{year} 年" if year else "本年", "增减", "增减（%）"))
    for figure, now in zip(figures, this, strict=True):
        then = last.figure(spec, figure)
        if then is None:  # not a figure of last year's form
            out.append((figure.name, "", now, "", ""))
            continue
        delta, percent = change(now, then)
        out.append((figure.name, then, now, delta, "" if percent is None else percent))
    return out


def screen(cmp: Comparison) -> list[str]:
    """The on-screen lines: each unit whose carry-over differs with both years' figures, column by
    column; the units of one year only; last year's units whose workbook was rejected this year."""
    last = cmp.last
    this_row, last_row = cmp.carry.names
    how = f"；{OLD_SUMMARY}，按总计核对" if cmp.by_totals else ""
    lines = [f"与上年汇总核对（{last.file}，{last.year} 年度，{len(last.units)} 个单位{how}）："]
    named = _named(cmp)
    lines.append(f"  {this_row}与上年度“{last_row}”不一致 {len(named)} 个" + ("：" if named else ""))
    lines += [f"    {unit}：" + "；".join(pairs(cmp.carry, diff)) for unit, diff in named]
    lines.append(_listed(ONLY_LAST, cmp.only_last))
    if cmp.rejected:
        lines.append(_listed(REJECTED, cmp.rejected) + f"（{REJECTED_WHY}）")
    lines.append(_listed(ONLY_THIS, cmp.only_this))
    return lines


def _listed(what: str, names: Sequence[str]) -> str:
    return f"  {what} {len(names)} 个" + ("：" + "、".join(names) if names else "")


def pairs(c: Carry, diff: CarryDiff) -> list[str]:
    """Each differing column with both years' figures: 自然人列 上年结转 0、上年度结转下年度 1."""
    this_row, last_row = c.names
    return [
        f"{col}列 {this_row} {shown(now)}、上年度{last_row} {shown(then)}"
        for col, now, then in zip(diff.columns, diff.this, diff.last, strict=True)
    ]


def _named(cmp: Comparison) -> list[tuple[str, CarryDiff]]:
    names = {normalise(u.name): u.name for u in cmp.last.units}
    return [(names[k], d) for k, d in sorted(cmp.diffs.items())]


def diff_text(message: str, diff: CarryDiff) -> list[str]:
    """Rule CY-1's own message for each column that differs."""
    return [
        message.format(column=col, value=now, expected=then)
        for col, now, then in zip(diff.columns, diff.this, diff.last, strict=True)
    ]


def _short_diff(diff: CarryDiff) -> list[str]:
    """A differing column in 单位明细's narrow verdict column (its header names the rows)."""
    return [f"{c}列 本年 {a}、上年 {b}" for c, a, b in zip(diff.columns, diff.this, diff.last, strict=True)]


def detail_header(new: str, c: Carry) -> tuple[str, ...]:
    return (f"上年{new}", f"{new}增减", f"{c.names[0]}核对")


def detail_cells(cmp: Comparison, unit: UnitRow, new: Number) -> tuple[Any, ...]:
    """单位明细 columns of one unit: last year's 新收, its change, the carry-over verdict."""
    key = normalise(unit.name)
    if key not in cmp.last_new:
        return ("", "", "上年没有此单位")
    then = cmp.last_new[key]
    diff = cmp.diffs.get(key)
    verdict = "一致" if diff is None else "不一致：" + "；".join(_short_diff(diff))
    if normalise(unit.name) in {normalise(n) for n in cmp.by_totals}:
        verdict += "（只按总计核对）" if diff is None else ""
    return (then, new - then, verdict)


# ---------------------------------------------------------------- chart data


def charts(
    spec: FormSpec,
    figures: Sequence[Figure],
    values: dict[str, Number],
    units: Sequence[UnitRow],
    last: LastYear | None,
    year: int | None,
) -> list[Chart]:
    """Applicant types, the outcome groups, the units with most applications, and last year against this."""
    c = carry(spec)
    block = spec.table(c.table).blocks[0]
    new_row = _new_row(spec, c)
    at = _index(figures, c, new_row)
    new = figures[at].name
    by_type = tuple(values[f"{c.table}.{new_row.key}.{col.key}"] for col in c.columns)
    out = [
        Chart(
            f"{new}申请的{block.columns[0].label}",
            "column",
            tuple(col_title(col) for col in c.columns),
            ((new, by_type),),
        )
    ]
    handled = next(n for n in block.rows if n.children)  # 三、本年度办理结果
    results = {leaf.key for leaf in leaves((handled,)) if not leaf.node.derived}
    outcome = [f for f in figures if {k.split(".")[1] for k in f.keys} <= results and f.keys[0].startswith(c.table)]
    amounts = tuple(_sum(values, f) for f in outcome)
    out.append(Chart(_plain(handled.label), "pie", tuple(f.name for f in outcome), (("件数", amounts),)))
    applied = [u for u in units if u.figures is not None and u.figures[at] > 0]  # a unit with none is not "most"
    ranked = sorted(applied, key=lambda u: (-u.figures[at], normalise(u.name)))  # type: ignore[index]
    top = list(reversed(ranked[:TOP_UNITS]))  # a bar chart draws its first category at the bottom
    out.append(
        Chart(
            f"{new}申请最多的单位（前 {len(top)} 名）",
            "bar",
            tuple(u.name for u in top),
            ((new, tuple(u.figures[at] for u in top if u.figures is not None)),),
        )
    )
    if last is not None:
        out += _year_on_year(spec, figures, values, last, year)
    return out


def _year_on_year(
    spec: FormSpec, figures: Sequence[Figure], values: dict[str, Number], last: LastYear, year: int | None
) -> list[Chart]:
    """Two charts of counts (money has its own scale): 表二's decisions, and the rest."""
    first = spec.tables()[0]
    counts = [
        i for i, f in enumerate(figures) if all(_count(spec, k) for k in f.keys) and last.figure(spec, f) is not None
    ]
    published = [i for i in counts if figures[i].keys[0].startswith(f"{first.key}.")]
    others = [i for i in counts if i not in published]
    names = (f"{last.year} 年", f"{year} 年" if year else "本年")
    out = []
    for title, chosen in (
        ("依申请公开、行政复议和行政诉讼：与上年比较", others),
        (f"{_plain(spec.section_of(first.key).heading)}：与上年比较", published),
    ):
        if chosen:
            series = (
                (names[0], tuple(last.figure(spec, figures[i]) or 0 for i in chosen)),
                (names[1], tuple(_sum(values, figures[i]) for i in chosen)),
            )
            out.append(Chart(title, "column", tuple(figures[i].name for i in chosen), series))
    return out


def new_at(spec: FormSpec, figures: Sequence[Figure]) -> int:
    """Where 新收 stands among the key figures."""
    c = carry(spec)
    return _index(figures, c, _new_row(spec, c))


def _new_row(spec: FormSpec, c: Carry) -> Leaf:
    """新收: the row that rule T3-1 adds to the carried-in row (一+二)."""
    rule = next(r for r in spec.rules_of("equal_sums") if r.table == c.table and c.this.key in r.params["left"])
    key = next(k for k in rule.params["left"] if k != c.this.key)
    return next(r for r in _rows(spec, c) if r.key == key)


def _count(spec: FormSpec, key: str) -> bool:
    return next(cell.type for cell in spec.cells() if cell.key == key) == "count"


def _sum(values: dict[str, Number], figure: Figure) -> Number:
    return sum((values[k] for k in figure.keys), start=0)


def _plain(label: str) -> str:
    return label.split("、", 1)[-1]
