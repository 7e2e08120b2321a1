"""The context a rule kind runs in (:mod:`rules`, :mod:`narrative`): one submission and last year's."""

from __future__ import annotations

from typing import Any

from xltool.form.layout import Layout, for_spec
from xltool.form.spec import FormSpec, Rule
from xltool.submission import Finding, Submission, computed, previous_numbers, shown, unknown


class Context:
    """What every rule kind reads: the submission, its recomputed totals, last year's figures."""

    def __init__(
        self, sub: Submission, previous: Submission | None = None, expected: dict[str, str] | None = None
    ) -> None:
        self.sub = sub
        self.expected = expected or {}  # values the caller knows (kind "expected"): key -> text
        self.spec: FormSpec = sub.spec
        self.layout: Layout = for_spec(sub.spec)
        self.numbers = computed(sub.spec, sub.values)
        self.unknown = unknown(sub.spec, sub.values)  # unreadable: their cells have findings already
        self.previous = previous
        # last year's figures under this form's keys; a key with no counterpart on its form is absent
        self.prev_numbers, self.prev_unknown = previous_numbers(sub.spec, previous) if previous else ({}, set())

    def finding(self, rule: Rule, key: str | None, value: Any = None, expected: Any = None, **kw: Any) -> Finding:
        sheet = cell = None
        if key is not None:
            s, c = self.layout.locate(key)
            sheet, cell = s.name, c.address
        message = rule.message.format(value=shown(value), expected=shown(expected), **kw)
        quote = kw.get("quote")
        return Finding(rule.id, rule.severity, message, sheet, cell, value, expected, quote if quote else None)
