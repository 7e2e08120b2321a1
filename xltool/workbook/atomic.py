"""Write an output file atomically: a temporary file beside it, renamed over it when complete."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from xltool.errors import OutputError, UsageError


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` (never a half-written file)."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        what = "不是文件夹" if directory.exists() else "不存在"
        raise UsageError(f"无法写入 {path}：输出文件夹 {directory} {what}。")
    try:
        fd, name = tempfile.mkstemp(suffix=path.suffix, dir=directory, prefix=".xltool-")
    except OSError as exc:
        raise OutputError(f"无法写入输出文件夹 {directory}：{exc.strerror}。") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except PermissionError as exc:  # on Windows: the file is open in WPS or Excel
        raise OutputError(
            f"无法写入 {path}：{exc.strerror}。如果这个文件正在 WPS 或 Excel 中打开，请先关闭它再试，或另取一个文件名。"
        ) from None
    except OSError as exc:
        raise OutputError(f"无法写入 {path}：{exc.strerror}。") from None
    finally:
        if tmp.exists():
            tmp.unlink()
