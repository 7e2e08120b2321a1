"""The portal's database: the only module that imports SQLAlchemy (Core, no ORM).

SQLite in the data folder by default (WAL, so readers never wait for the one writer), PostgreSQL
through the same code with ``--db postgresql://…``. The schema carries a version
(:data:`SCHEMA_VERSION`, table ``schema_version``); :func:`open_store` upgrades an older database in
place step by step (:data:`MIGRATIONS`) and refuses a newer one. The audit table is append-only: a
trigger refuses UPDATE and DELETE on both engines. Unit links are stored only as their SHA-256
(as the admin token is): the database alone opens no unit's page.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from xltool.errors import UsageError

SCHEMA_VERSION = 3
DB_NAME = "portal.sqlite3"
VERSION_RETRIES = 20  # concurrent inserts of one unit's next version (several server processes)

meta = sa.MetaData()
version_table = sa.Table("schema_version", meta, sa.Column("version", sa.Integer, nullable=False))
settings = sa.Table(
    "settings",
    meta,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
units = sa.Table(
    "units",
    meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("fields", sa.Text, nullable=False),  # JSON: the roster's unit fields
    sa.Column("token_sha", sa.String(64), nullable=False, unique=True),
    sa.Column("listed", sa.Boolean, nullable=False, default=True),  # on the current roster
)
uploads = sa.Table(
    "uploads",
    meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # ok | errors
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("warnings", sa.Integer, nullable=False),
    sa.Column("result", sa.Text, nullable=False),  # JSON: the check --json object of the file
    sa.UniqueConstraint("unit_id", "version", name="uploads_unit_version"),
)
audit = sa.Table(
    "audit",
    meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("result", sa.Text, nullable=False),
)
sessions = sa.Table(
    "sessions",
    meta,
    sa.Column("id_sha", sa.String(64), primary_key=True),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
)

_SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
]
_PG_APPEND_ONLY = [
    "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit is append-only'; END $$",
    "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit FOR EACH STATEMENT "
    "EXECUTE FUNCTION audit_append_only()",
]


# The statements of every upload and page view, built once: SQLAlchemy then neither builds nor
# digests a new statement per call (a quarter of a millisecond each, most of a lookup's time).
_SETTING = sa.select(settings.c.value).where(settings.c.key == sa.bindparam("key"))
_UNIT_BY_SHA = sa.select(units).where(units.c.token_sha == sa.bindparam("sha"))
_UNIT = sa.select(units).where(units.c.id == sa.bindparam("id"))
_LOCK_UNIT = sa.select(units.c.id).where(units.c.id == sa.bindparam("id")).with_for_update()
_LAST_VERSION = sa.select(sa.func.coalesce(sa.func.max(uploads.c.version), 0)).where(
    uploads.c.unit_id == sa.bindparam("unit_id")
)
_ADD_UPLOAD, _ADD_LINE = uploads.insert(), audit.insert()
_SESSION = sa.select(sessions).where(sessions.c.id_sha == sa.bindparam("id_sha"))


def _v1(conn: Connection) -> None:
    """Version 1: the tables."""
    meta.create_all(conn)


def _v2(conn: Connection) -> None:
    """Version 2: the audit log becomes append-only in the database itself."""
    for statement in _PG_APPEND_ONLY if conn.dialect.name == "postgresql" else _SQLITE_APPEND_ONLY:
        conn.execute(sa.text(statement))


def _v3(conn: Connection) -> None:
    """Version 3: unit links are kept only as their hash (a database created at version 3 never had them)."""
    if "token" in {c["name"] for c in sa.inspect(conn).get_columns("units")}:
        conn.execute(sa.text("ALTER TABLE units DROP COLUMN token"))


MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _v1, 2: _v2, 3: _v3}
SCRUB_FROM = 3  # upgrading across this version drops secrets: SQLite then rewrites its file (VACUUM)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Unit:
    id: int
    name: str
    fields: dict[str, str]
    token_sha: str
    listed: bool


@dataclass(frozen=True)
class Upload:
    unit_id: int
    version: int
    sha256: str
    size: int
    filename: str
    uploaded_at: dt.datetime
    status: str
    errors: int
    warnings: int
    result: dict[str, Any]


def database_url(folder: Path, url: str | None) -> str:
    if url is None:
        return f"sqlite:///{folder / DB_NAME}"
    if url.startswith("postgresql://"):  # the psycopg (version 3) driver, not SQLAlchemy's default psycopg2
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith(("postgresql+psycopg://", "sqlite:///")):
        return url
    raise UsageError(
        f"不支持的数据库地址 {url}：请用 postgresql://用户:密码@主机/库名，或不写 --db（使用数据文件夹中的 SQLite）。"
    )


class Store:
    """All database access of the portal; every method is one short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # ---------------------------------------------------------------- settings

    def get(self, key: str) -> str | None:
        with self._tx() as c:
            return c.execute(_SETTING, {"key": key}).scalar()

    def put(self, values: dict[str, str]) -> None:
        with self._tx() as c:
            for key, value in values.items():
                c.execute(settings.delete().where(settings.c.key == key))
                c.execute(settings.insert().values(key=key, value=value))

    # ---------------------------------------------------------------- units

    def add_unit(self, name: str, fields: dict[str, str], token_sha: str) -> int:
        with self._tx() as c:
            query = units.insert().values(name=name, fields=json.dumps(fields), token_sha=token_sha, listed=True)
            return int(c.execute(query.returning(units.c.id)).scalar_one())

    def update_unit(self, unit_id: int, **values: Any) -> None:
        if "fields" in values:
            values["fields"] = json.dumps(values["fields"])
        with self._tx() as c:
            c.execute(units.update().where(units.c.id == unit_id).values(**values))

    def units(self) -> list[Unit]:
        with self._tx() as c:
            rows = c.execute(sa.select(units).order_by(units.c.id)).all()
        return [_unit(r) for r in rows]

    def unit_by_sha(self, token_sha: str) -> Unit | None:
        with self._tx() as c:
            row = c.execute(_UNIT_BY_SHA, {"sha": token_sha}).first()
        return _unit(row) if row is not None else None

    def unit(self, unit_id: int) -> Unit | None:
        with self._tx() as c:
            row = c.execute(_UNIT, {"id": unit_id}).first()
        return _unit(row) if row is not None else None

    # ---------------------------------------------------------------- uploads

    def add_upload(self, unit_id: int, line: tuple[str, str, str] | None = None, **values: Any) -> int:
        """Insert the unit's next version (max + 1, in the same transaction) and return its number.
        ``line`` (unit, address, result with ``{version}`` for the number): its ``upload`` line of
        the audit log, in the same transaction (one commit: the row and its line, or neither)."""
        values["result"] = json.dumps(values["result"], ensure_ascii=False)
        for attempt in range(VERSION_RETRIES):
            try:
                with self._tx() as c:
                    # The unit's row locked first (PostgreSQL; SQLite has one writer anyway): two server
                    # processes then take numbers in turn instead of racing for the same one.
                    c.execute(_LOCK_UNIT, {"id": unit_id})
                    version = int(c.execute(_LAST_VERSION, {"unit_id": unit_id}).scalar_one()) + 1
                    c.execute(_ADD_UPLOAD, {"unit_id": unit_id, "version": version, **values})
                    if line is not None:
                        unit, address, result = line
                        c.execute(*_line(unit, address, "upload", values["sha256"], result.format(version=version)))
                return version
            except sa.exc.IntegrityError:  # another server process took this number first: take the next
                if attempt == VERSION_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def uploads(self, unit_id: int | None = None) -> list[Upload]:
        query = sa.select(uploads).order_by(uploads.c.unit_id, uploads.c.version)
        if unit_id is not None:
            query = query.where(uploads.c.unit_id == unit_id)
        with self._tx() as c:
            rows = c.execute(query).all()
        return [_upload(r) for r in rows]

    def shas(self) -> set[str]:
        """The content address of every upload on record."""
        with self._tx() as c:
            return set(c.execute(sa.select(uploads.c.sha256).distinct()).scalars())

    def latest(self) -> dict[int, Upload]:
        """Each unit's latest upload, by unit id."""
        top = sa.select(uploads.c.unit_id, sa.func.max(uploads.c.version).label("v")).group_by(uploads.c.unit_id)
        top_q = top.subquery()
        query = sa.select(uploads).join(
            top_q, sa.and_(uploads.c.unit_id == top_q.c.unit_id, uploads.c.version == top_q.c.v)
        )
        with self._tx() as c:
            rows = c.execute(query).all()
        return {r.unit_id: _upload(r) for r in rows}

    # ---------------------------------------------------------------- audit and sessions

    def log(self, unit: str, address: str, action: str, sha256: str = "", result: str = "") -> None:
        with self._tx() as c:
            c.execute(*_line(unit, address, action, sha256, result))

    def audit(self, limit: int = 200) -> list[dict[str, Any]]:
        with self._tx() as c:
            rows = c.execute(sa.select(audit).order_by(audit.c.id.desc()).limit(limit)).all()
        return [dict(r._mapping) for r in rows]

    def add_session(self, id_sha: str, csrf: str, expires: dt.datetime) -> None:
        with self._tx() as c:
            c.execute(sessions.delete().where(sessions.c.expires < now()))
            c.execute(sessions.insert().values(id_sha=id_sha, csrf=csrf, expires=expires))

    def session(self, id_sha: str) -> str | None:
        """The CSRF token of a live session, or None."""
        with self._tx() as c:
            row = c.execute(_SESSION, {"id_sha": id_sha}).first()
        if row is None or _aware(row.expires) < now():
            return None
        return str(row.csrf)

    def end_session(self, id_sha: str) -> None:
        with self._tx() as c:
            c.execute(sessions.delete().where(sessions.c.id_sha == id_sha))

    def execute(self, statement: str) -> None:
        """Raw SQL, for tests that prove what the database itself refuses."""
        with self._tx() as c:
            c.execute(sa.text(statement))

    def close(self) -> None:
        self.engine.dispose()


def _line(unit: str, address: str, action: str, sha256: str, result: str) -> tuple[sa.Executable, dict[str, Any]]:
    """One line of the audit log: the statement and its values."""
    return _ADD_LINE, {
        "at": now(),
        "unit": unit,
        "address": address,
        "action": action,
        "sha256": sha256,
        "result": result,
    }


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)  # SQLite keeps no zone


def _unit(r: Any) -> Unit:
    return Unit(r.id, r.name, json.loads(r.fields), r.token_sha, bool(r.listed))


def _upload(r: Any) -> Upload:
    return Upload(
        r.unit_id,
        r.version,
        r.sha256,
        r.size,
        r.filename,
        _aware(r.uploaded_at),
        r.status,
        r.errors,
        r.warnings,
        json.loads(r.result),
    )


def open_store(folder: Path, url: str | None = None, *, create: bool = False) -> Store:
    """Connect, and create or upgrade the schema in place (never downgrade)."""
    full = database_url(folder, url)
    if full.startswith("sqlite") and not create and not (folder / DB_NAME).exists():
        raise UsageError(f"{folder} 不是 xltool 收集文件夹（没有 {DB_NAME}）。请先运行 xltool serve {folder} --init …")
    # a connection to a server can go (a restart, a network): checked before use; a file cannot
    engine = sa.create_engine(full, pool_pre_ping=not full.startswith("sqlite"))
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.begin() as conn:
            was = _upgrade(conn)
        if was < SCRUB_FROM and engine.dialect.name == "sqlite":
            _scrub(engine)
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise UsageError(f"无法连接数据库：{str(exc.orig).strip().splitlines()[0]}") from None
    except BaseException:
        engine.dispose()
        raise
    return Store(engine)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")  # an acknowledged upload survives a power cut
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _scrub(engine: Engine) -> None:
    """Rewrite an upgraded SQLite file so that no page keeps a dropped secret (PostgreSQL: its next VACUUM)."""
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM")
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _upgrade(conn: Connection) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION`; returns the version the database had."""
    if conn.dialect.name == "postgresql":  # one upgrader at a time
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(724301)"))
    if not sa.inspect(conn).has_table("schema_version"):
        version_table.create(conn)
        conn.execute(version_table.insert().values(version=0))
    current = int(conn.execute(sa.select(version_table.c.version)).scalar_one())
    if current > SCHEMA_VERSION:
        raise UsageError(
            f"数据库的结构版本为 {current}，比这个 xltool 认识的版本 {SCHEMA_VERSION} 新。请升级 xltool 后再运行。"
        )
    for step in range(current + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[step](conn)
        conn.execute(version_table.update().values(version=step))
    return current
