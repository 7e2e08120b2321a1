"""``xltool check``: read workbooks, validate them together, apply the form's rules."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xltool.checks import rules, schemas
from xltool.errors import InputFileError, UsageError
from xltool.form import spec as specs
from xltool.form.layout import SEVERITY_LABEL, for_spec, rowcol
from xltool.previous import last_year
from xltool.submission import Counted, Finding, Submission
from xltool.workbook.reader import annotate as write_annotated
from xltool.workbook.reader import read

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
BATCH = 200  # files read and validated together (pandera costs ~20 ms a call)


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


def unreadable(path: Path, exc: InputFileError) -> FileResult:
    rule = specs.load().rule("X-FILE")
    return FileResult(str(path), None, [Finding(rule.id, rule.severity, rule.message.format(reason=exc.reason))])


def read_all(paths: list[Path]) -> list[FileResult]:
    results = []
    for path in paths:
        try:
            results.append(FileResult(str(path), read(path)))
        except InputFileError as exc:
            results.append(unreadable(path, exc))
    return results


def evaluate(results: list[FileResult], previous: Submission | None = None) -> list[FileResult]:
    """Add schema and rule findings to every readable result (schemas validate the batch at once)."""
    readable = [r for r in results if r.submission is not None]
    value_findings = schemas.validate([r.submission for r in readable if r.submission is not None])
    for result, extra in zip(readable, value_findings, strict=True):
        assert result.submission is not None
        found = [*result.submission.findings, *extra, *rules.apply(result.submission, previous)]
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
            _same_family(results[0].submission, last)
        yield evaluate(results, last)


def _annotate_target(paths: list[Path], target: Path) -> None:
    if len(paths) != 1:
        raise UsageError("--annotate 只能在检查一个工作簿时使用。")
    if target.suffix.lower() != ".xlsx":
        raise UsageError(f"标注副本必须以 .xlsx 结尾：{target}")
    if target.exists() and target.resolve() == paths[0].resolve():
        raise UsageError("标注副本不能覆盖被检查的工作簿，请另取一个文件名。")
    if not target.parent.is_dir():
        raise UsageError(f"无法写入 {target}：输出文件夹不存在。")


def _same_family(sub: Submission, last: Submission) -> None:
    if sub.year is not None and last.year is not None and last.year != sub.year - 1:
        raise UsageError(
            f"--previous 指定的工作簿报告年度为 {last.year}，而被检查的工作簿为 {sub.year}，不是上一年度。"
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
