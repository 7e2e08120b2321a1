"""A unit's 2021–2024 reports made with ``xltool render`` (tests/review_data.py), reviewed together with
a clean series: every planted problem is found, nothing on the clean series; the workbook as a
supervisor prints it (LibreOffice → PDF): a pair of years is never cut by a page break."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from xltool.sources import reviewing

from .helpers import libreoffice_pdf
from .review_data import CLEAN_UNIT, PLANTED_UNIT, build

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("series")
    clean, planted = build(folder)
    out = folder / "评查结果.xlsx"
    return reviewing.review([*clean, *planted], out), out


def rules(outcome, unit: str) -> dict[int, list[str]]:  # type: ignore[no-untyped-def]
    return {r.year: sorted(p.finding.rule for p in r.problems) for r in outcome.rows if r.unit == unit}


def test_nothing_is_found_on_the_clean_series(reviewed) -> None:  # type: ignore[no-untyped-def]
    outcome, _out = reviewed
    assert rules(outcome, CLEAN_UNIT) == {2021: [], 2022: [], 2023: [], 2024: []}
    rows = [r for r in outcome.rows if r.unit == CLEAN_UNIT]
    assert [(r.on_time, r.published_from, r.cells_read, r.cells_expected) for r in rows] == [
        ("按时", "落款日期", 200, 200)
    ] * 4
    assert [(p.year, p.verdict) for p in outcome.pairs if p.unit == CLEAN_UNIT] == [
        (2022, "一致"),
        (2023, "一致"),
        (2024, "一致"),
    ]


def test_every_planted_problem_is_found(reviewed) -> None:  # type: ignore[no-untyped-def]
    outcome, _out = reviewed
    assert rules(outcome, PLANTED_UNIT) == {2021: [], 2022: ["M-YEAR"], 2023: ["CY-1", "CY-1"], 2024: ["D-LATE"]}
    found = {p.finding.rule: p.finding.message for r in outcome.rows if r.unit == PLANTED_UNIT for p in r.problems}
    assert found["M-YEAR"].startswith(
        "报告年度为 2022，但本表式（国办公开办函〔2019〕60号）适用于 2019—2020 年的年度报告。"
    )
    assert found["D-LATE"] == (
        "县级以上人民政府部门应在 2025年1月31日 前公开上一年度的年度报告，本报告的落款日期为 2025年3月6日，晚了 34 天（条例第四十九条）。"
    )
    # 2023 against 2022, which is on the 2019 form: compared through the 2021 form's [succeeds]
    pairs = {p.year: p for p in outcome.pairs if p.unit == PLANTED_UNIT}
    assert (pairs[2022].compared, pairs[2022].verdict) == (
        False,
        "未核对：国办公开办函〔2021〕30号表式与国办公开办函〔2019〕60号表式之间没有对应关系",
    )
    pair = pairs[2023]
    assert pair.carried[0] == (2, 1) and pair.verdict == "上年结转=上年度结转下年度继续办理"
    assert outcome.exit_code == 1


def test_the_printed_workbook_keeps_each_pair_of_years_on_one_page(reviewed, soffice: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _outcome, out = reviewed
    pdf = libreoffice_pdf(soffice, out, tmp_path)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    years = [p for p in pages if "对照的数" in p]
    assert years, "跨年核对 is printed"
    for page in years:
        assert page.count("本年上年结转") == page.count("上年结转下年度")  # both lines of a pair together
    assert all(re.search(r"第 \d+ 页，共 \d+ 页", p) for p in pages if p.strip())
