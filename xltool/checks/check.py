"""``check``: validate submissions together, apply the form's rules; how results are shown.

Values in, values out: reading the files is :mod:`xltool.sources.checking`'s work.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from xltool.checks import rules, values
from xltool.errors import InputFileError, UsageError
from xltool.form import spec as specs
from xltool.form.layout import SEVERITY_LABEL, for_spec, rowcol
from xltool.submission import Counted, Finding, Submission

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass
class FileResult(Counted):
    """The outcome for one input file: its submission (None if unreadable) and its findings."""

    file: str
    submission: Submission | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def unreadable(self) -> bool:
        return self.submission is None

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "ok": self.ok,
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": [f.to_json() for f in self.findings],
        }


def unreadable(name: str, exc: InputFileError) -> FileResult:
    """The result of a file that could not be read: one X-FILE finding with the reason."""
    rule = specs.load().rule("X-FILE")
    return FileResult(name, None, [Finding(rule.id, rule.severity, rule.message.format(reason=exc.reason))])


def evaluate(
    results: list[FileResult],
    previous: Submission | None = None,
    *,
    batch: bool = True,
    assess: bool = False,
    expected: dict[str, str] | None = None,
) -> list[FileResult]:
    """Add value and rule findings to every readable result. With ``batch`` the pandera schema
    validates the whole batch at once; without, the same value rules run one value at a time
    (:mod:`values`), and pandas is never loaded (a command that renders one workbook). With
    ``assess``, the assessment rules too (rules not on by default: `check --assess`, review);
    ``expected``: values the caller knows every workbook must hold (rule kind ``expected``)."""
    readable = [r for r in results if r.submission is not None]
    subs = [r.submission for r in readable if r.submission is not None]
    if batch:
        from xltool.checks import schemas  # pandas and pandera take ~0.5 s to load: only for batches

        value_findings = schemas.validate(subs)
    else:
        value_findings = values.validate(subs)
    for result, extra in zip(readable, value_findings, strict=True):
        assert result.submission is not None
        found = [
            *result.submission.findings,
            *extra,
            *rules.apply(result.submission, previous, assess=assess, expected=expected),
        ]
        result.findings = _ordered(result.submission, found)
    return results


def _ordered(sub: Submission, found: list[Finding]) -> list[Finding]:
    """Errors first, then in the order of the workbook (sheet, row, column)."""
    sheets = {s.name: i for i, s in enumerate(for_spec(sub.spec).sheets)}
    return sorted(
        found,
        key=lambda f: (SEVERITY_ORDER[f.severity], sheets.get(f.sheet or "", len(sheets)), _rowcol(f.cell), f.rule),
    )


def _rowcol(address: str | None) -> tuple[int, int]:
    return rowcol(address) if address else (0, 0)


def check(submission: Submission, previous: Submission | None = None, *, assess: bool = False) -> list[Finding]:
    """Every finding of one submission (with ``previous``, last year's: the cross-year rules too;
    with ``assess``, the assessment rules too)."""
    if previous is not None:
        same_family(submission, previous)
    return evaluate([FileResult(submission.source, submission)], previous, assess=assess)[0].findings


def across_years(submission: Submission, previous: Submission) -> list[Finding]:
    """The cross-year findings of ``check(submission, previous)`` alone, in its order: what a pair of
    years adds to each year's own findings (review checks every report once, then every pair)."""
    same_family(submission, previous)
    return _ordered(submission, rules.across_years(submission, previous))


def same_family(sub: Submission, last: Submission) -> None:
    """Refuse a --previous report that is not the year before ``sub``'s, or on a form without counterparts."""
    if sub.year is not None and last.year is not None and last.year != sub.year - 1:
        raise UsageError(
            f"--previous 指定的工作簿报告年度为 {last.year}，而被检查的工作簿为 {sub.year}，不是上一年度。"
        )
    if not sub.spec.counterparts(last.spec):
        raise UsageError(
            f"--previous 指定的工作簿是{last.spec.basis}表式，被检查的工作簿是{sub.spec.basis}表式，"
            "两者之间没有对应关系，无法核对跨年度关系。"
        )


@dataclass
class Tally:
    """What the closing line and the exit code need of results already printed and let go."""

    files: int = 0
    failed: int = 0
    unreadable: int = 0

    def add(self, results: list[FileResult]) -> None:
        self.files += len(results)
        self.failed += sum(not r.ok for r in results)
        self.unreadable += sum(r.unreadable for r in results)

    @property
    def exit_code(self) -> int:
        return 2 if self.unreadable else 1 if self.failed else 0

    def closing_line(self) -> str | None:
        if self.files < 2:
            return None
        return f"共 {self.files} 个文件：{self.files - self.failed} 个通过，{self.failed} 个有错误或无法读取。"


def exit_code(results: list[FileResult]) -> int:
    tally = Tally()
    tally.add(results)
    return tally.exit_code


def as_json(results: list[FileResult], *, ascii_only: bool = False) -> str:
    """The stable --json text; ``ascii_only`` escapes non-ASCII (\\uXXXX) for a stream that lacks them."""
    return json.dumps({"files": [r.to_json() for r in results]}, ensure_ascii=ascii_only, indent=2)


# as_json's text written one file at a time: the head, each file's object, their separator, the tail
JSON_HEAD, JSON_SEPARATOR, JSON_TAIL = '{\n  "files": [\n', ",\n", "\n  ]\n}"


def json_item(result: FileResult, *, ascii_only: bool = False) -> str:
    """One file's object exactly as it stands inside as_json's list (nested two levels deep)."""
    return textwrap.indent(json.dumps(result.to_json(), ensure_ascii=ascii_only, indent=2), "    ")


def as_text(results: list[FileResult]) -> str:
    tally = Tally()
    tally.add(results)
    closing = tally.closing_line()
    return "\n".join([*text_lines(results), *([closing] if closing else [])])


def text_lines(results: list[FileResult]) -> Iterator[str]:
    """One verdict line per file, then one line per finding."""
    for r in results:
        unit = f"（{r.submission.unit_name}）" if r.submission is not None and r.submission.unit_name else ""
        if r.unreadable:
            verdict = "无法读取"
        elif r.errors:
            verdict = f"有 {r.errors} 个错误" + (f"、{r.warnings} 个提醒" if r.warnings else "")
        else:
            verdict = "通过" + (f"（{r.warnings} 个提醒）" if r.warnings else "")
        yield f"{'✗' if not r.ok else '✓'} {r.file}{unit}：{verdict}"
        for f in r.findings:
            where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or "-")
            yield f"  {SEVERITY_LABEL[f.severity]} {f.rule} {where} {f.message}"
