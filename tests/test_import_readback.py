"""``xltool import`` checks the workbooks it writes in memory (xltool/workbook/readback.py), a batch at a
time: the submission (values, published totals, findings, properties) equals reading the file back, on
every sample workbook, every report of the corpus and awkward values; what is not sure is read from
the file. The whole command says and writes exactly what writing, reading and checking one report
at a time does.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xltool.checks import check as checking
from xltool.documents.render import render
from xltool.errors import UsageError
from xltool.form import spec as specs
from xltool.form.spec import FormSpec
from xltool.sources import importing
from xltool.submission import IMPORT_PROPERTY, UNSPLIT_PROPERTY, Submission, Value
from xltool.workbook import readback, template
from xltool.workbook.reader import read

from .conftest import ROOT
from .test_template_fill import AWKWARD_TEXT, FALLBACK_TEXT, NUMBER, NUMBERS, REPORTS, SAMPLES, TEXT

SPEC = specs.load()
S1 = f"{SPEC.sections[0].key}.{SPEC.sections[0].parts[0].key}"


def shown(sub: Submission) -> tuple[Any, ...]:
    """Everything a check and its messages see of a submission (numbers with their type and digits)."""
    typed = {k: (type(v).__name__, str(v)) for k, v in sub.values.items()}
    reported = {k: (type(v).__name__, str(v)) for k, v in sub.reported.items()}
    quotes = [f.quote for f in sub.findings]
    return sub.source, typed, reported, sub.findings, quotes, sub.properties, sub.sheets


def compared(path: Path, spec: FormSpec, values: dict[str, Value], **kw: Any) -> bool:
    """Write the workbook; True when it is read back in memory, and then exactly as from the file."""
    template.write(path, spec, values, **kw)
    ours = readback.as_read(path, spec, values, **kw)
    if ours is None:
        return False
    theirs = read(path)
    assert shown(ours) == shown(theirs)
    found = checking.evaluate([checking.FileResult(str(path), ours), checking.FileResult(str(path), theirs)])
    assert found[0].findings == found[1].findings
    return True


def _props(source: str, unsplit: frozenset[str] = frozenset()) -> dict[str, str]:
    return {IMPORT_PROPERTY: source, UNSPLIT_PROPERTY: ",".join(sorted(unsplit))}


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(ROOT / "samples")))
def test_every_sample_reads_back_in_memory_as_from_its_file(tmp_path: Path, path: Path) -> None:
    sub = read(path)
    kw = {"properties": _props(path.name), "constants": dict(sub.reported)}
    assert compared(tmp_path / "x.xlsx", sub.spec, sub.values, **kw)


def test_every_corpus_report_reads_back_in_memory_as_from_its_file(tmp_path: Path, shared_reports: Path) -> None:
    read_back = 0
    for path in REPORTS:
        r = importing.read_report(path)
        if r.spec is None or r.refused or r.placement is None or r.placement.problem:
            continue
        kw = {"properties": _props(r.source.name, r.unsplit), "constants": r.constants}
        assert compared(tmp_path / "x.xlsx", r.spec, r.values, **kw), path
        read_back += 1
    assert read_back >= 20


@pytest.mark.parametrize("text", AWKWARD_TEXT + FALLBACK_TEXT + ["  ", "\n"], ids=repr)
def test_awkward_text_reads_back_the_same_or_from_the_file(tmp_path: Path, text: str) -> None:
    values: dict[str, Value] = {S1: text, "unit.unit_name": text[:100], "unit.unit_type": text[:20]}
    sure = compared(tmp_path / "x.xlsx", SPEC, values, properties=_props("a&b<c>.html"))
    assert sure == (text not in FALLBACK_TEXT)


@pytest.mark.parametrize("number", NUMBERS, ids=repr)
def test_numbers_and_published_totals_read_back_as_from_the_file(tmp_path: Path, number: Any) -> None:
    """Digits past a float's, numbers past 2**53, totals printed blank or other than their items."""
    values: dict[str, Value] = {"t3.new.natural": number, "t2.fees.amount": number, "t3.carry_in.business": None}
    constants: dict[str, Value] = {"t3.total.natural": number, "t3.new.total": None}
    assert compared(tmp_path / "x.xlsx", SPEC, values, properties=_props("x.html"), constants=constants)


def test_what_is_not_sure_is_read_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    long = {f"{s.key}.{p.key}": "长" * 30_000 for s in SPEC.sections for p in s.parts}  # past MAX_TEXT in all
    assert not compared(path, SPEC, long)
    other = SPEC.model_copy(update={"title": "另一种表"})  # not the form of its version: the reader takes that one
    assert readback.as_read(path, other, {}) is None
    assert readback.as_read(path, SPEC, {}, properties={"summary_units": "3"}) is None
    assert not compared(path, SPEC, {"t3.new.natural": True})  # type: ignore[dict-item]


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, name=TEXT, number=NUMBER, total=st.one_of(st.none(), NUMBER))
def test_any_text_and_number_read_back_the_same_or_from_the_file(
    tmp_path: Path, text: str, name: str, number: Value, total: Value
) -> None:
    values: dict[str, Value] = {S1: text, "unit.unit_name": name, "t3.new.natural": number, "t2.fees.amount": number}
    compared(tmp_path / "x.xlsx", SPEC, values, properties=_props(name), constants={"t3.total.natural": total})


# ---------------------------------------------------------------- the whole command


def _one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The import as it was: each workbook read from its file and checked alone."""
    monkeypatch.setattr(readback, "as_read", lambda *_a, **_k: None)
    monkeypatch.setattr(importing, "CHECKED_TOGETHER", 1)


def _imported(reports: list[Path], out: Path) -> tuple[str, dict[str, bytes]]:
    outcomes = importing.import_reports(reports, out)
    said = json.dumps([importing.to_json(o) for o in outcomes], ensure_ascii=False, indent=1)
    lines = "\n".join(importing.text_lines(outcomes))
    return said.replace(str(out), "OUT") + lines.replace(str(out), "OUT"), {
        p.name: p.read_bytes() for p in sorted(out.iterdir())
    }


def _same_as_one_at_a_time(reports: list[Path], tmp_path: Path) -> None:
    now = _imported(reports, tmp_path / "now")
    with pytest.MonkeyPatch.context() as mp:
        _one_at_a_time(mp)
        before = _imported(reports, tmp_path / "before")
    assert now[0] == before[0]
    assert now[1] == before[1]


def test_importing_the_corpus_says_and_writes_what_one_at_a_time_did(tmp_path: Path, shared_reports: Path) -> None:
    _same_as_one_at_a_time(REPORTS, tmp_path)


@pytest.mark.slow
def test_importing_every_sample_as_a_published_page_says_and_writes_the_same(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    for n, path in enumerate(SAMPLES):
        with contextlib.suppress(UsageError):  # a sample without a unit name or year is not published
            render(read(path), pages / f"{n:02d}-{path.stem}.html")
    assert len(list(pages.iterdir())) >= len(SAMPLES) - 2
    _same_as_one_at_a_time(sorted(pages.iterdir()), tmp_path)
