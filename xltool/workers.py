"""How a merge's worker processes start: Ctrl+C left to the main process, and no life after it.

Ctrl+C reaches every process of the console; only the main one handles it (and cancels the rest).
When the main process is killed outright (SIGKILL, the task manager, an out-of-memory kill) no
cleanup runs there, so each worker watches for it itself: on Linux the kernel sends it SIGKILL
when its parent dies (``prctl(PR_SET_PDEATHSIG)``); everywhere a daemon thread checks once a
second whether the parent is still there and ends the worker if not.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

NO_CTRL_C = (signal.SIGINT, signal.SIG_IGN)
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_SECONDS = 1.0


def start(parent: int) -> None:
    """Initializer of a worker whose parent process has the id ``parent``."""
    signal.signal(*NO_CTRL_C)
    if sys.platform.startswith("linux"):
        _die_with_parent()
    if not _alive(parent):  # the parent went before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="xltool-parent-watch", daemon=True).start()


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no usable libc: the watch thread still ends the worker
        pass


def _watch(parent: int) -> None:
    while _alive(parent):
        time.sleep(WATCH_SECONDS)
    os._exit(1)


def _alive(parent: int) -> bool:
    """Whether the worker's parent is still ``parent`` (an orphan is adopted by another process)."""
    if sys.platform == "win32":
        return _windows_alive(parent)
    return os.getppid() == parent


def _windows_alive(pid: int) -> bool:
    synchronize, wait_timeout = 0x00100000, 0x00000102
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(synchronize, False, pid)
    if not handle:
        return False
    try:
        return bool(kernel32.WaitForSingleObject(handle, 0) == wait_timeout)
    finally:
        kernel32.CloseHandle(handle)
