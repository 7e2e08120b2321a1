"""A collection round in a data folder: its units, their uploads, and the core's work on them.

No web code here: the pages (app.py) call these functions, and the slow ones (:func:`check_upload`,
:func:`build_summary`, ...) are plain top-level functions that run in a worker process. They call
the same ``check``, ``merge``, ``template`` and ``render`` as the CLI and re-implement none of them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xltool.checks import check as checking
from xltool.documents.render import render
from xltool.errors import InputFileError, UsageError, XltoolError
from xltool.form import spec as specs
from xltool.serve import auth, parts
from xltool.serve.store import DB_NAME, Store, Unit, Upload, open_store
from xltool.sources import checking as files
from xltool.sources import merging as merge_files
from xltool.sources import publishing as publish
from xltool.sources import rosters as roster_files
from xltool.sources import templates as make
from xltool.sources.merging import summary_carry
from xltool.summary import merge as merging
from xltool.summary import roster as rosters
from xltool.text import normalise, safe_filename
from xltool.workbook.reader import read

LINKS_FILE = "填报链接.csv"
LINKS_HEADER = ("单位名称", "链接")
LINK_UNKNOWN = "（链接只在发出时显示一次，这里已没有它：如需要，请在管理页为该单位“作废并重发链接”）"
FILES, TMP = "files", "tmp"
PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600  # the data folder holds every unit's workbook and links
ORPHAN_GRACE = 600.0  # seconds: a file younger than this may belong to an upload being committed now
PREVIOUS_CARRY = "previous_carry"  # setting: each unit's 上年结转 from last year's summary (JSON)
UNIT_RULE = specs.load().rules_of("expected")[0].id  # the workbook names another unit than its link's


@dataclass(frozen=True)
class Created:
    """What ``--init`` prints once: the admin secrets (None when only the roster was updated) and the links."""

    admin_password: str | None
    admin_token: str | None
    links: list[tuple[str, str]]
    links_file: Path
    not_in_previous: tuple[str, ...] | None = None  # with a summary as --previous: units it lacks

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "admin_password": self.admin_password,
            "admin_token": self.admin_token,
            "links": [{"unit": u, "link": link} for u, link in self.links],
        }
        if self.not_in_previous is not None:
            out["not_in_previous"] = list(self.not_in_previous)
        return out


def init(
    folder: Path,
    *,
    year: int | None,
    unit: str | None,
    roster: Path | None,
    previous: Path | None = None,
    base_url: str | None = None,
    db: str | None = None,
    deadline: str | None = None,
) -> Created:
    """Create the collection in ``folder``, or update the roster of the one already there."""
    folder = Path(folder)
    if roster is None:
        raise UsageError("--init 需要 --roster 名单文件（.csv 或 .xlsx，含“单位名称”列）。")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} 不是文件夹。")
    if previous is not None and not Path(previous).is_file():
        _previous_folder(previous)
    carry = _previous_carry(Path(previous), year) if previous is not None and year is not None else None
    members = roster_files.load(roster, specs.load()).members
    private_folder(folder)
    if db is None:  # created readable by its owner only; SQLite gives its -wal and -shm files the same mode
        os.close(os.open(folder / DB_NAME, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))
    store = open_store(folder, db, create=True)
    try:
        fresh = store.get("year") is None
        if fresh:
            if year is None or not unit:
                raise UsageError("新建收集时必须给出 --year（报告年度）和 --unit（汇总单位名称）。")
            make.choose_form(year, None, lambda _m: None)  # a year without a form is refused now, not at download
        password, token = (auth.new_password(), auth.new_token()) if fresh else (None, None)
        values = {"year": str(year), "unit": (unit or "").strip(), "deadline": deadline or ""}
        values = {k: v for k, v in values.items() if v and v != "None"}
        if fresh:
            assert password is not None and token is not None
            values |= {
                "admin_hash": auth.hash_password(password),
                "api_sha": auth.digest(token),
                "secret": secrets.token_hex(32),
            }
        if base_url:
            values["base_url"] = base_url.rstrip("/")
        lacking = None
        if previous is not None:
            if carry is None:  # the year of the collection already there
                carry = _previous_carry(Path(previous), int(store.get("year") or 0))
            values |= {"previous": "" if carry else str(Path(previous).resolve()), PREVIOUS_CARRY: carry}
            lacking = tuple(m.name for m in members if normalise(m.name) not in json.loads(carry)) if carry else None
        store.put(values)
        issued = _sync_roster(store, members)
        store.log("", "cli", "init" if fresh else "roster", "", f"{len(members)} 个单位")
        path = write_links(folder, store, issued)
        known = [(name, link) for name, link in link_rows(folder, store) if link != LINK_UNKNOWN]
        return Created(password, token, known, path, lacking)
    finally:
        store.close()
        secure(folder)


def _sync_roster(store: Store, members: tuple[rosters.Member, ...]) -> dict[int, str]:
    """New units get a link; units still listed keep theirs; units left off are kept, marked unlisted.
    Returns the links issued now (unit id -> token): the only moment they are known in clear."""
    known = {normalise(u.name): u for u in store.units()}
    wanted = {normalise(m.name): m for m in members}
    issued = {}
    for key, member in wanted.items():
        fields = dict(member.fields)
        if key in known:
            store.update_unit(known[key].id, fields=fields, listed=True)
        else:
            token = auth.new_token()
            issued[store.add_unit(member.name, fields, auth.digest(token))] = token
    for key, u in known.items():
        if key not in wanted and u.listed:
            store.update_unit(u.id, listed=False)
    return issued


def base_url(store: Store) -> str:
    return store.get("base_url") or "http://127.0.0.1:8000"


def link_rows(folder: Path, store: Store, issued: dict[int, str] | None = None) -> list[tuple[str, str]]:
    """Each listed unit and its link. The database keeps only each link's hash, so a link is known
    when it was issued just now (``issued``) or when 填报链接.csv still holds it and it still opens
    that unit's page; otherwise the row says to reissue it."""
    issued = issued or {}
    on_file = _links_on_file(folder)
    rows = []
    for u in store.units():
        if not u.listed:
            continue
        token = issued.get(u.id) or on_file.get(u.name, "")
        ok = bool(token) and auth.same(auth.digest(token), u.token_sha)
        rows.append((u.name, f"{base_url(store)}/u/{token}" if ok else LINK_UNKNOWN))
    return rows


def _links_on_file(folder: Path) -> dict[str, str]:
    """Unit name -> token, from the links file as last written (the admin may have edited or removed it)."""
    try:
        text = (folder / LINKS_FILE).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return {}
    return {
        row[0]: row[1].rsplit("/u/", 1)[1] for row in csv.reader(io.StringIO(text)) if len(row) >= 2 and "/u/" in row[1]
    }


def links_csv(folder: Path, store: Store, issued: dict[int, str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LINKS_HEADER)
    writer.writerows(link_rows(folder, store, issued))
    return out.getvalue().encode("utf-8-sig")  # Excel and WPS read UTF-8 CSV only with the BOM


def write_links(folder: Path, store: Store, issued: dict[int, str]) -> Path:
    """填报链接.csv (readable by its owner only): the links just issued, and those it already held."""
    path = folder / LINKS_FILE
    write_private(path, links_csv(folder, store, issued))
    return path


def reissue(store: Store, unit_id: int) -> str:
    """A new link for the unit; the old one stops working at once. The link is returned, never stored."""
    token = auth.new_token()
    store.update_unit(unit_id, token_sha=auth.digest(token))
    return token


def _previous_folder(path: Path) -> Path:
    if (Path(path) / "portal.sqlite3").is_file():
        return Path(path)
    raise UsageError(f"{path} 不是 xltool 收集文件夹（没有 portal.sqlite3），也不是上一年度的汇总工作簿。")


def _previous_carry(path: Path, year: int) -> str:
    """With last year's summary: each unit's locked 上年结转 (JSON by normalised name); "" for a folder."""
    if not path.is_file():
        return ""
    return json.dumps(summary_carry(make.choose_form(year, None, lambda _m: None), path, year), ensure_ascii=False)


def previous_carry(store: Store) -> dict[str, dict[str, Any]]:
    """What ``--init --previous SUMMARY`` stored: each unit's 上年结转 by normalised name."""
    return json.loads(store.get(PREVIOUS_CARRY) or "{}")


# ---------------------------------------------------------------- files on disk


def blob_path(folder: Path, sha256: str) -> Path:
    return folder / FILES / sha256[:2] / f"{sha256}.xlsx"


def temp_dir(folder: Path) -> Path:
    return private_folder(folder / TMP)


def private_folder(path: Path) -> Path:
    """A folder only its owner can enter (created so, or made so)."""
    path.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    _chmod(path, PRIVATE_FOLDER)
    return path


def _chmod(path: Path, mode: int) -> None:
    if sys.platform != "win32":  # Windows: the folder's ACL decides, chmod only sets read-only
        os.chmod(path, mode)


def write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only, atomically (a temporary file beside it, then renamed)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=".xltool-", suffix=path.suffix)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(name, path)
    finally:
        Path(name).unlink(missing_ok=True)


def secure(folder: Path) -> None:
    """Make the data folder private, as a collection made before this rule left it world-readable."""
    if not folder.is_dir():
        return
    _chmod(folder, PRIVATE_FOLDER)
    for sub in (folder / FILES, folder / TMP):
        for path in (sub, *sub.rglob("*")) if sub.is_dir() else ():
            _chmod(path, PRIVATE_FOLDER if path.is_dir() else PRIVATE_FILE)
    for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", LINKS_FILE):
        if (folder / name).is_file():
            _chmod(folder / name, PRIVATE_FILE)


def keep(folder: Path, temp: Path, sha256: str) -> Path:
    """Move a temporary upload to its content address, fsynced first (same content: same file, kept
    once; a copy already there is not synced again)."""
    target = blob_path(folder, sha256)
    blob_folder(target)
    if target.exists():
        temp.unlink()
        os.utime(target)  # young again: the start-up cleaning of a second server leaves it alone
    else:
        _fsync(temp, os.O_RDWR)  # Windows flushes only a file open for writing
        os.replace(temp, target)
        _fsync(target.parent, os.O_RDONLY)
    return target


def blob_folder(blob: Path) -> None:
    """The private folders a stored file goes in (``files/ab/``), made when they are not there yet."""
    if not blob.parent.is_dir():
        private_folder(blob.parent.parent)
        private_folder(blob.parent)


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def clean_temp(folder: Path) -> None:
    """At start-up: what a killed server left half-received is dropped (it was never acknowledged)."""
    shutil.rmtree(folder / TMP, ignore_errors=True)
    temp_dir(folder)


def clean_orphans(folder: Path, store: Store, grace: float = ORPHAN_GRACE) -> list[str]:
    """At start-up: stored files that no upload row names (the server was killed between the file
    and its row: never acknowledged) are removed; returns their SHA-256. Files younger than
    ``grace`` seconds are left, as another server process on the same database may be about to
    commit their row. Cached parts (:mod:`parts`) go with their file, and so do parts written by
    another version of xltool (never read again)."""
    known = store.shas()
    cutoff = time.time() - grace
    removed = []
    for blob in sorted((folder / FILES).glob("??/*.xlsx")):
        if blob.stem not in known and blob.stat().st_mtime < cutoff:
            blob.unlink(missing_ok=True)
            removed.append(blob.stem)
    for part in (folder / FILES).glob(f"??/*{parts.SUFFIX}"):
        stale = not parts.current(part) or parts.sha_of(part) not in known
        if stale and part.stat().st_mtime < cutoff:
            part.unlink(missing_ok=True)
    return removed


def file_names(units: list[Unit]) -> dict[int, str]:
    """Each unit's file name (without .xlsx) in files.zip and in the summary: its name made safe
    for Windows, numbered when two units' safe names meet (``A/B局`` and ``A_B局``). Unique by
    construction, compared as Windows compares names, and stable: in the order units were added."""
    taken: set[str] = set()
    names = {}
    for u in sorted(units, key=lambda u: u.id):
        base = name = safe_filename(u.name)
        n = 1
        while name.casefold() in taken:
            n += 1
            name = f"{base}（{n}）"
        taken.add(name.casefold())
        names[u.id] = name
    return names


# ---------------------------------------------------------------- work done in the worker pool


PRELOAD = ("xltool.serve.warmed",)  # what the fork server loads for every worker (pool.py)


_warm: list[bool] = []  # once per process; a worker forked from a warmed fork server inherits it


def warm() -> None:
    """Load the form definition and everything a check uses (reader, schemas, rules) before the
    first upload, by checking a blank workbook once."""
    from xltool.workbook import template  # the workers' work: not loaded in the server process

    if _warm:
        return
    with tempfile.TemporaryDirectory(prefix="xltool-warm-") as folder:
        blank = Path(folder) / "blank.xlsx"
        template.write(blank, specs.load(), {})
        files.check([blank])
    _warm.append(True)


def refused(filename: str, reason: str) -> dict[str, Any]:
    """The check --json object of an upload that could not be checked at all (its worker died)."""
    return checking.unreadable(filename, InputFileError(filename, reason)).to_json() | {"file": filename}


def annotatable(result: dict[str, Any]) -> bool:
    """Whether an upload's findings point at any cell (a file that could not be read has none)."""
    return any(f.get("cell") for f in result["findings"])


def check_upload(
    path: str, unit_name: str, filename: str, previous: str | None, part: str | None = None
) -> dict[str, Any]:
    """The check --json object of one upload (``file`` is the uploaded file's name), plus the portal's
    own finding when the workbook names another unit than the link's. With ``part``, the upload's
    share of the summary is written there too (:mod:`parts`), from the same reading."""
    prior = Path(previous) if previous else None
    link = {"unit.unit_name": unit_name}  # rule P-UNIT (kind "expected"): the workbook names the link's unit
    try:
        result = files.check([Path(path)], prior, expected=link)[0]
    except XltoolError:  # a previous-year workbook that does not fit: check this year's alone
        result = files.check([Path(path)], expected=link)[0]
    if part is not None:
        blob_folder(Path(part))
        parts.save(Path(part), merging.part_of(plain(result)))
    return result.to_json() | {"file": filename}


def plain(result: checking.FileResult) -> checking.FileResult:
    """``result`` as ``xltool merge`` (and ``check`` without options) finds it: without the findings
    that only the portal's link (kind ``expected``) or last year's report (cross-year rules) add."""
    spec = result.submission.spec if result.submission is not None else specs.load()
    own = {r.id for r in spec.rules if r.cross_year or r.kind == "expected"}
    return checking.FileResult(result.file, result.submission, [f for f in result.findings if f.rule not in own])


def refused_part(part: str, filename: str, reason: str) -> None:
    """The share of the summary of an upload that could not be checked at all (its worker died):
    listed as unreadable, with the reason, never read again."""
    blob_folder(Path(part))
    parts.save(Path(part), merging.part_of(checking.unreadable(filename, InputFileError(filename, reason))))


def cache_parts(stored: list[tuple[str, str]]) -> None:
    """Read and check stored uploads (one pandera call) and keep each one's part: (file, part path)."""
    for (_file, part), made in zip(stored, merge_files.read_parts([f for f, _p in stored]), strict=True):
        blob_folder(Path(part))
        parts.save(Path(part), made)


def write_template(
    out: str, year: int, fields: dict[str, str], previous: str | None, carried: dict[str, Any] | None = None
) -> None:
    unit = {f"unit.{k}": v for k, v in fields.items() if v}
    make.unit_template(Path(out), year, unit, previous and Path(previous), carried)  # type: ignore[arg-type]


def write_annotated(src: str, out: str) -> bool:
    """The annotated copy of ``src`` at ``out``; False (nothing written) when ``src`` cannot be read."""
    return files.check([Path(src)], annotate=Path(out))[0].submission is not None


def write_preview(src: str, out: str) -> None:
    render(read(Path(src)), Path(out))


def build_summary(
    files: list[tuple[str, str]],
    names: list[str],
    unit: str,
    out: str,
    document: str | None,
    kept: list[str] | None = None,
) -> str:
    """Merge the given (path, file name) uploads into ``out`` (names: the roster, for who is missing);
    with ``document``, also render the summary into that .docx. Returns the merge's text report.

    Each upload is named in the summary by its unit's file name (:func:`file_names`, unique).
    ``kept``: where each upload's part is kept (:mod:`parts`); a part not there (or not readable
    back whole) is computed from the file, as ``xltool merge`` does, and kept for the next time."""
    found: list[merging.Part | None] = [None] * len(files)
    if kept:
        found = [parts.load(Path(p), f) for p, (f, _name) in zip(kept, files, strict=True)]
    todo = [i for i, p in enumerate(found) if p is None]
    for i, made in zip(todo, merge_files.read_parts([files[i][0] for i in todo]) if todo else [], strict=True):
        found[i] = made
        if kept:
            blob_folder(Path(kept[i]))
            parts.save(Path(kept[i]), made)
    shown = dict(files)
    roster = rosters.Roster("名单", tuple(rosters.Member(i, (("unit_name", n),)) for i, n in enumerate(names, start=2)))
    outcome = merging.merge([p for p in found if p is not None], names=shown, unit=unit, roster=roster)
    merging.write(outcome, Path(out))
    if document is not None:
        write_document(out, document)
    return merging.as_text(outcome)


def write_document(summary: str, document: str) -> None:
    """The summary workbook rendered as the summary report (.docx)."""
    # the summary's parts hold drafts and parts still to write: a document stamped 〔草稿〕
    published = publish.publish(Path(summary), Path(document), allow_draft=True)
    if published.refused is not None:
        raise UsageError(published.refused)


# ---------------------------------------------------------------- the state of every unit


@dataclass(frozen=True)
class UnitState:
    unit: Unit
    latest: Upload | None
    versions: int

    @property
    def status(self) -> str:
        if self.latest is None:
            return "missing"
        return "ok" if self.latest.status == "ok" else "errors"

    @property
    def mergeable(self) -> bool:
        """Given to the merge: passed, or failed on the core's own checks (the merge lists it as not merged)."""
        if self.latest is None:
            return False
        return self.status == "ok" or not any(f["rule"] == UNIT_RULE for f in self.latest.result["findings"])

    def to_json(self) -> dict[str, Any]:
        u = self.latest
        return {
            "unit": self.unit.name,
            "listed": self.unit.listed,
            "status": self.status,
            "errors": u.errors if u else 0,
            "warnings": u.warnings if u else 0,
            "versions": self.versions,
            "uploaded_at": u.uploaded_at.isoformat(timespec="seconds") if u else None,
            "sha256": u.sha256 if u else None,
        }


STATUS_LABEL = {"missing": "未报送", "errors": "有错误", "ok": "通过"}
ACTION_LABEL = {
    "init": "新建收集",
    "roster": "更新名单",
    "template": "下载模板",
    "upload": "上传",
    "login": "管理登录",
    "logout": "退出登录",
    "reissue": "重发链接",
    "summary": "下载汇总",
    "cleanup": "启动时清理",
}


def states(store: Store) -> list[UnitState]:
    latest = store.latest()
    counts: dict[int, int] = {}
    for upload in latest.values():
        counts[upload.unit_id] = upload.version
    return [UnitState(u, latest.get(u.id), counts.get(u.id, 0)) for u in store.units()]


def status_json(store: Store) -> str:
    return json.dumps({"units": [s.to_json() for s in states(store)]}, ensure_ascii=False, indent=2)


def files_zip(folder: Path, store: Store, out: Path) -> None:
    """Every unit's latest upload, named by its unit (:func:`file_names`: never two entries with one name)."""
    rows = states(store)
    names = file_names([s.unit for s in rows])
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for s in rows:
            if s.latest is not None:
                zf.write(blob_path(folder, s.latest.sha256), f"{names[s.unit.id]}.xlsx")
