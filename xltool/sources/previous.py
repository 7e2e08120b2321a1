"""Last year's report: what this year's template takes over from it, and what check compares.

Last year's report may be a workbook or, in the first year a unit uses xltool, the published
report itself (any format `xltool import` reads): it is imported in memory. It may be on the form
this year's replaced: cells are matched through the definition (:meth:`FormSpec.counterparts`).

It may also be last year's merge summary (``xltool merge``'s output): then one unit is compared
with, and pre-filled from, its own row in the summary's carry sheet, never with the summary's totals.
"""

from __future__ import annotations

from pathlib import Path

from xltool.checks.check import FileResult
from xltool.errors import UsageError
from xltool.submission import Submission
from xltool.summary import carry
from xltool.summary.analytics import CARRY_SHEET, LastYear
from xltool.workbook.reader import read


def last_year(path: Path) -> Submission:
    """Last year's report as a submission: a workbook read, or a published report imported."""
    # the importers (lxml, pdfium, opencc) load only when last year's report is a published one
    from xltool.importers.parsers import PARSERS

    if Path(path).suffix.lower() not in PARSERS:
        return read(path)
    from xltool.sources.importing import as_submission  # see above: start-up time

    return as_submission(Path(path))


def last_report(path: Path, year: int | None, unit: str | None = None) -> Submission:
    """Last year's report; refused when its report year is unknown or not the one before ``year``.

    A merge summary gives ``unit``'s own row (see :func:`own_report`); refused without ``unit``
    or when the summary holds no row of it: a template is never pre-filled with a county's totals.
    """
    last = last_year(path)
    if last.year is None:
        raise UsageError(f"{path} 的“报告年度”未填写，无法确定它是哪一年的报告。")
    if year is not None and last.year != year - 1:
        raise UsageError(f"{path} 是 {last.year} 年度的报告，不是 {year} 年的上一年度。")
    if not last.summary_units:
        return last
    if not (unit or "").strip():
        raise UsageError(
            f"{path} 是汇总工作簿（{last.summary_units} 个单位），不是一个单位自己的年度报告。"
            "用它预填“上年结转”时，请用 --unit 指定单位名称：预填的是该单位自己上年的“结转下年度继续办理”。"
        )
    assert unit is not None
    own, reason = own_report(last, path, unit)
    if own is None:
        raise UsageError(
            f"{reason}，无法为它预填“上年结转”。请核对 --unit 的单位名称（应与上年汇总“{CARRY_SHEET}”表中的一致），"
            "或改用该单位上年度自己的工作簿作 --previous。"
        )
    return own


def own_report(last: Submission, path: Path, unit: str) -> tuple[Submission | None, str]:
    """``unit``'s own report last year: ``last`` itself, or, when ``last`` is a merge summary, the
    unit's row of its carry sheet (:func:`xltool.summary.carry.unit_report`). None where the
    summary has no such row, with the reason (naming the unit and the summary) to tell the user."""
    if not last.summary_units:
        return last, ""
    summary = summary_of(last, path)
    own = carry.unit_report(summary, unit, str(path))
    return own, "" if own is not None else carry.not_in_summary(summary, unit, str(path))


def summary_of(last: Submission, path: Path) -> LastYear:
    """A merge summary already read, as merge reads last year's: refused unless it is sound."""
    # summary.merge writes summaries (xlsxwriter): loaded only when last year's report is a summary
    from xltool.summary.merge import last_year_of, part_of

    return last_year_of(part_of(FileResult(str(path), last)), str(path))
