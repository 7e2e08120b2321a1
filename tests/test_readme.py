"""README's "每个命令一个例子" runs as written, in order, from a fresh folder (issue 21: a newcomer's
entry point must not drift from the commands). The portal's server itself is not started here."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

EXPECTED = {  # what each example exits with on the bundled samples (README: 0 clean, 1 findings)
    "template": 0,
    "check": 1,  # 勾稽不平.xlsx is the sample with a 勾稽 error
    "merge": 1,  # the previous summary's planted carry-over differences
    "draft": 0,
    "render": 0,
    "import": 0,
    "review": 1,  # the county's 教育局 has an error, 石桥乡 is missing
    "serve": 0,  # --init only
}


def examples() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## 每个命令一个例子", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    lines = re.sub(r"\\\n\s*", " ", block).splitlines()
    commands = [shlex.split(line.split("#", 1)[0]) for line in lines if line.strip()]
    return [c for c in commands if c and c[0] == "xltool"]


def test_every_command_has_an_example() -> None:
    assert sorted({c[1] for c in examples()}) == sorted(EXPECTED)


@pytest.mark.slow
def test_the_examples_run_in_order(tmp_path: Path) -> None:
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    for command in examples():
        if command[1] == "serve" and "--init" not in command:
            continue  # starts the server and waits: tests/serve run it
        run = subprocess.run(
            [sys.executable, "-m", "xltool", *command[1:]], cwd=tmp_path, capture_output=True, text=True
        )
        assert run.returncode == EXPECTED[command[1]], (command, run.stdout[-2000:], run.stderr[-2000:])
