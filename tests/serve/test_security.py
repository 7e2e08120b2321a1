"""Each security rule of the portal, with a test that fails without the rule."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from xltool import cli
from xltool.serve import app, auth, collection, parts, store, throttle
from xltool.workbook import files

from .conftest import (
    CHE,
    GOOD_CHE,
    GOOD_SHU,
    SHU,
    Made,
    admin_csrf,
    bearer,
    client_for,
    csrf_of,
    login,
    make_collection,
    upload,
)

PAGES = Path(collection.__file__).parent / "pages"


# ---------------------------------------------------------------- unit tokens


def test_tokens_have_at_least_128_bits_from_secrets(made: Made, monkeypatch):
    tokens = [url.rsplit("/", 1)[1] for _u, url in made.created.links]
    assert len(set(tokens)) == len(tokens)
    assert all(len(base64.urlsafe_b64decode(t + "==")) * 8 >= 128 for t in tokens)
    monkeypatch.setattr(auth.secrets, "token_urlsafe", lambda n: f"from-secrets-{n}")
    assert auth.new_token() == f"from-secrets-{auth.TOKEN_BYTES}" and auth.TOKEN_BYTES * 8 >= 128


def test_tokens_are_compared_in_constant_time(client, made, monkeypatch):
    calls = []
    real = auth.hmac.compare_digest
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    assert client.get(made.link(SHU)).status_code == 200
    assert calls


def test_wrong_token_is_the_same_404_as_a_missing_page(client, made):
    """A wrong link answers exactly as a page that does not exist: a Chinese page, no oracle."""
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "<h1>页面不存在</h1>" in missing.text and app.NOT_FOUND in missing.text
    assert missing.headers["content-type"] == "text/html; charset=utf-8" and "Not Found" not in missing.text
    link = made.link(SHU)
    near = link[:-1] + ("A" if link[-1] != "A" else "B")
    for path in (near, "/u/x", near + "/template.xlsx", "/u/" + "A" * 32, near + "/v/1/preview.html"):
        r = client.get(path)
        assert (r.status_code, r.text) == (404, missing.text), path
    r = upload(client, near, GOOD_SHU, csrf="x", headers={})
    assert (r.status_code, r.text) == (404, missing.text)
    r = upload(client, near, GOOD_SHU, csrf="x")  # a script asking for JSON gets JSON
    assert (r.status_code, r.json()) == (404, {"error": app.NOT_FOUND})
    r = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert (r.status_code, r.json()) == (404, {"error": app.NOT_FOUND})


def test_a_token_opens_only_its_own_unit(client, made):
    page = client.get(made.link(CHE)).text
    assert CHE in page and SHU not in page


def test_repeated_wrong_tokens_are_slowed_but_valid_links_still_open(made: Made):
    """Units behind one NAT share an address: their guesses are throttled, their valid links are not."""
    with client_for(made, max_failures=5) as c:
        for _ in range(5):
            assert c.get("/u/wrong-token").status_code == 404
        r = c.get("/u/wrong-token")
        assert r.status_code == 429 and r.headers["retry-after"] == "60"
        assert "<h1>请稍后再试</h1>" in r.text and app.TOO_MANY in r.text
        r = c.get("/u/another-guess", headers={"Accept": "application/json"})
        assert (r.status_code, r.json()) == (429, {"error": app.TOO_MANY})
        assert c.get(made.link(SHU)).status_code == 200  # a valid link from the throttled address
        assert upload(c, made.link(CHE), GOOD_CHE).json()["version"] == 1
        assert c.get("/u/wrong-token").status_code == 429  # and the guesses stay throttled
    from starlette.testclient import TestClient

    with TestClient(client_for(made, max_failures=5).app, client=("10.0.0.9", 5000)) as other:
        assert other.get("/u/wrong-token").status_code == 404  # another address is not affected


# ---------------------------------------------------------------- admin


def _login_csrf(c) -> str:
    return c.get("/admin/login").text.split('name="csrf" value="')[1].split('"')[0]


def test_wrong_password_sets_no_cookie_and_is_limited(tmp_path, monkeypatch):
    """A throttled address gets one (costly) password check every few seconds: guesses stay slow,
    the right password still logs in."""
    made = make_collection(tmp_path / "round", None)  # the throttle keeps no state in the database
    checks, clock = [], [1000.0]
    real = auth.check_password
    monkeypatch.setattr(auth, "check_password", lambda *a: checks.append(1) or real(*a))
    monkeypatch.setattr(throttle, "_now", lambda: clock[0])
    with client_for(made, max_failures=3, password_every=2) as c:
        csrf = _login_csrf(c)
        for _ in range(3):
            r = c.post("/admin/login", data={"csrf": csrf, "password": "wrong"})
            assert r.status_code == 403 and "密码不正确" in r.text and "set-cookie" not in r.headers
        r = c.post("/admin/login", data={"csrf": csrf, "password": "wrong"})  # checked: the first of its slot
        assert r.status_code == 429 and "密码错误次数过多" in r.text and "set-cookie" not in r.headers
        assert len(checks) == 4
        for password in ("wrong", made.created.admin_password):  # within the slot: not even checked
            r = c.post("/admin/login", data={"csrf": csrf, "password": password})
            assert r.status_code == 429 and r.headers["retry-after"] == "60"
        assert len(checks) == 4
        clock[0] += 2
        r = c.post("/admin/login", data={"csrf": csrf, "password": made.created.admin_password})
        assert r.status_code == 303 and r.headers["location"] == "/admin"
        c.cookies.clear()  # the guesser's browser: no device cookie, its address still throttled
        assert c.post("/admin/login", data={"csrf": csrf, "password": "wrong"}).status_code == 429


@pytest.mark.slow
def test_a_browser_that_logged_in_before_is_not_throttled_by_its_address(tmp_path):
    """Another office behind the same NAT guessing passwords does not lock the admin's own browser out."""
    made = make_collection(tmp_path / "round", None)
    from starlette.testclient import TestClient

    app_ = client_for(made, max_failures=3, password_every=60).app
    with TestClient(app_, follow_redirects=False) as admin, TestClient(app_, follow_redirects=False) as other:
        login(admin, made)  # yesterday: the browser got its device cookie
        device = [c for c in admin.cookies.jar if c.name == "xltool_device"]
        assert len(device) == 1 and device[0].path == "/admin/login"
        csrf = _login_csrf(other)
        for _ in range(4):
            other.post("/admin/login", data={"csrf": csrf, "password": "guess"})
        r = other.post("/admin/login", data={"csrf": csrf, "password": made.created.admin_password})
        assert r.status_code == 429  # the same address, no device cookie: waits for its slot
        login(admin, made)  # the admin's browser: at once
        forged = TestClient(app_, follow_redirects=False, cookies={"xltool_device": "made-up.0000"})
        with forged:
            r = forged.post("/admin/login", data={"csrf": csrf, "password": made.created.admin_password})
            assert r.status_code == 429  # an unsigned device cookie counts for nothing


def test_session_cookie_flags(client, made):
    login(client, made)
    assert sorted((c.name, c.path) for c in client.cookies.jar) == [
        ("xltool_device", "/admin/login"),
        ("xltool_session", "/"),
    ]


def test_session_cookie_is_httponly_strict_and_secure_behind_https(made: Made):
    for base, secure in (("http://127.0.0.1:8000", False), ("https://portal.example", True)):
        from starlette.testclient import TestClient

        with TestClient(client_for(made).app, base_url=base, follow_redirects=False) as c:
            csrf = c.get("/admin/login").text.split('name="csrf" value="')[1].split('"')[0]
            r = c.post("/admin/login", data={"csrf": csrf, "password": made.created.admin_password})
            for header in r.headers.get_list("set-cookie"):
                assert "HttpOnly" in header and "SameSite=strict" in header and "Path=/" in header
                assert ("Secure" in header) is secure


def test_admin_pages_need_a_session(client):
    r = client.get("/admin")
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"


def test_every_form_carries_a_csrf_token(client, made):
    login(client, made)
    for path in ("/admin/login", "/admin", made.link(SHU)):
        html = client.get(path).text
        forms = re.findall(r"<form.*?</form>", html, re.S)
        assert forms, path
        assert all('name="csrf" value="' in f for f in forms), path


def test_posts_without_the_csrf_token_are_refused(client, made):
    login(client, made)
    unit = next(u for u in _units(made) if u.name == SHU)
    for path, data in (
        ("/admin/logout", {}),
        (f"/admin/units/{unit.id}/reissue", {"csrf": "forged"}),
        ("/admin/login", {"password": made.created.admin_password}),
    ):
        r = client.post(path, data=data)
        assert r.status_code == 403 and "表单校验码不符" in r.text and "<h1>" in r.text, path
        r = client.post(path, data=data, headers={"Accept": "application/json"})  # a script: JSON
        assert r.status_code == 403 and "表单校验码不符" in r.json()["error"], path
    r = upload(client, made.link(SHU), GOOD_SHU, csrf="forged", headers={})
    assert r.status_code == 403 and "表单校验码不符" in r.text
    r = upload(client, made.link(SHU), GOOD_SHU, csrf="forged")
    assert r.status_code == 403 and r.json() == {
        "accepted": False,
        "error": "页面已过期（表单校验码不符）。请刷新本页后重新选择文件上传。",
    }
    assert client.get(made.link(SHU)).status_code == 200  # the link was not reissued
    assert client.get("/admin").status_code == 200  # still logged in


def test_logout_ends_the_session_on_the_server(client, made):
    login(client, made)
    sid = client.cookies["xltool_session"]
    r = client.post("/admin/logout", data={"csrf": admin_csrf(client)})
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"
    client.cookies.set("xltool_session", sid)  # a copied cookie no longer works
    assert client.get("/admin").status_code == 303
    assert client.get("/admin/status.json").status_code == 401


def _units(made: Made) -> list[store.Unit]:
    s = store.open_store(made.folder, made.db)
    try:
        return s.units()
    finally:
        s.close()


# ---------------------------------------------------------------- the API token


API = ("/admin/status.json", "/admin/summary.xlsx", "/admin/summary.docx", "/admin/files.zip", "/admin/links.csv")


def test_api_needs_the_token_and_never_redirects(client, made):
    for path in API:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {made.created.admin_token}"}):
            r = client.get(path, headers=headers)
            assert r.status_code == 401 and "location" not in r.headers, (path, headers)
            assert r.json()["error"] == "需要管理令牌：Authorization: Bearer <令牌>。"
    assert client.get("/admin/status.json", headers=bearer(made)).status_code == 200


def test_repeated_wrong_api_tokens_are_slowed(made: Made):
    with client_for(made, max_failures=3) as c:
        for _ in range(3):
            assert c.get("/admin/status.json", headers={"Authorization": "Bearer guess"}).status_code == 401
        r = c.get("/admin/status.json", headers={"Authorization": "Bearer guess"})
        assert r.status_code == 429 and r.json()["error"] == "错误的令牌次数过多，请稍后再试。"
        assert c.get("/admin/status.json", headers=bearer(made)).status_code == 200  # the right token works
        assert c.get("/admin/status.json", headers={"Authorization": "Bearer guess"}).status_code == 429


def test_token_in_the_query_string_is_refused(client, made):
    token = made.created.admin_token
    for param in ("token", "access_token"):
        r = client.get(f"/admin/status.json?{param}={token}")
        assert r.status_code == 401 and "不能放在网址里" in r.json()["error"]
        r = client.get(f"/admin/status.json?{param}={token}", headers=bearer(made))
        assert r.status_code == 401


def test_admin_session_opens_the_downloads(client, made):
    login(client, made)
    assert client.get("/admin/status.json").status_code == 200
    assert client.get("/admin/links.csv").status_code == 200


# ---------------------------------------------------------------- uploads


def _multipart(csrf: str, payload_size: int) -> tuple[bytes, str]:
    boundary = "xltoolboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.xlsx"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + b"PK" + b"\0" * payload_size + f"\r\n--{boundary}--\r\n".encode(), boundary


def test_upload_size_limit(made: Made):
    with client_for(made, max_upload=1024 * 1024) as c:
        link = made.link(SHU)
        r = upload(c, link, GOOD_SHU)
        assert r.status_code == 200
        body, boundary = _multipart(csrf_of(c, link), 1024 * 1024 + 10)
        r = c.post(
            f"{link}/upload",
            content=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Accept": "application/json"},
        )
        assert r.status_code == 413
        assert r.json()["error"] == "文件超过 1 MB 的上传上限，已拒绝。填好的年度报告工作簿通常不到 1 MB。"


def test_upload_size_limit_while_streaming_without_length(made: Made):
    """A chunked body that never declares its length is cut off once past the limit."""
    with client_for(made, max_upload=1024 * 1024) as c:
        link = made.link(SHU)
        body, boundary = _multipart(csrf_of(c, link), 8 * 1024 * 1024)

        def chunks():
            for i in range(0, len(body), 65536):
                yield body[i : i + 65536]

        r = c.post(
            f"{link}/upload", content=chunks(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )
        assert r.status_code == 413
        assert "content-length" not in r.request.headers  # chunked: only the stream itself can be limited
        assert list((made.folder / "tmp").iterdir()) == []
        assert not (made.folder / "files").exists()


def test_declared_length_over_the_limit_is_refused_before_reading(made: Made):
    with client_for(made, max_upload=1024 * 1024) as c:
        r = c.post(
            made.link(SHU) + "/upload",
            content=b"x",
            headers={"Content-Length": str(50 * 1024 * 1024), "Content-Type": "multipart/form-data; boundary=b"},
        )
        assert r.status_code == 413


def _rewritten(src: Path, dst: Path, part: str, change) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info.filename, change(data) if info.filename == part else data)
    return dst


def test_preflight_runs_before_any_parse(client, made, tmp_path):
    entity = _rewritten(
        GOOD_SHU,
        tmp_path / "e.xlsx",
        "xl/workbook.xml",
        lambda d: d.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaa">]>', 1),
    )
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(GOOD_SHU) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        zout.writestr("xl/media/big.bin", b"\0" * (20 * 1024 * 1024))
    text = tmp_path / "note.xlsx"
    text.write_text("这不是表格", encoding="utf-8")
    expected = {
        entity: files.XML_UNSAFE,
        text: files.NOT_XLSX,
    }
    for path, reason in expected.items():
        body = upload(client, made.link(SHU), path).json()
        assert body["accepted"] is False
        assert [f["rule"] for f in body["file"]["findings"]] == ["X-FILE"]
        assert reason in body["file"]["findings"][0]["message"]
    body = upload(client, made.link(SHU), bomb).json()
    assert "疑似恶意构造的文件" in body["file"]["findings"][0]["message"]


def test_original_file_name_is_only_escaped_metadata(client, made):
    name = "<script>alert(1)</script>../../evil&'.xlsx"
    upload(client, made.link(SHU), GOOD_SHU, name=name)
    page = client.get(made.link(SHU)).text
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;../../evil&amp;&#39;.xlsx" in page
    stored = sorted(p.name for p in (made.folder / "files").rglob("*") if p.is_file())
    sha = __import__("hashlib").sha256(GOOD_SHU.read_bytes()).hexdigest()
    assert stored == [f"{sha}.{parts.fingerprint()}.part.json", f"{sha}.xlsx"]  # named by content only
    assert not list(made.folder.parent.glob("evil*"))


def test_roster_names_are_escaped(tmp_path, db):
    made = make_collection(tmp_path / "round", db, roster_text='单位名称\n<b onmouseover="x">某局</b>\n')
    with client_for(made) as c:
        url = made.link('<b onmouseover="x">某局</b>')
        page = c.get(url).text
        assert "<b onmouseover" not in page and "&lt;b onmouseover=&#34;x&#34;&gt;某局&lt;/b&gt;" in page


# ---------------------------------------------------------------- pages and headers


def test_security_headers_on_every_response(client, made):
    login(client, made)
    for path in (
        "/healthz",
        "/admin",
        "/admin/login",
        made.link(SHU),
        "/u/nope",
        "/static/style.css",
        "/admin/links.csv",
    ):
        r = client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["content-security-policy"].startswith("default-src 'none'"), path
        assert "script-src" not in r.headers["content-security-policy"]  # default-src 'none': no script at all
        assert r.headers["referrer-policy"] == "no-referrer", path


def test_no_inline_script_or_handlers_in_any_page():
    for page in PAGES.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text and "javascript:" not in text, page
        assert not re.search(r"\son[a-z]+\s*=", text), page
        assert "style=" not in text, page  # CSP style-src 'self': no inline styles either


def test_binds_to_loopback_by_default(monkeypatch, tmp_path):
    made = make_collection(tmp_path / "round", None)
    seen = {}
    monkeypatch.setattr(app, "run", lambda settings, host, port: seen.update(host=host, port=port))
    result = CliRunner().invoke(cli.app, ["serve", str(made.folder)])
    assert result.exit_code == 0, result.output
    assert seen == {"host": "127.0.0.1", "port": 8000}


# ---------------------------------------------------------------- audit and schema


def test_audit_log_is_append_only(client, made):
    upload(client, made.link(SHU), GOOD_SHU)
    s = store.open_store(made.folder, made.db)
    try:
        rows = s.audit()
        assert [r["action"] for r in rows][:1] == ["upload"] and rows[0]["unit"] == SHU
        assert rows[0]["sha256"] == __import__("hashlib").sha256(GOOD_SHU.read_bytes()).hexdigest()
        for statement in ("UPDATE audit SET result = 'x'", "DELETE FROM audit"):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                s.execute(statement)
        assert len(s.audit()) == len(rows)
    finally:
        s.close()


def test_schema_is_upgraded_in_place(tmp_path, db):
    folder = tmp_path / "old"
    folder.mkdir()
    engine = sa.create_engine(store.database_url(folder, db))
    with engine.begin() as conn:  # a database as version 1 left it
        store.version_table.create(conn)
        conn.execute(store.version_table.insert().values(version=1))
        store.MIGRATIONS[1](conn)
        conn.execute(
            store.audit.insert().values(at=store.now(), unit="u", address="a", action="x", sha256="", result="")
        )
    engine.dispose()
    s = store.open_store(folder, db, create=True)
    try:
        assert s.get("year") is None and len(s.audit()) == 1
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            s.execute("DELETE FROM audit")
        with s.engine.begin() as conn:
            assert conn.execute(sa.select(store.version_table.c.version)).scalar_one() == store.SCHEMA_VERSION
            conn.execute(store.version_table.update().values(version=store.SCHEMA_VERSION + 1))
    finally:
        s.close()
    with pytest.raises(store.UsageError, match=f"比这个 xltool 认识的版本 {store.SCHEMA_VERSION} 新"):
        store.open_store(folder, db)


# ---------------------------------------------------------------- the extra and start-up


def test_without_the_extra_serve_says_how_to_install(monkeypatch, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "sqlalchemy" else real(n, *a))
    result = CliRunner().invoke(cli.app, ["serve", str(tmp_path)])
    assert result.exit_code == 2
    assert "缺少：SQLAlchemy" in result.output and "pip install 'xltool[serve]'" in result.output


def test_cli_imports_nothing_web_related():
    code = (
        "import sys, xltool.cli; web = {'starlette', 'uvicorn', 'jinja2', 'sqlalchemy', 'argon2', 'psycopg',"
        " 'multipart', 'python_multipart', 'xltool.serve'}; print(sorted(m for m in sys.modules if m in web))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_folder_that_is_no_collection_is_refused(tmp_path):
    result = CliRunner().invoke(cli.app, ["serve", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path} 不是 xltool 收集文件夹" in result.output
