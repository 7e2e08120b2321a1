"""Before any parser sees a file: is it there, is it an .xlsx, is it safe to open?

Only the standard library is used here; the messages say what the file is and how to fix it. What
is inside the zip is counted by :mod:`xltool.workbook.package` before calamine or openpyxl builds
anything from it.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from xltool.errors import InputFileError
from xltool.safexml import Malformed, UnsafeXml, stream_parser
from xltool.workbook import package
from xltool.workbook.package import CORRUPT, SAVE_AS, XLSB, XML_UNSAFE, Budget, Survey

MAX_UNPACKED = 200 * 1024 * 1024  # bytes: a .docx report (images included) unpacked
MAX_ENTRIES = package.MAX_ENTRIES
MAX_DOCX_DEPTH = 256  # Word nests tables in tables and text boxes; lxml (python-docx) reads no deeper
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ENCRYPTED_MARK = "EncryptionInfo".encode("utf-16-le")

OLD_FORMAT = "这是旧版 Excel（.xls）或 WPS 表格（.et）格式，xltool 只能读取 .xlsx。" + SAVE_AS
ENCRYPTED = (
    "文件设置了打开密码（已加密），无法读取。请在 WPS 或 Excel 中打开后取消密码"
    "（文件 → 文档加密 / 信息 → 保护工作簿 → 用密码进行加密，清空密码），保存后再试。"
)
NOT_XLSX = (
    "不是 Excel 工作簿（.xlsx）：文件内容不是表格，可能是改了扩展名的其他文件。请使用 xltool 模板填写并保存为 .xlsx。"
)
BY_SUFFIX = {
    ".xls": OLD_FORMAT,
    ".et": OLD_FORMAT,
    ".ett": OLD_FORMAT,
    ".ods": "这是 OpenDocument 表格（.ods），xltool 只能读取 .xlsx。"
    "请在 LibreOffice 中用“文件 → 另存为”，文件类型选“Excel 2007-365 (.xlsx)”，保存后再试。",
    ".csv": "这是 CSV 文本文件，没有模板的表格结构，无法校验。请使用 xltool 生成的模板（.xlsx）填写。",
    ".xlsm": "这是启用宏的工作簿（.xlsm）。" + SAVE_AS,
    ".xlsb": XLSB,
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


def preflight(path: Path, budget: Budget | None = None) -> Survey:
    """Raise InputFileError unless ``path`` looks like a safe .xlsx workbook within ``budget``
    (None: a unit's workbook, or the summary it says it is; see :class:`~xltool.workbook.package.Budget`).
    Returns what the scan found (its sheets, and the sheet XML it read)."""
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
    return _inspect_zip(path, budget)


def _inspect_zip(path: Path, budget: Budget | None) -> Survey:
    name = str(path)
    package.directory(path)
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "mimetype" in names and b"opendocument" in zf.read("mimetype")[:200]:
                raise InputFileError(name, BY_SUFFIX[".ods"])
            if "xl/workbook.bin" in names:
                raise InputFileError(name, XLSB)
            if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
                if "word/document.xml" in names:
                    raise InputFileError(name, BY_SUFFIX[".docx"])
                raise InputFileError(
                    name, "是压缩文件，但不是 Excel 工作簿（.xlsx）。请使用 xltool 模板填写并保存为 .xlsx。"
                )
            return package.survey(path, zf, budget)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError):
        raise InputFileError(name, CORRUPT) from None


def inspect_package(path: Path, infos: list[zipfile.ZipInfo], corrupt: str = CORRUPT) -> None:
    """Refuse an Office package (.docx) that is a zip bomb, whose XML declares entities or nests
    too deep; ``corrupt`` is the message for a package that cannot be unpacked."""
    package.inflated(path, infos, MAX_UNPACKED)
    if len(infos) > MAX_ENTRIES:
        raise InputFileError(str(path), f"压缩包里有 {len(infos):,} 个部件，" + package.HOSTILE)
    try:
        with zipfile.ZipFile(path) as zf:
            for info in infos:
                if info.filename.endswith((".xml", ".rels")):
                    _well_formed(path, zf, info, corrupt)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
        raise InputFileError(str(path), corrupt) from None


def _well_formed(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, corrupt: str) -> None:
    """One XML part, streamed: no DOCTYPE or entities, not nested past :data:`MAX_DOCX_DEPTH`."""
    depth = 0

    def start(_name: str, _attrs: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_DOCX_DEPTH:
            raise InputFileError(str(path), f"文件中的 XML 嵌套超过 {MAX_DOCX_DEPTH} 层，" + package.HOSTILE)

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    parser = stream_parser()
    parser.StartElementHandler, parser.EndElementHandler = start, end
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(package.CHUNK):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except UnsafeXml:
        raise InputFileError(str(path), XML_UNSAFE) from None
    except (Malformed, LookupError, ValueError, zlib.error):
        raise InputFileError(str(path), corrupt) from None
