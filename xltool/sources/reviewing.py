"""``xltool review`` on files: each published report imported in memory (or a workbook read), a batch
at a time, handed to :class:`xltool.review.core.Review`; the roster and the dates list read; the
review's workbook written. Nothing else is written.

A published report is parsed and placed exactly as :func:`xltool.sources.importing.read_report` does
(``parsers.parse`` then ``pipeline.read_document``); the parsed document is kept a moment longer for
its whole text, which the assessment rule A-PERIOD reads (the statistical period usually stands in the
preamble, before any section). Each batch's documents and submissions are let go before the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from xltool.errors import InputFileError, OutputError, UsageError
from xltool.form import spec as specs
from xltool.importers import parsers, pipeline
from xltool.importers.model import Text
from xltool.review import sheets
from xltool.review.core import Outcome, Review
from xltool.review.model import REPORT, WORKBOOK, Source, dates_from_rows
from xltool.sources import rosters
from xltool.sources.inputs import COLLECTED, REPORTS, expand
from xltool.sources.merging import relative, same_file
from xltool.submission import (
    DOCUMENT_PROPERTY,
    PUBLISHED_FROM_PROPERTY,
    PUBLISHED_PROPERTY,
    UNSPLIT_PROPERTY,
)
from xltool.workbook.reader import read

BATCH = 50  # inputs checked together: one pandera call a batch, and only a batch in memory
DATES = "发布日期清单"

Progress = Callable[[int], None]


def inputs(args: list[str]) -> list[Path]:
    """Published reports and workbooks named, found in folders, or matched by patterns."""
    kinds = "、".join(sorted(REPORTS | {".xlsx"}))
    return expand(args, REPORTS | COLLECTED, f"文件夹 {{path}} 中没有找到可评查的报告或工作簿（{kinds}）。")


def review(
    paths: list[Path],
    output: Path,
    *,
    roster: Path | None = None,
    dates: Path | None = None,
    year: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> Outcome:
    """Review ``paths`` and write the review's workbook to ``output``."""
    output = Path(output)
    if output.suffix.lower() != ".xlsx":
        raise UsageError(f"评查结果工作簿必须以 .xlsx 结尾：{output}")
    if not output.parent.is_dir():
        raise UsageError(f"无法写入 {output}：文件夹 {output.parent} 不存在。")
    extras = [f for f in (roster, dates) if f is not None]
    paths = [p for p in paths if not any(same_file(p, f) for f in extras)]
    if any(same_file(p, output) for p in [*paths, *extras]):
        raise OutputError(f"输出文件 {output} 也是输入之一，不能覆盖输入。请另取一个文件名。")
    if output.exists() and not force:
        raise UsageError(f"{output} 已存在。为免覆盖，请换一个文件名，或加 --force 覆盖。")
    if not paths:
        raise UsageError("没有要评查的报告。")
    listed = rosters.load(roster, specs.load()) if roster is not None else None
    given = dates_from_rows(rosters.rows(dates, DATES), str(dates)) if dates is not None else None
    _folder, shown = relative([str(p) for p in paths])
    work = Review(roster=listed, dates=given, year=year)
    for start in range(0, len(paths), BATCH):
        batch = paths[start : start + BATCH]
        work.add([read_one(p, shown[str(p)]) for p in batch])
        if progress is not None:
            progress(len(batch))
    outcome = work.finish()
    sheets.write(outcome, output)
    return outcome


def read_one(path: Path, name: str) -> Source:
    """One input as review needs it: a published report imported in memory, or a workbook read."""
    if path.suffix.lower() in REPORTS:
        return _report(path, name)
    try:
        return Source(name, read(path), WORKBOOK)
    except InputFileError as exc:
        return Source(name, None, WORKBOOK, exc.reason)


def _report(path: Path, name: str) -> Source:
    try:
        doc = parsers.parse(path)
    except InputFileError as exc:
        return Source(name, None, REPORT, exc.reason)
    reading = pipeline.read_document(doc)
    placement = reading.placement
    if reading.refused or reading.spec is None or placement is None or placement.problem:
        reason = reading.refused or reading.problem or "无法导入"
        return Source(name, None, REPORT, reason, unit=reading.unit, year=reading.year)
    note = reading.problem or ""  # cut off part-way: what was read is reviewed, the cut is an error
    sub = pipeline.as_submission(replace(reading, problem=None))
    sub.properties[UNSPLIT_PROPERTY] = ",".join(sorted(reading.unsplit))
    sub.properties[DOCUMENT_PROPERTY] = "\n".join(b.text for b in doc.blocks if isinstance(b, Text))
    if reading.published is not None:
        sub.properties[PUBLISHED_PROPERTY] = reading.published.date.isoformat()
        sub.properties[PUBLISHED_FROM_PROPERTY] = reading.published.how
    return Source(name, sub, REPORT, note=note, missing=dict(placement.missing), places=dict(placement.sources))
