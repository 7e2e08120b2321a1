"""CLI outputs that write files: check --annotate and render. Inputs are never modified."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from xltool.cli import app
from xltool.workbook.annotate import ANNOTATION_SHEET

from .conftest import ROOT

runner = CliRunner()
VALID = ROOT / "samples" / "沭阳县发展和改革局2023年报.xlsx"
BROKEN = ROOT / "samples" / "invalid" / "勾稽不平.xlsx"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_annotate_highlights_and_comments_every_finding(tmp_path: Path) -> None:
    before = digest(BROKEN)
    out = tmp_path / "标注.xlsx"
    result = runner.invoke(app, ["check", str(BROKEN), "--annotate", str(out)])
    assert result.exit_code == 1
    assert result.stderr == f"已另存标注副本：{out}\n"
    assert digest(BROKEN) == before
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == ANNOTATION_SHEET
    rows = list(wb[ANNOTATION_SHEET].iter_rows(values_only=True))
    assert rows[0] == ("严重程度", "规则", "工作表", "单元格", "说明")
    assert [(r[1], r[3]) for r in rows[1:]] == [
        ("T3-2", "J6"),
        ("T3-1", "D30"),
        ("T3-1", "E30"),
        ("T3-1", "J30"),
        ("T4-1", "E6"),
    ]
    j6 = wb["三、收到和处理政府信息公开申请情况"]["J6"]
    assert j6.fill.fgColor.rgb.endswith("FFC7CE")
    assert (
        j6.comment.text
        == "错误 T3-2：一、本年新收政府信息公开申请数量：总计填报为 30，按各类申请人相加应为 26。请恢复总计公式或改正数字。"
    )


def test_annotate_refuses_to_overwrite_the_input(tmp_path: Path) -> None:
    copy = tmp_path / "a.xlsx"
    copy.write_bytes(BROKEN.read_bytes())
    result = runner.invoke(app, ["check", str(copy), "--annotate", str(copy)])
    assert result.exit_code == 2
    assert result.stderr == "错误：标注副本不能覆盖被检查的工作簿，请另取一个文件名。\n"
    assert copy.read_bytes() == BROKEN.read_bytes()


def test_annotate_needs_exactly_one_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(VALID), str(BROKEN), "--annotate", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2
    assert result.stderr == "错误：--annotate 只能在检查一个工作簿时使用。\n"


def test_render_html_from_a_valid_workbook(tmp_path: Path) -> None:
    before = digest(VALID)
    out = tmp_path / "年报.html"
    result = runner.invoke(app, ["render", str(VALID), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}\n"
    html = out.read_text(encoding="utf-8")
    assert "<h1>沭阳县发展和改革局2023年政府信息公开工作年度报告</h1>" in html
    assert html.count("<table") == 3  # tables 二, 三, 四
    assert ">26<" in html and "统计期限为2023年1月1日至2023年12月31日" in html
    assert digest(VALID) == before


@pytest.mark.slow
def test_render_refuses_a_workbook_with_errors(tmp_path: Path) -> None:
    out = tmp_path / "年报.docx"
    result = runner.invoke(app, ["render", str(BROKEN), "-o", str(out)])
    assert result.exit_code == 1
    assert (
        result.stderr.splitlines()[0]
        == f"{BROKEN} 有 5 个错误，未生成文档。请先改正（xltool check 可查看全部），或加 --force 强制生成："
    )
    assert result.stderr.splitlines()[1].startswith("  T3-2 三、收到和处理政府信息公开申请情况!J6 ")
    assert not out.exists()
    forced = runner.invoke(app, ["render", str(BROKEN), "-o", str(out), "--force"])
    assert forced.exit_code == 0 and out.exists()


def test_render_bad_options(tmp_path: Path) -> None:
    result = runner.invoke(app, ["render", str(VALID), "-o", str(tmp_path / "x.pdf")])
    assert (result.exit_code, result.stderr) == (
        2,
        "错误：无法识别输出文件“x.pdf”的格式：成文文件的扩展名应为 .docx、.html 或 .md。\n",
    )
    existing = tmp_path / "y.md"
    existing.write_text("已编辑过的文档")
    result = runner.invoke(app, ["render", str(VALID), "-o", str(existing)])
    assert (result.exit_code, result.stderr) == (2, f"错误：{existing} 已存在。请换一个文件名，或加 --force 覆盖。\n")
    assert existing.read_text() == "已编辑过的文档"
    missing = tmp_path / "无此文件.xlsx"
    result = runner.invoke(app, ["render", str(missing), "-o", str(tmp_path / "z.md")])
    assert (result.exit_code, result.stderr) == (2, f"错误：{missing}：文件不存在。请检查文件名和路径。\n")


def test_a_merged_summary_renders(tmp_path: Path) -> None:
    """The county's own report starts from its summary."""
    summary = tmp_path / "汇总.xlsx"
    merged = runner.invoke(
        app, ["merge", str(ROOT / "samples" / "county" / "报表"), "-o", str(summary), "--unit", "青禾县人民政府"]
    )
    assert merged.exit_code == 1  # the sample county has one workbook with errors, left out
    out = tmp_path / "汇总.html"
    refused = runner.invoke(app, ["render", str(summary), "-o", str(out)])
    assert refused.exit_code == 1 and not out.exists()  # its drafts and its parts still to write (test_draft.py)
    result = runner.invoke(app, ["render", str(summary), "-o", str(out), "--allow-draft"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert '<p class="stamp">〔草稿〕</p>' in html
    assert "<h1>青禾县人民政府2023年政府信息公开工作年度报告</h1>" in html
    from xltool.submission import computed
    from xltool.workbook.reader import read

    sub = read(summary)
    new_total = computed(sub.spec, sub.values)["t3.new.total"]
    assert new_total == 56 and f">{new_total}<" in html
