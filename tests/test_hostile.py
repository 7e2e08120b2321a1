"""Hostile workbooks (tests/hostile.py) through every door a file comes in, refused with the reason.

``check``, ``merge`` (the poison among good files: listed, never dropped), ``--previous`` of
``check``, ``template`` and ``merge``, and ``--roster``: exit codes as documented, exact messages.
The slow tier runs each through ``xltool check`` in its own process and holds it to 2 s of CPU
and 200 MB; without the scan, the first two abort the process or take 26 s and 1.7 GB.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xltool.cli import app
from xltool.sources.workbooks import read_all
from xltool.workbook.reader import sheet_rows

from .hostile import POISONS, TABLE, Poison, build
from .sample_data import CHEPAIZI, SHUYANG, write_valid

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
NO_NAME_COLUMN = "中没有“单位名称”列。名单的第一行应为列名：单位名称（必需）、单位类型、上级单位（可选）。"
CPU_SECONDS, PEAK_MB = 2.0, 200


# The fast tier sends these through the doors other than check; the slow tier sends every poison.
SAMPLED = {"extent-XFD1048576", "lying-dimension", "scratch-sheet-ZZ60000", "deep-nesting", "vbaProject", "xlsb",
           "external-formula", "duplicate-part", "claims-100000-units"}  # fmt: skip


def each(poisons: tuple[Poison, ...] = POISONS, sampled: bool = False) -> list[object]:
    """The poisons as parameters; slow ones marked, and with ``sampled`` all but :data:`SAMPLED`."""
    return [
        pytest.param(p, id=p.name, marks=[pytest.mark.slow] if p.slow or (sampled and p.name not in SAMPLED) else [])
        for p in poisons
    ]


@pytest.fixture(scope="session")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_valid(tmp_path_factory.mktemp("good") / "沭阳.xlsx", SHUYANG)


@pytest.fixture(scope="session")
def poisoned(tmp_path_factory: pytest.TempPathFactory, good: Path) -> Callable[[Poison], Path]:
    """The poison's file (each written once per session, when first asked for)."""
    folder = tmp_path_factory.mktemp("poisons")
    made: dict[str, Path] = {}

    def path(poison: Poison) -> Path:
        if poison.name not in made:
            made.update(build(good, folder, (poison,)))
        return made[poison.name]

    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("poison", each())
def test_check_refuses_it(poisoned: Callable[[Poison], Path], poison: Poison) -> None:
    path = poisoned(poison)
    assert invoke("check", str(path)) == (2, f"✗ {path}：无法读取\n  错误 X-FILE - {poison.reason}\n", "")


@pytest.mark.parametrize("poison", each(sampled=True))
def test_previous_year_refuses_it(
    poisoned: Callable[[Poison], Path], good: Path, tmp_path: Path, poison: Poison
) -> None:
    """As last year's workbook of ``check`` and ``template``, or last year's summary of ``merge``."""
    path = poisoned(poison)
    refused = (2, "", f"错误：{path}：{poison.reason}\n")
    assert invoke("check", str(good), "--previous", str(path)) == refused
    assert invoke("template", "-o", str(tmp_path / "t.xlsx"), "--previous", str(path)) == refused
    out = tmp_path / "汇总.xlsx"
    assert invoke("merge", str(good), "-o", str(out), "--previous", str(path)) == (
        2,
        "",
        f"错误：上年汇总 {path} 无法读取：{poison.reason}\n",
    )
    assert not (tmp_path / "t.xlsx").exists() and not out.exists()


@pytest.mark.parametrize("poison", each(sampled=True))
def test_roster_refuses_it(poisoned: Callable[[Poison], Path], tmp_path: Path, poison: Poison) -> None:
    path = poisoned(poison)
    if poison.suffix != ".xlsx":
        said = f"名单 {path} 应为 .csv 或 .xlsx 文件（WPS、Excel 可另存为这两种格式）。"
    elif poison.roster == TABLE:  # within a province's roster: read, and it is no roster
        said = f"名单 {path} {NO_NAME_COLUMN}"
    else:
        said = f"名单 {path} 无法读取：{poison.roster or poison.reason}"
    assert invoke("template", "--roster", str(path), "-o", str(tmp_path / "模板")) == (2, "", f"错误：{said}\n")
    assert not (tmp_path / "模板").exists()


def _merged(folder: Path, out: Path, poisons: dict[str, Path]) -> None:
    """Merge the two good workbooks and ``poisons`` in ``folder``: the good ones are merged, each
    poison is listed with its reason on screen, in 汇总说明 and in 单位明细."""
    code, stdout, _ = invoke("merge", str(folder), "-o", str(out), "--jobs", "1")
    assert code == 1
    by_name = {p.name: p for p in POISONS}
    lines = stdout.splitlines()
    assert lines[0] == f"已生成汇总工作簿 {out}（汇总（2 个单位），2 个单位）"
    assert lines[1] == f"未汇总 {len(poisons)} 个文件："
    listed = {f"  ✗ {path}：无法读取：{by_name[name].reason}" for name, path in poisons.items()}
    assert set(lines[2 : 2 + len(poisons)]) == listed
    assert lines[-1] == f"共 {len(poisons) + 2} 个输入文件 = 已汇总 2 个 + 未汇总 {len(poisons)} 个。"
    sheets = sheet_rows(out, ["汇总说明", "单位明细"])
    notes = {row[1] for row in sheets["汇总说明"] if row[0] == "未汇总"}
    assert notes == {f"{path.name}：无法读取：{by_name[name].reason}" for name, path in poisons.items()}
    detail = {row[2]: row[3] for row in sheets["单位明细"][2:]}
    assert detail == {"a.xlsx": "已汇总", "b.xlsx": "已汇总"} | {p.name: "未汇总：无法读取" for p in poisons.values()}


def _good_pair(folder: Path) -> None:
    folder.mkdir()
    write_valid(folder / "a.xlsx", SHUYANG)
    write_valid(folder / "b.xlsx", CHEPAIZI)


def test_merge_lists_every_poison_among_good_files(poisoned: Callable[[Poison], Path], tmp_path: Path) -> None:
    folder = tmp_path / "报表"
    _good_pair(folder)
    poisons = {}
    for poison in POISONS:
        if not poison.slow:
            poisons[poison.name] = folder / poisoned(poison).name
            poisons[poison.name].write_bytes(poisoned(poison).read_bytes())
    _merged(folder, tmp_path / "汇总.xlsx", poisons)


@pytest.mark.slow
@pytest.mark.parametrize("poison", each())
def test_merge_with_one_poison(poisoned: Callable[[Poison], Path], tmp_path: Path, poison: Poison) -> None:
    folder = tmp_path / "报表"
    _good_pair(folder)
    target = folder / poisoned(poison).name
    target.write_bytes(poisoned(poison).read_bytes())
    _merged(folder, tmp_path / "汇总.xlsx", {poison.name: target})


# ---------------------------------------------------------------- time and memory, measured


# Run by a shell that forks it: a process started straight from pytest would count pytest's own
# memory at the fork as its peak (Linux keeps the largest RSS a process had, exec or not).
_REPORT = """import resource, runpy, sys
try:
    runpy.run_module("xltool", run_name="__main__", alter_sys=True)
finally:
    own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    print(f"{cpu} {max(own.ru_maxrss, kids.ru_maxrss)}", file=sys.stderr)
"""


def _measured(*args: str) -> tuple[int, float, float, str]:
    """Run ``xltool ARGS`` in a process of its own: exit code, CPU seconds (its own and its worker
    processes'), peak RSS in MB (the largest of them), stdout."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = ["sh", "-c", '"$@"; exit $?', "sh", sys.executable, "-c", _REPORT, *args]
    done = subprocess.run(cmd, env=env, capture_output=True, timeout=600, check=False)
    cpu, peak_kb = done.stderr.decode().splitlines()[-1].split()
    return done.returncode, float(cpu), int(peak_kb) / 1024, done.stdout.decode()


@pytest.mark.slow
@pytest.mark.parametrize("poison", each())
def test_refused_within_2_s_and_200_mb(poisoned: Callable[[Poison], Path], poison: Poison) -> None:
    """CPU time, not wall time: the test machine is shared (its load must not fail the test)."""
    path = poisoned(poison)
    code, cpu, peak, out = _measured("check", str(path))
    assert (code, out) == (2, f"✗ {path}：无法读取\n  错误 X-FILE - {poison.reason}\n")
    assert cpu < CPU_SECONDS, f"{cpu:.2f} s of CPU"
    assert peak < PEAK_MB, f"{peak:.0f} MB"


@pytest.mark.slow
def test_merge_workers_stay_within_200_mb(poisoned: Callable[[Poison], Path], tmp_path: Path) -> None:
    """All the poisons in one folder, read by two worker processes."""
    folder = tmp_path / "报表"
    _good_pair(folder)
    for poison in POISONS:
        (folder / poisoned(poison).name).write_bytes(poisoned(poison).read_bytes())
    code, _cpu, peak, out = _measured("merge", str(folder), "-o", str(tmp_path / "汇总.xlsx"), "--jobs", "2")
    assert code == 1
    assert out.splitlines()[-1] == f"共 {len(POISONS) + 2} 个输入文件 = 已汇总 2 个 + 未汇总 {len(POISONS)} 个。"
    assert peak < PEAK_MB, f"{peak:.0f} MB"


def test_the_good_workbook_passes(good: Path) -> None:
    """The corpus is made from a workbook that reads cleanly: each poison fails for its poison."""
    (result,) = read_all([good])
    assert result.submission is not None and result.findings == []
