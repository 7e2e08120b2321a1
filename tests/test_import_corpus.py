"""`xltool import` on every real report in ../shared/reports (read from there, never copied).

The six 平潭 reports are compared cell for cell with the hand transcription in figures.json; the
others with figures transcribed here from the printed text (verified against the printed totals).
Cut-off reports must say they are incomplete and hold no figure the text does not print.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from xltool.form.layout import for_spec
from xltool.form.spec import leaves
from xltool.sources import importing as run

ROWS = {"new": "new", "carry_in": "carry_in", "r1": "disclosed", "r2": "partly", "carry_out": "carry_out"}
ROWS |= {
    f"r3_{i}": k
    for i, k in enumerate(
        ["secret", "prohibited", "security", "third_party", "internal", "process", "enforcement_file", "inquiry"], 1
    )
}
ROWS |= {f"r4_{i}": k for i, k in enumerate(["not_held", "needs_making", "unclear"], 1)}
ROWS |= {f"r5_{i}": k for i, k in enumerate(["petition", "repeated", "publication", "abusive", "confirm"], 1)}
ROWS |= {f"r6_{i}": k for i, k in enumerate(["no_correction", "unpaid", "other_handling"], 1)}
ROWS["total"] = "total"
COLS = {"自然人": "natural", "商业企业": "business", "科研机构": "research", "社会公益组织": "nonprofit"}
COLS |= {"法律服务机构": "legal", "其他": "other", "总计": "total"}
T2_ROWS = {"规章": "rules", "行政规范性文件": "normative"}
T2_SINGLE = {
    "行政许可": "t2.license.decisions",
    "行政处罚": "t2.penalty.decisions",
    "行政强制": "t2.coercion.decisions",
    "行政事业性收费": "t2.fees.amount",
}
T4 = {"行政复议": "review", "未经复议直接起诉": "direct", "复议后起诉": "after_review"}
PINGTAN_2021 = [
    "001_pingtan-gonganju_2021",
    "005_pingtan-shichangjianguan_2023",
    "007_pingtan-jiaotongjianshe_2022",
    "009_pingtan-shehuishiye_2022",
    "012_pingtan-haitanpianqu_2023",
]


def expected_from_figures(fig: dict[str, Any]) -> dict[str, Any]:
    """figures.json as cell keys; a value of None means the cell must NOT be read (blank or unreadable)."""
    out: dict[str, Any] = {}
    for rc, v in fig["t3"].items():
        r, c = rc.split("|")
        if r in ROWS:
            out[f"t3.{ROWS[r]}.{COLS[c]}"] = v
    for r, v in fig["totals"]["总计"].items():
        if r in ROWS:
            out[f"t3.{ROWS[r]}.total"] = v
    for c, v in fig["totals"]["（七）"].items():
        out[f"t3.total.{COLS[c]}"] = v
    for label, key in T2_ROWS.items():
        row = fig["t2"].get(label)
        for i, col in enumerate(("issued", "repealed", "in_force")):
            out[f"t2.{key}.{col}"] = None if row is None else row[i]
    for label, key in T2_SINGLE.items():
        v = fig["t2"].get(label)
        out[key] = None if v is None else int(v)
    for label, key in T4.items():
        for i, col in enumerate(("upheld", "corrected", "other", "pending")):
            out[f"t4.cases.{key}_{col}"] = fig["t4"][label][i]
        out[f"t4.cases.{key}_total"] = fig["t4_totals"][label]
    return out


def got(reading: run.Reading) -> dict[str, Any]:
    assert reading.placement is not None
    return {**reading.placement.values, **reading.placement.printed}


@pytest.fixture(scope="module")
def figures(shared_reports: Path) -> dict[str, Any]:
    return json.loads((shared_reports / "figures.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("stem", PINGTAN_2021)
def test_pingtan_reports_cell_for_cell(shared_reports: Path, figures: dict[str, Any], stem: str) -> None:
    reading = run.read_report(shared_reports / f"{stem}.txt")
    fig = figures[stem]
    assert (reading.unit, reading.year, reading.refused, reading.problem) == (fig["unit"], fig["year"], None, None)
    cells = got(reading)
    expected = expected_from_figures(fig)
    read_wrong = {k: (cells[k], v) for k, v in expected.items() if v is not None and cells.get(k, "unread") != v}
    assert read_wrong == {}
    # printed blank in figures.json: read as blank; unreadable (null in t2): not read at all
    for key, v in expected.items():
        if v is None and key.startswith("t3."):
            assert cells[key] is None, key
        elif v is None:
            assert key not in cells and key in reading.placement.missing, key
    assert len(cells) + len(reading.placement.missing) == 200


def rule_errors(outcome: run.Outcome) -> list[tuple[str, str | None]]:
    """The 勾稽 findings (rules on table figures), as (rule, cell)."""
    assert outcome.result is not None
    return [(f.rule, f.cell) for f in outcome.result.findings if f.rule.startswith(("T3", "T4"))]


def imported(path: Path, tmp_path: Path) -> run.Outcome:
    return run.import_reports([path], tmp_path / f"{path.stem}.xlsx")[0]


def test_gonganju_real_error_found(shared_reports: Path, tmp_path: Path) -> None:
    """figures.json errors: 自然人 and 总计 columns break 一+二 = 三（七）+四 (the one application is
    counted in （六）3 and in 结转下年度)."""
    outcome = imported(shared_reports / "001_pingtan-gonganju_2021.txt", tmp_path)
    assert rule_errors(outcome) == [("T3-1", "D30"), ("T3-1", "J30")]
    assert outcome.exit_code == 1


@pytest.mark.parametrize("stem", PINGTAN_2021[1:])
def test_pingtan_reports_without_real_errors(
    shared_reports: Path, figures: dict[str, Any], stem: str, tmp_path: Path
) -> None:
    assert figures[stem]["errors"] == []
    outcome = imported(shared_reports / f"{stem}.txt", tmp_path)
    assert rule_errors(outcome) == []


def test_jiaotongjianshe_imports_clean(shared_reports: Path, tmp_path: Path) -> None:
    outcome = imported(shared_reports / "007_pingtan-jiaotongjianshe_2022.txt", tmp_path)
    assert outcome.missing == {}
    assert outcome.exit_code == 0 and outcome.result is not None and outcome.result.errors == 0


def test_2019_form_reports_import_into_the_2019_form(shared_reports: Path, figures: dict[str, Any]) -> None:
    """No importer change: the placer reads the 2019 definition's labels (checked against the
    forms2019 branch's definition before the merge)."""
    reading = run.read_report(shared_reports / "004_pingtan-ziranziyuan_2020.txt")
    assert reading.spec is not None and reading.spec.form_version == "2019" and reading.problem is None
    table = reading.spec.table("t3")
    single = next(leaf.key for b in table.blocks for leaf in leaves(b.rows) if "其他处理" in leaf.label)
    fig = figures["004_pingtan-ziranziyuan_2020"]
    rows = ROWS | {"r6": single}
    cells = got(reading)
    for rc, v in fig["t3"].items():
        r, c = rc.split("|")
        assert cells[f"t3.{rows[r]}.{COLS[c]}"] == v, rc
    for r, v in fig["totals"]["总计"].items():
        assert cells[f"t3.{rows[r]}.total"] == v, r
    assert reading.placement.missing["t2.license.prior_items"].startswith("数字连在一起（“20180”）")
    cut = run.read_report(shared_reports / "019_weishan_liangchengzhen_2020_old2019fmt.txt")
    assert cut.spec is not None and cut.spec.form_version == "2019" and cut.problem is not None


def zeros_except(n: int, blank: int = 0, **nonzero: Any) -> dict[str, Any]:
    return {"count": n, "blank": blank, **{k.replace("__", "."): v for k, v in nonzero.items()}}


# Transcribed from the printed text of each file: every non-zero figure read; all others read are 0.
COMPLETE = {
    "chepaizi-2023": zeros_except(200),
    "025_shuyang_fgj_2023_full": zeros_except(
        200,
        blank=25 * 5,  # five empty applicant columns in 24 rows and the （七） total row
        t2__normative__issued=8,
        t2__normative__in_force=18,
        t3__new__natural=26,
        t3__new__total=26,
        t3__disclosed__natural=26,
        t3__disclosed__total=26,
        t3__total__natural=26,
        t3__total__total=26,
        t4__cases__review_pending=1,
        t4__cases__review_total=1,
    ),
}
SHANGHAI_ROWS = {  # 028: rows as printed (自然人, 商业企业, 科研机构, 社会公益组织, 法律服务机构, 其他, 总计)
    "new": (1259, 36, 0, 0, 0, 0, 1295),
    "carry_in": (170, 15, 0, 0, 4, 0, 189),
    "disclosed": (201, 5, 0, 0, 0, 0, 206),
    "partly": (2, 0, 0, 0, 0, 0, 2),
    "secret": (4, 0, 0, 0, 0, 0, 4),
    "prohibited": (0, 0, 0, 0, 0, 0, 0),
    "security": (1, 0, 0, 0, 0, 0, 1),
    "third_party": (0, 0, 0, 0, 0, 0, 0),
    "internal": (8, 0, 0, 0, 1, 0, 9),
    "process": (1, 0, 0, 0, 0, 0, 1),
    "enforcement_file": (0, 0, 0, 0, 0, 0, 0),
    "inquiry": (5, 0, 0, 0, 0, 0, 5),
    "not_held": (484, 28, 0, 0, 1, 0, 513),
    "needs_making": (47, 1, 0, 0, 0, 0, 48),
    "unclear": (3, 0, 0, 0, 0, 0, 3),
    "petition": (61, 1, 0, 0, 0, 0, 62),
    "repeated": (16, 0, 0, 0, 0, 0, 16),
    "publication": (1, 0, 0, 0, 0, 0, 1),
    "abusive": (1, 0, 0, 0, 0, 0, 1),
    "other_handling": (264, 12, 0, 0, 0, 0, 276),
    "total": (1139, 48, 0, 0, 4, 0, 1191),
    "carry_out": (290, 3, 0, 0, 0, 0, 293),
}
T3_COLS = ("natural", "business", "research", "nonprofit", "legal", "other", "total")
T4_COLS = [f"{g}_{c}" for g in T4.values() for c in ("upheld", "corrected", "other", "pending", "total")]


@pytest.mark.parametrize("stem", sorted(COMPLETE))
def test_complete_reports(shared_reports: Path, stem: str) -> None:
    reading = run.read_report(shared_reports / f"{stem}.txt")
    cells = got(reading)
    expected = dict(COMPLETE[stem])
    assert len(cells) == expected.pop("count") and reading.placement.missing == {}
    assert sum(v is None for v in cells.values()) == expected.pop("blank")
    assert {k: v for k, v in cells.items() if v not in (0, None)} == expected


def test_shuyang_blank_cells_stay_blank(shared_reports: Path, tmp_path: Path) -> None:
    """025 prints the empty columns as empty lines: blank in the workbook, and check says so; the
    （七）总计 row too, whose five applicant totals are printed empty (kept as printed, not a formula)."""
    outcome = imported(shared_reports / "025_shuyang_fgj_2023_full.txt", tmp_path)
    assert outcome.reading.placement.values["t3.new.business"] is None
    assert outcome.reading.placement.printed["t3.total.business"] is None
    assert outcome.result is not None and rule_errors(outcome) == []
    blank = [f for f in outcome.result.findings if f.rule == "C-BLANK"]
    assert len(blank) == outcome.result.errors == 25 * 5  # five empty applicant columns in 24 rows and （七）


def test_shanghai_pdf_extraction(shared_reports: Path) -> None:
    """028: a mangled PDF text. Rows whose figures came apart from their labels are reported, not guessed."""
    reading = run.read_report(shared_reports / "028_shanghai_szfbgt_2025_full_pdfext.txt")
    cells = got(reading)
    for row, figures in SHANGHAI_ROWS.items():
        assert tuple(cells[f"t3.{row}.{c}"] for c in T3_COLS) == figures, row
    assert [cells[f"t4.cases.{k}"] for k in T4_COLS] == [40, 0, 10, 5, 55, 2, 0, 4, 6, 12, 6, 0, 9, 7, 22]
    assert [cells[k] for k in T2_SINGLE.values()] == [0, 0, 0, 0]
    unread_rows = {k.rsplit(".", 1)[0] for k in reading.placement.missing}
    assert unread_rows == {"t2.rules", "t2.normative", "t3.confirm", "t3.no_correction", "t3.unpaid"}
    assert reading.placement.missing["t2.rules.issued"] == "读到 2 个数（“22 235”），这一行应有 3 个"
    assert (reading.unit, reading.year, reading.problem) == ("上海市人民政府办公厅", 2025, None)


CUT_OFF = {  # stem: (cells read, last row read, non-zero figures read)
    "001_longgang_qzfgzbm_2024": (
        80,
        "6.属于四类过程性信息",
        {
            "t2.normative.issued": 5, "t2.normative.repealed": 1, "t2.normative.in_force": 25,
            "t3.new.natural": 58, "t3.new.business": 7, "t3.new.legal": 1, "t3.new.total": 66,
            "t3.carry_in.natural": 2, "t3.carry_in.total": 2,
            "t3.disclosed.natural": 2, "t3.disclosed.business": 1, "t3.disclosed.total": 3,
            "t3.partly.natural": 16, "t3.partly.business": 1, "t3.partly.total": 17,
            "t3.internal.natural": 1, "t3.internal.total": 1,
        },
    ),
    "002_xixian_taipingzhen_2022": (52, "2.其他法律行政法规禁止公开", {}),
    "003_xjnlk_zhen_2023": (73, "5.属于三类内部事务信息", {"t2.rules.in_force": 6}),
    "008_changtu_qijiazizhen_2023": (24, "二、上年结转政府信息公开申请数量", {"t2.penalty.decisions": 30}),
    "011_wuhan_hanyang_qzfbgs_2022": (
        21,
        "二、上年结转政府信息公开申请数量",
        {"t2.normative.issued": 5, "t2.normative.repealed": 12, "t2.normative.in_force": 8, "t3.new.natural": 8, "t3.new.total": 8},
    ),
    "013_xuwen_sfj_yearunknown": (73, "5.属于三类内部事务信息", {"t2.normative.issued": 3, "t2.normative.in_force": 101}),
    "015_xinghua_daying_2023": (73, "5.属于三类内部事务信息", {"t3.new.natural": 12, "t3.new.total": 12, "t3.disclosed.natural": 4}),
}  # fmt: skip


@pytest.mark.parametrize("stem", sorted(CUT_OFF))
def test_cut_off_reports_are_incomplete(shared_reports: Path, stem: str, tmp_path: Path) -> None:
    count, last_row, nonzero = CUT_OFF[stem]
    outcome = imported(shared_reports / f"{stem}.txt", tmp_path)
    reading = outcome.reading
    cells = got(reading)
    assert len(cells) == count
    assert {k: v for k, v in cells.items() if v not in (0, None)} == nonzero
    assert reading.problem == f"原文不完整：在三、收到和处理政府信息公开申请情况“{last_row}”之后中断，后面的内容缺失。"
    assert outcome.exit_code == 1 and len(outcome.missing) == 200 - count


def test_daying_blank_total_is_a_finding(shared_reports: Path, tmp_path: Path) -> None:
    """015 leaves 总计 blank on the （一）予以公开 row although 自然人 has 4: kept blank, reported."""
    outcome = imported(shared_reports / "015_xinghua_daying_2023.txt", tmp_path)
    assert outcome.reading.constants["t3.disclosed.total"] is None
    assert outcome.result is not None
    found = [(f.rule, f.cell, f.message) for f in outcome.result.findings if f.cell == "J8"]
    assert found == [("C-BLANK", "J8", "（一）予以公开／总计为空。请填写，无数据填 0。")]


def test_cut_off_row_is_not_read(shared_reports: Path) -> None:
    """001_longgang stops inside the 7.属于行政执法案卷 row: its six printed zeros are not taken."""
    reading = run.read_report(shared_reports / "001_longgang_qzfgzbm_2024.txt")
    assert reading.placement.missing["t3.enforcement_file.natural"] == "原文在这一行中断"


# The verdict a supervisor gets: every error check gives on the imported workbook, as (rule, sheet!cell).
UNIT, T2S, T3S, SIX = (
    "单位信息",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "六、其他需要报告的事项",
)


def cells(rule: str, sheet: str, rows: str, cols: str) -> set[tuple[str, str]]:
    """``cells("C-BLANK", T3S, "6-28", "EFGHI")``: one finding per cell of the rows × columns."""
    first, _, last = rows.partition("-")
    return {(rule, f"{sheet}!{c}{r}") for r in range(int(first), int(last or first) + 1) for c in cols}


BLANK_APPLICANTS = cells("C-BLANK", T3S, "6-30", "EFGHI")  # 24 rows and the （七）总计 row
ERRORS = {  # complete reports: what their printed tables hold (blank cells, cells not read, real errors)
    "001_pingtan-gonganju_2021": {("T3-1", f"{T3S}!D30"), ("T3-1", f"{T3S}!J30")},  # figures.json errors
    "005_pingtan-shichangjianguan_2023": cells("C-BLANK", T2S, "5-6", "BCD") | cells("C-BLANK", T3S, "27-28", "DEFGHIJ"),
    "007_pingtan-jiaotongjianshe_2022": set(),
    "009_pingtan-shehuishiye_2022": cells("C-BLANK", T2S, "6", "BCD"),  # 规范性文件 “5730”: no certain split
    "012_pingtan-haitanpianqu_2023": cells("C-BLANK", T2S, "5", "BCD") | cells("C-BLANK", T3S, "26-28", "DEFGHIJ"),
    "025_shuyang_fgj_2023_full": BLANK_APPLICANTS,  # five empty applicant columns
    "028_shanghai_szfbgt_2025_full_pdfext": cells("C-BLANK", T2S, "5-6", "BCD") | cells("C-BLANK", T3S, "25-27", "DEFGHIJ"),
    "chepaizi-2023": set(),  # every table printed in full, all zeros
    # 2019 form: run-together 表二 rows with several readings stay unread; 六 says only 暂无 (no fee
    # figures); the real errors of figures.json in （七） (法律服务机构 column and 总计): the printed
    # （七） row is kept, so its 法律服务机构 0 against the outcome rows' 1 is reported too (T3-3)
    "004_pingtan-ziranziyuan_2020": cells("C-BLANK", T2S, "6", "BCD") | cells("C-BLANK", T2S, "9", "BCD")
    | cells("C-BLANK", T2S, "13-14", "BCD") | cells("C-BLANK", T2S, "20", "BC") | cells("C-BLANK", SIX, "4-5", "B")
    | {("T3-2", f"{T3S}!J27"), ("T3-3", f"{T3S}!H27"), ("T3-1", f"{T3S}!H28"), ("T3-1", f"{T3S}!J28")},
}  # fmt: skip
NO_UNIT = {("M-REQUIRED", f"{UNIT}!B3"), ("M-REQUIRED", f"{UNIT}!B4")}  # no unit or year in the title
NO_SIX = {("N-SECTION", f"{SIX}!A6")} | cells("C-BLANK", SIX, "4-5", "B")  # 六 (with the fee figures) cut off
CUT_OFF_ERRORS = {  # cut-off reports: these, and C-BLANK on exactly the cells not read
    "001_longgang_qzfgzbm_2024": NO_UNIT | NO_SIX,
    "002_xixian_taipingzhen_2022": NO_SIX,
    "003_xjnlk_zhen_2023": NO_UNIT | NO_SIX,
    "008_changtu_qijiazizhen_2023": NO_SIX,
    "011_wuhan_hanyang_qzfbgs_2022": NO_UNIT | NO_SIX,
    # 一 prints 0 for 自然人, blank applicant columns; 二 to （三）5 print blank for everyone, 0 as 总计
    "013_xuwen_sfj_yearunknown": NO_UNIT | NO_SIX | cells("C-BLANK", T3S, "6", "EFGHI") | cells("C-BLANK", T3S, "7-14", "DEFGHI"),
    # 一 prints 12 for 自然人 and 总计; then blank everywhere but （一） 自然人 4
    # 2019 form, cut off; its 一 is headed 一、工作基本情况 (placed by its number), no unit or year printed
    "019_weishan_liangchengzhen_2020_old2019fmt": NO_UNIT | NO_SIX,
    "015_xinghua_daying_2023": NO_SIX | cells("C-BLANK", T3S, "6", "EFGHI") | cells("C-BLANK", T3S, "7-14", "DEFGHIJ") - {("C-BLANK", f"{T3S}!D8")},
}  # fmt: skip


def error_findings(outcome: run.Outcome) -> set[tuple[str, str]]:
    assert outcome.result is not None
    return {(f.rule, f"{f.sheet}!{f.cell}") for f in outcome.result.findings if f.severity == "error"}


def test_every_report_has_a_verdict(shared_reports: Path) -> None:
    stems = {p.stem for p in shared_reports.glob("*.txt")}
    assert stems == set(ERRORS) | set(CUT_OFF_ERRORS)


@pytest.mark.parametrize("stem", sorted(ERRORS))
def test_complete_report_errors(shared_reports: Path, stem: str, tmp_path: Path) -> None:
    outcome = imported(shared_reports / f"{stem}.txt", tmp_path)
    assert error_findings(outcome) == ERRORS[stem]
    assert outcome.exit_code == (1 if ERRORS[stem] or outcome.missing else 0)


@pytest.mark.parametrize("stem", sorted(CUT_OFF_ERRORS))
def test_cut_off_report_errors(shared_reports: Path, stem: str, tmp_path: Path) -> None:
    outcome = imported(shared_reports / f"{stem}.txt", tmp_path)
    layout = for_spec(outcome.reading.spec)
    unread = {("C-BLANK", layout.ref(key).replace("'", "")) for key in outcome.missing}
    assert error_findings(outcome) == CUT_OFF_ERRORS[stem] | unread


def test_shanghai_parts_in_their_places(shared_reports: Path) -> None:
    """028 prints 五's parts the other way round (改进情况 first; its text names 存在的主要问题), and
    一's part headings as “（二）依申请公开方面”: each part goes to its cell, less the printed heading."""
    values = run.read_report(shared_reports / "028_shanghai_szfbgt_2025_full_pdfext.txt").values
    assert values["s5.problems"].startswith("（二）2025 年工作中存在的主要问题\n")
    assert values["s5.improvements"].startswith("（一）2024 年工作中存在问题的改进情况\n")
    assert [values[f"s1.{k}"].split("\n", 1)[0][:6] for k in ("on_request", "management", "oversight")] == [
        "市政府共受理",
        "全年完成市政",
        "印发政务公开",
    ]
