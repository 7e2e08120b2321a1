"""The benchmarks keep working (issue 22): ``benchmarks/bench.py --all`` runs every figure against
its goal in one run (check, merge, import, review, the portal) and ends with one table of verdicts.
Here at the smallest sizes, so that a change that breaks a benchmark fails a test; the figures
themselves are measured by the benchmarks, never asserted here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

SMALL = ["--check", "3", "--merge", "4", "--roster", "2", "--repeat", "1"]
SMALL_REST = ["--imports", "3", "--reviews", "8", "--rates", "4", "--seconds", "2", "--units", "6"]

JUDGED = [
    "xltool --help",
    "cold check of one file (CPU)",
    "check (3 files) (CPU)",
    "merge --jobs 2 (4 files) (wall)",
    "import (3 pages, CPU)",
    "review (8 reports) / import",
    "portal 4 uploads/s, p95",
    "portal summary.xlsx (6 units), first",
    "portal summary.xlsx (6 units), after an upload",
    "portal summary.xlsx (6 units), cold",
    "portal summary.docx (6 units), first",
    "portal summary.docx (6 units), after an upload",
    "portal summary.docx (6 units), cold",
    "portal summary.xlsx, after a restart",
]


def test_every_figure_in_one_run(tmp_path: Path) -> None:
    env = dict(os.environ, TMPDIR=str(tmp_path))  # the benchmarks' caches live under the temporary folder
    cmd = [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--all", "--workdir", str(tmp_path / "bench")]
    done = subprocess.run([*cmd, *SMALL, *SMALL_REST], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout.split("\nverdicts:\n", 1)[1].splitlines()
    row = re.compile(r"  (.+?)\s+(\d+\.\d\d)(x| s)  <= [\d.]+(x| s)\s+(ok|OVER)$")
    judged = [row.fullmatch(line) for line in table]
    assert all(judged), table
    assert [m.group(1) for m in judged if m] == JUDGED
    # each child's own report is shown in the run, not only its verdict
    for heading in ("$ import_bench.py --count 3", "$ review_bench.py --count 8", "$ serve_load.py --rates 4"):
        assert heading in done.stdout
    assert "4/s: 8/8 answered" in done.stderr  # the portal's line (serve_load.py reports on stderr)
    assert "none lost, every state right" in done.stderr
