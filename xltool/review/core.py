"""The review: every report checked once (:meth:`Review.add`, a batch at a time), then every pair of
consecutive years of one unit (:meth:`Review.finish`), the roster, the scorecard and indicators.

Values in, values out: :mod:`xltool.sources.reviewing` reads the files into :class:`Source` values
and writes the workbook. A Submission lives only through its own batch's check; what the pairs of
years need of it is its :class:`Carried` figures (its table inputs), so memory grows with the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from xltool.checks import check as checking
from xltool.checks.check import FileResult
from xltool.form import spec as specs
from xltool.review import identity, indicators
from xltool.review.model import REPORT, Carried, Pair, Problem, PublicationDates, Question, Row, Source
from xltool.review.reports import carried, problem, rebuilt, row_of, source_findings, unreviewable
from xltool.submission import (
    PUBLISHED_FROM_PROPERTY,
    PUBLISHED_PROPERTY,
    Finding,
    Number,
    Submission,
)
from xltool.summary import analytics
from xltool.summary.roster import Roster

GIVEN = "发布日期（据清单）"  # how a date the caller gave (--dates) is named
NO_PREVIOUS, UNLINKED, CONSISTENT = "无上年度报告", "单位或年度不明，未关联", "一致"


@dataclass
class UnitSummary:
    """One unit of 单位汇总: its reports year by year, its indicators in its latest year."""

    name: str
    level: str
    years: tuple[int, ...]
    missing: tuple[int, ...]
    errors: dict[int, int]
    warnings: int
    latest: int | None
    values: tuple[Number | None, ...] = ()
    ranks: tuple[int | None, ...] = ()
    marks: tuple[str, ...] = ()
    on_roster: bool | None = None  # None: no roster given


@dataclass
class Outcome:
    rows: list[Row]
    pairs: list[Pair]
    questions: list[Question]
    units: list[UnitSummary]
    years: tuple[int, ...]
    roster: Roster | None = None
    missing: dict[int, list[str]] = field(default_factory=dict)  # roster units without a report, by year
    unlisted: list[str] = field(default_factory=list)
    skipped: int = 0  # reports of other years than --year's (and the year before)
    year: int | None = None

    @property
    def listed(self) -> list[Row]:
        return self.rows

    @property
    def exit_code(self) -> int:
        return 1 if any(r.errors or not r.reviewed for r in self.rows) else 0


def carried_columns(now: Submission, then: Submission) -> tuple[tuple[Number | None, Number | None], ...]:
    """Per carried column (rule CY-1's rows): this year's 上年结转 and last year's 结转下年度 under this
    form's keys (the sum of its counterparts on last year's form); None where not read or not there."""
    c = analytics.carry(now.spec)
    links = now.spec.counterparts(then.spec)

    def total(sub: Submission, keys: tuple[str, ...]) -> Number | None:
        found = [sub.values.get(k) for k in keys]
        numbers = [v for v in found if isinstance(v, int | Decimal)]
        return sum(numbers, start=0) if keys and len(numbers) == len(found) else None

    out = []
    for col in c.columns:
        mine, theirs = f"{c.table}.{c.this.key}.{col.key}", f"{c.table}.{c.last.key}.{col.key}"
        out.append((total(now, (mine,)), total(then, links.get(theirs, ()))))
    return tuple(out)


class Review:
    """Reports in, a batch at a time; :meth:`finish` links the years and sums up."""

    def __init__(self, *, roster: Roster | None = None, dates: PublicationDates | None = None, year: int | None = None):
        self.roster, self.dates, self.year = roster, dates, year
        self.types = {
            identity.key(m.name): dict(m.fields).get("unit_type", "") for m in (roster.members if roster else ())
        }
        self.rows: list[Row] = []
        self.context: set[int] = set()  # rows of the year before --year's: for the pairs only
        self.figures: dict[str, list[Carried]] = defaultdict(list)
        self.skipped = 0

    def add(self, sources: Iterable[Source]) -> None:
        """Check a batch of inputs together (one pandera call), keep their rows and carried figures."""
        readable: list[tuple[Source, FileResult]] = []
        for source in sources:
            sub = source.submission
            year = sub.year if sub is not None else source.year
            if self.year is not None and year is not None and year not in (self.year, self.year - 1):
                self.skipped += 1
                continue
            if sub is None:
                self.rows.append(unreviewable(source))
                continue
            self._prepare(source)
            readable.append((source, FileResult(source.file, sub, list(sub.findings))))
        checking.evaluate([r for _s, r in readable], assess=True)
        for source, result in readable:
            self._keep(source, result)

    def _prepare(self, source: Source) -> None:
        """What the caller knows and the report does not say: its 单位类型 (roster), its date (--dates)."""
        sub = source.submission
        assert sub is not None
        unit_type = self.types.get(identity.key(sub.unit_name))
        if unit_type and not sub.text("unit.unit_type"):
            sub.values["unit.unit_type"] = unit_type
        if source.kind == REPORT:
            sub.findings += source_findings(sub, source)
        given = self.dates.of(source.file, sub.unit_name, sub.year) if self.dates else None
        if given is not None:
            sub.properties[PUBLISHED_PROPERTY] = given.isoformat()
            sub.properties[PUBLISHED_FROM_PROPERTY] = GIVEN

    def _keep(self, source: Source, result: FileResult) -> None:
        sub = result.submission
        assert sub is not None
        at = len(self.rows)
        self.rows.append(row_of(result, source))
        if self.year is not None and sub.year == self.year - 1:
            self.context.add(at)
        if sub.unit_name and sub.year is not None:
            self.figures[identity.key(sub.unit_name)].append(carried(sub, at))

    # ---------------------------------------------------------------- across years

    def finish(self) -> Outcome:
        pairs = [p for unit in sorted(self.figures) for p in self._pairs(unit)]
        for row in self.rows:
            if not row.cross_year:
                row.cross_year = UNLINKED if not row.unit or row.year is None else NO_PREVIOUS
        listed = [r for i, r in enumerate(self.rows) if i not in self.context]
        years = tuple(sorted({r.year for r in listed if r.year is not None and r.reviewed}))
        if self.year is not None:
            years = (self.year,)
        o = Outcome(listed, pairs, self._questions(), [], years, self.roster, skipped=self.skipped, year=self.year)
        if self.roster is not None:
            o.missing, o.unlisted = self._roster(listed, years)
        o.units = self._units(listed, years)
        return o

    def _pairs(self, unit: str) -> list[Pair]:
        by_year: dict[int, list[Carried]] = defaultdict(list)
        for c in self.figures[unit]:
            by_year[int(c.values[0])].append(c)  # type: ignore[arg-type]
        out = []
        for year in sorted(by_year):
            for this in by_year[year]:
                for last in by_year.get(year - 1, []):
                    pair = self._pair(this, last)
                    if pair is not None:
                        out.append(pair)
        return out

    def _pair(self, this: Carried, last: Carried) -> Pair | None:
        row, before = self.rows[this.row], self.rows[last.row]
        now, then = rebuilt(this, row.file), rebuilt(last, before.file)
        assert row.year is not None
        if not now.spec.counterparts(then.spec):  # e.g. a report on the older form after one on the newer
            why = f"未核对：{then.spec.basis}表式与{now.spec.basis}表式之间没有对应关系"
            said = f"与 {row.year - 1} 年度（{before.file}）：{why}"
            row.cross_year = said if not row.cross_year else f"{row.cross_year}；{said}"
            return Pair(row.unit, row.year, row.file, before.file, (), [], why, compared=False)
        found = checking.across_years(now, then)
        columns = carried_columns(now, then)
        added = [self._cross(now, f, before.file) for f in found]
        row.problems += added
        verdict = CONSISTENT if not found else "；".join(dict.fromkeys(p.title for p in added))
        said = f"与 {row.year - 1} 年度（{before.file}）：{verdict}"
        row.cross_year = said if not row.cross_year else f"{row.cross_year}；{said}"
        return Pair(row.unit, row.year, row.file, before.file, tuple(columns), found, verdict)

    @staticmethod
    def _cross(now: Submission, f: Finding, last_file: str) -> Problem:
        """A cross-year finding: its other side is in last year's report."""
        p = problem(now.spec, f, Source("", None))
        p.source_where = f"上年度报告：{last_file}"
        return p

    def _questions(self) -> list[Question]:
        out = []
        seen: dict[tuple[str, int], list[Row]] = defaultdict(list)
        for i, r in enumerate(self.rows):
            if r.reviewed and r.unit and r.year is not None and i not in self.context:
                seen[(r.key, r.year)].append(r)
        for (_k, year), rows in sorted(seen.items()):
            if len(rows) > 1:
                files = tuple(r.file for r in rows)
                message = (
                    f"{rows[0].unit} {year} 年度有 {len(rows)} 份报告：{'、'.join(files)}。请确认哪一份是正式公开的。"
                )
                out.append(Question("同一年度多份报告", message, files))
        out += self._renamed()
        return out

    def _renamed(self) -> list[Question]:
        """A unit whose reports stop the year before another's start, under a name that nearly matches."""
        names = {k: self.rows[c[0].row].unit for k, c in self.figures.items()}
        years = {k: sorted({int(x.values[0]) for x in c}) for k, c in self.figures.items()}  # type: ignore[arg-type]
        starts: dict[int, list[str]] = defaultdict(list)
        for k, ys in years.items():
            starts[ys[0]].append(k)
        out = []
        for a in sorted(years):
            end = years[a][-1]
            for b in sorted(starts.get(end + 1, [])):
                if a != b and end + 1 not in years[a] and identity.near(a, b):
                    message = (
                        f"“{names[a]}”（{self._span(years[a])}）与“{names[b]}”（{self._span(years[b])}）名称相近，"
                        "可能是同一单位改名或写法不同。两者未作跨年核对，请核实。"
                    )
                    files = tuple(self.rows[c.row].file for k in (a, b) for c in self.figures[k])
                    out.append(Question("名称相近", message, files))
        return out

    @staticmethod
    def _span(years: list[int]) -> str:
        return f"{years[0]} 年" if len(years) == 1 else f"{years[0]}—{years[-1]} 年"

    # ---------------------------------------------------------------- roster, scorecard

    def _roster(self, rows: list[Row], years: tuple[int, ...]) -> tuple[dict[int, list[str]], list[str]]:
        assert self.roster is not None
        listed = {identity.key(m.name) for m in self.roster.members}
        have = {(r.key, r.year) for r in rows if r.unit}
        missing = {y: [m.name for m in self.roster.members if (identity.key(m.name), y) not in have] for y in years}
        unlisted = sorted({r.unit for r in rows if r.unit and r.key not in listed})
        return missing, unlisted

    def _units(self, rows: list[Row], years: tuple[int, ...]) -> list[UnitSummary]:
        groups: dict[str, list[Row]] = defaultdict(list)
        for r in rows:
            if r.unit and r.reviewed:
                groups[r.key].append(r)
        spec = specs.load()
        listed = {identity.key(m.name): m for m in self.roster.members} if self.roster else {}
        out: list[UnitSummary] = []
        for k in sorted(set(groups) | set(listed)):
            mine = groups.get(k, [])
            name = mine[0].unit if mine else listed[k].name
            found = tuple(sorted({r.year for r in mine if r.year is not None}))
            errors = {y: sum(r.errors for r in mine if r.year == y) for y in found}
            level = next((r.level for r in mine if r.level), "")
            if not level:
                d = spec.deadline_for(self.types.get(k, ""), name)
                level = d.level if d else ""
            latest = found[-1] if found else None
            values = next((r.indicators for r in reversed(mine) if r.year == latest), ())
            summary = UnitSummary(
                name,
                level,
                found,
                tuple(y for y in years if y not in found),
                errors,
                sum(r.warnings for r in mine),
                latest,
                values,
                on_roster=(k in listed) if self.roster else None,
            )
            out.append(summary)
        self._rank(out)
        return out

    @staticmethod
    def _rank(units: list[UnitSummary]) -> None:
        """Percentiles and outliers of each indicator among the units whose latest year is the same."""
        spec = specs.load()
        by_year: dict[int, list[UnitSummary]] = defaultdict(list)
        for u in units:
            if u.latest is not None and u.values:
                by_year[u.latest].append(u)
        for group in by_year.values():
            ranks, marks = [], []
            for i, ind in enumerate(spec.indicators):
                column = [u.values[i] for u in group]
                ranks.append(indicators.percentiles(column))
                marks.append(indicators.outliers(column, share=ind.share))
            for j, u in enumerate(group):
                u.ranks = tuple(r[j] for r in ranks)
                u.marks = tuple(m[j] for m in marks)
