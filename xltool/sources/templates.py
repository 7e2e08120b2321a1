"""``xltool template``: choose the form, gather pre-filled values, write one or many templates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from xltool.errors import UsageError, XltoolError
from xltool.form import spec as specs
from xltool.form.spec import FormSpec
from xltool.sources import rosters
from xltool.sources.previous import last_report
from xltool.submission import Value
from xltool.summary.carry import carry_over
from xltool.summary.roster import Member
from xltool.text import safe_filename
from xltool.workbook import template

DEFAULT_NAME = "政府信息公开工作年度报告填报模板"


def default_filename(year: int | None, unit: str | None) -> str:
    stem = f"{unit or ''}{year or ''}{'年' if year else ''}{DEFAULT_NAME}"
    return safe_filename(stem) + ".xlsx"


def templates(
    output: Path | None,
    *,
    year: int | None = None,
    unit: str | None = None,
    previous: Path | None = None,
    roster: Path | None = None,
    form: str | None = None,
    force: bool = False,
    warn: Callable[[str], None] = lambda _message: None,
) -> list[Path]:
    """Write the template(s) and return their paths. The form follows the report year (this
    year's, or the one after ``previous``'s); ``form`` overrides it, with a warning to ``warn``
    when the year needs another form."""
    if roster is not None:
        spec = choose_form(year, form, warn)
        return _roster_templates(spec, output, roster, year=year, unit=unit, previous=previous, force=force)
    last = None
    if previous is not None:
        last = last_report(previous, year, unit)  # a summary: the unit's own row
        assert last.year is not None
        year = last.year + 1
    spec = choose_form(year, form, warn)
    values: dict[str, Value] = {}
    locked: set[str] = set()
    if year is not None:
        values["unit.report_year"] = year
    if unit:
        values["unit.unit_name"] = unit.strip()
    if previous is not None and last is not None:
        carried, carried_locked = carry_over(spec, last, str(previous))
        values = carried | values
        locked |= carried_locked
        year = int(str(values["unit.report_year"]))
        unit = str(values.get("unit.unit_name") or "") or None
    path = output if output is not None else Path(default_filename(year, unit))
    if path.is_dir():
        path = path / default_filename(year, unit)
    if path.suffix.lower() != ".xlsx":
        raise UsageError(f"输出文件必须以 .xlsx 结尾：{path}")
    if path.exists() and not force:
        raise UsageError(f"{path} 已存在。为免覆盖已填写的内容，请换一个文件名，或加 --force 覆盖。")
    template.write(path, spec, values, locked=locked)
    return [path]


def unit_template(
    path: Path,
    year: int,
    fields: dict[str, Value],
    previous: Path | None = None,
    carried: dict[str, Value] | None = None,
) -> Path:
    """One roster unit's template (as ``--roster`` writes it), its 上年结转 carried from ``previous``
    (the unit's own report last year, or its row of last year's summary) or given as ``carried`` (see :func:`xltool.summary.carry.summary_carry`).

    The roster's unit fields and the year are pre-filled and locked; what is carried over is locked
    as ``xltool template --previous`` locks it. Used by the portal for each unit's download.
    """
    spec = choose_form(year, None, lambda _message: None)
    values: dict[str, Value] = {**fields, "unit.report_year": year}
    locked = set(values)
    if carried:
        values = carried | values
        locked |= set(carried)
    if previous is not None:
        last = last_report(previous, year, str(fields.get("unit.unit_name") or ""))
        carried, carried_locked = carry_over(spec, last, str(previous))
        values = carried | values
        locked |= carried_locked
    template.write(path, spec, values, locked=locked)
    return path


def choose_form(year: int | None, form: str | None, warn: Callable[[str], None]) -> FormSpec:
    """The form of a report year (the current one without a year), or the one ``form`` names."""
    if year is not None and (year < 1990 or year > 2100):
        raise UsageError(f"报告年度 {year} 不是有效的年份，请填写四位年份，如 2024。")
    if form is not None and form not in specs.SPEC_FILES:
        raise UsageError(f"没有“{form}”表式。--form 可选：{forms_list()}。")
    if form is None:
        if year is None:
            return specs.load()
        try:
            return specs.for_year(year)
        except XltoolError:
            raise UsageError(f"报告年度 {year} 没有适用的表式。xltool 支持{specs.supported()}。") from None
    spec = specs.load(form)
    if year is not None and not spec.accepts_year(year):
        try:
            needed = f"应使用{specs.for_year(year).basis}表式"
        except XltoolError:
            needed = "没有适用的表式"
        warn(
            f"注意：{spec.basis}表式适用于 {spec.years}的年度报告，{year} 年度报告{needed}。"
            f"已按 --form {form} 生成{spec.basis}表式的模板，用它填报的 {year} 年度报告校验时会报错。"
        )
    return spec


def forms_list() -> str:
    """The --form choices: 2019（国办公开办函〔2019〕60号，2019—2020 年）、2021（…）"""
    return "、".join(f"{v}（{s.basis}，{s.years}）" for v, s in ((v, specs.load(v)) for v in specs.SPEC_FILES))


def _roster_templates(
    spec: FormSpec,
    output: Path | None,
    roster: Path,
    *,
    year: int | None,
    unit: str | None,
    previous: Path | None,
    force: bool,
) -> list[Path]:
    """One template per unit on the roster, its unit information pre-filled and locked."""
    if unit or previous is not None:
        raise UsageError("--roster 不能和 --unit 或 --previous 一起使用：名单中的每个单位各生成一份模板。")
    if output is None or output.suffix.lower() == ".xlsx" or (output.exists() and not output.is_dir()):
        raise UsageError("使用 --roster 时，请用 -o 指定一个输出文件夹（每个单位一份模板）。")
    members = rosters.load(roster, spec).members
    targets: dict[Path, Member] = {}
    for member in members:
        path = output / default_filename(year, member.name)
        if path in targets:
            raise UsageError(f"名单中“{targets[path].name}”和“{member.name}”的文件名相同（{path.name}），请修改名单。")
        targets[path] = member
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        shown = "、".join(p.name for p in existing[:3]) + (f" 等 {len(existing)} 个" if len(existing) > 3 else "")
        raise UsageError(f"{output} 中已有同名文件：{shown}。为免覆盖已填写的内容，请换一个文件夹，或加 --force 覆盖。")
    if not output.parent.is_dir():
        raise UsageError(f"无法写入 {output}：上级文件夹 {output.parent} 不存在。")
    output.mkdir(exist_ok=True)
    for path, member in targets.items():
        values = member.values() | ({"unit.report_year": year} if year is not None else {})
        template.write(path, spec, values, locked=values)
    return list(targets)
