"""The portal's worker processes: errors come back intact, one dying fails only its own task."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import pickle
import pkgutil
import time
from pathlib import Path

import pytest

import xltool
from xltool import errors
from xltool.errors import InputFileError, XltoolError
from xltool.serve import pool
from xltool.serve.app import Portal, Settings
from xltool.serve.pool import Pool, RemoteError, WorkerDied

from .conftest import make_collection


def _every_error_class() -> list[type[XltoolError]]:
    for info in pkgutil.walk_packages(xltool.__path__, "xltool."):
        if not info.name.endswith("__main__"):  # an error class defined anywhere in the package counts
            importlib.import_module(info.name)
    found, todo = [], [XltoolError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_error_class_survives_pickling():
    """A worker sends its error back pickled: each class must come back as itself, with its message
    and attributes (InputFileError(path, message) once came back as a TypeError that broke the pool)."""
    classes = _every_error_class()
    assert {c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, XltoolError)} <= set(classes)
    for cls in classes:
        params = [p for p in inspect.signature(cls).parameters.values() if p.default is inspect.Parameter.empty]
        error = cls(*(f'参数{i}：单位/A,B"局' for i in range(len(params))))
        error.add_note("附注")
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is cls, cls
        assert (back.args, str(back), back.message, back.exit_code) == (
            error.args,
            str(error),
            error.message,
            error.exit_code,
        ), cls
        assert vars(back) == vars(error), cls


def _raise_input(path: str, reason: str) -> None:
    raise InputFileError(path, reason)


class Unpicklable(Exception):
    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"{a}/{b}")


def _raise_unpicklable() -> None:
    raise Unpicklable("a", "b")


def _slow_square(n: int) -> int:
    time.sleep(0.3)
    return n * n


@pytest.mark.slow
def test_an_error_raised_in_a_real_worker_comes_back_intact():
    async def main() -> None:
        workers = Pool(1, timeout=30)
        workers.start()
        try:
            first = await workers.run(os.getpid)
            with pytest.raises(InputFileError) as got:
                await workers.run(_raise_input, "空.xlsx", "文件是空的（0 字节）")
            assert (got.value.path, got.value.reason, got.value.message) == (
                "空.xlsx",
                "文件是空的（0 字节）",
                "空.xlsx：文件是空的（0 字节）",
            )
            with pytest.raises(RemoteError, match=r"^Unpicklable: a/b$"):  # what cannot travel comes as text
                await workers.run(_raise_unpicklable)
            assert await workers.run(os.getpid) == first  # the worker carried on: nothing was broken
        finally:
            workers.stop()

    asyncio.run(main())


@pytest.mark.slow
def test_a_dying_worker_fails_only_its_own_task(tmp_path):
    """A worker killed mid-task (out of memory, a hostile file) fails that task after one more try;
    the other units' tasks, queued or running beside it, all finish (they used to get
    BrokenProcessPool with it)."""

    made = make_collection(tmp_path / "round", None)

    async def main() -> None:
        portal = Portal(Settings(made.folder, workers=2))
        portal.start()
        try:
            await portal.pool.ready()
            tasks = [portal.work(_slow_square, n) for n in range(6)]
            tasks.insert(2, portal.work(os._exit, 9))
            got = await asyncio.gather(*tasks, return_exceptions=True)
            died = got.pop(2)
            assert isinstance(died, WorkerDied) and died.exitcode == 9 and not died.timed_out
            assert got == [n * n for n in range(6)]
            assert len(portal.pool.pids()) == 2 and await portal.work(pow, 2, 10) == 1024
        finally:
            portal.stop()

    asyncio.run(main())


@pytest.mark.slow
def test_a_task_past_its_time_is_stopped_and_its_worker_replaced():
    async def main() -> None:
        workers = Pool(1, timeout=30)
        workers.start()
        try:
            before = workers.pids()
            started = time.monotonic()
            with pytest.raises(WorkerDied) as got:
                await workers.run(time.sleep, 30, timeout=0.5)
            assert got.value.timed_out and time.monotonic() - started < 5
            assert await workers.run(pow, 3, 3) == 27
            assert workers.pids() != before
        finally:
            workers.stop()

    asyncio.run(main())


def test_a_worker_grown_too_big_is_replaced(monkeypatch):
    """After a huge file a worker keeps its memory: past MAX_RSS it is replaced after its task."""

    async def main() -> None:
        workers = Pool(1, timeout=30)
        workers.start()
        try:
            first = await workers.run(os.getpid)
            monkeypatch.setattr(pool, "MAX_RSS", 1)
            assert await workers.run(os.getpid) == first  # the task finishes in the big worker
            monkeypatch.setattr(pool, "MAX_RSS", 1 << 40)
            assert await workers.run(os.getpid) != first
        finally:
            workers.stop()

    asyncio.run(main())


def test_workers_end_when_the_pool_stops():
    async def main() -> list[int]:
        workers = Pool(2, timeout=30)
        workers.start()
        await workers.ready()
        pids = workers.pids()
        workers.stop()
        return pids

    pids = asyncio.run(main())
    assert len(pids) == 2
    assert not [p for p in pids if Path(f"/proc/{p}").exists() and _state(p) not in "ZX"]


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"
