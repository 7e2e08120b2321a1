"""Last year's report: what this year's template takes over from it, and what check compares.

Last year's report may be a workbook or, in the first year a unit uses xltool, the published
report itself (any format `xltool import` reads): it is imported in memory.
"""

from __future__ import annotations

from pathlib import Path

from xltool.errors import UsageError
from xltool.form.spec import FormSpec, leaves
from xltool.submission import Submission, Value, computed, unknown
from xltool.workbook.reader import read


def last_year(path: Path) -> Submission:
    """Last year's report as a submission: a workbook read, or a published report imported."""
    from xltool.importers.parsers import PARSERS

    if Path(path).suffix.lower() not in PARSERS:
        return read(path)
    from xltool.importers.run import as_submission

    return as_submission(Path(path))


# Unit information that normally stays the same from one year to the next.
KEPT_FIELDS = ("unit_name", "unit_type", "parent_unit", "credit_code")


def carry_over(spec: FormSpec, path: Path, year: int | None) -> tuple[dict[str, Value], set[str]]:
    """Values for this year's template from last year's workbook, and the keys to lock.

    The carried row (rule CY-1: this year's 上年结转 = last year's 结转下年度继续办理) is locked so
    the two cannot disagree; unit information is pre-filled but stays editable.
    """
    last = last_year(path)
    if last.year is None:
        raise UsageError(f"{path} 的“报告年度”未填写，无法确定它是哪一年的报告。")
    if year is not None and last.year != year - 1:
        raise UsageError(f"{path} 是 {last.year} 年度的报告，不是 {year} 年的上一年度。")
    rule = next(r for r in spec.rules if r.kind == "carry_over")
    table = rule.table or ""
    numbers, missing = computed(last.spec, last.values), unknown(last.spec, last.values)
    values: dict[str, Value] = {"unit.report_year": last.year + 1}
    locked: set[str] = set()
    for block in spec.table(table).blocks:
        for col in leaves(block.columns):
            if col.node.derived:
                continue
            source = f"{table}.{rule.params['last']}.{col.key}"
            if source in missing:
                label = next(r.label for r in leaves(block.rows) if r.key == rule.params["last"])
                raise UsageError(f"{path} 的“{label}”有单元格未正确填写，请先用 xltool check 检查并改正。")
            key = f"{table}.{rule.params['this']}.{col.key}"
            values[key] = numbers[source]
            locked.add(key)
    for name in KEPT_FIELDS:
        if last.values.get(f"unit.{name}"):
            values[f"unit.{name}"] = last.values[f"unit.{name}"]
    return values, locked
