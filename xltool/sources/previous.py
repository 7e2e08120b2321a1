"""Last year's report: what this year's template takes over from it, and what check compares.

Last year's report may be a workbook or, in the first year a unit uses xltool, the published
report itself (any format `xltool import` reads): it is imported in memory. It may be on the form
this year's replaced: cells are matched through the definition (:meth:`FormSpec.counterparts`).
"""

from __future__ import annotations

from pathlib import Path

from xltool.errors import UsageError
from xltool.submission import Submission
from xltool.workbook.reader import read


def last_year(path: Path) -> Submission:
    """Last year's report as a submission: a workbook read, or a published report imported."""
    # the importers (lxml, pdfium, opencc) load only when last year's report is a published one
    from xltool.importers.parsers import PARSERS

    if Path(path).suffix.lower() not in PARSERS:
        return read(path)
    from xltool.sources.importing import as_submission  # see above: start-up time

    return as_submission(Path(path))


def last_report(path: Path, year: int | None) -> Submission:
    """Last year's report; refused when its report year is unknown or not the one before ``year``."""
    last = last_year(path)
    if last.year is None:
        raise UsageError(f"{path} 的“报告年度”未填写，无法确定它是哪一年的报告。")
    if year is not None and last.year != year - 1:
        raise UsageError(f"{path} 是 {last.year} 年度的报告，不是 {year} 年的上一年度。")
    return last
