"""Our workbooks, read: each file a :class:`~xltool.checks.check.FileResult` (unreadable: its reason)."""

from __future__ import annotations

from pathlib import Path

from xltool.checks import check as checking
from xltool.checks.check import FileResult
from xltool.errors import InputFileError
from xltool.workbook.reader import read


def read_all(paths: list[Path]) -> list[FileResult]:
    """Every file read (nothing checked yet): its submission, or one X-FILE finding with the reason."""
    results = []
    for path in paths:
        try:
            results.append(FileResult(str(path), read(path)))
        except InputFileError as exc:
            results.append(checking.unreadable(str(path), exc))
    return results
