"""xltool benchmarks: ratios against the floor of the libraries we build on, measured in one run.

    python benchmarks/bench.py                      # all parts, default sizes
    python benchmarks/bench.py --check 200 --merge 1000 --merge 10000 --roster 1000

Parts (issue 6): 1. batch check of N workbooks vs a plain openpyxl(read_only)+pandera script that
reads every cell of the same files (target <= 1.5x); 2. merge --jobs 2 vs the same floor on two
processes (target <= 1.5x, flat memory); 3. cold single check vs `import openpyxl, pandera.pandas`
(target <= 1.3x); 4. template generation for a roster. Each command runs as its own process; the
best of --repeat runs is kept; peak memory is the child's max RSS.
"""

from __future__ import annotations

import argparse
import compileall
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FLOOR = """
import sys
import openpyxl
import pandera.pandas  # noqa: F401  (the floor pays the same imports as xltool)
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def read_all(paths):
    cells = 0
    for p in paths:
        wb = openpyxl.load_workbook(p, read_only=True)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                cells += len(row)
        wb.close()
    return cells


if __name__ == "__main__":
    jobs = int(sys.argv[1])
    paths = sorted(str(p) for p in Path(sys.argv[2]).glob("*.xlsx"))
    if jobs == 1:
        print(read_all(paths))
    else:
        chunks = [paths[i : i + 50] for i in range(0, len(paths), 50)]
        with ProcessPoolExecutor(jobs) as pool:
            print(sum(pool.map(read_all, chunks)))
"""

UNIT_TYPES = ["乡镇人民政府", "街道办事处", "县级人民政府部门", "县级人民政府部门", "县级人民政府部门"]
PHRASES = [
    "本年度按照条例要求做好政府信息主动公开工作，及时更新公开专栏。",
    "依申请公开渠道畅通，全部申请均在法定期限内答复。",
    "落实信息发布保密审查制度，定期清理过时信息。",
    "维护政府网站信息公开平台，规范栏目设置。",
    "将政务公开纳入年度考核，本年度未发生责任追究。",
]


def filled_values(rng: random.Random, n: int) -> dict[str, object]:
    """A realistic, balanced submission: most units report small numbers, some zeros."""
    from xltool.form import spec as specs

    spec = specs.load()
    unit_type = rng.choice(UNIT_TYPES)
    values: dict[str, object] = {
        "unit.unit_name": f"测试单位{n:05d}",
        "unit.report_year": 2024,
        "unit.unit_type": unit_type,
        "unit.parent_unit": "某某县人民政府办公室",
        "unit.filler": "张某",
        "unit.phone": "0000-0000000",
        "unit.fill_date": "2025年1月15日",
        "s6.fee_notices": 0,
        "s6.fee_collected": 0,
    }
    for section in spec.sections:
        for part in section.parts:
            values[f"{section.key}.{part.key}"] = rng.choice(PHRASES) * rng.randint(1, 4)
    busy = unit_type == "县级人民政府部门" and rng.random() < 0.6
    for col in ("natural", "business", "legal"):
        new = rng.randint(0, 30) if busy else 0
        carry_in = rng.randint(0, 3) if busy else 0
        carry_out = rng.randint(0, min(2, new + carry_in))
        left = new + carry_in - carry_out
        disclosed = rng.randint(0, left)
        values |= {
            f"t3.new.{col}": new,
            f"t3.carry_in.{col}": carry_in,
            f"t3.carry_out.{col}": carry_out,
            f"t3.disclosed.{col}": disclosed,
            f"t3.partly.{col}": (left - disclosed) // 2,
            f"t3.not_held.{col}": left - disclosed - (left - disclosed) // 2,
        }
    values |= {
        "t2.normative.issued": rng.randint(0, 5),
        "t2.normative.in_force": rng.randint(5, 40),
        "t2.penalty.decisions": rng.randint(0, 60),
        "t2.license.decisions": rng.randint(0, 300) if busy else 0,
        "t4.cases.review_upheld": rng.randint(0, 2) if busy else 0,
    }
    from decimal import Decimal

    values["t2.fees.amount"] = Decimal(rng.randint(0, 2_000_000)) / 10000 if busy else 0
    return values


def generate(target: Path, count: int, seed: int = 6) -> Path:
    from xltool.form import spec as specs
    from xltool.workbook import template

    marker = target / f".complete-{count}"
    if marker.exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    rng = random.Random(seed)
    spec = specs.load()
    for n in range(count):
        template.write(target / f"unit{n:05d}.xlsx", spec, filled_values(rng, n))
    marker.touch()
    return target


def run(cmd: list[str], repeat: int, cwd: Path | None = None) -> tuple[float, float]:
    """Best wall time (s) of ``repeat`` runs and the peak RSS (MB) of the child."""
    best, peak = float("inf"), 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} exited {code}: {proc.stderr.read().decode() if proc.stderr else ''}")
        best, peak = min(best, elapsed), max(peak, usage.ru_maxrss / 1024)
    return best, peak


def interleaved(ours: list[str], floor: list[str], repeat: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Short commands alternate, so a burst of load on the machine hits both sides alike."""
    a, b = (float("inf"), 0.0), (float("inf"), 0.0)
    for _ in range(repeat):
        t, m = run(ours, 1)
        a = (min(a[0], t), max(a[1], m))
        t, m = run(floor, 1)
        b = (min(b[0], t), max(b[1], m))
    return a, b


def line(name: str, ours: tuple[float, float], floor: tuple[float, float], target: float, files: int) -> str:
    ratio = ours[0] / floor[0]
    verdict = "ok" if ratio <= target else "OVER"
    rate = f"{files / ours[0]:8.1f} files/s" if files else " " * 16
    return (
        f"{name:<34} xltool {ours[0]:7.2f}s {ours[1]:7.0f}MB | floor {floor[0]:7.2f}s {floor[1]:6.0f}MB | "
        f"ratio {ratio:5.2f} (target <= {target}) {verdict} | {rate}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", type=int, default=200, help="workbooks for the batch check (0 skips)")
    parser.add_argument("--merge", type=int, action="append", help="workbooks for a merge run (repeatable)")
    parser.add_argument("--roster", type=int, default=1000, help="units for template generation (0 skips)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "xltool-bench")
    args = parser.parse_args()
    merges = [n for n in (args.merge if args.merge is not None else [1000]) if n > 0]
    py = sys.executable
    floor_script = args.workdir / "floor.py"
    args.workdir.mkdir(parents=True, exist_ok=True)
    floor_script.write_text(FLOOR, encoding="utf-8")
    print(f"xltool benchmarks — {time.strftime('%Y-%m-%d')} — {os.cpu_count()} CPUs — Python {sys.version.split()[0]}")

    # pip byte-compiles an installed package, so the floor's libraries start from .pyc files; an
    # editable checkout only gets them on first import, and never where PYTHONDONTWRITEBYTECODE is
    # set (it is on some CI machines). Compile xltool too, so both sides start as installed.
    compileall.compile_dir(ROOT / "xltool", quiet=1)
    one = generate(args.workdir / "n1", 1) / "unit00000.xlsx"
    cold, imports = interleaved(
        [py, "-m", "xltool", "check", str(one)], [py, "-c", "import openpyxl, pandera.pandas"], args.repeat * 4
    )
    print(line("3. cold single check", cold, imports, 1.3, 0))

    if args.check:
        data = generate(args.workdir / f"n{args.check}", args.check)
        ours = run([py, "-m", "xltool", "check", str(data), "--json"], args.repeat)
        floor = run([py, str(floor_script), "1", str(data)], args.repeat)
        print(line(f"1. batch check ({args.check} files)", ours, floor, 1.5, args.check))

    for count in merges:
        data = generate(args.workdir / f"n{count}", count)
        out = args.workdir / f"summary-{count}.xlsx"
        cmd = [py, "-m", "xltool", "merge", str(data), "-o", str(out), "--jobs", "2", "--unit", "测试汇总"]
        out.unlink(missing_ok=True)
        ours = run(cmd, 1)
        floor = run([py, str(floor_script), "2", str(data)], 1)
        print(line(f"2. merge --jobs 2 ({count} files)", ours, floor, 1.5, count))

    if args.roster:
        roster = args.workdir / f"roster-{args.roster}.csv"
        with roster.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["单位名称", "单位类型", "上级单位"])
            for n in range(args.roster):
                writer.writerow([f"测试单位{n:05d}", UNIT_TYPES[n % len(UNIT_TYPES)], "某某县人民政府办公室"])
        out_dir = args.workdir / f"templates-{args.roster}"
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir()
        best, peak = run(
            [py, "-m", "xltool", "template", "--roster", str(roster), "-o", str(out_dir), "--year", "2025"], 1
        )
        print(
            f"{'4. template --roster (' + str(args.roster) + ' units)':<34} xltool {best:7.2f}s {peak:7.0f}MB | {args.roster / best:8.1f} templates/s"
        )


if __name__ == "__main__":
    main()
