"""Before any parser sees a file: is it there, is it an .xlsx, is it safe to open?

Only the standard library is used here; the messages say what the file is and how to fix it.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from xltool.errors import InputFileError

MAX_UNPACKED = 200 * 1024 * 1024  # bytes: a filled form is well under 1 MB unpacked
MAX_RATIO = 200  # unpacked / packed size of one large entry
MAX_ENTRIES = 2000
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ENCRYPTED_MARK = "EncryptionInfo".encode("utf-16-le")

SAVE_AS = "请在 WPS 或 Excel 中打开，用“文件 → 另存为”，文件类型选“Excel 工作簿（*.xlsx）”，保存后再试。"
OLD_FORMAT = "这是旧版 Excel（.xls）或 WPS 表格（.et）格式，xltool 只能读取 .xlsx。" + SAVE_AS
ENCRYPTED = (
    "文件设置了打开密码（已加密），无法读取。请在 WPS 或 Excel 中打开后取消密码"
    "（文件 → 文档加密 / 信息 → 保护工作簿 → 用密码进行加密，清空密码），保存后再试。"
)
NOT_XLSX = (
    "不是 Excel 工作簿（.xlsx）：文件内容不是表格，可能是改了扩展名的其他文件。请使用 xltool 模板填写并保存为 .xlsx。"
)
CORRUPT = "文件已损坏，无法打开。请在 WPS 或 Excel 中打开并重新保存；打不开的，请向填报单位重新索取。"
BY_SUFFIX = {
    ".xls": OLD_FORMAT,
    ".et": OLD_FORMAT,
    ".ett": OLD_FORMAT,
    ".ods": "这是 OpenDocument 表格（.ods），xltool 只能读取 .xlsx。"
    "请在 LibreOffice 中用“文件 → 另存为”，文件类型选“Excel 2007-365 (.xlsx)”，保存后再试。",
    ".csv": "这是 CSV 文本文件，没有模板的表格结构，无法校验。请使用 xltool 生成的模板（.xlsx）填写。",
    ".xlsm": "这是启用宏的工作簿（.xlsm）。" + SAVE_AS,
    ".wps": "这是 WPS 文字文档，不是表格。请使用 xltool 生成的模板（.xlsx）填写。",
    ".doc": "这是 Word 文档，不是表格。请使用 xltool 生成的模板（.xlsx）填写。",
    ".docx": "这是 Word 文档，不是表格。请使用 xltool 生成的模板（.xlsx）填写。",
    ".pdf": "这是 PDF 文件，不是表格。请使用 xltool 生成的模板（.xlsx）填写。",
}


def existing_file(path: Path) -> None:
    """Raise InputFileError unless ``path`` is an existing file (not missing, not a folder)."""
    if not path.exists():
        raise InputFileError(str(path), "文件不存在。请检查文件名和路径。")
    if path.is_dir():
        raise InputFileError(str(path), "这是一个文件夹，不是文件。")


def preflight(path: Path) -> None:
    """Raise InputFileError unless ``path`` looks like a safe .xlsx workbook."""
    name = str(path)
    existing_file(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
            size = path.stat().st_size
            data = fh.read(1 << 20) if head == OLE_MAGIC else b""
    except OSError as exc:
        raise InputFileError(name, f"无法读取文件：{exc.strerror}。") from None
    if size == 0:
        raise InputFileError(name, "文件是空的（0 字节），可能没有保存成功。请重新保存后再试。")
    if head == OLE_MAGIC:
        raise InputFileError(name, ENCRYPTED if ENCRYPTED_MARK in data else OLD_FORMAT)
    suffix = path.suffix.lower()
    if suffix in BY_SUFFIX:
        raise InputFileError(name, BY_SUFFIX[suffix])
    if not head.startswith(b"PK"):
        raise InputFileError(name, NOT_XLSX)
    _inspect_zip(path)


def _inspect_zip(path: Path) -> None:
    name = str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            if "mimetype" in names and b"opendocument" in zf.read("mimetype"):
                raise InputFileError(name, BY_SUFFIX[".ods"])
    except zipfile.BadZipFile:
        raise InputFileError(name, CORRUPT) from None
    except (OSError, EOFError):
        raise InputFileError(name, CORRUPT) from None
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        if "word/document.xml" in names:
            raise InputFileError(name, BY_SUFFIX[".docx"])
        raise InputFileError(name, "是压缩文件，但不是 Excel 工作簿（.xlsx）。请使用 xltool 模板填写并保存为 .xlsx。")
    inspect_package(path, infos)


def inspect_package(path: Path, infos: list[zipfile.ZipInfo], corrupt: str = CORRUPT) -> None:
    """Refuse an Office package (.xlsx, .docx) that is a zip bomb or whose XML declares entities;
    ``corrupt`` is the message for a package that cannot be unpacked."""
    total = sum(i.file_size for i in infos)
    bomb = len(infos) > MAX_ENTRIES or total > MAX_UNPACKED
    bomb = bomb or any(i.file_size > (1 << 20) and i.file_size > MAX_RATIO * max(i.compress_size, 1) for i in infos)
    if bomb:
        raise InputFileError(
            str(path),
            f"文件解压后异常庞大（{total // (1 << 20)} MB，{len(infos)} 个部件），疑似恶意构造的文件，已拒绝读取。",
        )
    _no_doctype(path, [i for i in infos if i.filename.endswith((".xml", ".rels"))], corrupt)


XML_UNSAFE = "文件包含不安全的 XML 内容（实体或文档类型声明），已拒绝读取。"


def _no_doctype(path: Path, parts: list[zipfile.ZipInfo], corrupt: str) -> None:
    """Workbook XML never declares a DOCTYPE or entities: refuse any part that does (entity attacks).

    A declaration must precede the root element, so the first few KB of each part are enough.
    The parsers behind it are hardened too (the reader's defusedxml; calamine's quick-xml expands
    no declared entities), but this check refuses such a file before any of them sees it.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            for info in parts:
                with zf.open(info) as fh:
                    head = fh.read(4096)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise InputFileError(str(path), XML_UNSAFE)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, zlib.error):
        raise InputFileError(str(path), corrupt) from None
