"""Synthetic series of published reports for ``xltool review``: one unit's 2021–2024 reports, made the way
a unit makes them (a workbook from the template writer, then ``xltool render``'s publish).

The figures have the size and shape of a county department's published tables (the corpus's 平潭
departments: about ten applications a year, most disclosed, one or two carried over); the prose is
placeholder text of our own, never a report's. :func:`clean` is a series with nothing wrong;
:func:`planted` the same unit's series with one problem planted in each of three years:
2022 on the wrong form (the 2019 form for a 2022 report), 2023's 上年结转 not last year's 结转下年度,
2024 signed (so published) after its 1月31日 deadline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xltool.form import spec as specs
from xltool.sources.publishing import publish
from xltool.workbook import template

PLACEHOLDER = "（评查测试用的占位文字，内容从略。）"

# report year -> table figures (definition keys of the 2021 form; everything else 0). Each year balances
# (一+二 = 三（七）+四) and carries its 结转下年度 into the next year's 上年结转; 现行有效 runs on.
FIGURES: dict[int, dict[str, int]] = {
    2021: {
        "t2.normative.issued": 3,
        "t2.normative.in_force": 12,
        "t2.penalty.decisions": 2,
        "t3.new.natural": 9,
        "t3.new.business": 1,
        "t3.disclosed.natural": 6,
        "t3.disclosed.business": 1,
        "t3.not_held.natural": 2,
        "t3.carry_out.natural": 1,
    },
    2022: {
        "t2.normative.issued": 4,
        "t2.normative.repealed": 1,
        "t2.normative.in_force": 15,
        "t3.new.natural": 11,
        "t3.carry_in.natural": 1,
        "t3.disclosed.natural": 7,
        "t3.partly.natural": 2,
        "t3.not_held.natural": 2,
        "t3.carry_out.natural": 1,
        "t4.cases.review_upheld": 1,
    },
    2023: {
        "t2.normative.issued": 2,
        "t2.normative.in_force": 17,
        "t3.new.natural": 8,
        "t3.new.legal": 1,
        "t3.carry_in.natural": 1,
        "t3.disclosed.natural": 5,
        "t3.disclosed.legal": 1,
        "t3.process.natural": 2,
        "t3.not_held.natural": 1,
        "t3.carry_out.natural": 1,
    },
    2024: {
        "t2.normative.issued": 1,
        "t2.normative.repealed": 2,
        "t2.normative.in_force": 16,
        "t2.license.decisions": 5,
        "t3.new.natural": 12,
        "t3.carry_in.natural": 1,
        "t3.disclosed.natural": 9,
        "t3.inquiry.natural": 2,
        "t3.carry_out.natural": 2,
    },
}
SIGNED = {2021: "2022年1月18日", 2022: "2023年1月16日", 2023: "2024年1月22日", 2024: "2025年1月20日"}
FORMATS = {2021: ".html", 2022: ".docx", 2023: ".md", 2024: ".html"}
CLEAN_UNIT, PLANTED_UNIT = "青禾县交通运输局", "青禾县水利局"
LATE = "2025年3月6日"  # the planted late signature: after 2025-01-31, 34 days late
WRONG_FORM_YEAR, CARRY_YEAR, LATE_YEAR = 2022, 2023, 2024


def values(unit: str, year: int, figures: dict[str, Any], signed: str) -> dict[str, Any]:
    """Everything a unit fills in: its figures, placeholder prose in every part, 五 naming last year's
    problems' rectification (an assessment point), the fee figures (0: none charged)."""
    out: dict[str, Any] = {
        "unit.unit_name": unit,
        "unit.report_year": year,
        "unit.unit_type": "县级人民政府部门",
        "unit.parent_unit": "青禾县人民政府办公室",
        "unit.filler": "某某",
        "unit.phone": "0000-0000000",
        "unit.fill_date": signed,
        "s6.fee_notices": 0,
        "s6.fee_collected": 0,
        **figures,
    }
    spec = specs.for_year(year)
    for section in spec.sections:
        for part in section.parts:
            out[f"{section.key}.{part.key}"] = PLACEHOLDER
    out["s5.improvements"] = "上年度报告所列问题已逐项整改。" + PLACEHOLDER
    return out


def _on_2019_form(figures: dict[str, int]) -> dict[str, int]:
    """A 2021-form year's figures as the 2019 form holds them: tables 三 and 四 the same, 表二 its own."""
    out = {k: v for k, v in figures.items() if k.startswith(("t3.", "t4."))}
    out |= {"t2.normative.made": figures.get("t2.normative.issued", 0)}
    out |= {"t2.normative.published": figures.get("t2.normative.issued", 0)}
    out |= {"t2.normative.public_total": figures.get("t2.normative.in_force", 0)}
    return out


def write_series(folder: Path, unit: str, *, plant: bool) -> list[Path]:
    """The unit's four published reports in ``folder`` (workbooks in ``folder/工作簿``), file names neutral."""
    books = folder / "工作簿"
    books.mkdir(parents=True, exist_ok=True)
    out = []
    for year, figures in FIGURES.items():
        spec, shown, signed = specs.for_year(year), dict(figures), SIGNED[year]
        if plant and year == WRONG_FORM_YEAR:
            spec, shown = specs.load("2019"), _on_2019_form(figures)
        if plant and year == CARRY_YEAR:  # 上年结转 2 where last year carried 1; the year still balances
            shown |= {"t3.carry_in.natural": 2, "t3.new.natural": figures["t3.new.natural"] - 1}
        if plant and year == LATE_YEAR:
            signed = LATE
        book = books / f"{unit}{year}.xlsx"
        template.write(book, spec, values(unit, year, shown, signed))
        target = folder / f"{'p' if plant else 'c'}{year}{FORMATS[year]}"
        result = publish(book, target, force=True)
        assert result.path is not None, result.refused
        out.append(target)
    return out


def build(folder: Path) -> tuple[list[Path], list[Path]]:
    """(the clean series, the planted series), each in its own folder under ``folder``."""
    return write_series(folder / "clean", CLEAN_UNIT, plant=False), write_series(
        folder / "planted", PLANTED_UNIT, plant=True
    )
