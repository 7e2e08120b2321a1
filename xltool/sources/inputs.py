"""Expand command-line inputs (files, folders, glob patterns) ourselves: Windows shells do not."""

from __future__ import annotations

import glob
from pathlib import Path

from xltool.errors import UsageError

# Files a clerk might hand in: anything spreadsheet-like is collected so a wrong format is reported,
# never silently skipped.
COLLECTED = frozenset({".xlsx", ".xlsm", ".xlsb", ".xls", ".et", ".ett", ".ods", ".csv"})


# Published reports `xltool import` reads (folders are searched for these).
REPORTS = frozenset({".html", ".htm", ".docx", ".pdf", ".txt", ".md"})


def expand_reports(args: list[str]) -> list[Path]:
    """Report files named, found in folders, or matched by patterns (see :func:`expand`)."""
    return expand(args, REPORTS, "文件夹 {path} 中没有找到可导入的报告（.html、.docx、.pdf、.txt、.md）。")


def expand(
    args: list[str], collected: frozenset[str] = COLLECTED, empty: str = "文件夹 {path} 中没有找到 .xlsx 工作簿。"
) -> list[Path]:
    """Files named, found in folders (recursively), or matched by patterns; in a stable order."""
    out: list[Path] = []
    for arg in args:
        path = Path(arg)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in collected and not _ignored(p.relative_to(path))
            )
            if not found:
                raise UsageError(empty.format(path=path))
            out.extend(found)
        elif not path.exists() and any(ch in arg for ch in "*?["):
            matches = sorted(
                Path(m)
                for m in glob.glob(arg, recursive=True)
                if Path(m).is_file() and not _ignored(Path(Path(m).name))
            )
            if not matches:
                raise UsageError(f"没有文件与 {arg} 匹配。")
            out.extend(matches)
        else:
            out.append(path)
    unique: list[Path] = []
    seen: set[Path] = set()
    for p in out:
        resolved = p.resolve()
        if resolved not in seen:
            seen.add(resolved)
            unique.append(p)
    return unique


def _ignored(rel: Path) -> bool:
    """Office lock files (~$x.xlsx, .~lock.x#) and hidden files are not submissions."""
    return any(part.startswith(("~$", ".")) for part in rel.parts)
