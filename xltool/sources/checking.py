"""``xltool check`` on files: read workbooks (and last year's report), then :mod:`xltool.checks.check`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from xltool.checks import check as checking
from xltool.checks.check import FileResult
from xltool.errors import UsageError
from xltool.sources.previous import last_year, own_report
from xltool.sources.workbooks import read_all
from xltool.submission import Submission
from xltool.workbook.annotate import annotate as write_annotated

BATCH = 200  # files read and validated together (pandera costs ~20 ms a call)

Warn = Callable[[str], None]


def _quiet(_message: str) -> None:
    pass


def check(
    paths: list[Path],
    previous: Path | None = None,
    annotate: Path | None = None,
    warn: Warn = _quiet,
    *,
    assess: bool = False,
    expected: dict[str, str] | None = None,
) -> list[FileResult]:
    """Check every file; with ``previous``, also the cross-year rules (one file only); with
    ``annotate``, also write a highlighted, commented copy of the one input (never over it); with
    ``assess``, the assessment rules too. ``warn`` hears why the cross-year rules could not run
    (see :func:`compared_with`)."""
    if annotate is not None:
        _annotate_target(paths, annotate)
    results = [r for batch in batches(paths, previous, warn, assess=assess, expected=expected) for r in batch]
    if annotate is not None and results[0].submission is not None:
        write_annotated(Path(results[0].file), results[0].findings, annotate)
    return results


def batches(
    paths: list[Path],
    previous: Path | None = None,
    warn: Warn = _quiet,
    *,
    assess: bool = False,
    expected: dict[str, str] | None = None,
) -> Iterator[list[FileResult]]:
    """The results, :data:`BATCH` files at a time: one pandera call per batch, and a caller that
    prints each batch and lets it go checks any number of files in flat memory."""
    if previous is not None and len(paths) != 1:
        raise UsageError("--previous 只能和一个工作簿一起使用。")
    last = last_year(previous) if previous is not None else None
    for start in range(0, len(paths), BATCH):
        results = read_all(paths[start : start + BATCH])
        prior = None
        if last is not None and previous is not None and results[0].submission is not None:
            checking.same_family(results[0].submission, last)
            prior = compared_with(results[0].submission, last, previous, warn)
        # one workbook alone: the plain value rules, without loading pandas (the same verdicts)
        yield checking.evaluate(results, prior, batch=len(paths) > 1, assess=assess, expected=expected)


def compared_with(sub: Submission, last: Submission, path: Path, warn: Warn) -> Submission | None:
    """What the cross-year rules compare ``sub`` with: last year's report, or, when that is a merge
    summary, the unit's own row in it (a summary is compared with a summary). A unit the summary
    does not hold is checked without them, and ``warn`` is told why: this year's check stands on
    its own, and a unit that is new, renamed or was not merged last year has nothing to compare."""
    if sub.summary_units and not last.summary_units:
        raise UsageError(
            f"被检查的是汇总工作簿（{sub.summary_units} 个单位），而 {path} 是一个单位自己的年度报告：汇总数不能与一个单位比较。"
            "--previous 请用上年度的汇总工作簿。"
        )
    if sub.summary_units:
        return last
    own, reason = own_report(last, path, sub.unit_name)
    if own is None:
        warn(
            f"注意：{reason}，未核对上年结转等跨年度关系（一个单位不与汇总数比较）。"
            "若单位名称与上年不同，请改用该单位上年度自己的工作簿作 --previous。"
        )
    return own


def _annotate_target(paths: list[Path], target: Path) -> None:
    if len(paths) != 1:
        raise UsageError("--annotate 只能在检查一个工作簿时使用。")
    if target.suffix.lower() != ".xlsx":
        raise UsageError(f"标注副本必须以 .xlsx 结尾：{target}")
    if target.exists() and target.resolve() == paths[0].resolve():
        raise UsageError("标注副本不能覆盖被检查的工作簿，请另取一个文件名。")
    if not target.parent.is_dir():
        raise UsageError(f"无法写入 {target}：输出文件夹不存在。")
