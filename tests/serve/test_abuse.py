"""The portal under abuse: failed versions, dying workers, a port in use, idle connections, kill -9."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from xltool import cli
from xltool.serve import app, collection
from xltool.serve.app import Settings
from xltool.serve.connections import BUSY_TEXT, Limits
from xltool.serve.pool import WorkerDied

from .conftest import (
    BROKEN_SHU,
    CHE,
    GOOD_CHE,
    GOOD_SHU,
    ROOT,
    SHU,
    Made,
    client_for,
    csrf_of,
    free_port,
    make_collection,
    start_server,
    upload,
)


@pytest.fixture
def made(tmp_path: Path) -> Made:
    """SQLite only: nothing here depends on the database."""
    return make_collection(tmp_path / "round", None)


@pytest.fixture
def client(made: Made) -> Iterator[TestClient]:
    with client_for(made) as c:
        yield c


# ---------------------------------------------------------------- failed versions


def test_a_failed_version_has_no_preview_or_annotated_copy(client, made: Made, tmp_path):
    """An empty or non-xlsx upload, then its preview: once a 500 after seconds (and a 0-byte
    annotated copy); now a 404 with a Chinese page, and the page offers neither."""
    link = made.link(SHU)
    empty, text = tmp_path / "空.xlsx", tmp_path / "便条.xlsx"
    empty.write_bytes(b"")
    text.write_text("这不是表格", encoding="utf-8")
    for path in (empty, text, BROKEN_SHU):
        assert upload(client, link, path).json()["accepted"] is False
    for version in (1, 2):
        r = client.get(f"{link}/v/{version}/preview.html")
        assert r.status_code == 404 and "<h1>没有年度报告预览</h1>" in r.text, version
        assert f"第 {version} 版未通过校验，不生成年度报告预览" in r.text
        r = client.get(f"{link}/v/{version}/annotated.xlsx")
        assert r.status_code == 404 and "<h1>没有标注副本</h1>" in r.text, version
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        r = client.get(f"{link}/v/{version}/annotated.xlsx", headers={"Accept": "application/json"})
        assert r.status_code == 404 and r.json()["error"].startswith(f"第 {version} 版的文件无法读取")
    assert client.get(f"{link}/v/3/preview.html").status_code == 404  # readable, with errors: no report
    r = client.get(f"{link}/v/3/annotated.xlsx")  # but its annotated copy is there
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert "/v/3/annotated.xlsx" in client.get(link).text
    upload(client, link, empty)
    page = client.get(link).text
    assert "annotated.xlsx" not in page and "preview.html" not in page
    assert list((made.folder / "tmp").iterdir()) == []  # no file left behind by the refusals


def test_an_upload_whose_worker_dies_is_refused_with_its_reason(made: Made, monkeypatch):
    calls: list[int] = []

    def dies(*_args: Any) -> None:
        calls.append(1)
        raise WorkerDied(-9)

    monkeypatch.setattr(collection, "check_upload", dies)
    with client_for(made) as c:
        body = upload(c, made.link(SHU), GOOD_SHU).json()
        assert len(calls) == 2  # tried once more: the system may have killed an innocent worker
        assert body == {
            "accepted": False,
            "version": 1,
            "file": {
                "file": GOOD_SHU.name,
                "ok": False,
                "errors": 1,
                "warnings": 0,
                "findings": [
                    {
                        "rule": "X-FILE",
                        "severity": "error",
                        "sheet": None,
                        "cell": None,
                        "message": app.CHECK_DIED,
                        "value": None,
                        "expected": None,
                    }
                ],
            },
        }
        monkeypatch.setattr(collection, "check_upload", lambda *_a: calls.append(1) or _raise(WorkerDied(None, True)))
        body = upload(c, made.link(SHU), GOOD_SHU).json()
        assert len(calls) == 3  # past its time: not tried again
        assert body["file"]["findings"][0]["message"] == app.CHECK_SLOW.format(seconds=60)
        monkeypatch.setattr(collection, "check_upload", lambda *_a: calls.append(1) or _raise(WorkerDied(-6)))
        body = upload(c, made.link(SHU), GOOD_SHU).json()
        assert len(calls) == 4  # an abort of its own (a native library on a hostile file): not tried again
        assert body["file"]["findings"][0]["message"] == app.CHECK_DIED
        assert "有错误" in c.get(made.link(SHU)).text


def _raise(exc: Exception) -> None:
    raise exc


def test_a_worker_that_dies_outside_an_upload_is_a_chinese_503(client, made: Made, monkeypatch):
    monkeypatch.setattr(collection, "write_template", lambda *_a: _raise(WorkerDied(-9)))
    r = client.get(made.link(SHU) + "/template.xlsx")
    assert r.status_code == 503 and r.headers["retry-after"] == "30" and app.WORKER_DIED in r.text
    assert list((made.folder / "tmp").iterdir()) == []


def test_other_failures_are_chinese_pages_or_json(client, made: Made):
    r = client.post("/admin/status.json")
    assert r.status_code == 405 and "<h1>不支持的请求</h1>" in r.text
    r = client.post("/healthz", headers={"Accept": "application/json"})
    assert (r.status_code, r.json()) == (405, {"error": "这个网址不接受这种请求方式。"})
    r = client.post(made.link(SHU) + "/upload", content=b"x", headers={"Content-Length": str(1 << 30)})
    assert r.status_code == 413 and "<h1>无法上传</h1>" in r.text and "上传的文件太大。" in r.text


@pytest.mark.slow
def test_a_hostile_upload_beside_other_units_in_real_workers(made: Made, tmp_path):
    """Real worker processes: an error raised in one (a stored file gone bad) comes back as itself
    and becomes a Chinese 404; units uploading meanwhile are not affected."""
    with client_for(made, processes=True, workers=2) as c:
        link = made.link(SHU)
        assert upload(c, link, GOOD_SHU).json()["accepted"] is True
        blob = collection.blob_path(made.folder, __import__("hashlib").sha256(GOOD_SHU.read_bytes()).hexdigest())
        blob.write_bytes(b"")  # damaged on disk after it passed
        empty = tmp_path / "空.xlsx"
        empty.write_bytes(b"")
        csrf = csrf_of(c, made.link(CHE))
        answers = []
        for _ in range(3):
            answers.append(upload(c, link, empty).json()["accepted"])
            r = c.get(f"{link}/v/1/preview.html")
            assert r.status_code == 404 and "第 1 版没有年度报告预览：" in r.text and "0 字节" in r.text
            answers.append(upload(c, made.link(CHE), GOOD_CHE, csrf=csrf).json()["accepted"])
        assert answers == [False, True] * 3


# ---------------------------------------------------------------- the port


def test_a_port_in_use_is_refused_at_once_in_chinese(tmp_path):
    made = make_collection(tmp_path / "round", None)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = CliRunner().invoke(cli.app, ["serve", str(made.folder), "--port", str(port)])
    assert result.exit_code == 2
    assert (
        f"端口 {port} 已被占用（也许另一个 xltool serve 已在运行）。请先停止占用它的程序，或换一个端口，如 --port {port + 1}。"
        in result.output
    )
    assert "已启动" not in result.output and time.monotonic() - started < 5
    result = CliRunner().invoke(cli.app, ["serve", str(made.folder), "--host", "no-such-host.invalid"])
    assert result.exit_code == 2 and "无法识别监听地址 no-such-host.invalid" in result.output


# ---------------------------------------------------------------- connections


@contextlib.contextmanager
def serving(made: Made, limits: Limits) -> Iterator[tuple[int, Any]]:
    """A real uvicorn server of the portal on 127.0.0.1 (in a thread; checks in threads too)."""
    sock = app.listen("127.0.0.1", 0)
    server = app.server(Settings(made.folder, db=made.db, processes=False, limits=limits), sock)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.02)
    try:
        yield sock.getsockname()[1], server
    finally:
        server.should_exit = True
        thread.join(30)


def _closed(sockets: list[socket.socket]) -> int:
    """How many of ``sockets`` the server has closed (readable with end of file)."""
    readable, _, _ = select.select(sockets, [], [], 0)
    return sum(1 for s in readable if _eof(s))


def _eof(s: socket.socket) -> bool:
    try:
        return s.recv(1024) == b""
    except ConnectionResetError:  # closed with our half request unread: a reset, then end of file
        return True


def test_idle_connections_are_bounded_and_timed_out(made: Made):
    """1,100 idle connections once used up the open files; now at most `connections` stay open (the
    longest waiting is closed for a newcomer), none outlives the header time, and a real request
    gets through at once."""
    limits = Limits(connections=20, header_seconds=0.8, body_idle_seconds=0.8, keep_alive_seconds=1)
    with serving(made, limits) as (port, server):
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
        try:
            for s in idle[::2]:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # half a request's headers
            started = time.monotonic()
            r = httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            assert r.text == "ok" and time.monotonic() - started < 2
            time.sleep(0.2)
            assert len(server.server_state.connections) <= 20
            assert _closed(idle) >= 80
            time.sleep(1.0)
            assert _closed(idle) == 100 and len(server.server_state.connections) == 0  # the header time
        finally:
            for s in idle:
                s.close()


def _upload_head(made: Made) -> bytes:
    """An upload's request line and headers, and the first line of a 100 kB body that never comes."""
    return (
        f"POST {made.link(SHU)}/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        "Content-Length: 100000\r\n\r\n--b\r\n"
    ).encode()


def test_slow_headers_and_slow_bodies_are_cut_off(made: Made):
    limits = Limits(connections=20, header_seconds=0.6, body_idle_seconds=0.6, keep_alive_seconds=1)
    with serving(made, limits) as (port, _server):
        with socket.create_connection(("127.0.0.1", port)) as drip:
            started = time.monotonic()
            for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n":  # a byte every 0.1 s: never idle, never done
                with contextlib.suppress(OSError):
                    drip.sendall(bytes([byte]))
                if _closed([drip]):
                    break
                time.sleep(0.1)
            assert 0.5 < time.monotonic() - started < 1.5
        with socket.create_connection(("127.0.0.1", port)) as body:
            body.sendall(_upload_head(made))
            started = time.monotonic()
            readable, _, _ = select.select([body], [], [], 5)
            assert readable and _eof(body) and 0.4 < time.monotonic() - started < 2


def test_when_every_connection_is_busy_a_newcomer_gets_a_503(made: Made):
    limits = Limits(connections=2, header_seconds=5, body_idle_seconds=5, keep_alive_seconds=1)
    with serving(made, limits) as (port, _server), contextlib.ExitStack() as opened:
        for _ in range(2):  # two uploads in the middle of their bodies
            opened.enter_context(socket.create_connection(("127.0.0.1", port))).sendall(_upload_head(made))
        time.sleep(0.3)  # their headers are in
        newcomer = opened.enter_context(socket.create_connection(("127.0.0.1", port)))
        newcomer.settimeout(5)
        answer = b""
        while chunk := newcomer.recv(4096):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n") and answer.endswith(BUSY_TEXT)
        assert b"Retry-After: 5\r\n" in answer


# ---------------------------------------------------------------- kill -9


def _descendants(pid: int) -> dict[int, str]:
    """The processes below ``pid`` (children, theirs, ...), with their command lines (Linux /proc)."""
    parents, lines = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            lines[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
    found, todo = {}, [pid]
    while todo:
        above = todo.pop()
        below = [p for p, parent in parents.items() if parent == above]
        found |= {p: lines[p] for p in below}
        todo += below
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has ended; only its exit status waits to be collected


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_the_server_ends_its_workers_and_the_resource_tracker(tmp_path):
    made = make_collection(tmp_path / "round", None)
    proc = start_server(made.folder, free_port())
    try:
        children = _descendants(proc.pid)  # on Linux the workers are forked by a fork server
        assert sum("forkserver" in c for c in children.values()) == 3, children  # it and its 2 workers
        assert sum("resource_tracker" in c for c in children.values()) == 1, children
        os.kill(proc.pid, signal.SIGKILL)  # the server alone, as the system's OOM killer would
        proc.wait(30)
        deadline = time.monotonic() + 15
        while [p for p in children if _running(p)] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in children if _running(p)], {p: children[p] for p in children if _running(p)}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def _touch_and_sleep(marker: str) -> None:
    Path(marker).touch()
    time.sleep(600)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_ends_a_worker_in_the_middle_of_its_task(tmp_path):
    """An idle worker ends at its pipe's end of file; a busy one (a 650 MB check) would run on: it
    ends with its parent by the parent-death signal and the watch of xltool.workers."""
    marker = tmp_path / "busy"
    code = (
        "import asyncio\nfrom xltool.serve.pool import Pool\nfrom tests.serve.test_abuse import _touch_and_sleep\n"
        "async def main():\n    p = Pool(1, timeout=900)\n    p.start()\n    print(p.pids()[0], flush=True)\n"
        f"    await p.run(_touch_and_sleep, {str(marker)!r})\nasyncio.run(main())\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert proc.stdout is not None
        worker = int(proc.stdout.readline())
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        tracker = [p for p, cmd in _descendants(proc.pid).items() if "resource_tracker" in cmd]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        deadline = time.monotonic() + 10
        while (_running(worker) or any(_running(p) for p in tracker)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(worker) and not [p for p in tracker if _running(p)]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.stdout is not None:
            proc.stdout.close()
