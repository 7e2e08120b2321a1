"""`xltool import` on the command line: outputs, exit codes, exact messages, --json, --previous."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from xltool.cli import app
from xltool.sources import importing as run
from xltool.workbook.reader import read

from .test_import_layouts import TITLE, render, sample_cells

runner = CliRunner()


def report(tmp_path: Path, name: str = "报告.txt", **changes: object) -> Path:
    values = sample_cells() | {k.replace("__", "."): v for k, v in changes.items()}
    path = tmp_path / name
    path.write_text(render(values, "pipes"), encoding="utf-8")
    return path


def test_one_report_to_a_workbook(tmp_path: Path) -> None:
    src, out = report(tmp_path), tmp_path / "导入.xlsx"
    result = runner.invoke(app, ["import", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # no 提醒: a published report never prints 填报人, 联系电话 …, so the imported workbook is not
    # warned about them (M-RECOMMENDED), and sections printed without part headings get no N-PART
    assert lines[0] == f"✓ {src}（某某县某某局）：校验无错误；读到 200/200 个单元格 → {out}"
    sub = read(out)
    assert sub.values["unit.unit_name"] == "某某县某某局" and sub.year == 2023
    assert sub.values["t3.new.natural"] == sample_cells()["t3.new.natural"]
    assert sub.properties["import_source"] == "报告.txt"
    assert sub.unsplit_sections == {"s1", "s6"}
    again = runner.invoke(app, ["check", str(out)])  # the workbook checks as import said
    assert again.stdout.splitlines()[1:] == lines[1:]


def test_disagreeing_total_is_kept_as_printed(tmp_path: Path) -> None:
    src, out = report(tmp_path, t3__new__total=27), tmp_path / "o.xlsx"
    result = runner.invoke(app, ["import", str(src), "-o", str(out)])
    assert result.exit_code == 1
    assert (
        "  错误 T3-2 三、收到和处理政府信息公开申请情况!J6 一、本年新收政府信息公开申请数量：总计填报为 27，"
        "按各类申请人相加应为 26。请恢复总计公式或改正数字。" in result.stdout.splitlines()
    )
    assert read(out).reported["t3.new.total"] == 27


def test_unit_and_year_options_win(tmp_path: Path) -> None:
    out = tmp_path / "o.xlsx"
    result = runner.invoke(
        app, ["import", str(report(tmp_path)), "-o", str(out), "--unit", "另一单位", "--year", "2024"]
    )
    assert result.exit_code == 0
    assert (read(out).unit_name, read(out).year) == ("另一单位", 2024)


def test_several_reports_to_a_folder(tmp_path: Path) -> None:
    a = report(tmp_path, "a.txt")
    b = report(tmp_path, "b.txt", t3__new__total=99)
    bad = tmp_path / "c.txt"
    bad.write_text("会议纪要\n今天开会。\n", encoding="utf-8")
    out = tmp_path / "结果"
    result = runner.invoke(app, ["import", str(a), str(b), str(bad), "-o", str(out)])
    assert result.exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == [
        "导入结果.xlsx",
        "某某县某某局2023年报.xlsx",
        "某某县某某局2023年报（2）.xlsx",
    ]
    assert result.stdout.splitlines()[-1] == "共 3 份报告：1 份完整读入且无错误，2 份有错误、缺失或无法导入。"
    second = f"与 {a} 同为某某县某某局2023年度的报告，但数字不同，另存为 某某县某某局2023年报（2）.xlsx；请核对哪一份是正式发布的报告。"
    assert f"  {second}" in result.stdout.splitlines()
    rows = list(openpyxl.load_workbook(out / "导入结果.xlsx")["导入结果"].iter_rows(values_only=True))
    assert rows[0] == (
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
    assert rows[1][:6] == (str(a), "某某县某某局", 2023, "国办公开办函〔2021〕30号", 200, 200)
    assert rows[2][6:9] == (f"有 1 个错误：{second}", 1, 0)
    assert (
        rows[3][6]
        == "不是可导入的年度报告：没有找到政府信息公开工作年度报告的表格（第二、三、四部分），这可能不是年度报告。"
    )


def test_not_a_report_exits_1_and_says_so(tmp_path: Path) -> None:
    src = tmp_path / "通知.txt"
    src.write_text("关于做好冬季防火工作的通知\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(src), "-o", str(tmp_path / "o.xlsx")])
    assert result.exit_code == 1
    assert result.stdout == (
        f"✗ {src}：不是可导入的年度报告\n"
        "  没有找到政府信息公开工作年度报告的表格（第二、三、四部分），这可能不是年度报告。\n"
    )
    assert not (tmp_path / "o.xlsx").exists()


def test_unreadable_formats_exit_2(tmp_path: Path) -> None:
    doc = tmp_path / "报告.doc"
    doc.write_bytes(b"\xd0\xcf\x11\xe0")
    result = runner.invoke(app, ["import", str(doc), "-o", str(tmp_path / "o.xlsx")])
    assert result.exit_code == 2
    assert result.stdout == (
        f"✗ {doc}：无法导入\n"
        "  不能导入 .doc 文件（可导入 .docx、.htm、.html、.md、.pdf、.txt；.doc 请先用 Word 或 WPS 另存为 .docx）。\n"
    )
    binary = tmp_path / "x.txt"
    binary.write_bytes(b"\x00\x01\x02")
    result = runner.invoke(app, ["import", str(binary), "-o", str(tmp_path / "o.xlsx")])
    assert result.exit_code == 2
    assert "不是文本文件（含有二进制内容）。请导入网页、Word、PDF 或纯文本文件。" in result.stdout


def test_existing_output_and_inputs_are_kept(tmp_path: Path) -> None:
    src, out = report(tmp_path), tmp_path / "o.xlsx"
    out.write_bytes(b"keep")
    result = runner.invoke(app, ["import", str(src), "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr == f"错误：{out} 已存在。为免覆盖，请换一个输出位置，或加 --force 覆盖。\n"
    assert out.read_bytes() == b"keep"
    assert runner.invoke(app, ["import", str(src), "-o", str(out), "--force"]).exit_code == 0
    many = runner.invoke(app, ["import", str(src), str(src.with_name("x.txt")), "-o", str(tmp_path / "a.xlsx")])
    assert many.exit_code == 2
    assert many.stderr == "错误：导入多份报告时，-o 应为一个文件夹（每份报告一个工作簿，另附导入结果.xlsx）。\n"


def test_json(tmp_path: Path) -> None:
    src = report(tmp_path, t2__license__decisions="—")
    out = tmp_path / "o.xlsx"
    src.write_text(src.read_text(encoding="utf-8").replace("行政许可 | 0 |", "行政许可 | — |"), encoding="utf-8")
    result = runner.invoke(app, ["import", str(src), "-o", str(out), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    item = data["files"][0]
    assert (item["file"], item["workbook"], item["ok"]) == (str(src), str(out), False)
    imp = item["import"]
    assert (imp["cells_found"], imp["cells_expected"], imp["form"], imp["year"]) == (199, 200, "2021", 2023)
    assert imp["missing"] == [
        {
            "sheet": "二、主动公开政府信息情况",
            "cell": "B9",
            "label": "行政许可／本年处理决定数量",
            "reason": "原文为“—”，不能确定是 0 还是未填写",
        }
    ]
    source = next(s for s in imp["sources"] if s["cell"] == "J6" and s["sheet"].startswith("三"))
    assert source == {  # the table, row and column the figure came from, and the labels that placed it
        "sheet": "三、收到和处理政府信息公开申请情况",
        "cell": "J6",
        "text": "一、本年新收政府信息公开申请数量 | 26 | 0 | 0 | 0 | 0 | 0 | 26 |",
        "where": "第 21 行",
        "table": "第 4 行起的表格",
        "row": 14,
        "column": 8,
        "row_label": "一、本年新收政府信息公开申请数量",
        "column_label": "总计",
        "printed": "26",
    }
    assert [f["rule"] for f in item["findings"] if f["severity"] == "error"] == ["C-BLANK"]


def test_template_and_check_take_a_published_report_as_last_year(tmp_path: Path) -> None:
    last = report(tmp_path, "上年.txt", t3__carry_out__natural=3, t3__carry_out__total=3)
    out = tmp_path / "本年.xlsx"
    result = runner.invoke(app, ["template", "--previous", str(last), "-o", str(out)])
    assert result.exit_code == 0, result.output
    sub = read(out)
    assert (sub.year, sub.unit_name, sub.values["t3.carry_in.natural"]) == (2024, "某某县某某局", 3)
    checked = runner.invoke(app, ["check", str(out), "--previous", str(last)])
    assert "错误 CY-1 三、收到和处理政府信息公开申请情况!D7" not in checked.stdout
    wrong = tmp_path / "错年.txt"
    wrong.write_text(
        last.read_text(encoding="utf-8").replace(TITLE, "某某县某某局2021年政府信息公开工作年度报告"), "utf-8"
    )
    refused = runner.invoke(app, ["check", str(out), "--previous", str(wrong)])
    assert refused.exit_code == 2
    assert refused.stderr == "错误：--previous 指定的工作簿报告年度为 2021，而被检查的工作簿为 2024，不是上一年度。\n"
    notes = tmp_path / "通知.txt"
    notes.write_text("通知\n", encoding="utf-8")
    bad = runner.invoke(app, ["template", "--previous", str(notes), "-o", str(tmp_path / "x.xlsx")])
    assert bad.exit_code == 2
    assert bad.stderr == (
        f"错误：{notes} 不能作为上年度报告使用：没有找到政府信息公开工作年度报告的表格（第二、三、四部分），这可能不是年度报告。\n"
    )


def test_oversized_input_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "大.html"
    with big.open("wb") as f:
        f.truncate(60 * 1024 * 1024)  # sparse: no 60 MB written
    result = runner.invoke(app, ["import", str(big), "-o", str(tmp_path / "o.xlsx")])
    assert result.exit_code == 2
    assert "  文件有 60 MB，超过了 50 MB 的上限，不像是一份年度报告。" in result.stdout.splitlines()


def test_format_without_its_parser(tmp_path: Path, monkeypatch: object) -> None:
    from xltool.importers import parsers

    monkeypatch.setitem(parsers.PARSERS, ".pdf", "xltool.importers.no_such_parser")  # type: ignore[attr-defined]
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    result = runner.invoke(app, ["import", str(pdf), "-o", str(tmp_path / "o.xlsx")])
    assert result.exit_code == 2
    assert "  这个版本的 xltool 还不能读取PDF（.pdf）文件。" in result.stdout.splitlines()


def test_a_batch_with_a_report_that_cannot_be_imported_exits_2_like_check(tmp_path: Path) -> None:
    """As `xltool check` does with one unreadable workbook among many: every other report is imported,
    written and listed, the one that cannot be is reported, and the run exits 2."""
    good = report(tmp_path, "a.txt")
    old = tmp_path / "b.txt"
    old.write_text(good.read_text(encoding="utf-8").replace("2023年", "2017年"), encoding="utf-8")
    out = tmp_path / "结果"
    result = runner.invoke(app, ["import", str(good), str(old), "-o", str(out)])
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"✓ {good}（某某县某某局）：校验无错误")
    assert f"✗ {old}（某某县某某局）：无法导入" in lines
    assert lines[-1] == "共 2 份报告：1 份完整读入且无错误，1 份有错误、缺失或无法导入。"
    assert sorted(p.name for p in out.iterdir()) == ["导入结果.xlsx", "某某县某某局2023年报.xlsx"]
    rows = list(openpyxl.load_workbook(out / "导入结果.xlsx")["导入结果"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [str(good), str(old)]
    assert rows[2][6] == (
        "无法导入：这是 2017 年度的报告，没有适用的表式，无法导入。xltool 支持国办公开办函〔2019〕60号表式"
        "（2019—2020 年的年度报告）、国办公开办函〔2021〕30号表式（2021 年及以后的年度报告）。"
    )
    bad = tmp_path / "c.xlsx"
    bad.write_bytes(b"")
    checked = runner.invoke(app, ["check", str(out / "某某县某某局2023年报.xlsx"), str(bad)])
    assert checked.exit_code == result.exit_code


def test_a_report_on_another_form_than_its_year_imports_into_the_form_it_prints(tmp_path: Path) -> None:
    """A 2020 report printed on the 2021 form (seen in published reports): imported as printed, and
    check says which form the year needs, instead of a refusal."""
    source = report(tmp_path, "a.txt")
    wrong = tmp_path / "b.txt"
    wrong.write_text(source.read_text(encoding="utf-8").replace("2023年", "2020年"), encoding="utf-8")
    out = tmp_path / "b.xlsx"
    result = runner.invoke(app, ["import", str(wrong), "-o", str(out), "--json"])
    assert result.exit_code == 1
    entry = json.loads(result.stdout)["files"][0]
    assert (entry["import"]["form"], entry["import"]["year"]) == ("2021", 2020)
    assert [f["rule"] for f in entry["findings"] if f["severity"] == "error"] == ["M-YEAR"]


def test_importing_again_into_the_same_folder_replaces_what_the_same_report_gave(tmp_path: Path) -> None:
    """A clerk runs the same import twice (or adds reports to the folder later): each report's
    workbook is replaced and says so; 导入结果.xlsx lists every report of the folder once."""
    a, b = report(tmp_path, "a.txt"), report(tmp_path, "b.txt", unit="x")
    b.write_text(b.read_text(encoding="utf-8").replace("某某县某某局", "某某县另一局"), encoding="utf-8")
    out = tmp_path / "结果"
    assert runner.invoke(app, ["import", str(a), "-o", str(out)]).exit_code == 0
    again = runner.invoke(app, ["import", str(a), str(b), "-o", str(out)])
    assert again.exit_code == 0, again.output
    lines = again.stdout.splitlines()
    assert lines[0].startswith(
        f"✓ {a}（某某县某某局）：校验无错误；读到 200/200 个单元格 → {out / '某某县某某局2023年报.xlsx'}"
    )
    assert lines[1] == "  替换了上次从同一文件导入的工作簿。"
    assert sorted(p.name for p in out.iterdir()) == [
        "导入结果.xlsx",
        "某某县另一局2023年报.xlsx",
        "某某县某某局2023年报.xlsx",
    ]
    rows = list(openpyxl.load_workbook(out / "导入结果.xlsx")["导入结果"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [str(a), str(b)]
    # a workbook of another report in the way is not overwritten
    other = tmp_path / "c.txt"
    other.write_text(a.read_text(encoding="utf-8").replace("| 26 |", "| 27 |", 1), encoding="utf-8")
    refused = runner.invoke(app, ["import", str(other), "-o", str(out)])
    assert refused.exit_code == 2
    assert (
        refused.stderr
        == f"错误：{out / '某某县某某局2023年报.xlsx'} 已存在。为免覆盖，请换一个输出位置，或加 --force 覆盖。\n"
    )


def test_the_same_report_twice_in_a_batch_is_imported_once(tmp_path: Path) -> None:
    """Listed twice, or saved twice under two names: one workbook, the repeat said and skipped."""
    a = report(tmp_path, "a.txt")
    copy = tmp_path / "a-copy.txt"
    copy.write_text(a.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "结果"
    result = runner.invoke(app, ["import", str(a), str(copy), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["files"]
    assert [(f["workbook"], f["import"]["skipped"]) for f in files] == [
        (str(out / "某某县某某局2023年报.xlsx"), False),
        (None, True),
    ]
    assert files[1]["import"]["note"] == f"与 {a} 是同一份报告（单位、年度和各项数字都相同），未重复导入。"
    twice = run.import_reports([a, a], tmp_path / "twice")  # the command line lists a file once; the API may not
    assert [(o.skipped, o.note) for o in twice] == [(False, None), (True, f"与 {a} 是同一个文件，未重复导入。")]
    assert sorted(p.name for p in out.iterdir()) == ["导入结果.xlsx", "某某县某某局2023年报.xlsx"]
    text = runner.invoke(app, ["import", str(a), str(copy), "-o", str(tmp_path / "again")])
    assert (
        text.stdout.splitlines()[-1]
        == "共 2 份报告：2 份完整读入且无错误（其中 1 份是重复的，未重复导入），0 份有错误、缺失或无法导入。"
    )


def test_imported_workbooks_are_not_warned_about_what_reports_never_print(tmp_path: Path) -> None:
    out = tmp_path / "o.xlsx"
    assert runner.invoke(app, ["import", str(report(tmp_path)), "-o", str(out)]).exit_code == 0
    checked = runner.invoke(app, ["check", str(out), "--json"])
    rules = [f["rule"] for f in json.loads(checked.stdout)["files"][0]["findings"]]
    assert "M-RECOMMENDED" not in rules
    blank = tmp_path / "空白.xlsx"
    assert runner.invoke(app, ["template", "-o", str(blank)]).exit_code == 0
    rules = [
        f["rule"]
        for f in json.loads(runner.invoke(app, ["check", str(blank), "--json"]).stdout)["files"][0]["findings"]
    ]
    assert "M-RECOMMENDED" in rules  # a workbook filled by hand still is
