"""Commands that do not check start without pandas and pandera (issue 21): ``--help``, ``template``,
``render``, and the portal's server process. How long start-up takes is measured in
benchmarks/bench.py (part 0), not here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "车排子镇2023年报.xlsx"

HEAVY = ("pandas", "pandera", "openpyxl", "rich", "starlette", "sqlalchemy", "lxml", "docx", "pypdfium2", "opencc")


def loaded(code: str, cwd: Path) -> set[str]:
    """The heavy libraries in sys.modules after running ``code`` in a fresh interpreter."""
    probe = (
        f"{code}\nimport sys\nprint('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=cwd, check=True)
    line = next(x for x in reversed(out.stderr.splitlines()) if x.startswith("LOADED:"))
    return set(filter(None, line.removeprefix("LOADED:").split(",")))


def command(args: list[str]) -> str:
    return (
        f"import sys; sys.argv = ['xltool', *{args!r}]\n"
        "from xltool.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )


def test_help_loads_no_heavy_library(tmp_path: Path) -> None:
    assert loaded(command(["--help"]), tmp_path) == set()
    assert loaded(command(["merge", "--help"]), tmp_path) == set()
    assert loaded(command(["chek"]), tmp_path) == set()  # a usage error is drawn without rich too


def test_template_loads_no_heavy_library(tmp_path: Path) -> None:
    assert loaded(command(["template", "-o", str(tmp_path / "t.xlsx")]), tmp_path) == set()
    assert (tmp_path / "t.xlsx").is_file()


@pytest.mark.parametrize("suffix", [".html", ".md"])
def test_render_loads_no_pandas(tmp_path: Path, suffix: str) -> None:
    sample = SAMPLE
    out = tmp_path / f"r{suffix}"
    assert loaded(command(["render", str(sample), "-o", str(out)]), tmp_path) == set()
    assert out.is_file()


@pytest.mark.slow
def test_check_loads_pandera_for_a_batch_only(tmp_path: Path) -> None:
    """One workbook is checked with the plain value rules; a batch with the pandera schema (the
    control: the probe sees pandas when a command does load it)."""
    other = tmp_path / "other.xlsx"
    other.write_bytes(SAMPLE.read_bytes())
    assert loaded(command(["check", str(SAMPLE)]), tmp_path) == set()
    assert {"pandas", "pandera"} <= loaded(command(["check", str(SAMPLE), str(other)]), tmp_path)


@pytest.mark.slow
def test_the_portal_server_process_loads_no_pandas(tmp_path: Path) -> None:
    """The web layer and the collection code; the checks run in worker processes, which load pandas."""
    found = loaded("import xltool.serve.app, xltool.serve.collection", tmp_path)
    assert "pandas" not in found and "pandera" not in found
    assert "starlette" in found  # the control: the web stack itself is loaded
