"""A workbook filled into the form's skeleton (xltool/workbook/filling.py) is, byte for byte, the one
xlsxwriter writes: on every sample workbook, every report of the corpus as ``xltool import`` reads it,
the marks other commands use (locked, drafted, notes) and values chosen to be awkward. What the
skeleton does not write exactly as xlsxwriter does is left to xlsxwriter (also checked here).

The xlsxwriter side is :func:`template.write` with a ``finish`` that adds nothing: a finish always
goes through xlsxwriter.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xltool.form import spec as specs
from xltool.form.spec import FormSpec
from xltool.sources import importing
from xltool.submission import IMPORT_PROPERTY, UNSPLIT_PROPERTY, Value
from xltool.workbook import template
from xltool.workbook.reader import read

from .conftest import ROOT, SHARED

SAMPLES = sorted((ROOT / "samples").rglob("*.xlsx"))
REPORTS = sorted(p for p in (SHARED / "reports").rglob("*") if p.suffix in (".txt", ".html", ".docx", ".pdf", ".md"))
SPEC = specs.load()


def _nothing(_wb: Any) -> None:
    """A finish that adds nothing: the workbook is xlsxwriter's own."""


def written(folder: Path, spec: FormSpec, values: dict[str, Value], **kw: Any) -> tuple[bytes, bytes, bool]:
    """(filled bytes, xlsxwriter's bytes, whether the skeleton filled it without xlsxwriter)."""
    ours, theirs = folder / "filled.xlsx", folder / "xlsxwriter.xlsx"
    template.write(ours, spec, values, **kw)  # builds the skeleton of these marks, once
    calls: list[int] = []
    real = template._write

    def counted(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(template, "_write", counted)
        template.write(ours, spec, values, **kw)
    template.write(theirs, spec, values, finish=_nothing, **kw)
    return ours.read_bytes(), theirs.read_bytes(), not calls


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(ROOT / "samples")))
def test_every_sample_is_written_byte_for_byte_as_xlsxwriter_writes_it(tmp_path: Path, path: Path) -> None:
    sub = read(path)
    props = {"unit": sub.unit_name, "drafted": sub.properties.get("drafted", "")}
    ours, theirs, filled = written(tmp_path, sub.spec, sub.values, constants=dict(sub.reported), properties=props)
    assert filled
    assert ours == theirs


def _readings() -> Iterator[importing.Reading]:
    for path in REPORTS:
        r = importing.read_report(path)
        if r.spec is not None and not r.refused and r.placement is not None and not r.placement.problem:
            yield r


def test_every_corpus_report_imports_to_xlsxwriters_bytes(tmp_path: Path, shared_reports: Path) -> None:
    readings = list(_readings())
    assert len(readings) >= 20
    for r in readings:
        assert r.spec is not None
        props = {IMPORT_PROPERTY: r.source.name, UNSPLIT_PROPERTY: ",".join(sorted(r.unsplit))}
        ours, theirs, filled = written(tmp_path, r.spec, r.values, properties=props, constants=r.constants)
        assert filled, r.source
        assert ours == theirs, r.source


@pytest.mark.parametrize("form", list(specs.SPEC_FILES))
def test_the_marks_of_other_commands_fill_to_the_same_bytes(tmp_path: Path, form: str) -> None:
    """template --roster locks the unit's details, draft and merge mark drafts and list them in 填报说明."""
    spec = specs.load(form)
    values: dict[str, Value] = {
        "unit.unit_name": "甲镇人民政府",
        "unit.report_year": 2021,
        "unit.unit_type": "乡镇人民政府",
    }
    s1 = f"{spec.sections[0].key}.{spec.sections[0].parts[0].key}"
    for kw in (
        {"locked": set(values)},
        {"drafted": [s1], "notes": [("legend:draft", "浅绿色：xltool 起草的文字"), ("note", f"{s1} 已起草")]},
    ):
        ours, theirs, filled = written(tmp_path, spec, values | {s1: "起草的文字。"}, **kw)
        assert filled
        assert ours == theirs


AWKWARD_TEXT = [
    "&<>\"'；全角　空格",  # XML's specials, an ideographic space
    " 前后有空格 ",
    "\u3000全角空格开头",
    "末尾换行\n",
    "两行\n文字\t制表符",
    "😀 星外字符",
    "数" * 20_000,  # long, within a cell's 32,767
    "=SUM(A1:A2)",  # a formula's look: written as text (strings_to_formulas is off)
    "12.50",
    "https://example.org/报告",
]
FALLBACK_TEXT = ["控制\x01字符", "_x0041_ 像转义", "回车\r\n换行", "<r>富文本</r>", "\ufffe"]
NUMBERS: list[Any] = [0, -3, 10**17, 2**53 + 1, Decimal("0.1"), Decimal("1.23456789012345678901"), Decimal("1E+30"), Decimal("12.500000")]  # fmt: skip


@pytest.mark.parametrize("text", AWKWARD_TEXT + FALLBACK_TEXT, ids=repr)
def test_awkward_text_is_written_as_xlsxwriter_writes_it(tmp_path: Path, text: str) -> None:
    s1 = f"{SPEC.sections[0].key}.{SPEC.sections[0].parts[0].key}"
    values: dict[str, Value] = {s1: text, "unit.unit_name": text[:100], "unit.filler": text[:50]}
    ours, theirs, filled = written(tmp_path, SPEC, values, properties={IMPORT_PROPERTY: "a&b<c>.html"})
    assert ours == theirs
    assert filled == (text in AWKWARD_TEXT)  # the others are left to xlsxwriter


@pytest.mark.parametrize("number", NUMBERS, ids=repr)
def test_numbers_inputs_and_published_totals_as_xlsxwriter_writes_them(tmp_path: Path, number: Any) -> None:
    values: dict[str, Value] = {"t3.new.natural": number, "t2.fees.amount": number, "t3.carry_in.business": None}
    constants: dict[str, Value] = {"t3.total.natural": number, "t3.new.total": None}
    ours, theirs, filled = written(tmp_path, SPEC, values, constants=constants)
    assert filled
    assert ours == theirs


def test_what_xlsxwriter_writes_its_own_way_is_left_to_it(tmp_path: Path) -> None:
    """A bool, a number that is not a number, an over-long property: xlsxwriter decides (and may refuse)."""
    ours, theirs, filled = written(tmp_path, SPEC, {"t3.new.natural": True})  # type: ignore[dict-item]
    assert not filled and ours == theirs
    with pytest.raises(TypeError, match="NAN"):
        template.write(tmp_path / "x.xlsx", SPEC, {"t3.new.natural": Decimal("NaN")})
    assert not (tmp_path / "x.xlsx").exists()
    with pytest.warns(UserWarning, match="255"):  # xlsxwriter warns, and writes it
        ours, theirs, filled = written(tmp_path, SPEC, {}, properties={"note": "长" * 256})
    assert not filled and ours == theirs


TEXT = st.text(st.characters(codec="utf-8"), max_size=60)
NUMBER = st.one_of(
    st.integers(-(10**20), 10**20), st.decimals(allow_nan=False, allow_infinity=False, places=6, max_value=10**12)
)


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, name=TEXT, number=NUMBER, total=st.one_of(st.none(), NUMBER))
def test_any_text_and_number_give_xlsxwriters_bytes(
    tmp_path: Path, text: str, name: str, number: Value, total: Value
) -> None:
    s1 = f"{SPEC.sections[0].key}.{SPEC.sections[0].parts[0].key}"
    values: dict[str, Value] = {s1: text, "unit.unit_name": name, "t3.new.natural": number}
    ours, theirs, _ = written(tmp_path, SPEC, values, constants={"t3.total.natural": total}, properties={"u": name})
    assert ours == theirs
