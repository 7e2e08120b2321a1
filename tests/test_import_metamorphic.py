"""Metamorphic import tests: the same report in another layout imports to the same figures, or fewer.

Each case takes one source workbook, renders it, rearranges its tables (tests/import_variants.py) and
imports the file with :func:`xltool.sources.importing.read_report`. Every figure read must be the
source workbook's (for the swapped-header control: the swapped one, since the header decides); a figure
not read must be reported unread with a reason. A failure lists each wrong cell as
``sheet!cell label: expected X, got Y``. The variants that lose nothing a reader needs (as rendered; the
PDF with narrow label columns or without ruled lines) must read every figure, so that "fewer" cannot
hide an importer that reads nothing.

The column variants (:data:`COLUMN_TRANSFORMS`) prove something only where taking each row's figures
in their printed order would give other figures than taking them by their column headers
(:func:`import_variants.order_confusions`): before the importer placed by header, exactly those cases
failed (columns placed by order; 总计 printed first; swapped headers ignored), and the PDFs with wrapped
labels left those rows unread. All of them pass now; :func:`test_column_variants_would_mislead_an_order_reader`
keeps the proof that the column variants do rearrange figures.

Fast tier: every variant of the CORE sources in HTML, .docx and the five text styles, and every other
source in HTML as it is and in each column order. ``slow``: the rest: every variant of FULL (CORE and
two from ../shared/reports) also in PDF (LibreOffice, cached by content hash under
$TMPDIR/xltool-import-variants), every other source in .docx and text and with each row transform, its
label column narrowed in PDF; the imported workbooks; and the hypothesis property test.
"""

from __future__ import annotations

import atexit
import random
import re
import shutil
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from xltool.documents import render
from xltool.form import spec as specs
from xltool.form.layout import for_spec
from xltool.sources.importing import import_reports, read_report
from xltool.submission import computed, unknown
from xltool.workbook.reader import read

from . import import_variants as iv
from .helpers import FORMS
from .sample_data import write_valid
from .test_properties import BASES, NUMERIC_KEYS, PLACES

SOURCES = {s.name: s for s in iv.all_sources()}
# Every variant of these in the fast tier: both forms, figures of every size, 表二–表四 non-zero.
CORE = ["沭阳县发展和改革局2023年报", "平潭综合实验区自然资源与生态环境局2020年报", "青禾县2022年汇总"]
# Every variant of these too, in the slow tier (the report corpus's figures, when ../shared is here).
FULL = CORE + [n for n in ("007_pingtan-jiaotongjianshe_2022", "028_shanghai_szfbgt_2025_full_pdfext") if n in SOURCES]
TABLE_TRANSFORMS = tuple(t for t in iv.TRANSFORMS if t not in iv.PDF_ONLY)
COLUMN_TRANSFORMS = ("permute_columns", "total_first", "swap_headers")

_WORK = Path(tempfile.mkdtemp(prefix="xltool-variants-"))
atexit.register(shutil.rmtree, _WORK, ignore_errors=True)


@cache
def report(name: str) -> iv.Report:
    """One source loaded once per run (collection reads them to know which cases fail today)."""
    return iv.load(SOURCES[name], _WORK / name)


@cache
def _confusions(name: str, transform: str) -> list[str]:
    return iv.order_confusions(report(name), transform)


@dataclass(frozen=True)
class Case:
    source: str
    transform: str
    fmt: str


def _param(case: Case, *, slow: bool = False) -> Any:
    marks = [pytest.mark.slow] if slow else []
    return pytest.param(case, marks=marks, id=f"{case.source}-{case.transform}-{case.fmt}")


def _matrix(name: str) -> list[tuple[str, str]]:
    """(transform, format) of one source: all of them for FULL; the others as they are in every format,
    with each transform in HTML, and with the narrowed label column in PDF."""
    if name in FULL:
        pairs = [(t, f) for t in TABLE_TRANSFORMS for f in ("html", "docx", *iv.TEXT_STYLES)]
        return pairs + [(t, "pdf") for t in iv.TRANSFORMS]
    pairs = [("identity", f) for f in ("html", "docx", *iv.TEXT_STYLES)]
    return pairs + [(t, "html") for t in TABLE_TRANSFORMS if t != "identity"] + [("narrow_labels", "pdf")]


def _fast(name: str, transform: str, fmt: str) -> bool:
    """The fast tier: CORE without PDF; the others in HTML, as they are and in each column order."""
    if fmt == "pdf":
        return False
    return name in CORE or (fmt == "html" and transform in ("identity", *COLUMN_TRANSFORMS))


def _cases() -> list[Any]:
    return [_param(Case(n, t, f), slow=not _fast(n, t, f)) for n in SOURCES for t, f in _matrix(n)]


CASES = _cases()


class Pdfs:
    """The PDF of each PDF case, converted one source at a time in a single LibreOffice run."""

    def __init__(self, soffice: str) -> None:
        self.soffice = soffice
        self.done: dict[tuple[str, str], Path] = {}

    def get(self, case: Case) -> Path:
        key = (case.source, case.transform)
        if key not in self.done:
            wanted = [c.values[0] for c in CASES if c.values[0].source == case.source and c.values[0].fmt == "pdf"]
            folder = _WORK / case.source / "pdf"
            docx = {c.transform: iv.make(report(c.source), c.transform, "pdf", folder).path for c in wanted}
            converted = iv.pdfs(self.soffice, docx.values(), folder)
            self.done |= {(case.source, t): converted[path] for t, path in docx.items()}
        return self.done[key]


@pytest.fixture(scope="session")
def pdf_files(soffice: str) -> Pdfs:
    return Pdfs(soffice)


def variant_file(case: Case, request: pytest.FixtureRequest) -> iv.Variant:
    v = iv.make(report(case.source), case.transform, case.fmt, _WORK / case.source / case.fmt)
    if case.fmt == "pdf":
        v.path = request.getfixturevalue("pdf_files").get(case)
    return v


def assert_same_or_fewer(v: iv.Variant, reading: Any) -> None:
    wrong = iv.differences(v.report.spec, v.expected, reading)
    swapped = f" (headers swapped: {v.swapped})" if v.swapped else ""
    assert not wrong, f"{v.path.name}{swapped}: {len(wrong)} cells wrong\n" + "\n".join(wrong)
    if v.transform in iv.COMPLETE:
        assert not reading.refused and reading.placement.missing == {}, (reading.refused, reading.placement.missing)


@pytest.mark.parametrize("case", CASES)
def test_variant_imports_the_same_figures_or_fewer(case: Case, request: pytest.FixtureRequest) -> None:
    v = variant_file(case, request)
    assert_same_or_fewer(v, read_report(v.path))


def test_the_report_figures_are_among_the_sources(shared_reports: Path) -> None:
    """Without ../shared/reports the figure sources drop out; that is a skip here (a failure in CI)."""
    assert {"001_pingtan-gonganju_2021", "028_shanghai_szfbgt_2025_full_pdfext"} <= set(SOURCES)
    assert set(FULL) > set(CORE)


# ---------------------------------------------------------------- the variants are what they say


def test_the_variants_are_what_they_say() -> None:
    """Guards the generator: a transform that silently did nothing would let every case pass."""
    name = "沭阳县发展和改革局2023年报"
    folder = _WORK / name / "guard"
    made = {t: iv.make(report(name), t, "html", folder).path for t in TABLE_TRANSFORMS}
    t2, t3, t4 = iv.html_tables(made["identity"])
    assert t2[1:4] == [
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
        ["规章", "0", "0", "0"],
        ["行政规范性文件", "8", "0", "18"],
    ]
    t2, t3, t4 = iv.html_tables(made["permute_columns"])
    assert t2[1:4] == [
        ["信息内容", "本年废止件数", "现行有效件数", "本年制发件数"],
        ["规章", "0", "0", "0"],
        ["行政规范性文件", "0", "18", "8"],
    ]
    assert t3[1:4] == [
        ["法人或其他组织", "总计", "自然人"],
        ["科研机构", "社会公益组织", "法律服务机构", "其他", "商业企业"],
        ["一、本年新收政府信息公开申请数量", "0", "0", "0", "0", "0", "26", "26"],
    ]
    assert t4[:2] == [
        ["行政诉讼", "行政复议"],
        ["复议后起诉", "未经复议直接起诉", "结果纠正", "其他结果", "尚未审结", "总计", "结果维持"],
    ]
    assert t4[3] == ["0"] * 12 + ["1", "1", "0"]
    _, t3, t4 = iv.html_tables(made["total_first"])
    assert t3[1] == ["总计", "自然人", "法人或其他组织"] and t3[3] == [
        "一、本年新收政府信息公开申请数量",
        "26",
        "26",
        *"00000",
    ]
    assert t4[1][:5] == ["总计", "结果维持", "结果纠正", "其他结果", "尚未审结"] and t4[3][:5] == [
        "1",
        "0",
        "0",
        "0",
        "1",
    ]
    t2, t3, _ = iv.html_tables(made["reorder_subrows"])
    assert [r[0] for r in t2[2:4]] == ["行政规范性文件", "规章"] and t2[2] == ["行政规范性文件", "8", "0", "18"]
    secret = [r[-8] for r in t3 if len(r) > 7 and "属于" in r[-8]]
    assert secret[0] == "8.属于行政查询事项" and secret[-1] == "1.属于国家秘密"
    tables = iv.html_tables(made["split_t3"])
    assert len(tables) == 4 and tables[2][:3] == tables[1][:3] and tables[1][-1][0] == "8.属于行政查询事项"
    assert tables[2][3][:3] == ["三、本年度办理结果", "（四）无法提供", "1.本机关不掌握相关政府信息"]
    t2, t3, t4 = iv.html_tables(made["swap_headers"])
    assert t2[1:4] == [
        ["信息内容", "本年废止件数", "本年制发件数", "现行有效件数"],
        ["规章", "0", "0", "0"],
        ["行政规范性文件", "8", "0", "18"],
    ]
    assert t3[2][:2] == ["科研机构", "商业企业"] and t4[1][:2] == ["结果纠正", "结果维持"]
    docx = iv.make(report(name), "narrow_labels", "pdf", folder).path.read_bytes()
    wide, narrow = iv.document_xml(report(name).docx), iv.document_xml(docx)
    unruled = iv.document_xml(iv.make(report(name), "no_rules", "pdf", folder).path.read_bytes())
    assert wide.count(b'<w:tblStyle w:val="TableGrid"/>') == 3 and b"tblStyle" not in unruled
    assert (
        narrow.count(b"<w:tbl>") == 3
        and narrow.count(b'<w:gridCol w:w="1061"/>') == 1
        and wide.count(b'<w:gridCol w:w="3538"/>') == 1
    )  # 30 %
    styles = {f: iv.make(report(name), "identity", f, folder).path.read_text(encoding="utf-8") for f in iv.TEXT_STYLES}
    row = "行政规范性文件"
    assert f"{row} | 8 | 0 | 18\n" in styles["pipes"] and f"{row}\t8\t0\t18\n" in styles["tabs"]
    assert f"{row}\n8\n0\n18\n" in styles["lines"] and f"| {row} | 8 | 0 | 18 |\n" in styles["markdown"]
    assert re.search(f"^{row} +8 +0 +18$", styles["spaces"], re.M) and "|---|---|---|---|" in styles["markdown"]


# ---------------------------------------------------------------- through the imported workbook


def workbook_figures(path: Path) -> dict[str, Any]:
    """What the imported workbook shows in each table cell: inputs, printed totals written over their
    formulas, and formulas whose items are all known (a formula over a blank shows no certain figure)."""
    sub = read(path)
    numbers, blank = computed(sub.spec, sub.values), unknown(sub.spec, sub.values)
    out: dict[str, Any] = {}
    for cell in sub.spec.cells():
        if cell.key in sub.reported:
            out[cell.key] = sub.reported[cell.key]
        elif cell.derived:
            out[cell.key] = None if cell.key in blank else numbers[cell.key]
        else:
            out[cell.key] = sub.values.get(cell.key)
    return out


WORKBOOK_CASES = [
    _param(Case(name, t, "html"), slow=name not in CORE or t != "identity") for name in FULL for t in TABLE_TRANSFORMS
]


@pytest.mark.parametrize("case", WORKBOOK_CASES)
def test_imported_workbook_holds_the_same_figures_or_fewer(case: Case, request: pytest.FixtureRequest) -> None:
    """import_reports: the workbook it writes holds each figure as expected, or leaves it blank and lists it
    as not read."""
    v = variant_file(case, request)
    outcome = import_reports([v.path], _WORK / case.source / f"{case.transform}.xlsx", force=True)[0]
    assert outcome.workbook is not None, outcome.reading.refused or outcome.reading.problem
    shown = workbook_figures(outcome.workbook)
    layout = for_spec(v.report.spec)
    derived = {c.key for c in v.report.spec.cells() if c.derived}
    wrong = []
    for key, want in v.expected.items():
        sheet, cell = layout.locate(key)
        if shown[key] is None:
            if key not in outcome.missing and key not in derived:  # a total over a blank item: no figure
                wrong.append(f"{sheet.name}!{cell.address} {cell.what}: blank, not listed as not read")
        elif shown[key] != want:
            wrong.append(f"{sheet.name}!{cell.address} {cell.what}: expected {want!r}, got {shown[key]!r}")
    assert not wrong, f"{outcome.workbook.name}: {len(wrong)} cells wrong\n" + "\n".join(wrong)


# ---------------------------------------------------------------- property: random reports, random layouts


def _figure(vtype: str | None) -> st.SearchStrategy[Any]:
    places = PLACES[vtype or "count"]
    if vtype == "signed_count":
        number = st.integers(-999, 999)
    elif places:
        number = st.builds(lambda n, p: Decimal(n).scaleb(-p), st.integers(0, 10**8), st.integers(0, places))
    else:
        number = st.integers(0, 99_999)
    return st.one_of(st.just(0), number)


@cache
def _vtypes(form: str) -> dict[str, str | None]:
    layout = for_spec(specs.load(form))
    return {c.key: c.vtype for _, c in layout.keyed("input") if c.key in NUMERIC_KEYS[form]}


@st.composite
def submissions(draw: st.DrawFn) -> dict[str, Any]:
    """A valid submission of either form: a sample's unit and texts, random figures in every cell."""
    form = draw(st.sampled_from(FORMS))
    figures = draw(st.fixed_dictionaries({k: _figure(v) for k, v in _vtypes(form).items()}))
    return BASES[form] | figures


HYPOTHESIS_FORMATS = ("html", "docx", *iv.TEXT_STYLES)  # PDF: too slow per example; the parametrised cases cover it


@pytest.mark.slow
@pytest.mark.parametrize(
    "transform",
    TABLE_TRANSFORMS,
)
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,  # the same examples every run
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a rendered example takes seconds
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=submissions(), fmt=st.sampled_from(HYPOTHESIS_FORMATS), rng=st.randoms(use_true_random=False))
def test_random_reports_in_random_layouts(
    tmp_path_factory: pytest.TempPathFactory, transform: str, values: dict[str, Any], fmt: str, rng: random.Random
) -> None:
    folder = tmp_path_factory.mktemp("random")
    sub = read(write_valid(folder / "random.xlsx", values))
    rep = iv.Report("random", sub, render.document(sub), folder)
    v = iv.make(rep, transform, fmt, folder, rng)
    assert_same_or_fewer(v, read_report(v.path))


def test_column_variants_would_mislead_an_order_reader() -> None:
    """The column variants are not idle: on the sample department, reading each row's figures in their
    printed order would put other figures in these cells (the importer reads them by header)."""
    name = CORE[0]
    for transform in COLUMN_TRANSFORMS:
        assert _confusions(name, transform), transform
