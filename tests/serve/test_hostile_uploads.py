"""Each hostile workbook (tests/hostile.py) uploaded to the portal: rejected with its Chinese reason,
and the next unit's normal upload still goes through (the check worker survived it).

The portal judges a file by its content, not by the name it was uploaded under, so the poisons
that are only a name (a good workbook called .xlsb) are not among them.
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from tests.hostile import POISONS, Poison, build
from tests.sample_data import SHUYANG, write_valid

from .conftest import CHE, GOOD_CHE, SHU, bearer, client_for, make_collection, upload

SHOWN = ("extent-XFD1048576", "extent-ZZ60000", "vbaProject", "external-link", "deep-nesting", "duplicate-part")


def _uploads(tmp_path: Path, poisons: list[Poison]) -> None:
    good = write_valid(tmp_path / "good.xlsx", SHUYANG)
    files = build(good, tmp_path / "poisons", tuple(poisons))
    made = make_collection(tmp_path / "round", None)
    with client_for(made) as client:
        for version, poison in enumerate(poisons, start=1):
            r = upload(client, made.link(SHU), files[poison.name], name=f"{SHU}.xlsx")
            assert r.status_code == 200, poison.name
            body = r.json()
            assert (body["accepted"], body["version"]) == (False, version), poison.name
            assert [(f["rule"], f["message"]) for f in body["file"]["findings"]] == [("X-FILE", poison.reason)]
            other = upload(client, made.link(CHE), GOOD_CHE).json()
            assert other["accepted"] is True and other["file"]["errors"] == 0, poison.name
        r = upload(client, made.link(SHU), files[poisons[0].name], headers={})  # the form, in a browser
        assert r.status_code == 303
        page = client.get(r.headers["location"]).text
        assert html.escape(poisons[0].reason, quote=True) in page
        units = {u["unit"]: u for u in client.get("/admin/status.json", headers=bearer(made)).json()["units"]}
        assert (units[SHU]["status"], units[SHU]["versions"]) == ("errors", len(poisons) + 1)
        assert (units[CHE]["status"], units[CHE]["versions"]) == ("ok", len(poisons))


def test_poisons_are_rejected_and_other_units_still_upload(tmp_path: Path) -> None:
    _uploads(tmp_path, [p for p in POISONS if p.name in SHOWN])


@pytest.mark.slow
def test_every_poison_is_rejected_and_other_units_still_upload(tmp_path: Path) -> None:
    _uploads(tmp_path, [p for p in POISONS if p.suffix == ".xlsx"])
