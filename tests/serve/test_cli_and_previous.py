"""``xltool serve DIR --init``: what it prints, what it refuses; --previous carries last year over."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from tests.sample_data import CHEPAIZI, SHUYANG, T3
from xltool.form import spec as specs
from xltool.serve import collection, store
from xltool.sources import merging
from xltool.summary.analytics import CARRY_SHEET
from xltool.workbook import template
from xltool.workbook.reader import read

from .conftest import CHE, GOOD_SHU, MISSING, ROOT, ROSTER, SHU, Made, client_for, make_collection, upload


def xltool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xltool", *args], capture_output=True, text=True, cwd=ROOT)


@pytest.mark.slow
def test_init_prints_the_secrets_once_then_only_links(tmp_path):
    roster = tmp_path / "名单.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    folder = tmp_path / "round"
    run = xltool("serve", str(folder), "--init", "--year", "2023", "--unit", "某某县人民政府", "--roster", str(roster))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("管理密码：") and len(lines[0].removeprefix("管理密码：")) == 16
    assert lines[1].startswith("管理令牌（供脚本使用）：")
    assert lines[2] == f"已写入 3 个单位的填报链接：{folder / '填报链接.csv'}"
    assert "只显示这一次" in run.stderr
    again = xltool("serve", str(folder), "--init", "--roster", str(roster), "--json")
    assert again.returncode == 0, again.stderr
    out = json.loads(again.stdout)
    assert out["admin_password"] is None and out["admin_token"] is None
    assert [link["unit"] for link in out["links"]] == [SHU, "车排子镇人民政府", "某某乡人民政府"]


@pytest.mark.slow
def test_init_json_and_base_url(tmp_path):
    roster = tmp_path / "名单.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    run = xltool(
        *("serve", str(tmp_path / "r"), "--init", "--year", "2023", "--unit", "某县", "--roster", str(roster)),
        *("--base-url", "http://10.1.2.3:8000/", "--json"),
    )
    out = json.loads(run.stdout)
    assert set(out) == {"admin_password", "admin_token", "links"}
    assert all(link["link"].startswith("http://10.1.2.3:8000/u/") for link in out["links"])


@pytest.mark.slow
def test_init_refusals_are_chinese_with_exit_2(tmp_path):
    roster = tmp_path / "名单.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    cases = [
        (
            ("--init", "--year", "2023", "--unit", "某县"),
            "错误：--init 需要 --roster 名单文件（.csv 或 .xlsx，含“单位名称”列）。",
        ),
        (("--init", "--roster", str(roster)), "错误：新建收集时必须给出 --year（报告年度）和 --unit（汇总单位名称）。"),
        (
            ("--init", "--year", "1995", "--unit", "某县", "--roster", str(roster)),
            "错误：报告年度 1995 没有适用的表式。",
        ),
        (("--db", "mysql://x/y"), "错误：不支持的数据库地址 mysql://x/y"),
    ]
    for args, text in cases:
        run = xltool("serve", str(tmp_path / "r"), *args)
        assert run.returncode == 2 and run.stderr.startswith(text), (args, run.stderr)
        assert "Traceback" not in run.stderr


def test_deadline_is_shown(tmp_path):
    made = make_collection(tmp_path / "round", None, deadline="2024年1月31日")
    with client_for(made) as c:
        assert "报送截止：<strong>2024年1月31日</strong>" in c.get(made.link(SHU)).text


def test_previous_round_prefills_the_carry_over(tmp_path):
    last = make_collection(tmp_path / "2023", None)
    last_year = tmp_path / "2023.xlsx"  # one request still open at the end of 2023
    template.write(last_year, specs.load(), {**SHUYANG, "t3.new.natural": 27, "t3.carry_out.natural": 1})
    with client_for(last) as c:
        assert upload(c, last.link(SHU), last_year).json()["accepted"] is True
    roster = tmp_path / "名单.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    created = collection.init(tmp_path / "2024", year=2024, unit="某某县人民政府", roster=roster, previous=last.folder)
    url = dict(created.links)[SHU]
    made = type(last)(tmp_path / "2024", None, created, roster)
    with client_for(made) as c:
        r = c.get(url[url.index("/u/") :] + "/template.xlsx")
    path = tmp_path / "t.xlsx"
    path.write_bytes(r.content)
    this = read(path)
    carried = {k: v for k, v in this.values.items() if k.startswith("t3.carry_in.")}
    assert carried["t3.carry_in.natural"] == 1
    assert all(v == 0 for k, v in carried.items() if k != "t3.carry_in.natural")
    assert this.year == 2024 and this.unit_name == SHU
    # a unit that did not pass last year gets a template without carry-over, not an error
    with client_for(made) as c:
        other = dict(created.links)["车排子镇人民政府"]
        assert c.get(other[other.index("/u/") :] + "/template.xlsx").status_code == 200


@pytest.mark.slow
def test_previous_must_be_a_round_folder_or_a_summary(tmp_path):
    roster = tmp_path / "名单.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    for previous, text in [
        (GOOD_SHU, f"错误：{GOOD_SHU} 不是汇总工作簿（是沭阳县发展和改革局自己的年度报告）。"),
        (tmp_path, f"错误：{tmp_path} 不是 xltool 收集文件夹（没有 portal.sqlite3），也不是上一年度的汇总工作簿。"),
    ]:
        run = xltool(
            *("serve", str(tmp_path / "r"), "--init", "--year", "2024", "--unit", "某县", "--roster", str(roster)),
            *("--previous", str(previous)),
        )
        assert run.returncode == 2 and run.stderr.startswith(text), run.stderr
    assert not (tmp_path / "r").exists()


def last_summary(tmp_path: Path) -> Path:
    """Last year's county summary of two units, each with requests still open at the end of 2023."""
    shu, che_path = tmp_path / "shu.xlsx", tmp_path / "che.xlsx"
    template.write(shu, specs.load(), {**SHUYANG, "t3.new.natural": 27, "t3.carry_out.natural": 1})
    che_values = {"t3.new.business": 3, "t3.disclosed.business": 1, "t3.carry_out.business": 2}
    che = {**CHEPAIZI, **che_values, "s1.on_request": "依申请公开渠道（当面、信函、网络）保持畅通。"}
    template.write(che_path, specs.load(), che)
    out = tmp_path / "2023年汇总.xlsx"
    assert merging.merge([shu, che_path], out, unit="某某县人民政府", jobs=1).exit_code == 0
    return out


@pytest.mark.slow
def test_previous_summary_prefills_each_units_carry_over(tmp_path):
    summary = last_summary(tmp_path)
    roster = tmp_path / "名单.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    folder = tmp_path / "2024"
    run = xltool(
        *("serve", str(folder), "--init", "--year", "2024", "--unit", "某某县人民政府", "--roster", str(roster)),
        *("--previous", str(summary)),
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[3] == "上年汇总中没有以下 1 个单位，其模板不预填“上年结转”：某某乡人民政府"
    again = xltool("serve", str(folder), "--init", "--roster", str(roster), "--previous", str(summary), "--json")
    assert json.loads(again.stdout)["not_in_previous"] == ["某某乡人民政府"]
    made = Made(folder, None, collection.Created(None, None, links_of(folder), folder / "填报链接.csv"), roster)
    got = {}
    with client_for(made) as c:
        for name in (SHU, CHE, MISSING):
            r = c.get(made.link(name) + "/template.xlsx")
            assert r.status_code == 200
            got[name] = tmp_path / f"{name}.xlsx"
            got[name].write_bytes(r.content)
    carried = {
        name: {k: v for k, v in read(p).values.items() if k.startswith("t3.carry_in.")} for name, p in got.items()
    }
    assert carried[SHU] == {k: (1 if k == "t3.carry_in.natural" else 0) for k in carried[SHU]}
    assert carried[CHE] == {k: (2 if k == "t3.carry_in.business" else 0) for k in carried[CHE]}
    assert len(carried[SHU]) == 6 and set(carried[MISSING].values()) == {0}
    t3 = {name: openpyxl.load_workbook(p)[T3] for name, p in got.items()}
    assert t3[SHU]["D7"].value == 1 and t3[CHE]["E7"].value == 2
    assert all(t3[n][f"{col}7"].protection.locked for n in (SHU, CHE) for col in "DEFGHI")
    assert not any(t3[MISSING][f"{col}7"].protection.locked for col in "DEFGHI")  # blank, to be filled
    assert not t3[SHU]["D6"].protection.locked  # this year's figures stay editable
    assert read(got[CHE]).year == 2024 and read(got[CHE]).unit_name == CHE


@pytest.mark.slow
def test_a_summary_without_the_carry_sheet_is_refused(tmp_path):
    summary = last_summary(tmp_path)
    wb = openpyxl.load_workbook(summary)
    del wb[CARRY_SHEET]  # as an xltool before the carry sheet wrote it
    old = tmp_path / "旧汇总.xlsx"
    wb.save(old)
    roster = tmp_path / "名单.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    run = xltool(
        *("serve", str(tmp_path / "r"), "--init", "--year", "2024", "--unit", "某县", "--roster", str(roster)),
        *("--previous", str(old)),
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith(
        f"错误：{old}：上年汇总工作簿由旧版 xltool 生成，没有各单位分列的结转数（缺少“各单位结转”工作表），"
        "无法逐个单位预填“上年结转”。请改用上一年度的收集文件夹，或用新版 xltool 重新汇总上一年度的报表后再试。"
    ), run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "r").exists()


def links_of(folder: Path) -> list[tuple[str, str]]:
    rows = (folder / "填报链接.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    return [tuple(r.split(",")) for r in rows]  # type: ignore[misc]


def test_store_open_needs_a_collection(tmp_path: Path):
    try:
        store.open_store(tmp_path)
    except store.UsageError as exc:
        assert "不是 xltool 收集文件夹" in exc.message
    else:
        raise AssertionError("opened a folder without a collection")
