"""``xltool render``: check a workbook, then write its document (refused while it has errors)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xltool.checks import check as checking
from xltool.documents import draft as drafts
from xltool.documents.render import render, writer_for
from xltool.errors import InputFileError, OutputError, UsageError
from xltool.sources.workbooks import read_all

SHOWN = 5  # findings listed when rendering is refused


@dataclass(frozen=True)
class Published:
    path: Path | None
    refused: str | None = None  # why nothing was written (errors in the workbook)


def publish(workbook: Path, out: Path, *, force: bool = False, allow_draft: bool = False) -> Published:
    """Check ``workbook`` and write its document to ``out``: refused while the workbook has errors
    (unless ``force``) or a part is unwritten or still an unedited draft (unless ``allow_draft``:
    then the document is stamped 〔草稿〕)."""
    writer_for(out)  # an unknown format is refused before any work
    if out.exists() and workbook.exists() and out.resolve() == workbook.resolve():
        raise OutputError(f"输出文件 {out} 就是输入的工作簿，不能覆盖。请另选输出文件名。")
    if out.exists() and not force:
        raise UsageError(f"{out} 已存在。请换一个文件名，或加 --force 覆盖。")
    result = checking.evaluate(read_all([workbook]), batch=False)[0]
    if result.submission is None:
        raise InputFileError(str(workbook), result.findings[0].message)
    if result.errors and not force:
        lines = [
            f"{workbook} 有 {result.errors} 个错误，未生成文档。请先改正（xltool check 可查看全部），或加 --force 强制生成："
        ]
        errors = [f for f in result.findings if f.severity == "error"]
        lines += [f"  {f.rule} {f.sheet or ''}!{f.cell or ''} {f.message}" for f in errors[:SHOWN]]
        if len(errors) > SHOWN:
            lines.append(f"  ……另有 {len(errors) - SHOWN} 个错误")
        return Published(None, "\n".join(lines))
    missing = drafts.unfinished(result.submission)
    if missing and not allow_draft:
        spec = result.submission.spec
        lines = [
            f"{workbook} 还有 {len(missing)} 个部分没有完成，未生成文档：年度报告的法定内容不能遗漏，草稿须经核对修改。"
        ]
        lines += [f"  {drafts.part_name(spec, key)}：{why}" for key, why in missing]
        lines.append(f"请补写、修改后重试；或加 --allow-draft 生成标注“{drafts.STAMP}”的草稿文档。")
        return Published(None, "\n".join(lines))
    return Published(render(result.submission, out))
