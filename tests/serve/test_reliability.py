"""Reliability: concurrent uploads serialise without gaps; kill -9 loses no acknowledged upload."""

from __future__ import annotations

import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
import sqlalchemy as sa

from xltool.serve import collection, store

from .conftest import (
    CHE,
    GOOD_CHE,
    GOOD_SHU,
    SHU,
    Made,
    client_for,
    csrf_of,
    free_port,
    kill_group,
    make_collection,
    start_server,
    upload,
)


def test_concurrent_uploads_of_one_unit_get_versions_without_gaps(made: Made):
    with client_for(made, workers=4) as c:
        link = made.link(SHU)
        csrf = csrf_of(c, link)
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(lambda _i: upload(c, link, GOOD_SHU, csrf=csrf).json(), range(12)))
    assert sorted(a["version"] for a in answers) == list(range(1, 13))
    s = store.open_store(made.folder, made.db)
    try:
        unit = next(u for u in s.units() if u.name == SHU)
        assert [u.version for u in s.uploads(unit.id)] == list(range(1, 13))
    finally:
        s.close()


def test_an_upload_and_its_audit_line_are_one_transaction(tmp_path, monkeypatch):
    """One commit (one sync of the journal, not two) for the upload's row and its audit line, and no
    ping of a local SQLite file before each transaction; a failure between them leaves neither."""
    made = make_collection(tmp_path / "round", None)  # SQLite: its own trace of statements
    with client_for(made) as c:
        portal = c.app.app.state.portal  # type: ignore[attr-defined]
        for _ in range(200):  # the start-up's own reads done first (its parts: none to compute here)
            if portal.warming is not None and portal.warming.done():
                break
            time.sleep(0.05)
        engine = portal.store.engine
        engine.dispose()
        sql: list[str] = []
        sa.event.listen(engine, "connect", lambda dbapi, _record: dbapi.set_trace_callback(sql.append))
        csrf = csrf_of(c, made.link(SHU))
        sql.clear()
        assert upload(c, made.link(SHU), GOOD_SHU, csrf=csrf).json()["version"] == 1
        words = [s.split()[0] for s in sql]  # reads of other work (the parts computed at start-up) may interleave
        assert words[words.index("BEGIN") :] == ["BEGIN", "INSERT", "INSERT", "COMMIT"]
        assert set(words[: words.index("BEGIN")]) == {"SELECT"}
        assert not [s for s in sql if s.split() == ["SELECT", "1"]]  # no pre-ping of the local file
        assert sql[-2].startswith("INSERT INTO audit") and "第 1 版：通过" in sql[-2]
        monkeypatch.setattr(store, "_line", lambda *_a: (sa.text("INSERT INTO nowhere VALUES (1)"), {}))
        with pytest.raises(sa.exc.OperationalError):  # the client re-raises what the server answered 500 for
            upload(c, made.link(SHU), GOOD_SHU, csrf=csrf)
    s = store.open_store(made.folder, made.db)
    try:
        assert [u.version for u in s.uploads()] == [1]  # the second upload's row went with its line
    finally:
        s.close()


def test_an_upload_is_on_disk_before_its_row_commits(made: Made, monkeypatch):
    """The check reads the received file unsynced; the file and its folder are synced before the
    row commits, and a copy already kept is not synced again."""
    events: list[str] = []
    sync, add = collection._fsync, store.Store.add_upload

    def name(path: Path) -> str:  # a file by its folder
        return str((path.parent if path.is_file() else path).relative_to(made.folder))

    monkeypatch.setattr(collection, "_fsync", lambda p, f: events.append(name(p)) or sync(p, f))
    monkeypatch.setattr(store.Store, "add_upload", lambda *a, **k: events.append("row") or add(*a, **k))
    blob = collection.blob_path(made.folder, hashlib.sha256(GOOD_SHU.read_bytes()).hexdigest())
    with client_for(made) as c:
        upload(c, made.link(SHU), GOOD_SHU)
        assert events == [collection.TMP, name(blob.parent), "row"]
        upload(c, made.link(SHU), GOOD_SHU)
    assert events == [collection.TMP, name(blob.parent), "row", "row"]


@pytest.mark.slow
def test_kill_9_during_uploads_loses_no_acknowledged_upload(tmp_path, db):
    from .conftest import make_collection

    made = make_collection(tmp_path / "round", db)
    port = free_port()
    proc = start_server(made.folder, port, db)
    base = f"http://127.0.0.1:{port}"
    acked: list[tuple[str, int, str]] = []
    lock = threading.Lock()
    stop = threading.Event()
    files = {SHU: GOOD_SHU.read_bytes(), CHE: GOOD_CHE.read_bytes()}

    def clerk(unit: str) -> None:
        link = made.link(unit)
        with httpx2.Client(base_url=base, timeout=30) as c:
            csrf = c.get(link, headers={"Accept": "application/json"}).json()["csrf"]
            n = 0
            while not stop.is_set():
                n += 1
                data = files[unit] + f"\n{threading.get_ident()}-{n}".encode()  # a distinct file each time
                try:
                    r = c.post(
                        f"{link}/upload",
                        data={"csrf": csrf},
                        files={"file": ("f.xlsx", data)},
                        headers={"Accept": "application/json"},
                    )
                except httpx2.TransportError:
                    return  # the server died under this request: not acknowledged
                if r.status_code == 200:
                    with lock:
                        acked.append((unit, r.json()["version"], hashlib.sha256(data).hexdigest()))

    threads = [threading.Thread(target=clerk, args=(u,)) for u in (SHU, SHU, CHE, CHE)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120
        while len(acked) < 12 and time.monotonic() < deadline:
            time.sleep(0.05)
        kill_group(proc)  # mid-flight: the clerks are still sending
    finally:
        stop.set()
        for t in threads:
            t.join(60)
        if proc.poll() is None:
            kill_group(proc)
    assert len(acked) >= 12

    proc = start_server(made.folder, port, db)  # restart: the store is consistent
    try:
        s = store.open_store(made.folder, db)
        try:
            units = {u.id: u.name for u in s.units()}
            rows = {(units[u.unit_id], u.version): u.sha256 for u in s.uploads()}
        finally:
            s.close()
        for unit, version, sha in acked:  # every acknowledged upload is there, with its own bytes
            assert rows[(unit, version)] == sha
        for (_unit, _version), sha in rows.items():  # no row without its complete file
            blob = collection.blob_path(made.folder, sha)
            assert hashlib.sha256(blob.read_bytes()).hexdigest() == sha
        for unit in (SHU, CHE):
            versions = sorted(v for (u, v) in rows if u == unit)
            assert versions == list(range(1, len(versions) + 1))
        assert list((made.folder / "tmp").iterdir()) == []  # half-received files were dropped
        with httpx2.Client(base_url=base, timeout=30) as c:  # and it goes on numbering without a gap
            csrf = c.get(made.link(SHU), headers={"Accept": "application/json"}).json()["csrf"]
            r = c.post(
                made.link(SHU) + "/upload",
                data={"csrf": csrf},
                files={"file": ("f.xlsx", files[SHU])},
                headers={"Accept": "application/json"},
            )
            assert r.json()["version"] == max(v for (u, v) in rows if u == SHU) + 1
    finally:
        kill_group(proc)


@pytest.mark.slow
def test_a_slow_check_does_not_stall_other_requests(made: Made, monkeypatch):
    real = collection.check_upload

    def slow(*args):
        time.sleep(3)
        return real(*args)

    monkeypatch.setattr(collection, "check_upload", slow)
    with client_for(made, workers=2) as c:
        link = made.link(SHU)
        csrf = csrf_of(c, link)
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(upload, c, link, GOOD_SHU, csrf=csrf)
            time.sleep(0.5)  # the check is running now
            started = time.monotonic()
            assert c.get("/healthz").text == "ok" and c.get(made.link(CHE)).status_code == 200
            assert time.monotonic() - started < 1.5
            assert not pending.done()
            assert pending.result().json()["version"] == 1


def test_two_server_processes_on_postgresql_number_versions_without_gaps(tmp_path, postgres):
    """Two stores on one PostgreSQL database (as two server processes): the unique version wins, the loser retries."""
    from .conftest import make_collection

    made = make_collection(tmp_path / "round", postgres.new_database())
    stores = [store.open_store(made.folder, made.db) for _ in range(2)]
    try:
        unit = next(u for u in stores[0].units() if u.name == SHU)

        def add(i: int) -> int:
            return stores[i % 2].add_upload(
                unit.id,
                sha256="0" * 64,
                size=1,
                filename="f.xlsx",
                uploaded_at=store.now(),
                address="-",
                status="ok",
                errors=0,
                warnings=0,
                result={"findings": []},
            )

        with ThreadPoolExecutor(8) as pool:
            versions = list(pool.map(add, range(40)))
        assert sorted(versions) == list(range(1, 41))
    finally:
        for s in stores:
            s.close()


def test_serve_refuses_a_database_without_a_collection(tmp_path, postgres):
    from typer.testing import CliRunner

    from xltool import cli

    url = postgres.new_database()
    result = CliRunner().invoke(cli.app, ["serve", str(tmp_path), "--db", url])
    assert result.exit_code == 2
    assert "这个数据库中还没有收集。请先运行 xltool serve" in result.output
