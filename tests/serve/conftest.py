"""Fixtures of the portal tests: a collection on SQLite or on a real throwaway PostgreSQL cluster."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

pytest.importorskip("starlette", reason="xltool[serve] is not installed (pip install -e '.[test,serve]')")

from starlette.testclient import TestClient

from tests.conftest import missing
from tests.helpers import fill
from tests.sample_data import SHUYANG, T3
from xltool.serve import collection
from xltool.serve.app import Settings, create_app

ROOT = Path(__file__).resolve().parents[2]
# Debian's postgresql package (15 on bookworm): the newest installed version's programs
PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), default=Path("/nonexistent"))
ROSTER = "单位名称,单位类型,上级单位\n沭阳县发展和改革局,县级人民政府部门,沭阳县人民政府办公室\n车排子镇人民政府,乡镇人民政府,乌苏市人民政府办公室\n某某乡人民政府,乡镇人民政府,\n"
SHU, CHE, MISSING = "沭阳县发展和改革局", "车排子镇人民政府", "某某乡人民政府"
GOOD_SHU = ROOT / "samples" / "沭阳县发展和改革局2023年报.xlsx"
GOOD_CHE = ROOT / "samples" / "车排子镇2023年报.xlsx"
BROKEN_SHU = ROOT / "samples" / "invalid" / "勾稽不平.xlsx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Postgres:
    """A throwaway cluster in a temporary folder, run by the postgres OS user when we are root."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="xltool-pg-"))
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        self.count = 0

    def _run(self, *args: str) -> None:
        cmd = list(args) if self.user is None else ["runuser", "-u", self.user, "--", *args]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        if self.user is not None:
            shutil.chown(self.dir, self.user)
        data = str(self.dir / "data")
        self._run(str(PG_BIN / "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(PG_BIN / "pg_ctl"), "-D", data, "-o", opts, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def new_database(self) -> str:
        import psycopg

        self.count += 1
        name = f"xltool_{self.count}"
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    if not (PG_BIN / "initdb").exists():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL 15 is required in CI (.ci/run installs it)")
        missing(f"PostgreSQL ({PG_BIN}/initdb)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres OS user to run initdb as")
    pg = Postgres()
    try:
        pg.start()
    except subprocess.CalledProcessError as exc:
        pg.stop()
        pytest.fail(f"PostgreSQL did not start: {exc.stderr.decode(errors='replace')}")
    yield pg
    pg.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def db(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("postgres").new_database())


@dataclass
class Made:
    folder: Path
    db: str | None
    created: collection.Created
    roster: Path

    def link(self, unit: str) -> str:
        """The path of the unit's page (from the links the command printed)."""
        url = dict(self.created.links)[unit]
        return url[url.index("/u/") :]


def make_collection(folder: Path, db: str | None, roster_text: str = ROSTER, **options: Any) -> Made:
    roster = folder.parent / f"{folder.name}-名单.csv"
    roster.write_text(roster_text, encoding="utf-8")
    created = collection.init(folder, year=2023, unit="某某县人民政府", roster=roster, db=db, **options)
    return Made(folder, db, created, roster)


@pytest.fixture
def made(tmp_path: Path, db: str | None) -> Made:
    return make_collection(tmp_path / "round", db)


def client_for(made: Made, **settings: Any) -> TestClient:
    app = create_app(Settings(made.folder, db=made.db, **({"processes": False} | settings)))
    return TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False)


@pytest.fixture
def client(made: Made) -> Iterator[TestClient]:
    with client_for(made) as c:
        yield c


def csrf_of(client: TestClient, link: str) -> str:
    return str(client.get(link, headers={"Accept": "application/json"}).json()["csrf"])


def upload(client: TestClient, link: str, path: Path, name: str | None = None, **extra: Any) -> Any:
    csrf = extra.pop("csrf", None) or csrf_of(client, link)
    files = {"file": (name or path.name, path.read_bytes(), "application/octet-stream")}
    headers = extra.pop("headers", {"Accept": "application/json"})
    return client.post(f"{link}/upload", data={"csrf": csrf}, files=files, headers=headers, **extra)


def login(client: TestClient, made: Made) -> None:
    page = client.get("/admin/login").text
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    r = client.post("/admin/login", data={"csrf": csrf, "password": made.created.admin_password})
    assert r.status_code == 303 and r.headers["location"] == "/admin"


def admin_csrf(client: TestClient) -> str:
    return client.get("/admin").text.split('name="csrf" value="')[1].split('"')[0]


def bearer(made: Made) -> dict[str, str]:
    return {"Authorization": f"Bearer {made.created.admin_token}"}


def broken_then_fixed(template: Path, out: Path) -> tuple[Path, Path]:
    """A clerk's workbook from the portal's template: first with a broken sum, then corrected."""
    values = {k: v for k, v in SHUYANG.items() if not k.startswith("unit.unit_")}
    broken = fill(template, out / "填好的_有误.xlsx", values, {(T3, "J6"): 30})
    fixed = fill(template, out / "填好的.xlsx", values)
    return broken, fixed


def start_server(folder: Path, port: int, db: str | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "xltool", "serve", str(folder), "--port", str(port), "--workers", "2"]
    cmd += ["--db", db] if db else []
    log = folder.parent / "server.log"
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=out, stderr=out)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).text == "ok":
                return proc
        except httpx2.TransportError:
            time.sleep(0.2)
        assert proc.poll() is None, log.read_text(errors="replace")
    raise AssertionError("the server did not start in 60 s")


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """kill -9 of the server and its worker processes (the group this test started)."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
