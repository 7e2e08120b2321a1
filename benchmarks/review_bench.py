"""`xltool review` benchmark: a folder of generated published reports reviewed in one run, against the
import of the same reports (issue 22: review <= 1.2x the import).

    python benchmarks/review_bench.py                  # 500 reports: 125 units x 2021-2024, as .html
    python benchmarks/review_bench.py --count 100      # small, for a shared machine

The reports are made the way units make them: benchmarks/bench.py's realistic figures for each unit,
carried over year to year (each year's 上年结转 is last year's 结转下年度), rendered to .html by
``xltool render``'s renderer; cached under /tmp, so only the first run pays for rendering. Each
measurement runs in a fresh process (CPU seconds, and the process's peak memory); the runs alternate,
--repeat rounds, and each keeps its best (a burst of load on a shared machine hits all alike):

- xltool import: ``xltool import FOLDER -o OUT``, the import of the same reports as a user runs it:
  each report parsed, placed, written as the form's workbook and checked as `xltool check` checks
  it. Review does the same reading and checking (with the assessment rules on top) and writes one
  workbook where import writes one per report: the comparison of the goal;
- import + check: the part of that review cannot avoid, in memory: parse, place, a submission per
  report, each checked (one pandera call per 200), nothing written (a stricter comparison);
- import (in memory): parse and place alone, a submission per report (for reference);
- review: `xltool review FOLDER -o OUT` (every report imported and checked with the assessment rules,
  every pair of years compared, the workbook written);
- review of the first quarter, half and all of the folder: peak memory against the number of reports
  (it grows only with the rows of the result, never with the Submissions).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

CACHE = Path(tempfile.gettempdir()) / "xltool-review-bench"
YEARS = (2021, 2022, 2023, 2024)
NAMES = {
    "乡镇人民政府": "测试县第{n}镇人民政府",
    "街道办事处": "测试县第{n}街道办事处",
    "县级人民政府部门": "测试县第{n}局",
}


def reports(count: int) -> list[Path]:
    """``count`` published reports (count/4 units, four years each), made once and cached."""
    from bench import filled_values

    from xltool.documents.render import render
    from xltool.form import spec as specs
    from xltool.submission import Submission, blank_values

    folder = CACHE / f"html-{count}"
    marker = folder / ".complete"
    if marker.exists():
        return sorted(folder.glob("*.html"))
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(18)
    spec = specs.load()
    columns = ("natural", "business", "legal")
    for n in range(count // len(YEARS)):
        carried = dict.fromkeys(columns, 0)
        kind = rng.choice(sorted(NAMES))  # a unit keeps its type (and so its name) from year to year
        for year in YEARS:
            month = 2 if rng.random() < 0.05 else 1  # one report in twenty signed after 31 January
            values = filled_values(rng, n) | {
                "unit.report_year": year,
                "unit.fill_date": f"{year + 1}年{month}月{rng.randint(5, 28)}日",
                "unit.unit_type": kind,
            }
            for col in columns:  # last year's 结转下年度 is this year's 上年结转; the year still balances
                shift = carried[col] - values[f"t3.carry_in.{col}"]  # type: ignore[operator]
                values[f"t3.carry_in.{col}"] = carried[col]
                values[f"t3.not_held.{col}"] += shift  # type: ignore[operator]
                if values[f"t3.not_held.{col}"] < 0:  # type: ignore[operator]
                    values[f"t3.new.{col}"] -= values[f"t3.not_held.{col}"]  # type: ignore[operator]
                    values[f"t3.not_held.{col}"] = 0
                carried[col] = values[f"t3.carry_out.{col}"]  # type: ignore[assignment]
            values["unit.unit_name"] = NAMES[str(values["unit.unit_type"])].format(n=n)
            render(Submission(spec, "", blank_values(spec) | values), folder / f"r{n:04d}-{year}.html")
    marker.touch()
    return sorted(folder.glob("*.html"))


IMPORT = """
import sys
from pathlib import Path
from xltool.importers import pipeline
from xltool.sources.importing import read_report
paths = sorted(Path(sys.argv[1]).glob("*.html"))[: int(sys.argv[2])]
subs = 0
for p in paths:
    pipeline.as_submission(read_report(p))
    subs += 1
print(subs)
"""

IMPORT_CHECK = """
import sys
from pathlib import Path
from xltool.checks import check
from xltool.checks.check import FileResult
from xltool.importers import pipeline
from xltool.sources.importing import read_report
paths = sorted(Path(sys.argv[1]).glob("*.html"))[: int(sys.argv[2])]
for start in range(0, len(paths), 200):
    subs = [pipeline.as_submission(read_report(p)) for p in paths[start : start + 200]]
    check.evaluate([FileResult(s.source, s) for s in subs])
print(len(paths))
"""


PEAK = "\nimport resource, sys\nprint('peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
CLI = """
import sys
from xltool.cli import app
try:
    app(sys.argv[1:], prog_name="xltool")
except SystemExit:
    pass
"""


def measured(script: str, *args: str) -> tuple[float, float, float]:
    """(CPU seconds, wall seconds, peak MB) of one fresh process running ``script`` with ``args``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script + PEAK, *args], capture_output=True, text=True, cwd=ROOT, env=env
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = next((int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("peak ")), 0)
    return cpu, wall, peak / 1024


REVIEW = """
import sys
from pathlib import Path
from xltool.sources import reviewing
paths = [Path(p) for p in Path(sys.argv[1]).read_text(encoding="utf-8").split("\\n")]
outcome = reviewing.review(paths, Path(sys.argv[2]), force=True)
print(len(outcome.rows), len(outcome.pairs))
"""


GOAL = 1.2  # issue 22: review <= 1.2x the import of the same reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of runs; each measurement keeps its best")
    args = parser.parse_args()
    paths = reports(args.count)
    folder = paths[0].parent
    print(
        f"xltool review benchmark — {time.strftime('%Y-%m-%d')} — {os.cpu_count()} CPUs — Python {sys.version.split()[0]}"
    )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {len(paths)} reports in {folder}")
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "评查结果.xlsx"
        n = str(len(paths))
        runs = {
            "xltool import": (CLI, "import", str(folder), "-o", str(Path(scratch) / "imported"), "--force"),
            "import + check": (IMPORT_CHECK, str(folder), n),
            "import (in memory)": (IMPORT, str(folder), n),
            "xltool review": (CLI, "review", str(folder), "-o", str(out), "--force"),
        }
        best: dict[str, tuple[float, float, float]] = {}
        for _ in range(args.repeat):
            for name, run in runs.items():
                cpu, wall, peak = measured(*run)
                was = best.get(name, (float("inf"), float("inf"), 0.0))
                best[name] = (min(was[0], cpu), min(was[1], wall), max(was[2], peak))
        for name, (cpu, wall, peak) in best.items():
            rate = len(paths) / cpu
            print(f"{name:20s} CPU {cpu:7.2f} s  wall {wall:7.2f} s  {rate:6.1f} reports/s  peak {peak:5.0f} MB")
        review = best["xltool review"][0]
        ratio = review / best["xltool import"][0]
        print(f"review / xltool import:      {ratio:.2f} (goal <= {GOAL}) {'ok' if ratio <= GOAL else 'OVER'}")
        print(f"review / import + check:     {review / best['import + check'][0]:.2f}")
        print(f"review / import (in memory): {review / best['import (in memory)'][0]:.2f}", flush=True)
        for share in (4, 2, 1):
            listed = Path(scratch) / f"first-{share}.txt"
            listed.write_text("\n".join(map(str, paths[: len(paths) // share])), encoding="utf-8")
            used, _wall, peak = measured(REVIEW, str(listed), str(out))
            print(f"review of {len(paths) // share:5d} reports: CPU {used:7.2f} s  peak {peak:5.0f} MB", flush=True)


if __name__ == "__main__":
    main()
