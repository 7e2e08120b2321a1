"""Bad input: a clear Chinese message on stderr, exit code 2, never a traceback. One test per kind."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from xltool.cli import app
from xltool.workbook.files import ENCRYPTED, NOT_XLSX, OLD_FORMAT, OLE_MAGIC

from .sample_data import CHEPAIZI, TOWN_2020, write_valid

runner = CliRunner()


def run_check(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def assert_unreadable(path: Path, reason: str) -> None:
    code, out, err = run_check(str(path))
    assert code == 2
    assert out == f"✗ {path}：无法读取\n  错误 X-FILE - {reason}\n"
    assert "Traceback" not in out + err


def test_missing_file(tmp_path: Path) -> None:
    assert_unreadable(tmp_path / "没有.xlsx", "文件不存在。请检查文件名和路径。")


def test_directory_where_a_file_was_expected(tmp_path: Path) -> None:
    good = write_valid(tmp_path / "a.xlsx", CHEPAIZI)
    folder = tmp_path / "folder"
    folder.mkdir()
    result = runner.invoke(app, ["check", str(good), "--previous", str(folder)])
    assert result.exit_code == 2
    assert result.stderr == f"错误：{folder}：这是一个文件夹，不是文件。\n"


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "空.xlsx"
    path.write_bytes(b"")
    assert_unreadable(path, "文件是空的（0 字节），可能没有保存成功。请重新保存后再试。")


def test_text_renamed_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "改名.xlsx"
    path.write_text("单位名称,新收\n甲镇,3\n", encoding="utf-8")
    assert_unreadable(path, NOT_XLSX)


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "压缩包.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert_unreadable(path, "是压缩文件，但不是 Excel 工作簿（.xlsx）。请使用 xltool 模板填写并保存为 .xlsx。")


def test_truncated_workbook(tmp_path: Path) -> None:
    good = write_valid(tmp_path / "good.xlsx", CHEPAIZI)
    path = tmp_path / "半截.xlsx"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert_unreadable(
        path, "文件已损坏，无法打开。请在 WPS 或 Excel 中打开并重新保存；打不开的，请向填报单位重新索取。"
    )


@pytest.mark.parametrize("suffix", [".xls", ".et"])
def test_old_binary_formats(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"旧格式{suffix}"
    path.write_bytes(OLE_MAGIC + b"\x00" * 504 + "Workbook".encode("utf-16-le"))
    assert_unreadable(path, OLD_FORMAT)


def test_old_format_renamed_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "其实是xls.xlsx"
    path.write_bytes(OLE_MAGIC + b"\x00" * 504 + "Workbook".encode("utf-16-le"))
    assert_unreadable(path, OLD_FORMAT)


def test_ods_and_csv(tmp_path: Path) -> None:
    ods = tmp_path / "表.ods"
    with zipfile.ZipFile(ods, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    assert_unreadable(
        ods,
        "这是 OpenDocument 表格（.ods），xltool 只能读取 .xlsx。请在 LibreOffice 中用“文件 → 另存为”，文件类型选“Excel 2007-365 (.xlsx)”，保存后再试。",
    )
    csv = tmp_path / "表.csv"
    csv.write_text("a,b\n", encoding="utf-8")
    assert_unreadable(csv, "这是 CSV 文本文件，没有模板的表格结构，无法校验。请使用 xltool 生成的模板（.xlsx）填写。")


def test_encrypted_workbook(tmp_path: Path) -> None:
    # Office stores a password-protected .xlsx as an OLE container with an EncryptionInfo stream.
    path = tmp_path / "加密.xlsx"
    path.write_bytes(OLE_MAGIC + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 64)
    assert_unreadable(path, ENCRYPTED)


def test_really_encrypted_workbook(tmp_path: Path) -> None:
    """A workbook encrypted with a password the way Excel and WPS do it (agile encryption)."""
    import msoffcrypto

    good = write_valid(tmp_path / "good.xlsx", CHEPAIZI)
    path = tmp_path / "有密码.xlsx"
    with good.open("rb") as src, path.open("wb") as dst:
        msoffcrypto.OfficeFile(src).encrypt("123456", dst)
    assert_unreadable(path, ENCRYPTED)


def test_zip_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    path = tmp_path / "炸弹.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            chunk = b"\x00" * (1 << 20)
            for _ in range(210):
                fh.write(chunk)
    assert path.stat().st_size < 2 << 20
    assert_unreadable(path, "文件解压后异常庞大（210 MB，3 个部件），疑似恶意构造的文件，已拒绝读取。")


def test_xml_entity_attack(tmp_path: Path) -> None:
    good = write_valid(tmp_path / "good.xlsx", CHEPAIZI)
    path = tmp_path / "实体.xlsx"
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = laughs.encode() + data.split(b"?>", 1)[1]
            dst.writestr(item, data)
    assert_unreadable(path, "文件包含不安全的 XML 内容（实体或文档类型声明），已拒绝读取。")


def test_workbook_not_from_our_template(tmp_path: Path) -> None:
    path = tmp_path / "别人的表.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "政府信息公开工作年度报告"
    wb.save(path)
    assert_unreadable(
        path,
        "不是用 xltool 模板填写的工作簿（没有模板标识，表格结构也对不上）。请使用 xltool template 生成的模板填写。",
    )


def test_newer_form_version(tmp_path: Path) -> None:
    from openpyxl.packaging.custom import StringProperty

    path = write_valid(tmp_path / "新版.xlsx", CHEPAIZI)
    wb = openpyxl.load_workbook(path)
    props = wb.custom_doc_props
    for prop in list(props.props):
        if prop.name == "xltool.form_version":
            props.props.remove(prop)
    props.append(StringProperty(name="xltool.form_version", value="2031"))
    wb.save(path)
    assert_unreadable(
        path,
        "模板的表式版本为“2031”，这个版本的 xltool 不认识（可能是更新版本的模板）。请升级 xltool，或使用当前版本的模板重新填写。",
    )


def test_renamed_table_sheet(tmp_path: Path) -> None:
    path = write_valid(tmp_path / "改名.xlsx", CHEPAIZI)
    wb = openpyxl.load_workbook(path)
    wb["三、收到和处理政府信息公开申请情况"].title = "表三"
    wb.save(path)
    assert_unreadable(
        path,
        "缺少工作表“三、收到和处理政府信息公开申请情况”，可能被删除或改名（现有的“表三”可能是它被改名后的结果）。请把工作表名称改回原样，或使用原模板重新填写。",
    )


def test_deleted_table_sheet(tmp_path: Path) -> None:
    path = write_valid(tmp_path / "删表.xlsx", CHEPAIZI)
    wb = openpyxl.load_workbook(path)
    del wb["四、政府信息公开行政复议、行政诉讼情况"]
    wb.save(path)
    assert_unreadable(
        path,
        "缺少工作表“四、政府信息公开行政复议、行政诉讼情况”，可能被删除或改名。请把工作表名称改回原样，或使用原模板重新填写。",
    )


@pytest.mark.parametrize(
    ("values", "basis"),
    [(CHEPAIZI, "国办公开办函〔2021〕30号"), (TOWN_2020, "国办公开办函〔2019〕60号")],
    ids=["2021", "2019"],
)
def test_stamp_lost_but_sheets_intact_is_still_read(tmp_path: Path, values: dict[str, Any], basis: str) -> None:
    """Some programs drop custom document properties; the sheets identify the form then (both
    forms have the same sheet names: their labels tell them apart)."""
    path = write_valid(tmp_path / "无标识.xlsx", values)
    wb = openpyxl.load_workbook(path)
    wb.custom_doc_props.props.clear()
    wb.save(path)
    code, out, _ = run_check(str(path))
    assert code == 0
    assert out == (
        f"✓ {path}（{values['unit.unit_name']}）：通过\n"
        f"  提示 I-STAMP - 文档属性中没有 xltool 模板标识（可能是另存时被其他软件丢掉了），已按工作表结构识别为{basis}表式。\n"
    )


def test_one_bad_file_among_many_is_reported_with_the_rest(tmp_path: Path) -> None:
    good = write_valid(tmp_path / "a.xlsx", CHEPAIZI)
    bad = tmp_path / "b.xlsx"
    bad.write_bytes(b"")
    code, out, _ = run_check(str(tmp_path))
    assert code == 2
    assert out.splitlines() == [
        f"✓ {good}（车排子镇人民政府）：通过",
        f"✗ {bad}：无法读取",
        "  错误 X-FILE - 文件是空的（0 字节），可能没有保存成功。请重新保存后再试。",
        "共 2 个文件：1 个通过，1 个有错误或无法读取。",
    ]
