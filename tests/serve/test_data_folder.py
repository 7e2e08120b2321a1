"""The data folder: unique file names, no orphan files, links kept only hashed, private modes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat
import sys
import time
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.sample_data import SHUYANG
from xltool.form import spec as specs
from xltool.serve import auth, collection, store
from xltool.serve.store import Unit
from xltool.summary import merge
from xltool.workbook import template
from xltool.workbook.reader import sheet_rows

from .conftest import CHE, GOOD_SHU, MISSING, SHU, Made, bearer, client_for, login, make_collection, upload

ODD = ("A/B局", "A_B局", "甲,乙局", '丙"丁局')  # two safe names meet; a comma and a quote for CSV


def _workbook(folder: Path, name: str, i: int) -> Path:
    path = folder / f"{i}.xlsx"
    template.write(path, specs.load(), {**SHUYANG, "unit.unit_name": name, "unit.report_year": 2023})
    return path


def _roster(names: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([("单位名称",), *((n,) for n in names)])
    return out.getvalue()


def _links_file(made: Made) -> dict[str, str]:
    text = (made.folder / collection.LINKS_FILE).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["单位名称", "链接"]
    return dict(rows[1:])


# ---------------------------------------------------------------- names in files


def test_file_names_are_unique_by_construction():
    units = [Unit(i, name, {}, "", True) for i, name in enumerate(("A/B局", "A_B局", "A_B局（2）", "a_b局", "CON."), 1)]
    names = collection.file_names(units)
    assert names == {1: "A_B局", 2: "A_B局（2）", 3: "A_B局（2）（2）", 4: "a_b局（3）", 5: "CON"}
    assert len({n.casefold() for n in names.values()}) == len(units)
    assert collection.file_names(list(reversed(units))) == names  # stable: by the order units were added


def test_units_whose_names_meet_are_all_merged_and_zipped(tmp_path):
    """A/B局 and A_B局 once gave a 500 and a zip with one name twice; a comma or a quote in a name once
    listed a merged unit as 未报送."""
    made = make_collection(tmp_path / "round", None, roster_text=_roster(ODD))
    books = {name: _workbook(tmp_path, name, i) for i, name in enumerate(ODD)}
    with client_for(made) as c:
        for name, path in books.items():
            assert upload(c, made.link(name), path).json()["accepted"] is True, name
        r = c.get("/admin/summary.xlsx", headers=bearer(made))
        assert r.status_code == 200
        (tmp_path / "汇总.xlsx").write_bytes(r.content)
        zipped = zipfile.ZipFile(io.BytesIO(c.get("/admin/files.zip", headers=bearer(made)).content))
    expected = {"A/B局": "A_B局.xlsx", "A_B局": "A_B局（2）.xlsx", "甲,乙局": "甲,乙局.xlsx", '丙"丁局': "丙_丁局.xlsx"}
    assert sorted(zipped.namelist()) == sorted(expected.values())
    for name, entry in expected.items():
        assert zipped.read(entry) == books[name].read_bytes(), name
    rows = sheet_rows(tmp_path / "汇总.xlsx", [merge.NOTES_SHEET, merge.DETAIL_SHEET])
    notes = {r[0]: r[1] for r in rows[merge.NOTES_SHEET] if r and r[0]}
    assert notes["未报送"] == "无"
    detail = json.dumps(rows, ensure_ascii=False, default=str)
    for name, entry in expected.items():
        assert json.dumps(name, ensure_ascii=False) in detail and entry in detail, name


# ---------------------------------------------------------------- orphan files


def test_files_left_without_their_row_are_removed_at_start_up(made: Made):
    """A server killed between an upload's file and its row leaves a file nobody acknowledged."""
    with client_for(made) as c:
        upload(c, made.link(SHU), GOOD_SHU)
    kept = collection.blob_path(made.folder, hashlib.sha256(GOOD_SHU.read_bytes()).hexdigest())
    orphan, young = collection.blob_path(made.folder, "ab" * 32), collection.blob_path(made.folder, "cd" * 32)
    for path in (orphan, young):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"PK half an upload")
    hour_ago = time.time() - 3600
    os.utime(orphan, (hour_ago, hour_ago))
    os.utime(kept, (hour_ago, hour_ago))
    with client_for(made) as c:
        assert not orphan.exists()
        assert kept.exists() and kept.read_bytes() == GOOD_SHU.read_bytes()
        assert young.exists()  # may be an upload another server process is committing right now
        login(c, made)
        assert "启动时清理" in c.get("/admin").text
    s = store.open_store(made.folder, made.db)
    try:
        cleaned = [a for a in s.audit() if a["action"] == "cleanup"]
        assert [a["sha256"] for a in cleaned] == ["ab" * 32]
    finally:
        s.close()


# ---------------------------------------------------------------- links kept only hashed


def _tokens(made: Made) -> list[str]:
    return [link.rsplit("/u/", 1)[1] for _unit, link in made.created.links]


def test_unit_links_are_stored_only_hashed(made: Made):
    tokens = _tokens(made)
    assert len(tokens) == 3
    s = store.open_store(made.folder, made.db)
    try:
        with s.engine.connect() as conn:
            text = repr([conn.execute(sa.select(t)).all() for t in store.meta.sorted_tables])
        assert not [t for t in tokens if t in text]
        assert all(auth.digest(t) in text for t in tokens)
    finally:
        s.close()
    if made.db is None:
        for name in ("portal.sqlite3", "portal.sqlite3-wal"):
            path = made.folder / name
            data = path.read_bytes() if path.exists() else b""
            assert not [t for t in tokens if t.encode() in data], name


def test_a_database_with_plain_links_is_upgraded_in_place(tmp_path, db):
    folder = tmp_path / "old"
    folder.mkdir()
    token = auth.new_token()
    engine = sa.create_engine(store.database_url(folder, db))
    with engine.begin() as conn:  # a database as version 2 left it: the link itself in units.token
        store.version_table.create(conn)
        conn.execute(store.version_table.insert().values(version=2))
        store.meta.create_all(conn)
        conn.execute(sa.text("ALTER TABLE units ADD COLUMN token VARCHAR(64) NOT NULL DEFAULT ''"))
        store.MIGRATIONS[2](conn)
        conn.execute(
            sa.text("INSERT INTO units (name, fields, token, token_sha, listed) VALUES ('甲局', '{}', :t, :s, TRUE)"),
            {"t": token, "s": auth.digest(token)},
        )
    engine.dispose()
    s = store.open_store(folder, db)
    try:
        with s.engine.connect() as conn:
            assert conn.execute(sa.select(store.version_table.c.version)).scalar_one() == 3
            assert "token" not in {c["name"] for c in sa.inspect(conn).get_columns("units")}
        found = s.unit_by_sha(auth.digest(token))
        assert found is not None and found.name == "甲局"  # the link sent last year still opens the page
    finally:
        s.close()
    if db is None:
        for path in folder.glob("portal.sqlite3*"):
            assert token.encode() not in path.read_bytes(), path  # not left in a free page either


def test_the_links_file_keeps_the_links_it_can_prove(tmp_path, db):
    """填报链接.csv is written when links are issued; a roster update keeps the links it holds (each
    checked against its hash), adds the new ones, and says which it cannot know."""
    made = make_collection(tmp_path / "round", db)
    first = dict(made.created.links)
    assert _links_file(made) == first and list(first) == [SHU, CHE, MISSING]
    again = make_collection(tmp_path / "round", db, roster_text=f"单位名称\n{SHU}\n新增单位\n")
    links = _links_file(made)
    assert list(links) == [SHU, "新增单位"] and links[SHU] == first[SHU]
    assert dict(again.created.links) == links
    forged = {SHU: links[SHU][:-2] + "xx", "新增单位": links["新增单位"]}  # an edited copy proves nothing
    (made.folder / collection.LINKS_FILE).write_text(
        "单位名称,链接\n" + "".join(f"{u},{link}\n" for u, link in forged.items()), encoding="utf-8"
    )
    third = make_collection(tmp_path / "round", db, roster_text=f"单位名称\n{SHU}\n新增单位\n第三个单位\n")
    links = _links_file(made)
    assert links[SHU] == collection.LINK_UNKNOWN and links["新增单位"] == again.created.links[1][1]
    assert list(dict(third.created.links)) == ["新增单位", "第三个单位"]
    (made.folder / collection.LINKS_FILE).unlink()
    with client_for(made) as c:
        csv_rows = c.get("/admin/links.csv", headers=bearer(made)).content.decode("utf-8-sig").splitlines()
    assert csv_rows == ["单位名称,链接", *(f"{u},{collection.LINK_UNKNOWN}" for u in (SHU, "新增单位", "第三个单位"))]


# ---------------------------------------------------------------- private files


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_the_data_folder_is_private(tmp_path):
    made = make_collection(tmp_path / "round", None)
    folder = made.folder
    assert (_mode(folder), _mode(folder / "portal.sqlite3"), _mode(folder / collection.LINKS_FILE)) == (
        0o700,
        0o600,
        0o600,
    )
    with client_for(made) as c:
        upload(c, made.link(SHU), GOOD_SHU)
        blob = collection.blob_path(folder, hashlib.sha256(GOOD_SHU.read_bytes()).hexdigest())
        for path in (folder / "files", blob.parent, folder / "tmp"):
            assert _mode(path) == 0o700, path
        for path in (blob, *folder.glob("portal.sqlite3*")):
            assert _mode(path) == 0o600, path
        login(c, made)
        s = store.open_store(folder)
        unit = next(u for u in s.units() if u.name == SHU)
        s.close()
        csrf = c.get("/admin").text.split('name="csrf" value="')[1].split('"')[0]
        assert c.post(f"/admin/units/{unit.id}/reissue", data={"csrf": csrf}).status_code == 200
        assert _mode(folder / collection.LINKS_FILE) == 0o600


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_a_world_readable_collection_is_made_private_at_start(tmp_path):
    made = make_collection(tmp_path / "round", None)
    with client_for(made) as c:
        upload(c, made.link(SHU), GOOD_SHU)
    opened = [made.folder, *made.folder.rglob("*")]
    for path in opened:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)  # as a collection made before this rule
    with client_for(made):
        for path in opened:
            if path.exists():
                assert _mode(path) == (0o700 if path.is_dir() else 0o600), path
