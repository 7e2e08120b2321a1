"""``xltool import`` on files: parse each report (:mod:`xltool.importers.parsers`), read it
(:mod:`xltool.importers.pipeline`), write the template with those values, and check the workbook
exactly as ``xltool check`` does; the batch's 导入结果.xlsx and what the user sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xltool.checks import check as checking
from xltool.errors import InputFileError, UsageError, XltoolError
from xltool.form.layout import for_spec
from xltool.form.spec import FormSpec
from xltool.importers import parsers, pipeline
from xltool.importers.pipeline import Reading, read_document
from xltool.sources.workbooks import read_all
from xltool.submission import IMPORT_PROPERTY, UNSPLIT_PROPERTY, Submission
from xltool.text import safe_filename
from xltool.workbook import readback, template
from xltool.workbook.reader import read, sheet_rows

CHECKED_TOGETHER = 200  # workbooks checked in one pandera call (their submissions held until then)
SUMMARY_NAME = "导入结果.xlsx"
SUMMARY_SHEET = "导入结果"


@dataclass
class Outcome:
    reading: Reading
    workbook: Path | None = None
    result: checking.FileResult | None = None
    note: str | None = None  # what else happened: a workbook replaced, a repeat skipped, a second copy
    skipped: bool = False  # the same report was imported from another file of the batch: not written again
    conflict: bool = False  # another report of the same unit and year with other figures: both kept, check them

    @property
    def missing(self) -> dict[str, str]:
        return self.reading.placement.missing if self.reading.placement else {}

    @property
    def exit_code(self) -> int:
        if self.reading.refused:
            return 2
        if self.skipped:
            return 0
        if self.conflict or self.reading.problem or self.missing or self.result is None or not self.result.ok:
            return 1
        return 0


def read_report(path: Path, *, year: int | None = None, unit: str | None = None) -> Reading:
    """Parse and place one report (nothing written)."""
    try:
        doc = parsers.parse(path)
    except InputFileError as exc:
        return Reading(Path(path), refused=exc.reason)
    return read_document(doc, year=year, unit=unit)


def as_submission(path: Path) -> Submission:
    """A published report imported in memory (for --previous): its figures as a submission.

    Raises UsageError when the report cannot be imported or is not (all of) a report.
    """
    return pipeline.as_submission(read_report(path))


# ---------------------------------------------------------------- writing and checking


def import_reports(
    paths: list[Path], output: Path, *, year: int | None = None, unit: str | None = None, force: bool = False
) -> list[Outcome]:
    """Import every report: one workbook (``output`` a .xlsx) or a folder of them and a summary."""
    if not paths:
        raise UsageError("没有要导入的报告。")
    single = len(paths) == 1 and output.suffix.lower() == ".xlsx"
    if len(paths) > 1 and output.suffix.lower() == ".xlsx":
        raise UsageError("导入多份报告时，-o 应为一个文件夹（每份报告一个工作簿，另附导入结果.xlsx）。")
    if not single and output.exists() and not output.is_dir():
        raise UsageError(f"{output} 已存在且不是文件夹。")
    inputs = {p.resolve() for p in paths}
    readings = [read_report(p, year=year, unit=unit) for p in paths]
    plans = [_Plan(output)] if single else _plan(output, paths, readings)
    summary = [] if single else _previous_summary(output / SUMMARY_NAME, readings, force)
    for plan, reading in zip(plans, readings, strict=True):
        if plan.target.resolve() in inputs:
            raise UsageError(f"输出文件 {plan.target} 就是输入文件之一，导入不会覆盖输入，请换一个输出位置。")
        if plan.target.exists() and not plan.skipped and not force and _writable(reading):
            if _imported_from(plan.target) != reading.source.name:
                raise UsageError(f"{plan.target} 已存在。为免覆盖，请换一个输出位置，或加 --force 覆盖。")
            plan.notes.append("替换了上次从同一文件导入的工作簿。")
    parent = output.parent if single else output
    if single and not parent.is_dir():
        raise UsageError(f"无法写入 {output}：文件夹 {parent} 不存在。")
    if not single:
        if not output.parent.is_dir():
            raise UsageError(f"无法写入 {output}：上级文件夹 {output.parent} 不存在。")
        output.mkdir(exist_ok=True)
    outcomes = [_write(r, plan) for r, plan in zip(readings, plans, strict=True)]
    _check(outcomes)
    if not single:
        write_summary(output / SUMMARY_NAME, outcomes, summary)
    return outcomes


@dataclass
class _Plan:
    """Where one report goes, and what the user is told about it."""

    target: Path
    skipped: bool = False
    conflict: bool = False
    notes: list[str] = field(default_factory=list)


def _writable(reading: Reading) -> bool:
    return not (reading.refused or reading.spec is None or (reading.placement and reading.placement.problem))


def _plan(folder: Path, paths: list[Path], readings: list[Reading]) -> list[_Plan]:
    """Each report's workbook in the folder. A clerk who lists a report twice, or the same report in
    two formats, gets it once (the repeat is said and skipped); two reports of one unit and year
    with different figures are both written, the second with （2）, and the user is told to check."""
    out: list[_Plan] = []
    used: dict[str, int] = {}
    files: dict[Path, int] = {}
    for i, (path, r) in enumerate(zip(paths, readings, strict=True)):
        stem = safe_filename(f"{r.unit or r.source.stem}{r.year or ''}年报")
        first = files.setdefault(path.resolve(), i)
        if first != i:
            out.append(
                _Plan(
                    out[first].target, skipped=True, notes=[f"与 {readings[first].source} 是同一个文件，未重复导入。"]
                )
            )
            continue
        same = next((j for j, o in enumerate(out) if o.target.name == f"{stem}.xlsx" and not o.skipped), None)
        if same is not None and _writable(r) and _writable(readings[same]) and _figures(r) == _figures(readings[same]):
            note = f"与 {readings[same].source} 是同一份报告（单位、年度和各项数字都相同），未重复导入。"
            out.append(_Plan(out[same].target, skipped=True, notes=[note]))
            continue
        name, n = f"{stem}.xlsx", used.get(stem, 0) + 1
        if n > 1:
            name = f"{stem}（{n}）.xlsx"
        used[stem] = n
        plan = _Plan(folder / name)
        if same is not None and _writable(r):
            plan.conflict = True
            plan.notes.append(
                f"与 {readings[same].source} 同为{r.unit or ''}{r.year or ''}年度的报告，但数字不同，另存为 {name}；"
                "请核对哪一份是正式发布的报告。"
            )
        out.append(plan)
    return out


def _figures(reading: Reading) -> tuple[object, ...]:
    """A report's unit, year and table figures (what two copies of one report share, whatever their format)."""
    assert reading.spec is not None
    keys = [c.key for c in reading.spec.cells()]
    return (reading.unit, reading.year, [reading.values.get(k) for k in keys], sorted(reading.constants.items()))


def _imported_from(path: Path) -> str | None:
    """The report a workbook was imported from (None: not an imported workbook, or unreadable)."""
    try:
        return read(path).properties.get(IMPORT_PROPERTY)
    except XltoolError:
        return None


def _previous_summary(path: Path, readings: list[Reading], force: bool) -> list[tuple[object, ...]]:
    """The rows of an earlier import's 导入结果.xlsx in the same folder for reports not imported
    again now (kept, so the summary lists every report of the folder). Anything else by that name
    is not overwritten without --force."""
    if not path.exists() or force:
        return []
    try:
        rows = sheet_rows(path, [SUMMARY_SHEET]).get(SUMMARY_SHEET, [])
    except XltoolError:
        rows = []
    if not rows or tuple(rows[0][: len(SUMMARY_HEADER)]) != SUMMARY_HEADER:
        raise UsageError(f"{path} 已存在。为免覆盖，请换一个输出位置，或加 --force 覆盖。")
    again = {str(r.source) for r in readings}
    return [row for row in rows[1:] if row and str(row[0]) not in again]


def _properties(reading: Reading) -> dict[str, str]:
    return {IMPORT_PROPERTY: reading.source.name, UNSPLIT_PROPERTY: ",".join(sorted(reading.unsplit))}


def _write(reading: Reading, plan: _Plan) -> Outcome:
    note = " ".join(plan.notes) or None
    if plan.skipped or not _writable(reading):
        return Outcome(reading, note=note, skipped=plan.skipped)
    assert reading.spec is not None
    props = _properties(reading)
    template.write(plan.target, reading.spec, reading.values, properties=props, constants=reading.constants)
    return Outcome(reading, plan.target, note=note, conflict=plan.conflict)


def _check(outcomes: list[Outcome]) -> None:
    """Check every workbook written, exactly as ``xltool check`` checks the file, :data:`CHECKED_TOGETHER`
    at a time (one pandera call each). A workbook is read back in memory
    (:func:`~xltool.workbook.readback.as_read`, the same submission as reading the file), or from
    the file when that is not sure."""
    written = [o for o in outcomes if o.workbook is not None]
    for start in range(0, len(written), CHECKED_TOGETHER):
        batch = written[start : start + CHECKED_TOGETHER]
        results = checking.evaluate([_read_back(o) for o in batch])
        for outcome, result in zip(batch, results, strict=True):
            outcome.result = result


def _read_back(outcome: Outcome) -> checking.FileResult:
    r, path = outcome.reading, outcome.workbook
    assert r.spec is not None and path is not None
    sub = readback.as_read(path, r.spec, r.values, properties=_properties(r), constants=r.constants)
    return checking.FileResult(str(path), sub) if sub is not None else read_all([path])[0]


# ---------------------------------------------------------------- what the user sees


def cells_expected(spec: FormSpec) -> int:
    return len(spec.cells())


def where(spec: FormSpec, key: str) -> tuple[str, str, str]:
    sheet, cell = for_spec(spec).locate(key)
    return sheet.name, cell.address, cell.what


def verdict(o: Outcome) -> str:
    r = o.reading
    if o.skipped:
        return "未重复导入"
    if r.refused:
        return "无法导入"
    if r.placement is None or r.spec is None:
        return "无法导入"
    if r.placement.problem:
        return "不是可导入的年度报告"
    parts = []
    if r.problem:
        parts.append("原文不完整")
    if o.result is not None:
        parts.append(f"有 {o.result.errors} 个错误" if o.result.errors else "校验无错误")
        if o.result.warnings:
            parts.append(f"{o.result.warnings} 个提醒")
    if o.missing:
        parts.append(f"{len(o.missing)} 个单元格未能从原文读到")
    return "，".join(parts)


def text_lines(outcomes: list[Outcome]) -> list[str]:
    lines: list[str] = []
    for o in outcomes:
        r = o.reading
        unit = f"（{r.unit}）" if r.unit else ""
        mark = "✓" if o.exit_code == 0 else "✗"
        head = f"{mark} {r.source}{unit}：{verdict(o)}"
        if r.spec is not None and r.placement is not None and not r.placement.problem and not o.skipped:
            found = cells_expected(r.spec) - len(o.missing)
            head += f"；读到 {found}/{cells_expected(r.spec)} 个单元格"
        if o.workbook is not None:
            head += f" → {o.workbook}"
        lines.append(head)
        for message in (r.refused, r.problem, o.note):
            if message:
                lines.append(f"  {message}")
        if o.result is not None:
            lines.extend(_findings(o))
        if r.spec is not None and r.placement is not None and not r.placement.problem and not o.skipped:
            lines.extend(_missing_lines(r.spec, o.missing))
    failed = sum(o.exit_code != 0 for o in outcomes)
    skipped = sum(o.skipped for o in outcomes)
    if len(outcomes) > 1:
        repeats = f"（其中 {skipped} 份是重复的，未重复导入）" if skipped else ""
        lines.append(
            f"共 {len(outcomes)} 份报告：{len(outcomes) - failed} 份完整读入且无错误{repeats}，"
            f"{failed} 份有错误、缺失或无法导入。"
        )
    return lines


def _findings(o: Outcome) -> list[str]:
    """The check's lines, less the blank-cell errors of cells already listed as not read."""
    assert o.result is not None and o.reading.spec is not None
    unread = {where(o.reading.spec, k)[:2] for k in o.missing}
    shown = [f for f in o.result.findings if not (f.rule == "C-BLANK" and (f.sheet, f.cell) in unread)]
    kept = checking.FileResult(o.result.file, o.result.submission, shown)
    return list(checking.text_lines([kept]))[1:]


def _missing_lines(spec: FormSpec, missing: dict[str, str]) -> list[str]:
    """One line per row and reason: ``表!D16:J16 7.属于行政执法案卷：原因``."""
    groups: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for key, reason in missing.items():
        sheet, cell, what = where(spec, key)
        row = what.split("／")[0] if "／" in what else what.split("·")[0]
        groups.setdefault((sheet, row, reason), []).append((cell, what))
    lines = []
    for (sheet, row, reason), cells in groups.items():
        span = cells[0][0] if len(cells) == 1 else f"{cells[0][0]}:{cells[-1][0]}"
        label = cells[0][1] if len(cells) == 1 else f"{row}（{len(cells)} 个单元格）"
        lines.append(f"  未能从原文读到 {sheet}!{span} {label}：{reason}")
    return lines


def to_json(o: Outcome) -> dict:
    r = o.reading
    base = o.result.to_json() if o.result is not None else {"ok": False, "errors": 0, "warnings": 0, "findings": []}
    base["file"] = str(r.source)
    base["workbook"] = None if o.workbook is None else str(o.workbook)
    base["ok"] = o.exit_code == 0
    problem = r.refused or r.problem
    missing, sources = [], []
    if r.spec is not None and r.placement is not None:
        for key, reason in r.placement.missing.items():
            sheet, cell, what = where(r.spec, key)
            missing.append({"sheet": sheet, "cell": cell, "label": what, "reason": reason})
        for key, (text, at) in r.placement.sources.items():
            sheet, cell, _what = where(r.spec, key)
            entry: dict[str, str | int] = {"sheet": sheet, "cell": cell, "text": text, "where": at}
            origin = r.placement.origins.get(key)
            if origin is not None:
                entry |= {
                    "table": origin.table,
                    "row": origin.row,
                    "column": origin.column,
                    "row_label": origin.row_label,
                    "column_label": origin.column_label,
                    "printed": origin.text,
                }
            sources.append(entry)
    base["import"] = {
        "note": o.note,
        "skipped": o.skipped,
        "unit": r.unit,
        "year": r.year,
        "form": r.spec.form_version if r.spec else None,
        "problem": problem,
        "cells_found": (cells_expected(r.spec) - len(missing))
        if r.spec and r.placement and not r.placement.problem
        else 0,
        "cells_expected": cells_expected(r.spec) if r.spec else 0,
        "missing": missing,
        "sources": sources,
    }
    return base


SUMMARY_HEADER = (
    "来源文件",
    "单位名称",
    "报告年度",
    "表式",
    "读到的单元格",
    "表式的单元格",
    "结论",
    "错误数",
    "提醒数",
    "未能读到的内容",
)


def write_summary(path: Path, outcomes: list[Outcome], earlier: list[tuple[object, ...]] | None = None) -> None:
    """The batch's 导入结果.xlsx: a row per report (after ``earlier`` rows of the same folder's last import)."""
    rows: list[tuple[object, ...]] = list(earlier or [])
    for o in outcomes:
        r = o.reading
        expected = cells_expected(r.spec) if r.spec else 0
        found = expected - len(o.missing) if r.spec and r.placement and not r.placement.problem else 0
        missing = "；".join(f"{where(r.spec, k)[2]}" for k in list(o.missing)[:20]) if r.spec else ""
        if len(o.missing) > 20:
            missing += f" 等 {len(o.missing)} 个单元格"
        note = "；".join(x for x in (r.refused, r.problem, o.note) if x)
        rows.append(
            (
                str(r.source),
                r.unit or "",
                r.year if r.year is not None else "",
                r.spec.basis if r.spec else "",
                found,
                expected,
                verdict(o) + (f"：{note}" if note else ""),
                o.result.errors if o.result else 0,
                o.result.warnings if o.result else 0,
                missing,
            )
        )
    sheet = template.ExtraSheet(SUMMARY_SHEET, SUMMARY_HEADER, tuple(rows), (40, 30, 10, 22, 12, 12, 50, 8, 8, 80))
    template.write_table(path, sheet)
