"""``parse(path) -> Document``: the parser for a report's format, chosen by its file suffix.

The format parsers are imported only when a file of theirs is read (their libraries are slow to
load). Inputs are untrusted: anything larger than :data:`MAX_BYTES` is refused before parsing.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from xltool.errors import InputFileError
from xltool.importers.model import Document

MAX_BYTES = 50 * 1024 * 1024
PARSERS = {
    ".html": "xltool.importers.html",
    ".htm": "xltool.importers.html",
    ".docx": "xltool.importers.docx",
    ".pdf": "xltool.importers.pdf",
    ".txt": "xltool.importers.text",
    ".md": "xltool.importers.text",
}
NAMES = {".html": "网页", ".htm": "网页", ".docx": "Word 文档", ".pdf": "PDF", ".txt": "文本", ".md": "文本"}


def parse(path: Path) -> Document:
    path = Path(path)
    suffix = path.suffix.lower()
    module_name = PARSERS.get(suffix)
    if module_name is None:
        known = "、".join(sorted(PARSERS))
        hint = "；.doc 请先用 Word 或 WPS 另存为 .docx" if suffix in (".doc", ".wps") else ""
        raise InputFileError(str(path), f"不能导入 {suffix or '没有扩展名的'} 文件（可导入 {known}{hint}）。")
    if not path.is_file():
        raise InputFileError(str(path), "文件不存在。")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputFileError(
            str(path),
            f"文件有 {size // (1024 * 1024)} MB，超过了 {MAX_BYTES // (1024 * 1024)} MB 的上限，不像是一份年度报告。",
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise InputFileError(str(path), f"这个版本的 xltool 还不能读取{NAMES[suffix]}（{suffix}）文件。") from None
    document: Document = module.parse(path)
    return document
