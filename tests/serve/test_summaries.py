"""The admin's summaries: built once per version set, from the parts kept at upload time, and equal
cell for cell to ``xltool merge`` of the same files; never stale."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.sample_data import SHUYANG
from xltool.form import spec as specs
from xltool.serve import app, collection, parts, store, summaries
from xltool.serve.pool import WorkerDied
from xltool.sources import merging
from xltool.submission import Finding
from xltool.summary import merge
from xltool.summary.figures import UnitRow
from xltool.workbook import template

from .conftest import (
    BROKEN_SHU,
    CHE,
    GOOD_CHE,
    GOOD_SHU,
    ROOT,
    SHU,
    Made,
    bearer,
    client_for,
    make_collection,
    upload,
)

SAMPLES = sorted((ROOT / "samples").rglob("*.xlsx"))
# rows of 汇总说明 that say where and when, not what: the portal's differ from a merge run elsewhere
WHERE_AND_WHEN = ("汇总时间", "文件位置", "名单核对")


@pytest.fixture
def made(tmp_path: Path) -> Made:
    """SQLite only: the cache does not depend on the database (the routes' tests run both)."""
    return make_collection(tmp_path / "round", None)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[tuple[Any, ...]]:
    """Record every call of ``collection.<name>`` (the work a summary request hands to a worker)."""
    calls: list[tuple[Any, ...]] = []
    real = getattr(collection, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(collection, name, counted)
    return calls


def _cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every cell of every sheet (formulas as their text), but the rows that say where and when."""
    book = openpyxl.load_workbook(path)
    out = {}
    for sheet in book.worksheets:
        rows = [tuple(c.value for c in row) for row in sheet.iter_rows()]
        if sheet.title == merge.NOTES_SHEET:
            rows = [r for r in rows if r[0] not in WHERE_AND_WHEN]
        out[sheet.title] = rows
    return out


def _merged_by_cli(made: Made, tmp_path: Path, latest: dict[str, Path]) -> Path:
    """``xltool merge`` of the units' latest files, named as the portal names them, with the roster."""
    folder = tmp_path / f"latest-{len(list(tmp_path.glob('latest-*')))}"
    folder.mkdir()
    for unit, path in latest.items():
        shutil.copyfile(path, folder / f"{unit}.xlsx")
    out = folder.with_suffix(".xlsx")
    merging.merge(sorted(folder.glob("*.xlsx")), out, unit="某某县人民政府", roster_path=made.roster, jobs=1)
    return out


def _summary(client: Any, made: Made, tmp_path: Path, suffix: str = ".xlsx") -> tuple[bytes, Path]:
    r = client.get(f"/admin/summary{suffix}", headers=bearer(made))
    assert r.status_code == 200, r.text
    path = tmp_path / f"portal-{len(list(tmp_path.glob('portal-*')))}{suffix}"
    path.write_bytes(r.content)
    return r.content, path


# ---------------------------------------------------------------- cached per version set


def test_a_summary_is_built_once_per_version_set(made: Made, tmp_path, monkeypatch):
    builds, reads = _counting(monkeypatch, "build_summary"), []
    real = merging.read_parts
    monkeypatch.setattr(merging, "read_parts", lambda files: reads.append(files) or real(files))
    with client_for(made) as c:
        upload(c, made.link(SHU), GOOD_SHU)
        upload(c, made.link(CHE), GOOD_CHE)
        first, _ = _summary(c, made, tmp_path)
        assert reads == []  # summed from the parts kept when each file was checked: no file read again
        again, _ = _summary(c, made, tmp_path)
        assert again == first and len(builds) == 1  # no new upload: the very same file
        upload(c, made.link(SHU), BROKEN_SHU)  # a new version: the cached summary is not served again
        _, after = _summary(c, made, tmp_path)
        assert len(builds) == 2
        detail = {r[0]: r[3] for r in _cells(after)[merge.DETAIL_SHEET][1:]}
        assert detail[SHU].startswith(merge.REJECTED) and detail[CHE] == merge.MERGED
        upload(c, made.link(CHE), GOOD_CHE)  # the same file again is still a new version
        _summary(c, made, tmp_path)
        assert len(builds) == 3
        cached = sorted(p.suffix for p in (made.folder / summaries.CACHE).iterdir())
        assert cached == [".xlsx"]  # only the latest version set's files are kept
        assert list((made.folder / "tmp").iterdir()) == []  # each response's copy is gone once sent


@pytest.mark.slow
def test_the_report_is_rendered_once_per_version_set(made: Made, tmp_path, monkeypatch):
    builds, documents = _counting(monkeypatch, "build_summary"), _counting(monkeypatch, "write_document")
    with client_for(made) as c:
        upload(c, made.link(CHE), GOOD_CHE)
        report, _ = _summary(c, made, tmp_path, ".docx")  # the workbook and its report, in one task
        assert _summary(c, made, tmp_path, ".docx")[0] == report
        _summary(c, made, tmp_path)
        assert (len(builds), len(documents)) == (1, 1)
        upload(c, made.link(SHU), GOOD_SHU)
        _summary(c, made, tmp_path)
        second, _ = _summary(c, made, tmp_path, ".docx")  # rendered from the workbook just cached
        assert second != report and (len(builds), len(documents)) == (2, 2)
        assert _summary(c, made, tmp_path, ".docx")[0] == second
        cached = sorted(p.suffix for p in (made.folder / summaries.CACHE).iterdir())
        assert cached == [".docx", ".xlsx"]


def test_a_roster_update_is_a_new_summary(made: Made, tmp_path, monkeypatch):
    builds = _counting(monkeypatch, "build_summary")
    with client_for(made) as c:
        upload(c, made.link(CHE), GOOD_CHE)
        _summary(c, made, tmp_path)
        make_collection(made.folder, None, roster_text="单位名称\n车排子镇人民政府\n新增单位\n")  # --init again
        _, path = _summary(c, made, tmp_path)
    assert len(builds) == 2
    notes = {r[0]: r[1] for r in _cells(path)[merge.NOTES_SHEET] if r and r[0]}
    assert notes["未报送"] == "新增单位"


def test_two_requests_at_once_build_one_summary(made: Made, tmp_path, monkeypatch):
    real, builds = collection.build_summary, []

    def slow(*args: Any) -> str:
        builds.append(args)
        time.sleep(1)
        return real(*args)

    monkeypatch.setattr(collection, "build_summary", slow)
    with client_for(made) as c:
        upload(c, made.link(CHE), GOOD_CHE)
        got: list[bytes] = []
        threads = [threading.Thread(target=lambda: got.append(_summary(c, made, tmp_path)[0])) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(builds) == 1 and len(got) == 2 and got[0] == got[1]


@pytest.mark.slow
def test_the_cached_summary_equals_xltool_merge_of_the_same_files(made: Made, tmp_path, monkeypatch):
    """Built from the parts kept at upload time, served again from the cache, rebuilt after a new
    upload: every cell of every sheet as ``xltool merge`` gives it (but where and when it ran)."""
    reads = _counting(monkeypatch, "cache_parts")
    with client_for(made) as c:
        upload(c, made.link(SHU), BROKEN_SHU)
        upload(c, made.link(CHE), GOOD_CHE)
        _, portal = _summary(c, made, tmp_path)
        assert reads == []  # every part was kept when its file was checked
        cli = _merged_by_cli(made, tmp_path, {SHU: BROKEN_SHU, CHE: GOOD_CHE})
        assert _cells(portal) == _cells(cli)
        _, cached = _summary(c, made, tmp_path)
        assert _cells(cached) == _cells(cli)
        upload(c, made.link(SHU), GOOD_SHU)
        _, rebuilt = _summary(c, made, tmp_path)
        cli = _merged_by_cli(made, tmp_path, {SHU: GOOD_SHU, CHE: GOOD_CHE})
        assert _cells(rebuilt) == _cells(cli)
        _, document = _summary(c, made, tmp_path, ".docx")
    rendered = tmp_path / "cli.docx"
    collection.write_document(str(cli), str(rendered))
    body = zipfile.ZipFile(document).read("word/document.xml")
    assert body == zipfile.ZipFile(rendered).read("word/document.xml")


def test_missing_or_damaged_parts_are_computed_again(made: Made, tmp_path):
    with client_for(made, workers=2) as c:
        upload(c, made.link(SHU), GOOD_SHU)
        upload(c, made.link(CHE), GOOD_CHE)
        kept = {
            u: parts.path_of(collection.blob_path(made.folder, _sha(p))) for u, p in ((SHU, GOOD_SHU), (CHE, GOOD_CHE))
        }
        first = _cells(_summary(c, made, tmp_path)[1])
        kept[SHU].unlink()
        kept[CHE].write_text('{"unit": "半个', encoding="utf-8")  # cut off mid-write
        upload(c, made.link(CHE), GOOD_CHE)  # a new version set: built again, from the files
        second = _cells(_summary(c, made, tmp_path)[1])
    assert second == first
    for unit, path in kept.items():
        again = parts.load(path, "x")
        assert again is not None and again.unit == unit  # kept again, whole


def test_parts_missing_at_start_up_are_computed_in_the_background(made: Made, tmp_path, monkeypatch):
    """After an upgrade no part is current: the server computes them after it starts, unasked, so
    the first summary only sums them (a unit whose latest upload failed is in no summary: no part)."""
    with client_for(made) as c:
        upload(c, made.link(SHU), GOOD_SHU)
        upload(c, made.link(CHE), BROKEN_SHU)  # names another unit (P-UNIT): not merged
    kept = [parts.path_of(collection.blob_path(made.folder, _sha(p))) for p in (GOOD_SHU, BROKEN_SHU)]
    for path in kept:
        path.unlink()  # as a new version of xltool finds them
    chunks = _counting(monkeypatch, "cache_parts")
    reads: list[list[str]] = []
    real = merging.read_parts
    monkeypatch.setattr(merging, "read_parts", lambda files: reads.append(files) or real(files))
    with client_for(made) as c:
        deadline = time.monotonic() + 30
        while not kept[0].exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert kept[0].exists() and not kept[1].exists()
        assert [[f for f, _k in chunk] for (chunk,) in chunks] == [[str(kept[0].with_name(f"{_sha(GOOD_SHU)}.xlsx"))]]
        reads.clear()
        _summary(c, made, tmp_path)
        assert reads == []  # summed from the part computed in the background


def test_a_failure_computing_parts_in_the_background_is_said_and_harms_nothing(made: Made, monkeypatch, capsys):
    async def failing(_portal: Any) -> None:
        raise OSError("磁盘已满")

    monkeypatch.setattr(app, "_warm_parts", failing)
    with client_for(made) as c:
        assert upload(c, made.link(SHU), GOOD_SHU).json()["version"] == 1
    assert "提示：启动后预先计算汇总数据未完成（生成汇总时会重新计算）：OSError: 磁盘已满" in capsys.readouterr().err


def test_the_background_work_ends_before_the_store_closes(made: Made, monkeypatch):
    """A server that stops at once waits for the query the background work is running (a cancelled
    task would leave it running on a closed store: a connection left open)."""
    events: list[str] = []
    states, close = collection.states, store.Store.close

    def slow(s: store.Store) -> list[collection.UnitState]:
        time.sleep(0.3)
        events.append("states")
        return states(s)

    monkeypatch.setattr(collection, "states", slow)
    monkeypatch.setattr(store.Store, "close", lambda s: events.append("close") or close(s))
    with client_for(made):
        pass
    assert events == ["states", "close"]


def test_a_file_that_kills_its_worker_is_listed_as_unreadable(made: Made, tmp_path, monkeypatch):
    """Its part is computed in a worker like any other; one that dies on it does not take the summary
    with it (a 503 for every request until the unit uploads again): the unit is listed as not merged."""
    real = collection.cache_parts
    poison = str(collection.blob_path(made.folder, _sha(GOOD_SHU)))

    def dies_on_poison(stored: list[tuple[str, str]]) -> None:
        if any(f == poison for f, _part in stored):
            raise WorkerDied(-6)
        real(stored)

    monkeypatch.setattr(collection, "cache_parts", dies_on_poison)
    with client_for(made, workers=1) as c:
        upload(c, made.link(SHU), GOOD_SHU)
        upload(c, made.link(CHE), GOOD_CHE)
        for blob in (poison, str(collection.blob_path(made.folder, _sha(GOOD_CHE)))):
            parts.path_of(Path(blob)).unlink()
        _, path = _summary(c, made, tmp_path)
    detail = {r[0]: r[3] for r in _cells(path)[merge.DETAIL_SHEET][1:]}
    assert detail[CHE] == merge.MERGED and detail["（无法读取）"].startswith(merge.REJECTED)
    (note,) = [r[1] for r in _cells(path)[merge.NOTES_SHEET] if r[0] == "未汇总"]
    assert note.startswith(f"{SHU}.xlsx：无法读取：") and app.CHECK_DIED in note


# ---------------------------------------------------------------- parts kept at upload time


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_the_part_kept_at_upload_is_what_merge_reads(path: Path, tmp_path):
    """For every sample (valid, invalid, a summary): the part written beside the upload, read back,
    equals what ``xltool merge`` computes from the file, though the link names another unit."""
    kept = tmp_path / "p.part.json"
    result = collection.check_upload(str(path), "另一个单位", path.name, None, str(kept))
    assert "P-UNIT" in [f["rule"] for f in result["findings"]]  # the portal's own finding: not the summary's
    _same(parts.load(kept, str(path)), merging.read_parts([str(path)])[0])


def test_the_part_leaves_out_what_last_years_report_adds(tmp_path):
    last, this = tmp_path / "2023.xlsx", tmp_path / "2024.xlsx"
    template.write(last, specs.load(), {**SHUYANG, "t3.new.natural": 27, "t3.carry_out.natural": 1})
    template.write(this, specs.for_year(2024), {**SHUYANG, "unit.report_year": 2024})
    kept = tmp_path / "p.part.json"
    result = collection.check_upload(str(this), SHU, this.name, str(last), str(kept))
    across = [f["rule"] for f in result["findings"] if specs.load().rule(f["rule"]).cross_year]
    assert across  # the carry-over differs from last year's
    _same(parts.load(kept, str(this)), merging.read_parts([str(this)])[0])


def _same(got: merge.Part | None, want: merge.Part) -> None:
    assert got is not None
    assert got == want
    assert [f.quote for f in got.findings] == [f.quote for f in want.findings]  # not part of ==


def test_a_part_keeps_every_value_exactly(tmp_path):
    odd = (Decimal("1.50"), Decimal("-0.000"), 0.1, float("inf"), True, 10**30, "文字", None)
    findings = tuple(Finding("R", "error", "说明", "表", "A1", v, v, quote="原文") for v in odd)
    row = UnitRow("单位", "类型", "", "", (1, Decimal("2.5")), (Decimal("0.10"), 3))
    part = merge.Part(
        "f", "单位", 2023, "2021", 0, (1, Decimal("2.50")), (row,), (("单位", "一", "二", "三"),), findings, ("万元",)
    )
    path = tmp_path / "p.part.json"
    assert parts.save(path, part)
    back = parts.load(path, "f")
    assert back == part
    assert [str(f.value) for f in back.findings] == [str(v) for v in odd]  # 1.50 stays 1.50
    assert [type(f.value) for f in back.findings] == [type(v) for v in odd]


def test_a_part_json_cannot_carry_is_not_kept(tmp_path):
    part = merge.Part("f", "单位", 2023, None, 0, None, (), (), (Finding("R", "error", "说明", value={1, 2}),))
    path = tmp_path / "p.part.json"
    assert parts.save(path, part) is False and not path.exists()
    path.write_text("[]", encoding="utf-8")
    assert parts.load(path, "f") is None  # not a part: computed again


def test_parts_of_other_code_or_no_upload_are_removed_at_start_up(made: Made):
    with client_for(made) as c:
        upload(c, made.link(SHU), GOOD_SHU)
    blob = collection.blob_path(made.folder, _sha(GOOD_SHU))
    mine, older = parts.path_of(blob), blob.with_name(f"{blob.stem}.0123456789abcdef{parts.SUFFIX}")
    orphan = parts.path_of(collection.blob_path(made.folder, "ab" * 32))
    shutil.copyfile(mine, older)
    orphan.parent.mkdir(exist_ok=True)
    shutil.copyfile(mine, orphan)
    hour_ago = time.time() - 3600
    for path in (mine, older, orphan):
        os.utime(path, (hour_ago, hour_ago))
    with client_for(made):
        assert mine.exists() and not older.exists() and not orphan.exists()
