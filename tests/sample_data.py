"""The bundled sample workbooks under samples/, generated from data here.

Regenerate with ``python -m tests.sample_data`` (and the golden JSON with XLTOOL_UPDATE_GOLDEN=1
python -m pytest tests/test_samples.py). Figures come from real published reports (see
../shared/reports); the narrative text is our own wording, not the reports' prose.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from xltool.form import spec as specs
from xltool.workbook import template

from .helpers import fill

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"

T3 = "三、收到和处理政府信息公开申请情况"
T4 = "四、政府信息公开行政复议、行政诉讼情况"

CHEPAIZI: dict[str, Any] = {
    "unit.unit_name": "车排子镇人民政府",
    "unit.report_year": 2023,
    "unit.unit_type": "乡镇人民政府",
    "unit.parent_unit": "乌苏市人民政府办公室",
    "unit.filler": "王某",
    "unit.phone": "0992-0000000",
    "unit.fill_date": "2024年1月15日",
    "s1.active": "本年度镇政府围绕中心工作，通过政府网站信息公开专栏发布工作动态、惠民政策和财政信息，"
    "重要政策同步配发解读材料。",
    "s1.on_request": "本年度未收到政府信息公开申请，依申请公开渠道（当面、信函、网络）保持畅通。",
    "s1.management": "落实信息发布前保密审查和“三审”程序，及时清理过时信息。",
    "s1.platform": "维护政府网站信息公开专栏和政务新媒体，栏目设置按上级要求规范调整。",
    "s1.oversight": "将政务公开纳入年度工作考核，本年度未发生因信息公开引发的责任追究。",
    "s5.problems": "一是公开内容不够丰富，部分栏目更新不及时；二是工作人员业务能力有待提高。",
    "s5.improvements": "一是建立栏目更新台账，明确责任人和时限；二是组织专题培训，提升信息公开工作质量。",
    "s6.fee_notices": 0,
    "s6.fee_collected": 0,
    "s6.fee": "本年度未发出收费通知，未收取信息处理费。",
    "s6.other": "无其他需要报告的事项。",
}

SHUYANG: dict[str, Any] = {
    "unit.unit_name": "沭阳县发展和改革局",
    "unit.report_year": 2023,
    "unit.unit_type": "县级人民政府部门",
    "unit.parent_unit": "沭阳县人民政府办公室",
    "unit.filler": "李某",
    "unit.phone": "0527-00000000",
    "unit.fill_date": "2024年1月17日",
    "s1.active": "全年审核发布各类政府信息，涵盖政策文件、政策解读、重点工作、财政预决算等栏目。",
    "s1.on_request": "全年收到政府信息公开申请 26 件，均在法定期限内答复。",
    "s1.management": "执行信息发布前三级审核制度，明确保密审查职责。",
    "s1.platform": "定期自查部门网站栏目，提高信息更新频率，保障网站安全运行。",
    "s1.oversight": "承办的人大代表建议和政协提案办理结果按时公开，本年度未发生责任追究。",
    "s5.problems": "政策解读的主动性不足，网民留言回复效率有待提高。",
    "s5.improvements": "完善主动公开联动机制，加强业务培训，丰富新媒体公开形式。",
    "s6.fee_notices": 0,
    "s6.fee_collected": 0,
    "s6.fee": "本年度未发生信息处理费收费情况。",
    "s6.other": "无。",
    "t2.normative.issued": 8,
    "t2.normative.in_force": 18,
    "t3.new.natural": 26,
    "t3.disclosed.natural": 26,
    "t4.cases.review_pending": 1,
}

# 平潭综合实验区自然资源与生态环境局 2020, on the 2019 form (../shared/reports/004_…_2020.txt and its
# figures.json entry). Tables 三 and 四 as published, its real error included: the one 法律服务机构
# applicant is counted in （四）1 but not in 一、本年新收, so 一+二 ≠ 三（七）+四 in that column and in 总计.
# Table 二's digits run together in the published text; where figures.json lists several readings
# (t2_ambiguous) the sample takes the first one listed (行政处罚: the reading its note gives), so those
# cells show the form's shape and the chosen unit rather than certain figures.
PINGTAN_2020: dict[str, Any] = {
    "unit.unit_name": "平潭综合实验区自然资源与生态环境局",
    "unit.report_year": 2020,
    "unit.unit_type": "县级人民政府部门",
    "unit.parent_unit": "平潭综合实验区管委会办公室",
    "unit.filler": "陈某",
    "unit.phone": "0591-00000000",
    "unit.fill_date": "2021年1月28日",
    "s1.active": "本年度重新梳理政府信息公开目录，主动公开征地、土地出让、生态环境和行政处罚等信息。",
    "s1.on_request": "本年度收到政府信息公开申请 9 件，均在法定期限内答复。",
    "s1.management": "落实信息发布前审核和保密审查，按目录动态更新公开内容。",
    "s1.platform": "依托管委会门户网站集中发布政府信息，栏目按规范调整。",
    "s1.oversight": "把信息公开纳入年度考核，本年度未发生责任追究。",
    "s5.problems": "公开内容的及时性和解读的针对性还有不足。",
    "s5.improvements": "细化栏目更新责任，加强业务培训和政策解读。",
    "s6.fee_notices": 0,
    "s6.fee_collected": 0,
    "s6.fee": "本年度未收取信息处理费。",
    "s6.other": "无。",
    "t2.normative.made": 9,
    "t2.normative.published": 9,
    "t2.normative.public_total": 21,
    "t2.license.prior_items": 20,
    "t2.license.change": 18,
    "t2.penalty.prior_items": 88,
    "t2.penalty.change": 143,
    "t2.penalty.decisions": 14,
    "t2.coercion.prior_items": 7,
    "t2.coercion.change": 1,
    "t2.coercion.decisions": 14,
    "t2.procurement.items": 19,
    "t2.procurement.amount": Decimal("1690.9913"),
    "t2.procurement.amount.unit": "万元",
    "t3.new.natural": 9,
    "t3.disclosed.natural": 2,
    "t3.partly.natural": 4,
    "t3.not_held.natural": 1,
    "t3.not_held.legal": 1,
    "t3.otherwise.natural": 2,
}

# A valid 2019-form unit (our own figures) for the tests that run on both forms: a 本年增/减 that is
# negative, a purchase amount in 元, and applications that balance.
TOWN_2020: dict[str, Any] = {
    **CHEPAIZI,
    "unit.unit_name": "甲镇人民政府",
    "unit.report_year": 2020,
    "unit.parent_unit": "某县人民政府办公室",
    "unit.fill_date": "2021年1月15日",
    "s1.on_request": "本年度收到政府信息公开申请 3 件，均已按期答复。",
    "t2.license.prior_items": 12,
    "t2.license.change": -2,
    "t2.license.decisions": 35,
    "t2.procurement.items": 2,
    "t2.procurement.amount": Decimal("251000.5"),
    "t2.procurement.amount.unit": "元",
    "t3.new.natural": 3,
    "t3.disclosed.natural": 2,
    "t3.otherwise.natural": 1,
}

# Invalid samples: (base values, values written by key, raw cell edits), as a clerk's mistakes look.
INVALID: dict[str, tuple[dict[str, Any], dict[str, Any], dict[tuple[str, str], Any]]] = {
    "文字和空格": (
        SHUYANG,
        {
            "t3.new.natural": "26件",
            "t3.carry_in.natural": None,
            "t2.normative.repealed": "无",
            "t4.cases.review_upheld": "/",
        },
        {},
    ),
    "勾稽不平": (
        SHUYANG,
        {"t3.carry_out.natural": 1, "t3.disclosed.business": 2},
        {(T3, "J6"): 30, (T4, "E6"): 0},
    ),
    "负数和小数": (
        CHEPAIZI,
        {"t3.new.natural": -4, "t3.disclosed.natural": 1.5, "t2.fees.amount": Decimal("0.12345678")},
        {},
    ),
    "缺文字部分": (
        {**CHEPAIZI, "unit.unit_name": None, "s5.problems": None, "s5.improvements": None, "s1.platform": None},
        {},
        {},
    ),
}


def write_valid(path: Path, values: dict[str, Any]) -> Path:
    """A workbook of the values, on the form their report year needs."""
    template.write(path, specs.for_year(values["unit.report_year"]), values)
    return path


def build(target: Path = SAMPLES) -> list[Path]:
    target.mkdir(exist_ok=True)
    (target / "invalid").mkdir(exist_ok=True)
    out = [
        write_valid(target / "车排子镇2023年报.xlsx", CHEPAIZI),
        write_valid(target / "沭阳县发展和改革局2023年报.xlsx", SHUYANG),
        write_valid(target / "平潭综合实验区自然资源与生态环境局2020年报.xlsx", PINGTAN_2020),
    ]
    for name, (base, values, raw) in INVALID.items():
        clean = write_valid(target / "invalid" / f".{name}.tmp.xlsx", base)
        out.append(fill(clean, target / "invalid" / f"{name}.xlsx", values, raw))
        clean.unlink()
    return out


if __name__ == "__main__":
    for p in build():
        print(p.relative_to(ROOT))
