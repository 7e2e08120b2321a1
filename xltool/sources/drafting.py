"""``xltool draft``: a copy of a workbook whose empty written parts hold drafts from its own figures.

The workbook is read and checked as ``check`` does; the drafts come from
:func:`xltool.documents.draft.draft`; the copy is the input with only the drafted cells, their
fill, the 填报说明 listing and the ``drafted`` property changed (:func:`xltool.workbook.annotate.write_texts`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from xltool.checks import check as checking
from xltool.documents import draft as drafts
from xltool.errors import InputFileError, OutputError, UsageError
from xltool.form.layout import DRAFT_FILL, INSTRUCTIONS_SHEET, for_spec, with_lines
from xltool.form.spec import FormSpec
from xltool.sources.previous import last_year
from xltool.sources.workbooks import read_all
from xltool.submission import DRAFTED_PROPERTY, Number, Submission, drafted_stamp, previous_numbers
from xltool.workbook.annotate import write_texts
from xltool.workbook.atomic import atomic_path

SHOWN = 5  # errors listed when drafting is refused


@dataclass(frozen=True)
class Drafted:
    path: Path | None
    draft: drafts.Draft = field(default_factory=drafts.Draft)
    refused: str | None = None  # why nothing was written (errors in the workbook)
    submission: Submission | None = None


def draft_workbook(
    workbook: Path,
    out: Path,
    *,
    previous: Path | None = None,
    unit_word: str | None = None,
    force: bool = False,
) -> Drafted:
    """Write ``out``: ``workbook`` with drafts in its empty text parts (and in parts still holding an
    unedited draft, which are drafted afresh). ``previous``: last year's workbook or summary (or
    published report), for the year-over-year clauses."""
    workbook, out = Path(workbook), Path(out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"草稿工作簿必须以 .xlsx 结尾：{out}")
    if out.exists() and workbook.exists() and out.resolve() == workbook.resolve():
        raise OutputError(f"输出文件 {out} 就是输入的工作簿，不能覆盖。请另选输出文件名。")
    if out.exists() and not force:
        raise UsageError(f"{out} 已存在。请换一个文件名，或加 --force 覆盖。")
    result = checking.evaluate(read_all([workbook]))[0]
    sub = result.submission
    if sub is None:
        raise InputFileError(str(workbook), result.findings[0].message)
    errors = [f for f in result.findings if f.severity == "error" and _about_figures(sub.spec, f.rule)]
    if errors and not force:
        lines = [
            f"{workbook} 有 {len(errors)} 个错误，未起草：草稿照表格的数字写，表格要先改对。"
            "请先改正（xltool check 可查看全部），或加 --force 照现有数字起草："
        ]
        lines += [f"  {f.rule} {f.sheet or ''}!{f.cell or ''} {f.message}" for f in errors[:SHOWN]]
        if len(errors) > SHOWN:
            lines.append(f"  ……另有 {len(errors) - SHOWN} 个错误")
        return Drafted(None, refused="\n".join(lines), submission=sub)
    last = _last_year(sub, previous) if previous is not None else None
    d = drafts.draft(sub, last, unit_word)
    if not d.texts:  # nothing to draft: the copy is the input itself
        with atomic_path(out) as tmp:
            shutil.copyfile(workbook, tmp)
        return Drafted(out, d, submission=sub)
    layout = for_spec(sub.spec)
    cells = {(layout.locate(k)[0].name, layout.locate(k)[1].address): text for k, text in d.texts.items()}
    listing = None
    if any(s.name == INSTRUCTIONS_SHEET for s in layout.sheets):
        sheet = layout.sheet(INSTRUCTIONS_SHEET)
        extended = with_lines(sheet, drafts.notes(sub.spec, d))
        listing = (sheet.name, extended.cells[len(sheet.cells) :], dict(extended.heights))
    properties = {DRAFTED_PROPERTY: drafted_stamp(d.texts)}
    write_texts(workbook, out, cells, fill=DRAFT_FILL, properties=properties, notes=listing)
    return Drafted(out, d, submission=sub)


def _about_figures(spec: FormSpec, rule_id: str) -> bool:
    """Whether a finding's rule concerns what the drafts are written from: not the empty sections
    drafting is for, nor the unit fields (kinds narrative, required, year)."""
    kind = next((r.kind for r in spec.rules if r.id == rule_id), None)
    return kind not in ("narrative", "required", "year")


def _last_year(sub: Submission, path: Path) -> dict[str, Number]:
    """Last year's figures under this form's keys: a unit against its own report, a summary against
    last year's summary (never one unit against a county's totals, nor the reverse)."""
    last = last_year(path)
    if last.year is None or (sub.year is not None and last.year != sub.year - 1):
        which = "“报告年度”未填写" if last.year is None else f"是 {last.year} 年度的"
        raise UsageError(f"{path} {which}，不是 {sub.year or '本'} 年的上一年度，无法同比。")
    if bool(sub.summary_units) != bool(last.summary_units):
        this, that = ("汇总工作簿", "单位自己的年度报告") if sub.summary_units else ("单位自己的年度报告", "汇总工作簿")
        raise UsageError(
            f"{path} 是{that}，而要起草的是{this}：同比只能与同一范围的上年数字比较。"
            "--previous 请用" + ("上年度的汇总工作簿。" if sub.summary_units else "本单位上年度的工作簿或年度报告。")
        )
    if not sub.spec.counterparts(last.spec):
        raise UsageError(
            f"{path} 是{last.spec.basis}表式，要起草的工作簿是{sub.spec.basis}表式，两者之间没有对应关系，无法同比。"
        )
    numbers, unknown = previous_numbers(sub.spec, last)
    return {k: v for k, v in numbers.items() if k not in unknown}


def text_lines(workbook: Path, drafted: Drafted) -> list[str]:
    """What the clerk reads on stderr: which parts were drafted and which remain to write."""
    sub = drafted.submission
    assert sub is not None
    spec, d = sub.spec, drafted.draft

    def names(keys: object) -> str:
        return "、".join(drafts.part_name(spec, k) for k in keys)  # type: ignore[attr-defined]

    lines = [f"已起草 {len(d.texts)} 个部分：{names(d.texts)}。请核对、补充后再使用。"] if d.texts else []
    if not d.texts:
        lines.append(f"{workbook} 没有可以根据数字起草的空白部分，已原样复制。")
    if d.to_write:
        lines.append(f"尚需撰写 {len(d.to_write)} 个部分：{names(d.to_write)}。")
    return lines
