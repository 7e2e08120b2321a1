"""The bundled samples: committed files match the generator, and `check --json` matches golden files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xltool.cli import app
from xltool.sources.checking import check
from xltool.workbook.reader import read

from . import sample_data
from .conftest import ROOT, UPDATE_GOLDEN

runner = CliRunner()
SAMPLES = sorted([*(ROOT / "samples").glob("*.xlsx"), *(ROOT / "samples" / "invalid").glob("*.xlsx")])
EXIT = {"车排子镇2023年报.xlsx": 0, "沭阳县发展和改革局2023年报.xlsx": 0}  # the 2019-form sample keeps its real error


def test_there_are_valid_and_invalid_samples() -> None:
    names = {p.name for p in SAMPLES}
    assert set(EXIT) <= names
    assert len([p for p in SAMPLES if p.parent.name == "invalid"]) == len(sample_data.INVALID)


@pytest.mark.slow
def test_committed_samples_match_the_generator(tmp_path: Path) -> None:
    fresh = {p.relative_to(tmp_path): read(p).values for p in sample_data.build(tmp_path)}
    committed = {p.relative_to(ROOT / "samples"): read(p).values for p in SAMPLES}
    assert fresh == committed


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_json_is_golden(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    rel = path.relative_to(ROOT)
    result = runner.invoke(app, ["check", str(rel), "--json"])
    assert result.exit_code == EXIT.get(path.name, 1)
    golden = path.with_suffix(".expected.json")
    if UPDATE_GOLDEN:
        golden.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == golden.read_text(encoding="utf-8")
    assert json.loads(result.stdout)["files"][0]["file"] == str(rel)


def test_seed_figures_match_the_published_report(shared_reports: Path) -> None:
    """The 沭阳 sample carries the figures of the published 2023 report (table 三, column 总计)."""
    lines = (shared_reports / "025_shuyang_fgj_2023_full.txt").read_text(encoding="utf-8").splitlines()
    sub = read(ROOT / "samples" / "沭阳县发展和改革局2023年报.xlsx")
    from xltool.submission import computed

    numbers = computed(sub.spec, sub.values)
    checked = 0
    for label, key in [
        ("一、本年新收政府信息公开申请数量", "new"),
        ("（一）予以公开", "disclosed"),
        ("（七）总计", "total"),
    ]:
        i = lines.index(label)
        cells = [int(x) if x.strip() else 0 for x in lines[i + 1 : i + 8]]
        assert cells[0] == numbers[f"t3.{key}.natural"] and cells[6] == numbers[f"t3.{key}.total"]
        checked += 1
    i = lines.index("规范性文件")
    assert [int(x) for x in lines[i + 1 : i + 4]] == [
        numbers[f"t2.normative.{c}"] for c in ("issued", "repealed", "in_force")
    ]
    assert checked == 3


def test_pingtan_2020_sample_has_the_published_figures(shared_reports: Path) -> None:
    """The 2019-form sample carries tables 三 and 四 of the published 2020 report (figures.json),
    and check finds the report's real error: 法律服务机构 counted in （四）1 but not as received."""
    published = json.loads((shared_reports / "figures.json").read_text(encoding="utf-8"))[
        "004_pingtan-ziranziyuan_2020"
    ]
    assert published["form"] == "2019"
    path = ROOT / "samples" / "平潭综合实验区自然资源与生态环境局2020年报.xlsx"
    sub = read(path)
    assert sub.spec.form_version == "2019"
    from xltool.form.spec import leaves
    from xltool.submission import computed

    numbers = computed(sub.spec, sub.values)
    block = sub.spec.table("t3").blocks[0]
    rows = [r for r in leaves(block.rows) if not r.node.derived]
    codes = list(dict.fromkeys(k.split("|")[0] for k in published["t3"]))
    assert len(rows) == len(codes) == 22  # 23 value rows less （七）总计, which is computed
    for code, row in zip(codes, rows, strict=True):
        for col in (c for c in leaves(block.columns) if not c.node.derived):
            assert numbers[f"t3.{row.key}.{col.key}"] == published["t3"][f"{code}|{col.label}"], (code, col.label)
    for group, figures in published["t4"].items():
        key = {"行政复议": "review", "未经复议直接起诉": "direct", "复议后起诉": "after_review"}[group]
        got = [numbers[f"t4.cases.{key}_{c}"] for c in ("upheld", "corrected", "other", "pending")]
        assert got == figures, group
    errors = [(f.rule, f.cell) for f in check([path])[0].findings]
    assert errors == [("T3-1", "H28"), ("T3-1", "J28")]
    assert [e["column"] for e in published["errors"] if e["rule"].startswith("一 + 二")] == ["法律服务机构", "总计"]


def test_seed_chepaizi_is_all_zero(shared_reports: Path) -> None:
    text = (shared_reports / "chepaizi-2023.txt").read_text(encoding="utf-8")
    table = text[text.index("二、主动公开政府信息情况") : text.index("五、存在的主要问题")]
    assert set(re.findall(r"^\t(\d+)$", table, re.M)) == {"0"}
    sub = read(ROOT / "samples" / "车排子镇2023年报.xlsx")
    assert all(sub.number(c.key) == 0 for c in sub.spec.inputs())


@pytest.mark.slow
def test_installed_entry_point_checks_the_sample() -> None:
    exe = Path(sys.executable).with_name("xltool")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "xltool"]
    sample = "samples/车排子镇2023年报.xlsx"
    proc = subprocess.run(
        [*cmd, "check", sample],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONIOENCODING": "utf-8"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"✓ {sample}（车排子镇人民政府）：通过\n"


@pytest.mark.slow
def test_output_redirected_in_the_gbk_code_page(tmp_path: Path) -> None:
    """Windows encodes redirected output in the ANSI code page (GBK), which lacks ✓ ✗ and rare
    place-name characters (𬌗): the clerk gets √ × and ?, never a UnicodeEncodeError traceback."""
    rare = sample_data.write_valid(tmp_path / "rare.xlsx", sample_data.CHEPAIZI | {"unit.unit_name": "𬌗口镇人民政府"})
    broken = "samples/invalid/勾稽不平.xlsx"
    proc = subprocess.run(
        [sys.executable, "-m", "xltool", "check", str(rare), broken],
        cwd=ROOT,
        capture_output=True,
        env=os.environ | {"PYTHONIOENCODING": "gbk"},
    )
    assert proc.returncode == 1, proc.stderr.decode("gbk")
    lines = proc.stdout.decode("gbk").splitlines()
    assert lines[0] == f"√ {rare}（?口镇人民政府）：通过"
    assert lines[1] == f"× {broken}（沭阳县发展和改革局）：有 5 个错误"
    assert proc.stderr == b""


@pytest.mark.slow
def test_json_redirected_in_the_gbk_code_page_loses_nothing(tmp_path: Path) -> None:
    """JSON is for programs: what GBK lacks is escaped (\\uXXXX), not replaced by ?."""
    rare = sample_data.write_valid(tmp_path / "𬌗口镇2024年报.xlsx", sample_data.CHEPAIZI | {"t2.fees.amount": None})
    proc = subprocess.run(
        [sys.executable, "-m", "xltool", "check", str(rare), "--json"],
        cwd=ROOT,
        capture_output=True,
        env=os.environ | {"PYTHONIOENCODING": "gbk"},
    )
    assert proc.returncode == 1, proc.stderr.decode("gbk")
    assert proc.stdout.isascii()
    (found,) = json.loads(proc.stdout)["files"]
    assert found["file"] == str(rare)
    assert [(f["rule"], f["cell"]) for f in found["findings"]] == [("C-BLANK", "B16")]
    assert found["findings"][0]["message"].startswith("行政事业性收费／本年收费金额（单位：万元）为空。")


@pytest.mark.parametrize("json_out", [False, True], ids=["text", "json"])
def test_output_printed_batch_by_batch_is_the_whole_output(monkeypatch: pytest.MonkeyPatch, json_out: bool) -> None:
    """check prints each batch and lets it go (flat memory); stitched together it is as_text/as_json of all."""
    from xltool.checks import check as checking
    from xltool.sources import checking as files

    flags = ["--json"] if json_out else []
    whole = runner.invoke(app, ["check", *map(str, SAMPLES), *flags])
    monkeypatch.setattr(files, "BATCH", 2)
    batched = runner.invoke(app, ["check", *map(str, SAMPLES), *flags])
    results = files.check(SAMPLES)
    expected = checking.as_json(results) if json_out else checking.as_text(results)
    assert len(SAMPLES) > 4
    assert batched.stdout == whole.stdout == expected + "\n"
    assert batched.exit_code == whole.exit_code == checking.exit_code(results) == 1
