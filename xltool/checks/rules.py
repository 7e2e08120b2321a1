"""The form's rules: each *kind* is implemented once here and parameterised by the definition.

A rule function takes the submission (and, for cross-year kinds, last year's) and yields findings.
Totals are always recomputed from the inputs (:func:`computed`); the reported totals of a
submission are only those a person typed over a formula.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from xltool.checks import assessment
from xltool.checks import narrative as narrative_rules
from xltool.checks.context import Context
from xltool.errors import XltoolError
from xltool.form import spec as specs
from xltool.form.layout import col_title, row_title
from xltool.form.spec import FormSpec, Rule, leaves
from xltool.submission import Finding, Number, Submission
from xltool.text import normalise

RuleFn = Callable[[Context, Rule], Iterator[Finding]]


def _block_leaves(spec: FormSpec, table: str) -> Iterator[tuple[Any, list[Any], list[Any]]]:
    for block in spec.table(table).blocks:
        yield block, leaves(block.rows), leaves(block.columns)


def equal_sums(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """Per column: sum of the ``left`` rows = sum of the ``right`` rows (表三 一+二 = 三（七）+四)."""
    t = rule.table
    for _block, _rows, cols in _block_leaves(ctx.spec, t or ""):
        for col in cols:
            if any(f"{t}.{r}.{col.key}" in ctx.unknown for r in (*rule.params["left"], *rule.params["right"])):
                continue
            left = sum(ctx.numbers[f"{t}.{r}.{col.key}"] for r in rule.params["left"])
            right = sum(ctx.numbers[f"{t}.{r}.{col.key}"] for r in rule.params["right"])
            if left != right:
                anchor = f"{t}.{rule.params['right'][-1]}.{col.key}"
                yield ctx.finding(
                    rule, anchor, left, right, column=col_title(col), left=left, right=right, diff=abs(left - right)
                )


def total_of(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """A total that was typed over its formula must still equal the sum of its parts."""
    t = rule.table
    for _block, rows, cols in _block_leaves(ctx.spec, t or ""):
        for row in rows:
            for col in cols:
                summed_along = "columns" if col.node.derived else "rows" if row.node.derived else None
                key = f"{t}.{row.key}.{col.key}"
                if summed_along != rule.params["axis"] or key not in ctx.sub.reported or key in ctx.unknown:
                    continue
                value, expected = ctx.sub.reported[key], ctx.numbers[key]
                if value != expected:
                    group = "·".join(n.label for n in col.path if n.key) or col_title(col)
                    names = {"row": row_title(row), "column": col_title(col), "group": group}
                    yield ctx.finding(rule, key, value, expected, **names)


def required(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """Unit fields the definition requires (error) or recommends (warning).

    A merged summary's recommended fields (单位类型, 填报人, …) are the collecting office's to fill;
    a workbook imported from a published report has none of them because reports never print them.
    """
    if (ctx.sub.summary_units or ctx.sub.imported) and rule.severity != "error":
        return
    flagged = {(f.sheet, f.cell) for f in ctx.sub.findings}  # unreadable: already reported by the reader
    for field in ctx.spec.unit.fields:
        key = f"unit.{field.key}"
        sheet, cell = ctx.layout.locate(key)
        if (sheet.name, cell.address) in flagged:
            continue
        if field.required == rule.severity and ctx.sub.values.get(key) in (None, ""):
            yield ctx.finding(rule, key, field=field.label)


def year(ctx: Context, rule: Rule) -> Iterator[Finding]:
    y = ctx.sub.values.get("unit.report_year")
    if isinstance(y, int) and not ctx.spec.accepts_year(y):
        try:
            needed = f"{specs.for_year(y).basis}表式"
        except XltoolError:
            needed = f"的表式 xltool 不认识（支持{specs.supported()}）"
        yield ctx.finding(rule, "unit.report_year", y, basis=ctx.spec.basis, years=ctx.spec.years, needed=needed)


def narrative(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """error rule: a whole narrative section empty; warning rule: one text part of it empty (not in a
    section whose text sits unsplit in its first part, see Submission.unsplit_sections).

    A merged summary's narratives are written later by the collecting office: not checked.
    """
    if ctx.sub.summary_units:
        return
    for section in ctx.spec.sections:
        if section.kind != "narrative":
            continue
        texts = {p.key: ctx.sub.text(f"{section.key}.{p.key}").strip() for p in section.parts}
        if not any(texts.values()):
            if rule.severity == "error":
                yield ctx.finding(rule, f"{section.key}.{section.parts[0].key}", section=section.heading)
            continue
        if rule.severity != "error":
            for part in section.parts:
                if not texts[part.key] and not part.fields and section.key not in ctx.sub.unsplit_sections:
                    yield ctx.finding(rule, f"{section.key}.{part.key}", section=section.heading, part=part.label)


def zero_for_unit_types(ctx: Context, rule: Rule) -> Iterator[Finding]:
    unit_type = ctx.sub.text("unit.unit_type")
    if unit_type not in rule.params["unit_types"]:
        return
    for _block, rows, cols in _block_leaves(ctx.spec, rule.table or ""):
        for row in (r for r in rows if r.key in rule.params["rows"]):
            for col in cols:
                key = f"{rule.table}.{row.key}.{col.key}"
                if ctx.numbers[key] > 0:
                    yield ctx.finding(rule, key, ctx.numbers[key], 0, unit_type=unit_type)


def fee_magnitude(ctx: Context, rule: Rule) -> Iterator[Finding]:
    limits = ctx.spec.fee_implausible_wan
    limit = limits.get(ctx.sub.text("unit.unit_type"), limits["*"])
    for cell in ctx.spec.inputs():
        if cell.type == "wan_yuan" and ctx.numbers[cell.key] >= limit:
            yield ctx.finding(rule, cell.key, ctx.numbers[cell.key], limit)


def carry_over(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """This year's ``this`` row = last year's ``last`` row, per column."""
    t = rule.table
    for _block, _rows, cols in _block_leaves(ctx.spec, t or ""):
        for col in cols:
            key, last = f"{t}.{rule.params['this']}.{col.key}", f"{t}.{rule.params['last']}.{col.key}"
            if last not in ctx.prev_numbers or last in ctx.prev_unknown or key in ctx.unknown:
                continue  # no counterpart on last year's form, or not readable there
            expected = ctx.prev_numbers[last]
            if ctx.numbers[key] != expected:
                yield ctx.finding(rule, key, ctx.numbers[key], expected, column=col_title(col))


def running_total(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """stock(N) = stock(N-1) + plus - minus, for each row that has the columns (minus optional).

    The flows are this year's, or last year's with ``flows = "last"`` (2019 form: 上一年项目数量(N) =
    上一年项目数量(N-1) + 本年增/减(N-1)). Rows whose figures have no counterpart last year are skipped.
    """
    t, p = rule.table, rule.params
    names = [n for n in ("stock", "plus", "minus") if n in p]
    flows, flows_unknown = (
        (ctx.prev_numbers, ctx.prev_unknown) if p.get("flows") == "last" else (ctx.numbers, ctx.unknown)
    )
    for _block, rows, cols in _block_leaves(ctx.spec, t or ""):
        if not {p[n] for n in names} <= {c.key for c in cols}:
            continue
        for row in rows:
            stock, *moves = (f"{t}.{row.key}.{p[name]}" for name in names)
            plus, minus = moves[0], (moves[1] if len(moves) > 1 else None)
            moved = [plus, *([minus] if minus else [])]
            if stock in ctx.unknown or stock not in ctx.prev_numbers or stock in ctx.prev_unknown:
                continue
            if any(k not in flows or k in flows_unknown for k in moved):
                continue
            last: Number = ctx.prev_numbers[stock]
            expected = last + flows[plus] - (flows[minus] if minus else 0)
            if ctx.numbers[stock] != expected:
                yield ctx.finding(rule, stock, ctx.numbers[stock], expected, row=row_title(row), previous=last)


def same_as_last(ctx: Context, rule: Rule) -> Iterator[Finding]:
    keys = [c.key for c in ctx.spec.inputs()]
    if any(k not in ctx.prev_numbers or k in ctx.prev_unknown for k in keys):
        return  # last year's form lacks some of these figures, or they are unknown: identical is impossible to tell
    now = [ctx.numbers[k] for k in keys]
    if any(now) and now == [ctx.prev_numbers[k] for k in keys]:
        yield ctx.finding(rule, None)


def same_text_as_last(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """A written section (all its parts) that says what last year's said: its 4-character pieces, with
    every figure counted as one mark (a copy with the numbers updated is still a copy), shared at least
    ``share`` of them (Jaccard). Sections shorter than ``min_chars`` in either year are not compared
    (六、其他需要报告的事项 may truly be "无" every year); a section last year's form lacks neither."""
    if ctx.previous is None or ctx.sub.summary_units:
        return
    headings = {s.key: s for s in ctx.previous.spec.sections if s.kind == "narrative"}
    for section in ctx.spec.sections:
        last = headings.get(section.key)
        if section.kind != "narrative" or last is None:
            continue
        now = _pieces(ctx.sub, section, rule.params["min_chars"])
        before = _pieces(ctx.previous, last, rule.params["min_chars"])
        if not now or not before:
            continue
        share = len(now & before) / len(now | before)
        if share >= rule.params["share"]:
            yield ctx.finding(
                rule, f"{section.key}.{section.parts[0].key}", section=section.heading, share=f"{share:.0%}"
            )


_FIGURE = re.compile(r"[0-9]+(?:[.,][0-9]+)*")


def _pieces(sub: Submission, section: Any, min_chars: int) -> frozenset[str]:
    """The 4-character pieces of a section's text (whitespace and punctuation out, figures as #)."""
    text = _FIGURE.sub("#", normalise("".join(sub.text(f"{section.key}.{p.key}") for p in section.parts)))
    text = "".join(ch for ch in text if ch.isalnum() or ch == "#")
    if len(text) < min_chars:
        return frozenset()
    return frozenset(text[i : i + 4] for i in range(len(text) - 3))


def unit_chosen(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """A money amount other than 0 needs its unit chosen (the form does not print one)."""
    for cell, unit_key in ctx.spec.chosen_units():
        if cell.key not in ctx.unknown and ctx.numbers[cell.key] and not ctx.sub.text(unit_key):
            where = ctx.layout.locate(cell.key)[1].what
            yield ctx.finding(rule, unit_key, ctx.numbers[cell.key], "、".join(cell.col.node.units), where=where)


def draft(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """A text part still holding the draft xltool wrote from the figures, unedited (Submission.drafts_to_review)."""
    for key in ctx.sub.drafts_to_review():
        yield ctx.finding(rule, key, part=ctx.layout.locate(key)[1].what)


def expected(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """A field holds another value than the one the caller knows it must (compared as names compare)."""
    key = rule.params["field"]
    want = ctx.expected.get(key)
    if want is None:
        return
    got = ctx.sub.text(key)
    if normalise(got) != normalise(want):
        section, _dot, name = key.partition(".")
        fields = ctx.spec.unit.fields if section == "unit" else (f for _s, _p, f in ctx.spec.fields())
        label = next(f.label for f in fields if f.key == name)
        yield ctx.finding(rule, key, got, want, label=label)


KINDS: dict[str, RuleFn] = {
    "equal_sums": equal_sums,
    "total_of": total_of,
    "required": required,
    "year": year,
    "narrative": narrative,
    "zero_for_unit_types": zero_for_unit_types,
    "fee_magnitude": fee_magnitude,
    "narrative_mentions": narrative_rules.narrative_mentions,
    "carry_over": carry_over,
    "running_total": running_total,
    "same_as_last": same_as_last,
    "same_text_as_last": same_text_as_last,
    **narrative_rules.KINDS,
    "unit_chosen": unit_chosen,
    "draft": draft,
    **assessment.KINDS,
    "expected": expected,
}


def apply(
    sub: Submission,
    previous: Submission | None = None,
    *,
    assess: bool = False,
    expected: dict[str, str] | None = None,
) -> list[Finding]:
    """Findings of every submission-level rule (cell-level findings come from reader and schemas);
    rules that are not on by default (the assessment rules) only with ``assess``; ``expected``:
    values the caller knows the workbook holds (kind ``expected``, e.g. the portal's link's unit)."""
    ctx = Context(sub, previous, expected)
    out: list[Finding] = []
    for rule in sub.spec.rules:
        fn = KINDS.get(rule.kind)
        if fn is None or (rule.cross_year and previous is None) or not (rule.default or assess):
            continue
        out.extend(fn(ctx, rule))
    return out


def across_years(sub: Submission, previous: Submission) -> list[Finding]:
    """Only the cross-year rules' findings (the rest of ``check(sub, previous)``'s are ``check(sub)``'s)."""
    ctx = Context(sub, previous)
    return [f for rule in sub.spec.rules if rule.cross_year for f in KINDS[rule.kind](ctx, rule)]
