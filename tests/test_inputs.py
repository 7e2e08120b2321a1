"""Inputs: what a folder or a pattern hands to check and merge (Windows shells expand nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xltool.errors import UsageError
from xltool.sources.inputs import expand


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """A county's folder while a clerk has one workbook open in Excel/WPS and one in LibreOffice."""
    for name in [
        "a.xlsx",
        "~$a.xlsx",  # Excel/WPS owner file of the open a.xlsx
        ".~lock.b.xlsx#",  # LibreOffice lock file
        "b.XLSX",
        "c.xls",  # collected so its wrong format is reported, never silently skipped
        "说明.docx",
        "sub/d.xlsx",
        ".hidden/e.xlsx",
    ]:
        path = tmp_path / "报表" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return tmp_path / "报表"


def test_folder_skips_lock_and_hidden_files(folder: Path) -> None:
    assert [p.relative_to(folder).as_posix() for p in expand([str(folder)])] == [
        "a.xlsx",
        "b.XLSX",
        "c.xls",
        "sub/d.xlsx",
    ]


def test_pattern_skips_lock_files(folder: Path) -> None:
    assert [p.name for p in expand([str(folder / "*.xlsx")])] == ["a.xlsx"]
    assert [p.name for p in expand([str(folder / "**" / "*.xlsx")])] == ["a.xlsx", "d.xlsx"]


def test_same_file_twice_is_one_input(folder: Path) -> None:
    assert expand([str(folder / "a.xlsx"), str(folder / "*.xlsx"), str(folder / "sub" / ".." / "a.xlsx")]) == [
        folder / "a.xlsx"
    ]


def test_nothing_found(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as exc:
        expand([str(tmp_path)])
    assert exc.value.message == f"文件夹 {tmp_path} 中没有找到 .xlsx 工作簿。"
    with pytest.raises(UsageError) as exc:
        expand([str(tmp_path / "*.xlsx")])
    assert exc.value.message == f"没有文件与 {tmp_path / '*.xlsx'} 匹配。"
