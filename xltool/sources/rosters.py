"""A roster file (.csv or .xlsx) -> :class:`~xltool.summary.roster.Roster`."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from xltool.errors import InputFileError, UsageError
from xltool.form.spec import FormSpec
from xltool.summary.roster import Roster, from_rows
from xltool.workbook.reader import sheet_rows

ENCODINGS = ("utf-8-sig", "gb18030")  # Windows Excel saves CSV in the ANSI code page (GBK)


def load(path: Path, spec: FormSpec) -> Roster:
    return from_rows(rows(Path(path)), spec, str(path))


def rows(path: Path, what: str = "名单") -> list[tuple[Any, ...]]:
    """The first sheet of a .xlsx, or a .csv (UTF-8 or GBK), as rows; ``what`` names the file in messages."""
    if not path.is_file():
        raise UsageError(f"找不到{what}文件 {path}。")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv(path, what)
    if suffix != ".xlsx":
        raise UsageError(f"{what} {path} 应为 .csv 或 .xlsx 文件（WPS、Excel 可另存为这两种格式）。")
    try:
        return next(iter(sheet_rows(path).values()), [])
    except InputFileError as exc:
        raise UsageError(f"{what} {path} 无法读取：{exc.reason}") from None


def _csv(path: Path, what: str) -> list[tuple[Any, ...]]:
    data = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        dialect = "excel-tab" if "\t" in text.split("\n", 1)[0] and "," not in text.split("\n", 1)[0] else "excel"
        return [tuple(row) for row in csv.reader(io.StringIO(text, newline=""), dialect)]
    raise UsageError(f"{what} {path} 的文字编码无法识别。请用 WPS 或 Excel 另存为“CSV UTF-8”或 .xlsx。")
