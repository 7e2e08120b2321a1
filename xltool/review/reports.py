"""One checked report -> its row of 评查结果, its problems, and what the pairs of years need of it."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from functools import cache

from xltool.checks import assessment, values
from xltool.checks.check import FileResult
from xltool.form import spec as specs
from xltool.form.layout import SEVERITY_LABEL, for_spec
from xltool.form.spec import CellSet, FormSpec
from xltool.review.model import REPORT, Carried, Problem, Row, Source
from xltool.submission import Finding, Number, Submission, computed, unknown

MAIN = 3  # 主要问题 names this many kinds of finding
READ_RULE, READ = "X-FILE", "报告能够完整读取"  # X-FILE's title in review: unreadable, or cut off part-way
NOT_READ = "原文中未能读到"


@cache
def _lookups(version: str) -> tuple[dict[tuple[str, str], str], dict[str, str], dict[str, str]]:
    """Of a form (specs are loaded once per version): (sheet, address) -> key, part key -> its
    heading and label, rule id -> title."""
    spec = specs.load(version)
    at = {(sheet.name, cell.address): cell.key for sheet, cell in for_spec(spec).keyed() if cell.key}
    parts = {f"{s.key}.{p.key}": f"{s.heading} {p.label}" for s in spec.sections for p in s.parts}
    return at, parts, {r.id: r.title for r in spec.rules}


def problem(spec: FormSpec, f: Finding, source: Source) -> Problem:
    """A finding with the rule's title and where it stands in the source document."""
    keys_at, part_labels, titles = _lookups(spec.form_version)
    title = READ if f.rule == READ_RULE else titles.get(f.rule, f.rule)
    key = keys_at.get((f.sheet or "", f.cell or "")) if f.cell else None
    if key is None:
        return Problem(f, title)
    what = for_spec(spec).locate(key)[1].what
    if key in source.missing:
        return Problem(f, title, NOT_READ, source.missing[key], what)
    if key in source.places:
        text, where = source.places[key]
        return Problem(f, title, where, text, what)
    if key in part_labels and source.kind == REPORT:
        return Problem(f, title, part_labels[key], f.quote or "", what)
    return Problem(f, title, "", f.quote or "", what)


def source_findings(sub: Submission, source: Source) -> list[Finding]:
    """What a published report's reading says before any rule: the cut (X-FILE, an error) and each table
    input the report printed blank (C-BLANK, as the workbook `xltool import` writes would show). A cell
    the importer could not read is not called blank: the row's cells read say how many, and no rule
    that needs it runs. The 六 fee figures are not printed on a form's table: A-FEE speaks for them."""
    out = []
    if source.note:
        rule = sub.spec.rule("X-FILE")
        out.append(Finding(rule.id, rule.severity, rule.message.format(reason=source.note)))
    for cell in sub.spec.inputs():
        if sub.values.get(cell.key) is None and cell.key not in source.missing:
            out.append(values.finding(sub.spec, cell.key, "C-BLANK", None))
    return out


def unreviewable(source: Source) -> Row:
    """An input that cannot be reviewed: a row with its reason (one X-FILE error)."""
    rule = specs.load().rule("X-FILE")
    finding = Finding(rule.id, rule.severity, rule.message.format(reason=source.reason))
    row = Row(source.file, source.kind, source.unit or "", source.year, "", reason=source.reason)
    row.problems = [Problem(finding, READ)]
    return row


def row_of(result: FileResult, source: Source) -> Row:
    """The row of a checked report: identity, form, publication, cells read, problems, indicators."""
    sub = result.submission
    assert sub is not None
    spec = sub.spec
    published, how = assessment.published_of(sub)
    t = assessment.timeliness(spec, sub.text("unit.unit_type"), sub.unit_name, sub.year, published, how)
    unknown_keys = unknown(spec, sub.values)
    expected = len(spec.cells())
    read = expected - (len(source.missing) if source.kind == REPORT else len(unknown_keys))
    kept = [f for f in result.findings if not _not_asked(spec, f, source)]
    return Row(
        source.file,
        source.kind,
        sub.unit_name,
        sub.year,
        spec.form_version,
        level=t.level or "",
        published=t.published,
        published_from=t.how,
        due=t.due,
        on_time=t.verdict,
        on_time_note=t.reason,
        cells_read=read,
        cells_expected=expected,
        problems=[problem(spec, f, source) for f in kept],
        indicators=indicators(sub, unknown_keys),
    )


def _not_asked(spec: FormSpec, f: Finding, source: Source) -> bool:
    """What a published report is not asked: the workbook's recommended unit details (it prints no
    填报人, 联系电话 or 单位类型; its name and year are asked: M-REQUIRED stays), and, when the stored
    copy is cut off, whether a whole section is written or the text says something (what follows the
    cut is unknown, not missing)."""
    if source.kind != REPORT:
        return False
    rule = next((r for r in spec.rules if r.id == f.rule), None)
    if rule is None:
        return False
    details = rule.kind == "required" and rule.severity != "error"
    after_cut = rule.kind == "states" or (rule.kind == "narrative" and rule.severity == "error")
    return details or bool(source.note and after_cut)


def carried(sub: Submission, row: int) -> Carried:
    values = sub.values
    return Carried(
        row, sub.spec.form_version, (sub.year, *(values.get(k) for k in specs.load(sub.spec.form_version).input_keys))
    )


def rebuilt(c: Carried, file: str) -> Submission:
    """The submission a pair of years needs: the report's table inputs and year (nothing else)."""
    values = dict(zip(("unit.report_year", *specs.load(c.version).input_keys), c.values, strict=True))
    return Submission(specs.load(c.version), file, values)


# ---------------------------------------------------------------- indicators


def indicators(sub: Submission, unknown_keys: set[str]) -> tuple[Number | None, ...]:
    """The current form's indicators of this report, by key (both forms declare the same ones)."""
    numbers = computed(sub.spec, sub.values)
    own = {i.key: i for i in sub.spec.indicators}
    out: list[Number | None] = []
    for wanted in specs.load().indicators:
        ind = own.get(wanted.key)
        if ind is None:
            out.append(None)
            continue
        top = _sum(ind.numerator, numbers, unknown_keys)
        bottom = _sum(ind.denominator, numbers, unknown_keys) if ind.denominator else 1
        if top is None or bottom is None or (ind.share and not bottom):
            out.append(None)
        else:
            out.append(Decimal(top) / Decimal(bottom) if ind.share else top)
    return tuple(out)


def _sum(cells: CellSet, numbers: dict[str, Number], unknown_keys: set[str]) -> Number | None:
    keys = cells.cell_keys()
    if any(k in unknown_keys for k in keys):
        return None
    return sum((numbers[k] for k in keys), start=0)


# ---------------------------------------------------------------- words


def by_rule(row: Row) -> str:
    """The findings counted by rule, errors first: T3-1×2、N-PART×1."""
    counts = Counter((p.finding.severity, p.finding.rule) for p in row.problems)
    order = {"error": 0, "warning": 1, "info": 2}
    return "、".join(
        f"{rule}×{n}" for (sev, rule), n in sorted(counts.items(), key=lambda kv: (order[kv[0][0]], kv[0][1]))
    )


def main_problems(row: Row) -> str:
    """The worst findings in words: the titles of the first rules, errors first, then the most frequent."""
    if row.reason:
        return row.reason
    counts = Counter((p.finding.severity, p.title) for p in row.problems if p.finding.severity != "info")
    order = {"error": 0, "warning": 1}
    ranked = sorted(counts.items(), key=lambda kv: (order[kv[0][0]], -kv[1]))
    words = [f"{SEVERITY_LABEL[sev]}：{title}" + (f"（{n} 处）" if n > 1 else "") for (sev, title), n in ranked[:MAIN]]
    more = len(ranked) - MAIN
    return "；".join(words) + (f"；另有 {more} 类问题" if more > 0 else "") if words else "无"
