"""The portal's worker processes, each on its own: one that dies fails only the task it was running.

``concurrent.futures.ProcessPoolExecutor`` declares the whole pool broken when one worker dies
(killed, out of memory, a crash in a native library) or when an answer cannot be unpickled, and
fails every other unit's pending work with it. Here each worker has its own pipe: a task goes to an
idle worker, the answer (or the error) comes back on that pipe, and a worker that died or ran past
its time is replaced without touching the others.

On Linux the workers are forked by a fork server that has already imported the checking
libraries (``preload``): a replacement worker is ready in a fraction of a second, not after the
seconds a fresh interpreter spends importing pandas. Elsewhere each worker is a fresh interpreter
(spawn). Workers start with :func:`xltool.workers.start`, watching their own parent (the fork
server, or the server itself), so they end with the server even when it is killed outright: the
fork server ends when the server's end of its pipe closes, and its workers follow it.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any

from xltool import workers

MAX_RSS = 400 * 1024 * 1024  # a worker that grew past this (one huge file) is replaced after its task


class WorkerDied(Exception):
    """The worker process running a task ended before answering, or was stopped past its time."""

    def __init__(self, exitcode: int | None, timed_out: bool = False) -> None:
        super().__init__(f"worker ended ({'timeout' if timed_out else f'exit code {exitcode}'})")
        self.exitcode = exitcode
        self.timed_out = timed_out

    @property
    def killed(self) -> bool:
        """Killed from outside (SIGKILL: the out-of-memory killer, an operator), so maybe for
        another's sake; an abort, a crash or an exit of its own was the task's doing."""
        return self.exitcode == -getattr(signal, "SIGKILL", 9)


class RemoteError(Exception):
    """An error raised in a worker that could not be sent back as itself (its type and text)."""


def _main(conn: Connection, warm: Callable[[], None] | None) -> None:
    """A worker: run each task received and send back its result or its error, until the pipe closes.
    (Should its parent end before the watch starts, the pipe's end of file still ends it.)"""
    _let_fork_server_go()
    workers.start(os.getppid())
    if warm is not None:
        warm()
    while True:
        try:
            fn, args = pickle.loads(conn.recv_bytes())
        except EOFError:  # the server closed the pipe: stop
            return
        conn.send_bytes(_answer(fn, args))


def _let_fork_server_go() -> None:
    """A forked worker inherits the fork server's lifeline (the fd whose end of file tells it that
    the server is gone), so that it could start processes itself; we start none. Closed, the fork
    server ends when the server does, even while this worker is busy, and the parent-death signal
    then ends this worker (CPython's ``forkserver`` keeps the fd in a private attribute)."""
    from multiprocessing import forkserver  # only for a worker forked by the fork server (Linux)

    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if fd is not None:
        os.close(fd)
        server._forkserver_alive_fd = None  # type: ignore[union-attr]


def _answer(fn: Callable[..., Any], args: tuple[Any, ...]) -> bytes:
    # A process boundary: whatever the task raises goes back to the caller, which decides what it
    # means; the worker itself carries on with the next task.
    try:
        reply: tuple[bool, Any] = (True, fn(*args))
    except Exception as exc:
        reply = (False, exc)
    try:
        data = pickle.dumps(reply)
        pickle.loads(data)  # what cannot be rebuilt on the other side is sent as its text
    except Exception as exc:
        what = reply[1] if not reply[0] else exc
        data = pickle.dumps((False, RemoteError(f"{type(what).__name__}: {what}")))
    return data


class Worker:
    """One worker process and the server's end of its pipe."""

    def __init__(self, ctx: BaseContext, warm: Callable[[], None] | None) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_main, args=(child, warm), name="xltool-worker", daemon=True)  # type: ignore[attr-defined]
        self.process.start()
        child.close()  # only the worker holds its end: its death is the pipe's end of file
        self.done = False

    def call(self, fn: Callable[..., Any], args: tuple[Any, ...], timeout: float) -> Any:
        """``fn(*args)`` in this worker (blocking: run in a thread). Raises what the task raised."""
        try:
            self.conn.send_bytes(pickle.dumps((fn, args)))
            if not self.conn.poll(timeout):
                self.stop()
                raise WorkerDied(None, timed_out=True)
            ok, value = pickle.loads(self.conn.recv_bytes())
        except (EOFError, OSError):
            self.stop()
            raise WorkerDied(self.process.exitcode) from None
        if ok:
            return value
        raise value

    @property
    def usable(self) -> bool:
        return not self.done and self.process.is_alive() and _rss(self.process.pid) < MAX_RSS

    def stop(self) -> None:
        self.done = True
        self.conn.close()
        self.process.join(2)  # an idle worker ends at the pipe's end of file; a busy one is killed
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


def _rss(pid: int | None) -> int:
    """Resident memory of a process in bytes (Linux; elsewhere 0: never replaced for its size)."""
    if pid is None or not sys.platform.startswith("linux"):
        return 0
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def _context(preload: tuple[str, ...]) -> BaseContext:
    """Fork from a preloaded fork server on Linux; a fresh interpreter per worker elsewhere."""
    if sys.platform.startswith("linux"):
        ctx = get_context("forkserver")
        ctx.set_forkserver_preload(list(preload))
        return ctx
    return get_context("spawn")


class Pool:
    """``size`` workers; in-process threads instead when ``processes`` is False (tests)."""

    def __init__(
        self,
        size: int,
        *,
        timeout: float,
        processes: bool = True,
        warm: Callable[[], None] | None = None,
        preload: tuple[str, ...] = (),
    ):
        self.size, self.timeout, self.processes, self.warm = size, timeout, processes, warm
        self._threads = ThreadPoolExecutor(size, thread_name_prefix="xltool-pool")
        self._idle: asyncio.Queue[Worker] = asyncio.Queue()
        self._all: set[Worker] = set()
        self._ctx = _context(preload)

    def start(self) -> None:
        """Start the workers (call on the event loop's thread)."""
        for _ in range(self.size if self.processes else 0):
            self._idle.put_nowait(self._spawn())

    async def ready(self) -> None:
        """Wait until every worker has started and warmed up."""
        await asyncio.gather(*(self.run(os.getpid) for _ in range(self.size)))

    async def run(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        loop = asyncio.get_running_loop()
        if not self.processes:
            return await loop.run_in_executor(self._threads, fn, *args)
        worker = await self._idle.get()
        future = loop.run_in_executor(self._threads, worker.call, fn, args, timeout or self.timeout)
        future.add_done_callback(lambda done: self._release(worker, done))
        return await asyncio.shield(future)  # a caller that goes away leaves the worker to finish

    def _release(self, worker: Worker, done: asyncio.Future[Any]) -> None:
        if not done.cancelled():
            done.exception()  # retrieved: the caller may have gone
        if not worker.usable:
            worker.stop()
            self._all.discard(worker)
            worker = self._spawn()
        self._idle.put_nowait(worker)

    def _spawn(self) -> Worker:
        worker = Worker(self._ctx, self.warm)
        self._all.add(worker)
        return worker

    def pids(self) -> list[int]:
        return [w.process.pid for w in self._all if w.process.pid is not None]

    def stop(self) -> None:
        for worker in list(self._all):
            worker.stop()
        self._all.clear()
        self._threads.shutdown(wait=True, cancel_futures=True)
