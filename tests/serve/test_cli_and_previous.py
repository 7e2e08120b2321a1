"""``xltool serve DIR --init``: what it prints, what it refuses; --previous carries last year over."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.sample_data import SHUYANG
from xltool.form import spec as specs
from xltool.serve import store
from xltool.workbook import template
from xltool.workbook.reader import read

from .conftest import GOOD_SHU, ROOT, ROSTER, SHU, client_for, make_collection, upload


def xltool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xltool", *args], capture_output=True, text=True, cwd=ROOT)


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


def test_init_refusals_are_chinese_with_exit_2(tmp_path):
    roster = tmp_path / "名单.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    cases = [
        (
            ("--init", "--year", "2023", "--unit", "某县"),
            "错误：--init 需要 --roster 名单文件（.csv 或 .xlsx，含“单位名称”列）。",
        ),
        (("--init", "--roster", str(roster)), "错误：新建收集时必须给出 --year（报告年度）和 --unit（汇总单位名称）。"),
        (("--init", "--year", "1995", "--unit", "某县", "--roster", str(roster)), "错误：报告年度 1995 没有适用的表式。"),
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
    from xltool.serve import collection

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


def test_previous_must_be_a_round_folder(tmp_path):
    roster = tmp_path / "名单.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    run = xltool(
        *("serve", str(tmp_path / "r"), "--init", "--year", "2024", "--unit", "某县", "--roster", str(roster)),
        *("--previous", str(GOOD_SHU)),
    )
    assert run.returncode == 2 and "汇总工作簿只有各单位的几个关键数字" in run.stderr


def test_store_open_needs_a_collection(tmp_path: Path):
    try:
        store.open_store(tmp_path)
    except store.UsageError as exc:
        assert "不是 xltool 收集文件夹" in exc.message
    else:
        raise AssertionError("opened a folder without a collection")
