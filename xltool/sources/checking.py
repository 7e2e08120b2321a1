"""``xltool check`` on files: read workbooks (and last year's report), then :mod:`xltool.checks.check`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from xltool.checks import check as checking
from xltool.checks.check import FileResult
from xltool.errors import UsageError
from xltool.sources.previous import last_year
from xltool.sources.workbooks import read_all
from xltool.workbook.annotate import annotate as write_annotated

BATCH = 200  # files read and validated together (pandera costs ~20 ms a call)


def check(paths: list[Path], previous: Path | None = None, annotate: Path | None = None) -> list[FileResult]:
    """Check every file; with ``previous``, also the cross-year rules (one file only); with
    ``annotate``, also write a highlighted, commented copy of the one input (never over it)."""
    if annotate is not None:
        _annotate_target(paths, annotate)
    results = [r for batch in batches(paths, previous) for r in batch]
    if annotate is not None and results[0].submission is not None:
        write_annotated(Path(results[0].file), results[0].findings, annotate)
    return results


def batches(paths: list[Path], previous: Path | None = None) -> Iterator[list[FileResult]]:
    """The results, :data:`BATCH` files at a time: one pandera call per batch, and a caller that
    prints each batch and lets it go checks any number of files in flat memory."""
    if previous is not None and len(paths) != 1:
        raise UsageError("--previous 只能和一个工作簿一起使用。")
    last = last_year(previous) if previous is not None else None
    for start in range(0, len(paths), BATCH):
        results = read_all(paths[start : start + BATCH])
        if last is not None and results[0].submission is not None:
            checking.same_family(results[0].submission, last)
        yield checking.evaluate(results, last)


def _annotate_target(paths: list[Path], target: Path) -> None:
    if len(paths) != 1:
        raise UsageError("--annotate 只能在检查一个工作簿时使用。")
    if target.suffix.lower() != ".xlsx":
        raise UsageError(f"标注副本必须以 .xlsx 结尾：{target}")
    if target.exists() and target.resolve() == paths[0].resolve():
        raise UsageError("标注副本不能覆盖被检查的工作簿，请另取一个文件名。")
    if not target.parent.is_dir():
        raise UsageError(f"无法写入 {target}：输出文件夹不存在。")
