"""What every format parser checks before it parses: the file is there, not empty, not too large.

Only the standard library; the messages are the user's (Chinese) and name the limit.
"""

from __future__ import annotations

from pathlib import Path

from xltool.errors import InputFileError
from xltool.workbook.files import existing_file

MB = 1 << 20


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """The bytes of ``path``; InputFileError if it is missing, a folder, empty or over ``limit`` bytes."""
    name = str(path)
    existing_file(path)
    try:
        size = path.stat().st_size
        if size > limit:
            raise InputFileError(
                name, f"文件过大（{size / MB:.1f} MB），超过{what}的上限 {limit // MB} MB，已拒绝读取。"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(name, f"无法读取文件：{exc.strerror}。") from None
    if not data:
        raise InputFileError(name, "文件是空的（0 字节），可能没有保存成功。请重新保存后再试。")
    return data


def fail(path: Path, message: str) -> InputFileError:
    return InputFileError(str(path), message)
