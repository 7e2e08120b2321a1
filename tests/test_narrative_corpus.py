"""The narrative rules over the precision corpus: every real published narrative in
../shared/reports and every narrative of the samples.

tests/fixtures/narrative_corpus.toml lists everything the rules read there (figure, claim, year;
keyed by file, text and sentence index, never the prose) with a verdict from reading the sentence,
and every N-finding they raise. The rules must read exactly that list, all of it rightly, and raise
exactly those findings (none: where the rules read them, the published texts agree with their
tables). Recall is measured on the same real prose: each statement read, with its table changed to
disagree, must become a finding.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xltool.checks import narrative, rules
from xltool.form.spec import FormSpec
from xltool.sources.checking import check
from xltool.submission import Submission, parts_of, unknown

from . import narrative_corpus as corpus
from .conftest import ROOT

FIXTURE = tomllib.loads((Path(__file__).parent / "fixtures" / "narrative_corpus.toml").read_text(encoding="utf-8"))
N_RULES = ("N-FIGURE", "N-YEAR", "N-CLAIM")
SAMPLES = sorted(
    [*ROOT.glob("samples/*.xlsx"), *ROOT.glob("samples/invalid/*.xlsx"), *ROOT.glob("samples/county/报表/*.xlsx")]
)


def reader(spec: FormSpec) -> narrative.Reader:
    got = narrative.reader_for(spec)
    assert got is not None, f"the {spec.form_version} form declares no narrative vocabulary"
    return got


def read(
    file: str, spec: FormSpec, texts: dict[str, str], labels: dict[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """What the rules read in each text (on its form), as the fixture records it."""
    r = reader(spec)
    for name, text in texts.items():
        label = (labels or report_labels(spec)).get(name, "")
        for f in r.figures(text, label):
            yield {"file": file, "text": name, "sentence": f.sentence, "what": f.quantity, "value": str(f.value)}
        for c in r.claims(text, label):
            what = f"{c.claim.key}:{c.quantity}"
            yield {"file": file, "text": name, "sentence": c.sentence, "what": what, "value": ""}
        for y in r.years(text):
            yield {"file": file, "text": name, "sentence": y.sentence, "what": "year", "value": str(y.year)}


def fixture(kind: str, files: set[str]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "verdict"} for row in FIXTURE[kind] if row["file"] in files]


def report_labels(spec: FormSpec) -> dict[str, str]:
    return {name: label for key, label in narrative._texts(spec) for name, k in corpus.TEXTS.items() if k == key}


def sample_texts(sub: Submission) -> dict[str, str]:
    return {key: sub.text(key) for key, _label in narrative._texts(sub.spec)}


def sample_labels(sub: Submission) -> dict[str, str]:
    return dict(narrative._texts(sub.spec))


@pytest.fixture(scope="module")
def reports(shared_reports: Path) -> list[corpus.Report]:
    return corpus.reports(shared_reports)


@pytest.fixture(scope="module")
def samples() -> list[tuple[str, Submission]]:
    out = []
    for r in check(SAMPLES):
        assert r.submission is not None
        out.append((str(Path(r.file).relative_to(ROOT)), r.submission))
    return out


def test_every_verdict_is_right() -> None:
    assert {row["verdict"] for kind in ("read", "finding") for row in FIXTURE[kind]} <= {"right"}


def test_the_reports_read_exactly_the_fixture(reports: list[corpus.Report]) -> None:
    got = [row for r in reports for row in read(r.name, r.spec, r.texts)]
    assert got == fixture("read", {r.name for r in reports})
    assert len(reports) == 17 and len(got) == 38


def test_each_report_is_read_on_the_form_of_its_year(reports: list[corpus.Report]) -> None:
    forms = {r.name: r.spec.form_version for r in reports}
    assert [name for name, form in forms.items() if form == "2019"] == [
        "004_pingtan-ziranziyuan_2020",
        "019_weishan_liangchengzhen_2020_old2019fmt",
    ]
    assert set(forms.values()) == {"2019", "2021"}


def test_the_samples_read_exactly_the_fixture(samples: list[tuple[str, Submission]]) -> None:
    got = [row for name, sub in samples for row in read(name, sub.spec, sample_texts(sub), sample_labels(sub))]
    assert got == fixture("read", {name for name, _ in samples})
    assert len(samples) == 20 and len(got) == 65


def findings(file: str, sub: Submission) -> list[dict[str, Any]]:
    return [
        {"file": file, "rule": f.rule, "value": str(f.value), "expected": str(f.expected)}
        for f in rules.apply(sub)
        if f.rule in N_RULES
    ]


def test_no_false_findings_on_the_reports(reports: list[corpus.Report]) -> None:
    got = [row for r in reports for row in findings(r.name, r.submission)]
    assert got == fixture("finding", {r.name for r in reports}) == []


def test_no_false_findings_on_the_samples(samples: list[tuple[str, Submission]]) -> None:
    got = [row for name, sub in samples for row in findings(name, sub)]
    assert got == fixture("finding", {name for name, _ in samples}) == []


def test_the_trap_of_figures_json_is_not_read(shared_reports: Path, reports: list[corpus.Report]) -> None:
    """009's 依申请公开信息数317条 counts documents, not applications (figures.json: comparable false)."""
    import json

    figures = json.loads((shared_reports / "figures.json").read_text(encoding="utf-8"))
    traps = [
        (stem, e["figure"])
        for stem, f in figures.items()
        for e in f["narrative_figures"]
        if e.get("comparable") is False
    ]
    assert traps == [("009_pingtan-shehuishiye_2022", 317)]
    report = next(r for r in reports if r.name == traps[0][0])
    assert "317" not in {row["value"] for row in read(report.name, report.spec, report.texts)}


# ---------------------------------------------------------------- recall on the real prose


def _input_of(sub: Submission, key: str) -> str:
    cells = {c.key: c for c in sub.spec.cells()}
    while key in cells and parts_of(cells[key]):
        key = parts_of(cells[key])[0]
    return key


def _known(sub: Submission, values: dict[str, Any], keys: tuple[str, ...]) -> bool:
    missing = unknown(sub.spec, values)
    return all(k not in missing if k in {c.key for c in sub.spec.cells()} else values.get(k) is not None for k in keys)


def _changed(sub: Submission, key: str, value: Any) -> tuple[Submission, dict[str, Any]]:
    values = dict(sub.values) | {key: value}
    return Submission(sub.spec, sub.source, values, properties=sub.properties), values


def mutants(sub: Submission) -> Iterator[tuple[str, str, Submission]]:
    """(rule, quote, submission whose table disagrees) for each statement the rules read."""
    r = reader(sub.spec)
    assert sub.spec.narrative is not None
    for key, label in narrative._texts(sub.spec):
        text = sub.text(key)
        for f in r.figures(text, label):
            cell = _input_of(sub, f.keys[0])
            changed, values = _changed(sub, cell, (sub.values.get(cell) or 0) + 1000)
            if _known(sub, values, (*f.keys, *(k for a in f.also for k in a))):
                yield "N-FIGURE", f.quote, changed
        for c in r.claims(text, label):
            keys = sub.spec.narrative.quantity(c.quantity).cell_keys()
            cell = _input_of(sub, keys[0])
            value = 1 if c.claim.contradicted == "positive" else 0
            others = {_input_of(sub, k): 0 for k in keys}  # the rest of the quantity as the claim says
            changed, values = _changed(sub, cell, value)
            changed.values.update({k: v for k, v in others.items() if k != cell})
            if _known(sub, changed.values, keys):
                yield "N-CLAIM", c.quote, changed
        if r.years(text) and sub.year is not None:
            changed, _values = _changed(sub, "unit.report_year", sub.year + 1)
            for y in r.years(text):
                yield "N-YEAR", y.quote, changed


def test_every_statement_read_is_found_when_the_table_disagrees(
    reports: list[corpus.Report], samples: list[tuple[str, Submission]]
) -> None:
    cases = [m for r in reports for m in mutants(r.submission)] + [m for _n, s in samples for m in mutants(s)]
    missed = [
        (rule, quote)
        for rule, quote, sub in cases
        if not any(f.rule == rule and f"“{quote}”" in f.message for f in rules.apply(sub))
    ]
    assert missed == []
    assert len(cases) == 101  # docs/narrative.md: 101 statements can be made to disagree, all are found
