"""``xltool merge`` on files: read and check the inputs (in worker processes), then
:func:`xltool.summary.merge.merge` and :func:`~xltool.summary.merge.write`.

Workers return a :class:`~xltool.summary.merge.Part` per input, never a Submission, so ten thousand
inputs fit in memory. The roster and last year's summary are read here too; the merge itself takes
them as values.
"""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from xltool import workers
from xltool.checks import check
from xltool.errors import OutputError, UsageError, XltoolError
from xltool.form import spec as specs
from xltool.form.spec import FormSpec
from xltool.sources import rosters
from xltool.sources.workbooks import read_all
from xltool.submission import Value
from xltool.summary import analytics, carry
from xltool.summary.merge import Outcome, Part, last_year_of, part_of, write
from xltool.summary.merge import merge as merge_parts

CHUNK_MIN, CHUNK_MAX = 25, 50  # files per task: one pandera call validates a whole chunk

Progress = Callable[[int], None]


def read_parts(files: list[str]) -> list[Part]:
    """Read and check a chunk of inputs (one pandera call for the chunk); keep only what merge needs."""
    return [part_of(r) for r in check.evaluate(read_all([Path(f) for f in files]))]


def merge(
    paths: list[Path],
    output: Path,
    *,
    unit: str | None = None,
    jobs: int | None = None,
    roster_path: Path | None = None,
    include_invalid: bool = False,
    previous: Path | None = None,
    unit_word: str | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    chunk: int | None = None,
) -> Outcome:
    """Merge the workbooks ``paths`` into the summary workbook ``output``.

    ``previous`` is last year's summary: each unit's carry-over is checked against it and the main
    figures are compared year over year.
    """
    output = Path(output)
    if output.suffix.lower() != ".xlsx":
        raise UsageError(f"汇总工作簿必须以 .xlsx 结尾：{output}")
    if jobs is not None and jobs < 1:
        raise UsageError("--jobs 必须是正整数。")
    listed = rosters.load(roster_path, specs.load()) if roster_path is not None else None
    extras = [f for f in (roster_path, previous) if f is not None]
    paths = [p for p in paths if not any(same_file(p, f) for f in extras)]
    if not paths:
        raise UsageError("没有要汇总的工作簿。")
    last = last_summary(Path(previous)) if previous is not None else None
    for p in [*paths, *extras]:
        if same_file(p, output):
            raise OutputError(
                f"输出文件 {output} 也是输入之一，不能覆盖输入。请把汇总工作簿保存到输入文件夹以外，或另取一个文件名。"
            )
    folder, shown = relative([str(p) for p in paths])
    parts = _read(list(shown), jobs, chunk, progress)
    assert len(parts) == len(paths)
    outcome = merge_parts(
        parts,
        names=shown,
        folder=folder,
        unit=unit,
        roster=listed,
        include_invalid=include_invalid,
        previous=last,
        unit_word=unit_word,
    )
    write(outcome, output, now)
    return outcome


def last_summary(path: Path) -> analytics.LastYear:
    """Last year's summary, read and checked as an input is; refused unless it is a sound summary."""
    return last_year_of(read_parts([str(path)])[0], str(path))


def summary_carry(spec: FormSpec, path: Path, year: int) -> dict[str, dict[str, Value]]:
    """Each unit's locked 上年结转 for this year's template, from last year's merge summary at ``path``
    (see :func:`xltool.summary.carry.summary_carry`)."""
    return carry.summary_carry(spec, last_summary(path), str(path), year)


def same_file(a: Path, b: Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve() or (Path(a).exists() and Path(a).samefile(b))
    except OSError:
        return False


def relative(files: list[str]) -> tuple[str, dict[str, str]]:
    """The folder holding every input, and each input's path relative to it (how the summary names files)."""
    resolved = [Path(f).resolve() for f in files]
    try:
        folder = Path(os.path.commonpath([p.parent for p in resolved]))
    except ValueError:  # different drives (Windows): keep the paths as given
        return "", {f: f for f in files}
    return str(folder), {f: p.relative_to(folder).as_posix() for f, p in zip(files, resolved, strict=True)}


def _read(files: list[str], jobs: int | None, chunk: int | None, progress: Progress | None) -> list[Part]:
    jobs = jobs or os.cpu_count() or 1
    size = chunk or min(CHUNK_MAX, max(CHUNK_MIN, math.ceil(len(files) / (jobs * 4))))
    chunks = [files[i : i + size] for i in range(0, len(files), size)]
    out: list[Part] = []
    if jobs == 1 or len(chunks) == 1:
        for c in chunks:
            out.extend(read_parts(c))
            if progress is not None:
                progress(len(c))
        return out
    # spawn, as on Windows, on every platform: the same behaviour everywhere
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(chunks)), mp_context=context, initializer=workers.start, initargs=(os.getpid(),)
    )
    try:
        ctrl_c = signal.signal(*workers.NO_CTRL_C)  # workers start with it ignored (POSIX), not only once initialised
        try:
            futures = {pool.submit(read_parts, c): len(c) for c in chunks}  # spawns the workers
        finally:
            signal.signal(signal.SIGINT, ctrl_c)
        for future in as_completed(futures):
            out.extend(future.result())
            if progress is not None:
                progress(futures[future])
    except BrokenProcessPool:
        raise XltoolError("并行读取的子进程意外退出（可能内存不足）。请减少 --jobs 或用 --jobs 1 重试。") from None
    finally:  # on Ctrl+C too: drop the chunks not started instead of reading them all first
        pool.shutdown(wait=True, cancel_futures=True)
    return out
