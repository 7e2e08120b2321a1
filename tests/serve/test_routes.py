"""Every route of the portal, in-process, on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from xltool.serve import collection
from xltool.sources import checking
from xltool.workbook.reader import read

from .conftest import (
    BROKEN_SHU,
    CHE,
    GOOD_CHE,
    GOOD_SHU,
    MISSING,
    SHU,
    Made,
    admin_csrf,
    bearer,
    broken_then_fixed,
    client_for,
    login,
    make_collection,
    upload,
)


def test_healthz(client):
    r = client.get("/healthz")
    assert (r.status_code, r.text) == (200, "ok")


def test_init_writes_links_and_prints_secrets_once(made: Made):
    rows = (made.folder / "填报链接.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0] == "单位名称,链接"
    assert [r.split(",")[0] for r in rows[1:]] == [SHU, CHE, MISSING]
    assert all(r.split(",")[1].startswith("http://127.0.0.1:8000/u/") for r in rows[1:])
    assert len(made.created.admin_password or "") == 16 and len(made.created.admin_token or "") >= 32
    # only hashes are stored
    store = collection.open_store(made.folder, made.db)
    try:
        assert made.created.admin_password not in (store.get("admin_hash") or "")
        assert (store.get("admin_hash") or "").startswith("$argon2id$")
        assert store.get("api_sha") != made.created.admin_token
    finally:
        store.close()


def test_init_again_updates_the_roster_and_keeps_links(tmp_path, db):
    made = make_collection(tmp_path / "round", db)
    again = make_collection(tmp_path / "round", db, roster_text="单位名称\n沭阳县发展和改革局\n新增单位\n")
    assert again.created.admin_password is None and again.created.admin_token is None
    links = dict(again.created.links)
    assert list(links) == [SHU, "新增单位"]
    assert links[SHU] == dict(made.created.links)[SHU]
    with client_for(again) as c:
        login(c, made)
        page = c.get("/admin").text
        assert "不在当前名单中的单位" in page and CHE in page.split("不在当前名单中的单位")[1]
        # the unlisted unit's link still opens its page
        assert c.get(made.link(CHE)).status_code == 200


def test_unit_page_shows_name_year_and_form(client, made):
    r = client.get(made.link(SHU))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert f"<h1>{SHU}</h1>" in r.text
    assert "2023 年度政府信息公开工作年度报告" in r.text
    assert f'action="{made.link(SHU)}/upload"' in r.text and 'enctype="multipart/form-data"' in r.text
    assert "<script" not in r.text


def test_template_is_prefilled_and_locked(client, made, tmp_path):
    r = client.get(made.link(SHU) + "/template.xlsx")
    assert r.status_code == 200
    assert "attachment; filename*=UTF-8''" in r.headers["content-disposition"]
    path = tmp_path / "t.xlsx"
    path.write_bytes(r.content)
    sub = read(path)
    assert (sub.unit_name, sub.year) == (SHU, 2023)
    assert sub.values["unit.unit_type"] == "县级人民政府部门"
    assert sub.values["unit.parent_unit"] == "沭阳县人民政府办公室"


def test_upload_answers_the_check_json(client, made):
    r = upload(client, made.link(SHU), BROKEN_SHU, name="我的报表.xlsx")
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] is False and body["version"] == 1
    expected = checking.check([BROKEN_SHU])[0].to_json() | {"file": "我的报表.xlsx"}
    assert body["file"] == expected
    r = upload(client, made.link(SHU), GOOD_SHU)
    assert r.json()["accepted"] is True and r.json()["version"] == 2 and r.json()["file"]["errors"] == 0


def test_upload_form_redirects_to_the_page_with_findings(client, made):
    r = upload(client, made.link(SHU), BROKEN_SHU, headers={})
    assert r.status_code == 303 and r.headers["location"] == made.link(SHU) + "?m=v1"
    page = client.get(made.link(SHU)).text
    assert "第 1 版" in page and "有错误" in page
    assert "三、收到和处理政府信息公开申请情况<br><code>J6</code>" in page
    assert "总计填报为 30，按各类申请人相加应为 26" in page
    assert "annotated.xlsx" in page and "preview.html" not in page
    upload(client, made.link(SHU), GOOD_SHU, headers={})
    page = client.get(made.link(SHU)).text
    assert "第 2 版" in page and "校验通过，已报送" in page and "/v/2/preview.html" in page


def test_workbook_of_another_unit_is_an_error(client, made):
    body = upload(client, made.link(CHE), GOOD_SHU).json()
    assert body["accepted"] is False
    first = body["file"]["findings"][0]
    assert (first["rule"], first["severity"], first["sheet"], first["cell"]) == ("P-UNIT", "error", "单位信息", "B3")
    assert first["message"] == f"单位名称填写为“{SHU}”，而这个链接属于“{CHE}”。请使用本单位的模板，或改正单位名称。"


def test_annotated_copy_and_preview(client, made, tmp_path):
    upload(client, made.link(SHU), BROKEN_SHU)
    upload(client, made.link(SHU), GOOD_SHU)
    r = client.get(made.link(SHU) + "/v/1/annotated.xlsx")
    assert r.status_code == 200
    (tmp_path / "a.xlsx").write_bytes(r.content)
    assert read(tmp_path / "a.xlsx").unit_name == SHU
    r = client.get(made.link(SHU) + "/v/2/preview.html")
    assert r.status_code == 200 and SHU in r.text
    assert "sandbox" in r.headers["content-security-policy"]
    assert client.get(made.link(SHU) + "/v/9/preview.html").status_code == 404


def test_status_json(client, made):
    upload(client, made.link(SHU), BROKEN_SHU)
    upload(client, made.link(CHE), GOOD_CHE)
    r = client.get("/admin/status.json", headers=bearer(made))
    assert r.status_code == 200
    units = {u["unit"]: u for u in r.json()["units"]}
    assert units[SHU]["status"] == "errors" and units[SHU]["errors"] == 5 and units[SHU]["versions"] == 1
    assert units[CHE]["status"] == "ok" and units[CHE]["errors"] == 0
    assert units[CHE]["sha256"] == __import__("hashlib").sha256(GOOD_CHE.read_bytes()).hexdigest()
    assert units[MISSING] == {
        "unit": MISSING,
        "listed": True,
        "status": "missing",
        "errors": 0,
        "warnings": 0,
        "versions": 0,
        "uploaded_at": None,
        "sha256": None,
    }


@pytest.mark.slow
def test_summary_merges_only_latest_passed_uploads(client, made, tmp_path):
    upload(client, made.link(SHU), GOOD_SHU)
    upload(client, made.link(SHU), BROKEN_SHU)  # the latest has errors: not merged, never the older one
    upload(client, made.link(CHE), GOOD_CHE)
    r = client.get("/admin/summary.xlsx", headers=bearer(made))
    assert r.status_code == 200
    got = tmp_path / "汇总.xlsx"
    got.write_bytes(r.content)
    # the same figures as xltool merge of the passed file alone
    from xltool.sources import merging

    alone = tmp_path / "alone.xlsx"
    merging.merge([GOOD_CHE], alone, unit="某某县人民政府", jobs=1)
    mine, theirs = read(got), read(alone)
    numeric = [k for k in mine.values if k.startswith(("t2.", "t3.", "t4."))]
    assert numeric and all(mine.values[k] == theirs.values[k] for k in numeric)
    assert checking.check([got])[0].errors == 0
    run = subprocess.run([sys.executable, "-m", "xltool", "check", str(got)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout
    notes = _sheet_text(got, "汇总说明")
    assert f"{SHU}.xlsx" in notes and "未汇总" in notes  # listed as not merged, with its errors
    assert MISSING in notes


def _sheet_text(path: Path, sheet: str) -> str:
    from xltool.workbook.reader import sheet_rows

    return json.dumps(sheet_rows(path, [sheet]), ensure_ascii=False, default=str)


@pytest.mark.slow
def test_summary_document(client, made):
    upload(client, made.link(CHE), GOOD_CHE)
    r = client.get("/admin/summary.docx", headers=bearer(made))
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert "word/document.xml" in zipfile.ZipFile(io.BytesIO(r.content)).namelist()


def test_summary_without_any_passed_upload_is_409(client, made):
    upload(client, made.link(SHU), BROKEN_SHU)
    r = client.get("/admin/summary.xlsx", headers=bearer(made))
    assert r.status_code == 409 and "还没有单位上传通过校验的工作簿" in r.text


def test_files_zip_has_every_latest_upload(client, made):
    upload(client, made.link(SHU), BROKEN_SHU)
    upload(client, made.link(SHU), GOOD_SHU)
    upload(client, made.link(CHE), GOOD_CHE)
    r = client.get("/admin/files.zip", headers=bearer(made))
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    assert sorted(zf.namelist()) == sorted([f"{SHU}.xlsx", f"{CHE}.xlsx"])
    assert zf.read(f"{SHU}.xlsx") == GOOD_SHU.read_bytes()


def test_links_csv(client, made):
    r = client.get("/admin/links.csv", headers=bearer(made))
    assert r.content.decode("utf-8-sig").splitlines() == [
        "单位名称,链接",
        *(f"{u},{link}" for u, link in made.created.links),
    ]


def test_admin_page_lists_states_totals_and_audit(client, made):
    upload(client, made.link(SHU), BROKEN_SHU)
    upload(client, made.link(CHE), GOOD_CHE)
    login(client, made)
    page = client.get("/admin").text
    assert "应报 <strong>3</strong> 个单位" in page
    assert '<span class="badge ok">通过 1</span>' in page
    assert '<span class="badge errors">有错误 1</span>' in page
    assert '<span class="badge missing">未报送 1</span>' in page
    assert "操作日志" in page and "第 1 版：5 个错误" in page and "第 1 版：通过" in page


def test_reissue_revokes_the_old_link(client, made):
    login(client, made)
    old = made.link(SHU)
    store = collection.open_store(made.folder, made.db)
    unit_id = next(u.id for u in store.units() if u.name == SHU)
    store.close()
    r = client.post(f"/admin/units/{unit_id}/reissue", data={"csrf": admin_csrf(client)})
    assert r.status_code == 200 and f"已为“{SHU}”重新生成填报链接" in r.text
    shown = r.text.split('<p class="link"><code>')[1].split("</code>")[0]
    assert shown.startswith("http://127.0.0.1:8000/u/") and shown != "http://127.0.0.1:8000" + old
    assert client.get(old).status_code == 404
    rows = (made.folder / "填报链接.csv").read_text(encoding="utf-8-sig").splitlines()
    assert f"{SHU},{shown}" in rows and f"{CHE},{dict(made.created.links)[CHE]}" in rows
    assert client.get(shown.removeprefix("http://127.0.0.1:8000")).status_code == 200
    assert shown.rsplit("/", 1)[1] not in client.get("/admin").text  # shown once, on that page only


@pytest.mark.slow
def test_browser_flow_files_in_process(client, made, tmp_path):
    """The template the portal hands out, filled wrong then right, goes 有错误 -> 通过."""
    r = client.get(made.link(SHU) + "/template.xlsx")
    (tmp_path / "t.xlsx").write_bytes(r.content)
    broken, fixed = broken_then_fixed(tmp_path / "t.xlsx", tmp_path)
    assert upload(client, made.link(SHU), broken).json()["accepted"] is False
    assert upload(client, made.link(SHU), fixed).json()["accepted"] is True
