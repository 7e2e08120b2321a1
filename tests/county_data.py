"""A small fictional county (青禾县) for ``xltool merge``: samples/county/, generated from data here.

Regenerate with ``python -m tests.county_data``. Thirteen workbooks of three unit types — towns and
streets mostly zero, departments with some applications that balance 一+二=三（七）+四 — plus a
roster (名单.csv). One workbook has an error (青禾县教育局: a row forgotten, T3-1), one unit on the
roster has not submitted (石桥乡), and one unit submitted without being on the roster (住建局).
The figures are invented but of realistic size; the narratives are our own wording.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

from xltool.form import spec as specs
from xltool.workbook import template

ROOT = Path(__file__).resolve().parent.parent
COUNTY = ROOT / "samples" / "county"
WORKBOOKS = "报表"
ROSTER = "名单.csv"
YEAR = 2023
PARENT = "青禾县人民政府办公室"
TOWN, STREET, DEPT = "乡镇人民政府", "街道办事处", "县级人民政府部门"

# name, type, figures (definition keys -> values; everything else 0), on the roster, submitted
UNITS: list[tuple[str, str, dict[str, Any], bool, bool]] = [
    (
        "青禾县城关镇人民政府",
        TOWN,
        {
            "t2.normative.issued": 1,
            "t2.normative.in_force": 3,
            "t2.penalty.decisions": 12,
            "t3.new.natural": 3,
            "t3.disclosed.natural": 2,
            "t3.not_held.natural": 1,
        },
        True,
        True,
    ),
    ("青禾县柳河镇人民政府", TOWN, {"t2.normative.in_force": 1}, True, True),
    ("青禾县白沙镇人民政府", TOWN, {"t3.new.natural": 1, "t3.disclosed.natural": 1}, True, True),
    ("青禾县石桥乡人民政府", TOWN, {}, True, False),
    ("青禾县桃源乡人民政府", TOWN, {}, True, True),
    (
        "青禾县东城街道办事处",
        STREET,
        {"t3.new.natural": 2, "t3.disclosed.natural": 1, "t3.carry_out.natural": 1},
        True,
        True,
    ),
    ("青禾县西城街道办事处", STREET, {}, True, True),
    (
        "青禾县发展和改革局",
        DEPT,
        {
            "t2.normative.issued": 2,
            "t2.normative.in_force": 9,
            "t2.license.decisions": 86,
            "t3.new.natural": 4,
            "t3.new.business": 1,
            "t3.disclosed.natural": 3,
            "t3.disclosed.business": 1,
            "t3.not_held.natural": 1,
        },
        True,
        True,
    ),
    (  # the error: 上年结转 1 件 was forgotten in 结转下年度 / outcomes (T3-1 in 自然人 and 总计)
        "青禾县教育局",
        DEPT,
        {
            "t2.normative.issued": 3,
            "t2.normative.in_force": 11,
            "t2.license.decisions": 24,
            "t3.new.natural": 5,
            "t3.carry_in.natural": 1,
            "t3.disclosed.natural": 4,
            "t3.partly.natural": 1,
        },
        True,
        True,
    ),
    (
        "青禾县公安局",
        DEPT,
        {
            "t2.license.decisions": 1520,
            "t2.penalty.decisions": 2315,
            "t2.coercion.decisions": 47,
            "t2.fees.amount": Decimal("18.642"),
            "t3.new.natural": 9,
            "t3.new.legal": 2,
            "t3.carry_in.natural": 1,
            "t3.disclosed.natural": 3,
            "t3.partly.natural": 1,
            "t3.third_party.natural": 1,
            "t3.enforcement_file.natural": 2,
            "t3.not_held.natural": 2,
            "t3.carry_out.natural": 1,
            "t3.disclosed.legal": 1,
            "t3.not_held.legal": 1,
            "t4.cases.review_upheld": 1,
        },
        True,
        True,
    ),
    (
        "青禾县自然资源局",
        DEPT,
        {
            "t2.normative.issued": 1,
            "t2.normative.in_force": 6,
            "t2.license.decisions": 132,
            "t2.penalty.decisions": 18,
            "t2.coercion.decisions": 2,
            "t2.fees.amount": Decimal("356.4821"),
            "t3.new.natural": 14,
            "t3.new.business": 3,
            "t3.new.legal": 1,
            "t3.carry_in.natural": 2,
            "t3.disclosed.natural": 8,
            "t3.partly.natural": 2,
            "t3.process.natural": 1,
            "t3.not_held.natural": 3,
            "t3.petition.natural": 1,
            "t3.carry_out.natural": 1,
            "t3.disclosed.business": 2,
            "t3.needs_making.business": 1,
            "t3.disclosed.legal": 1,
            "t4.cases.review_upheld": 1,
            "t4.cases.review_corrected": 1,
            "t4.cases.direct_upheld": 1,
        },
        True,
        True,
    ),
    (
        "青禾县人力资源和社会保障局",
        DEPT,
        {
            "t2.license.decisions": 45,
            "t2.penalty.decisions": 4,
            "t3.new.natural": 3,
            "t3.disclosed.natural": 3,
        },
        True,
        True,
    ),
    (
        "青禾县市场监督管理局",
        DEPT,
        {
            "t2.normative.in_force": 2,
            "t2.license.decisions": 864,
            "t2.penalty.decisions": 136,
            "t2.coercion.decisions": 9,
            "t3.new.natural": 5,
            "t3.new.business": 2,
            "t3.disclosed.natural": 3,
            "t3.not_held.natural": 1,
            "t3.repeated.natural": 1,
            "t3.disclosed.business": 2,
        },
        True,
        True,
    ),
    (
        "青禾县住房和城乡建设局",
        DEPT,
        {
            "t2.normative.issued": 1,
            "t2.normative.in_force": 5,
            "t2.license.decisions": 77,
            "t2.penalty.decisions": 21,
            "t2.fees.amount": Decimal("42.15"),
            "t3.new.natural": 6,
            "t3.disclosed.natural": 4,
            "t3.not_held.natural": 1,
            "t3.needs_making.natural": 1,
        },
        False,
        True,
    ),
]
INVALID = "青禾县教育局"

# The year before (2022): 表三 of each unit that submitted then (石桥乡 did, 住建局 did not). Its
# 结转下年度 matches 2023's 上年结转 except at 东城街道 (1 carried out, 0 carried in) and 自然资源局
# (the same 2 in total, but 1 自然人 + 1 商业企业 carried out against 2 自然人 carried in).
PREVIOUS_YEAR = YEAR - 1
PREVIOUS_SUMMARY = f"青禾县{PREVIOUS_YEAR}年汇总.xlsx"
PREVIOUS_T3: dict[str, dict[str, int]] = {
    "青禾县城关镇人民政府": {"new.natural": 2, "disclosed.natural": 2},
    "青禾县柳河镇人民政府": {},
    "青禾县白沙镇人民政府": {},
    "青禾县石桥乡人民政府": {"new.natural": 1, "disclosed.natural": 1},
    "青禾县桃源乡人民政府": {},
    "青禾县东城街道办事处": {"new.natural": 2, "disclosed.natural": 1, "carry_out.natural": 1},
    "青禾县西城街道办事处": {},
    "青禾县发展和改革局": {
        "new.natural": 3,
        "new.business": 1,
        "disclosed.natural": 3,
        "disclosed.business": 1,
    },
    "青禾县教育局": {"new.natural": 6, "disclosed.natural": 4, "partly.natural": 1, "carry_out.natural": 1},
    "青禾县公安局": {
        "new.natural": 7,
        "new.legal": 1,
        "disclosed.natural": 4,
        "not_held.natural": 2,
        "carry_out.natural": 1,
        "disclosed.legal": 1,
    },
    "青禾县自然资源局": {
        "new.natural": 12,
        "new.business": 2,
        "disclosed.natural": 8,
        "partly.natural": 1,
        "not_held.natural": 2,
        "carry_out.natural": 1,
        "disclosed.business": 1,
        "carry_out.business": 1,
    },
    "青禾县人力资源和社会保障局": {"new.natural": 2, "disclosed.natural": 2},
    "青禾县市场监督管理局": {
        "new.natural": 4,
        "new.business": 1,
        "disclosed.natural": 3,
        "not_held.natural": 1,
        "disclosed.business": 1,
    },
}
PREVIOUS_FEES = {"青禾县公安局": Decimal("16.5"), "青禾县自然资源局": Decimal("301.2")}

_MANAGEMENT = (
    "严格执行信息发布前保密审查和分级审核制度，全年未发生泄密和不当公开事件。",
    "对本单位制发的文件逐件明确公开属性，及时清理网站上已失效的信息。",
    "建立政府信息公开目录动态更新机制，做到信息产生后及时归集、及时发布。",
)
_PLATFORM = (
    "依托县政府门户网站信息公开专栏发布信息，栏目设置按全县统一要求调整。",
    "维护好门户网站专栏和政务新媒体账号，重要信息在两个平台同步发布。",
    "在办事大厅设置政府信息查阅点，方便群众现场查询和申请。",
)
_OVERSIGHT = (
    "将政务公开工作纳入年度目标考核，指定专人负责，本年度未发生责任追究情况。",
    "主要负责人定期听取政务公开工作汇报，全年开展业务培训两次，未发生责任追究。",
)
_PROBLEMS = (
    "一是部分栏目信息更新不够及时；二是政策解读形式较为单一，图解、音视频解读偏少。",
    "一是工作人员兼职较多，业务熟练程度有待提高；二是主动公开的深度和广度仍需拓展。",
    "一是依申请公开答复文书还不够规范；二是公开信息的分类归档有待加强。",
)
_IMPROVEMENTS = (
    "建立栏目更新台账，落实专人负责；增加图文解读，提升政策解读的可读性。",
    "组织专题业务培训，细化主动公开目录，围绕群众关注的事项加大公开力度。",
    "参照上级示范文本统一答复文书格式，完善信息公开工作档案管理。",
)


def _on_request(figures: dict[str, Any]) -> str:
    def total(row: str) -> int:
        return sum(v for k, v in figures.items() if k.startswith(f"t3.{row}."))

    new, carry_in, carry_out = total("new"), total("carry_in"), total("carry_out")
    if new + carry_in == 0:
        return "本年度未收到政府信息公开申请。当面、邮寄、网上申请渠道保持畅通，申请指南已在网站公布。"
    text = f"全年新收政府信息公开申请 {new} 件"
    text += f"，上年结转 {carry_in} 件" if carry_in else ""
    text += f"；结转下年度继续办理 {carry_out} 件" if carry_out else ""
    return text + "。其余申请均在法定期限内作出答复，未发生逾期答复。"


def values_of(index: int, name: str, unit_type: str, figures: dict[str, Any]) -> dict[str, Any]:
    """The full set of values one unit fills in, narratives included."""
    short = name.removeprefix("青禾县").removesuffix("人民政府")
    items = 40 + 13 * index if unit_type == DEPT else 15 + 4 * index
    active = (
        f"全年在县政府门户网站{'部门' if unit_type == DEPT else '乡镇（街道）'}专栏主动公开政府信息 {items} 条，"
        f"重点公开{'政策文件、行政许可和行政处罚结果' if unit_type == DEPT else '惠民补贴发放、村（社区）事务和财政预决算'}等内容。"
    )
    fee = figures.get("t2.fees.amount", 0)
    return {
        "unit.unit_name": name,
        "unit.report_year": YEAR,
        "unit.unit_type": unit_type,
        "unit.parent_unit": PARENT,
        "unit.filler": "张李王刘陈杨赵黄周吴徐孙马朱"[index] + "某",
        "unit.phone": f"0000-55501{index:02d}",
        "unit.fill_date": f"{YEAR + 1}年1月{8 + index}日",
        "s1.active": f"{short}{active}",
        "s1.on_request": _on_request(figures),
        "s1.management": _MANAGEMENT[index % len(_MANAGEMENT)],
        "s1.platform": _PLATFORM[index % len(_PLATFORM)],
        "s1.oversight": _OVERSIGHT[index % len(_OVERSIGHT)],
        "s5.problems": _PROBLEMS[index % len(_PROBLEMS)],
        "s5.improvements": _IMPROVEMENTS[index % len(_IMPROVEMENTS)],
        "s6.fee_notices": 0,
        "s6.fee_collected": 0,
        "s6.fee": "本年度未发出收费通知，未收取信息处理费。",
        "s6.other": "无其他需要报告的事项。"
        if fee == 0
        else f"本年度行政事业性收费 {fee} 万元，收费项目和标准已在网站公开。",
        **figures,
    }


def submissions() -> dict[str, dict[str, Any]]:
    """File name -> values, for every unit that submitted."""
    return {
        f"{name}{YEAR}年报.xlsx": values_of(i, name, unit_type, figures)
        for i, (name, unit_type, figures, _listed, submitted) in enumerate(UNITS)
        if submitted
    }


def previous_submissions() -> dict[str, dict[str, Any]]:
    """File name -> values of the year before: 表二 and 表四 about a tenth lower, 表三 as above."""
    out = {}
    for i, (name, unit_type, figures, _listed, _submitted) in enumerate(UNITS):
        if name not in PREVIOUS_T3:
            continue
        t3 = {f"t3.{k}": v for k, v in PREVIOUS_T3[name].items()}
        others = {k: v - v // 10 for k, v in figures.items() if not k.startswith("t3.") and isinstance(v, int)}
        money = {"t2.fees.amount": PREVIOUS_FEES[name]} if name in PREVIOUS_FEES else {}
        values = values_of(i, name, unit_type, others | money | t3)
        values |= {"unit.report_year": PREVIOUS_YEAR, "unit.fill_date": f"{YEAR}年1月{8 + i}日"}
        out[f"{name}{PREVIOUS_YEAR}年报.xlsx"] = values
    return out


def write_previous(folder: Path) -> list[Path]:
    """The year before's workbooks, written into ``folder`` (they are merged into the sample summary)."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = specs.load()
    for file, values in previous_submissions().items():
        template.write(folder / file, spec, values)
    return sorted(folder.glob("*.xlsx"))


def write_previous_summary(target: Path = COUNTY) -> Path:
    """The county's summary of the year before (what ``merge --previous`` reads), from a scratch folder."""
    import datetime as dt
    import tempfile

    from xltool.sources.merging import merge

    out = target / PREVIOUS_SUMMARY
    with tempfile.TemporaryDirectory() as scratch:
        files = write_previous(Path(scratch) / f"青禾县{PREVIOUS_YEAR}年报表")
        when = dt.datetime(YEAR, 1, 20, 9, 30)
        out.unlink(missing_ok=True)
        merge(files, out, unit="青禾县人民政府", jobs=1, now=when)
    return out


def write_roster(path: Path) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["单位名称", "单位类型", "上级单位"])
        out.writerows([name, unit_type, PARENT] for name, unit_type, _f, listed, _s in UNITS if listed)
    return path


def build(target: Path = COUNTY) -> list[Path]:
    folder = target / WORKBOOKS
    folder.mkdir(parents=True, exist_ok=True)
    spec = specs.load()
    out = []
    for file, values in submissions().items():
        template.write(folder / file, spec, values)
        out.append(folder / file)
    out.append(write_roster(target / ROSTER))
    out.append(write_previous_summary(target))
    return out


if __name__ == "__main__":
    for p in build():
        print(p.relative_to(ROOT))
