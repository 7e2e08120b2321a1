"""What one year hands to the next: the carried 上年结转 and the unit information of this year's template.

From last year's own report (:func:`carry_over`) or, for every unit at once, from last year's merge
summary (:func:`summary_carry`). Last year's report may be on the form this year's replaced: cells
are matched through the definition (:meth:`FormSpec.counterparts`).
"""

from __future__ import annotations

from xltool.errors import UsageError
from xltool.form import spec as specs
from xltool.form.spec import FormSpec, leaves
from xltool.submission import Submission, Value, blank_values, previous_numbers
from xltool.summary import analytics
from xltool.text import normalise

# Unit information that normally stays the same from one year to the next.
KEPT_FIELDS = ("unit_name", "unit_type", "parent_unit", "credit_code")


def carry_over(spec: FormSpec, last: Submission, path: str) -> tuple[dict[str, Value], set[str]]:
    """Values for this year's template from last year's report (see :func:`last_report`), and the keys to lock.

    The carried row (rule CY-1: this year's 上年结转 = last year's 结转下年度继续办理) is locked so
    the two cannot disagree; unit information is pre-filled but stays editable.
    """
    rule = next(r for r in spec.rules if r.kind == "carry_over")
    table = rule.table or ""
    numbers, missing = previous_numbers(spec, last)
    assert last.year is not None
    values: dict[str, Value] = {"unit.report_year": last.year + 1}
    locked: set[str] = set()
    for block in spec.table(table).blocks:
        for col in leaves(block.columns):
            if col.node.derived:
                continue
            source = f"{table}.{rule.params['last']}.{col.key}"
            if source not in numbers:
                label = next(r.label for r in leaves(block.rows) if r.key == rule.params["this"])
                raise UsageError(f"{path} 是{last.spec.basis}表式，其中没有与本表式“{label}”对应的数字，无法预填。")
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


def summary_carry(spec: FormSpec, last: analytics.LastYear, path: str, year: int) -> dict[str, dict[str, Value]]:
    """Each unit's locked 上年结转 for this year's template (by normalised unit name), from last
    year's merge summary (``path`` names it in messages): its carry sheet as merge reads it back,
    each unit's row taken through :func:`carry_over` as if it were that unit's own report. Refused
    for a summary without that sheet (written by an older xltool): it keeps only each unit's totals."""
    if last.year != year - 1:
        raise UsageError(f"{path} 是 {last.year} 年度的汇总，不是 {year} 年的上一年度。")
    if not last.units or any(u.carry is None for u in last.units):
        raise UsageError(
            f"{path}：{analytics.OLD_SUMMARY}（缺少“{analytics.CARRY_SHEET}”工作表），无法逐个单位预填“上年结转”。"
            "请改用上一年度的收集文件夹，或用新版 xltool 重新汇总上一年度的报表后再试。"
        )
    out: dict[str, dict[str, Value]] = {}
    for unit in last.units:
        report = unit_report(last, unit.name, path)
        assert report is not None
        carried, locked = carry_over(spec, report, path)
        out[normalise(unit.name)] = {k: carried[k] for k in sorted(locked)}
    return out


def unit_report(last: analytics.LastYear, name: str, path: str) -> Submission | None:
    """One unit's own report last year as its merge summary keeps it (``path`` names the summary):
    its row of the carry sheet (上年结转 and 结转下年度, column by column), its name, type and year.
    Every other cell is unknown, so a rule that needs one is skipped: a unit is never compared with
    the summary's totals. None where the summary lists no such unit or keeps no per-column figures."""
    unit = next((u for u in last.units if u.name and normalise(u.name) == normalise(name)), None)
    if unit is None or unit.carry is None:
        return None
    old = specs.load(last.version) if last.version else specs.load()
    values: dict[str, Value] = {k: None for k in blank_values(old)}
    values |= dict(zip(analytics.carry(old).cells(), unit.carry, strict=True))
    values |= {"unit.unit_name": unit.name, "unit.unit_type": unit.unit_type or None, "unit.report_year": last.year}
    return Submission(old, path, values)


def not_in_summary(last: analytics.LastYear, name: str, path: str) -> str:
    """Why :func:`unit_report` found nothing for ``name``: the reason, naming the unit and the summary."""
    where = f"上年汇总 {path}（{last.unit}，{last.year} 年度，{len(last.units)} 个单位）"
    if not name.strip():
        return f"被检查的工作簿没有填写单位名称，无法在{where}中找到它"
    if any(normalise(u.name) == normalise(name) for u in last.units):
        return f"{where}：{analytics.OLD_SUMMARY}（缺少“{analytics.CARRY_SHEET}”工作表），无法取出“{name}”的结转数"
    return f"{where}中没有“{name}”"
