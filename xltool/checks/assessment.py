"""What an assessor looks for beyond the tables: two rule kinds and the on-time verdict.

``states``: a text must say something (五 the rectification of last year's problems, 六 the fee
situation, the report its statistical period): one of the rule's words, any common wording, passes.
``deadline``: a published report was published after its level's statutory date. The words and the
deadlines are data in the definition (``[[rules]]`` params, ``[[deadlines]]``); :func:`timeliness` is
the verdict review shows for every report, the kind reports the late ones as findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from xltool.checks.context import Context
from xltool.form.spec import FormSpec, Rule
from xltool.submission import DOCUMENT_PROPERTY, PUBLISHED_FROM_PROPERTY, PUBLISHED_PROPERTY, Finding, Submission
from xltool.text import normalise

ALL = "*"  # params.section: the whole published document
QUOTE = 40  # characters of the section quoted with a finding
ON_TIME, LATE, UNKNOWN, NONE = "按时", "逾期", "无法判断", "不适用"


def _words(rule: Rule, year: int | None) -> list[re.Pattern[str]]:
    """The rule's words for this report year ({year}, {last}); words that need an unknown year are left out."""
    out = []
    for word in rule.params["words"]:
        if "{" in word and year is None:
            continue
        out.append(re.compile(word.replace("{year}", str(year)).replace("{last}", str((year or 0) - 1))))
    return out


def _text(ctx: Context, rule: Rule) -> tuple[str, str | None, str] | None:
    """(text, anchor key, section heading) the rule reads; None when there is nothing to judge."""
    section_key = rule.params["section"]
    if section_key == ALL:
        document = ctx.sub.properties.get(DOCUMENT_PROPERTY)
        return None if document is None else (document, None, "")
    section = next(s for s in ctx.spec.sections if s.key == section_key)
    texts = [ctx.sub.text(f"{section.key}.{p.key}") for p in section.parts]
    if not any(t.strip() for t in texts):
        return None  # the whole section is missing: N-SECTION says so
    fields = rule.params.get("fields")
    for part in section.parts:
        if part.key == fields and any(
            not isinstance(ctx.sub.values.get(f"{section.key}.{f.key}"), str | type(None)) for f in part.fields
        ):
            return None  # the part's figures are filled in: the rendered report states them
    return "\n".join(texts), f"{section.key}.{section.parts[0].key}", section.heading


def states(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """The text says none of the rule's words. A merged summary's texts are the collecting office's."""
    if ctx.sub.summary_units:
        return
    found = _text(ctx, rule)
    if found is None:
        return
    text, anchor, heading = found
    flat = normalise(text)
    year = ctx.sub.year
    if any(word.search(flat) for word in _words(rule, year)):
        return
    last = "" if year is None else str(year - 1)
    opening = " ".join(text.split())[:QUOTE] if anchor else ""  # what the section says instead
    yield ctx.finding(rule, anchor, section=heading, year="" if year is None else year, last=last, quote=opening)


# ---------------------------------------------------------------- on time


@dataclass(frozen=True)
class Timeliness:
    """Whether a report was published by its level's statutory date."""

    verdict: str  # ON_TIME, LATE, UNKNOWN, or NONE (the law sets the level no date)
    level: str | None = None
    due: date | None = None
    published: date | None = None
    how: str = ""  # where the publication date came from (发布时间, 落款日期, 发布日期清单)
    reason: str = ""  # why there is no verdict

    @property
    def days_late(self) -> int:
        return (self.published - self.due).days if self.published and self.due else 0


def published_of(sub: Submission) -> tuple[date | None, str]:
    """A published report's publication date and where it came from (none for a workbook)."""
    text = sub.properties.get(PUBLISHED_PROPERTY, "")
    try:
        return (date.fromisoformat(text) if text else None), sub.properties.get(PUBLISHED_FROM_PROPERTY, "")
    except ValueError:
        return None, ""


def timeliness(
    spec: FormSpec, unit_type: str, unit_name: str, year: int | None, published: date | None, how: str
) -> Timeliness:
    deadline = spec.deadline_for(unit_type, unit_name)
    if deadline is None:
        return Timeliness(UNKNOWN, published=published, how=how, reason="单位层级不明")
    if deadline.month is None:
        return Timeliness(NONE, deadline.level, None, published, how, "条例未规定期限")
    due = deadline.due(year) if year is not None else None
    if due is None:
        return Timeliness(UNKNOWN, deadline.level, None, published, how, "报告年度不明")
    if published is None:
        return Timeliness(UNKNOWN, deadline.level, due, None, how, "未载明发布日期")
    return Timeliness(ON_TIME if published <= due else LATE, deadline.level, due, published, how)


def chinese_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def deadline(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """Published after the statutory date of the unit's level (only a report with a publication date)."""
    published, how = published_of(ctx.sub)
    if published is None:
        return
    t = timeliness(ctx.spec, ctx.sub.text("unit.unit_type"), ctx.sub.unit_name, ctx.sub.year, published, how)
    if t.verdict == LATE and t.due is not None:
        due, when = chinese_date(t.due), chinese_date(published)
        yield ctx.finding(rule, None, when, due, level=t.level, due=due, how=how, published=when, days=t.days_late)


KINDS = {"states": states, "deadline": deadline}
