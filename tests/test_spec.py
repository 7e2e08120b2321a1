from __future__ import annotations

import re
from pathlib import Path

import pytest

from xltool.errors import DefinitionError, VersionError
from xltool.form import spec as specs
from xltool.form.spec import leaves

from .conftest import SHARED, missing


def test_counts_of_the_2021_form() -> None:
    spec = specs.load("2021")
    assert [s.heading for s in spec.sections] == [
        "一、总体情况",
        "二、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
        "四、政府信息公开行政复议、行政诉讼情况",
        "五、存在的主要问题及改进情况",
        "六、其他需要报告的事项",
    ]
    by_table = {t.key: [c for c in spec.cells() if c.table == t.key] for t in spec.tables()}
    assert len(by_table["t2"]) == 10 and not any(c.derived for c in by_table["t2"])
    t3 = by_table["t3"]
    assert len(t3) == 175 and sum(not c.derived for c in t3) == 144
    t4 = by_table["t4"]
    assert len(t4) == 15 and sum(not c.derived for c in t4) == 12
    t3_rows = leaves(spec.table("t3").blocks[0].rows)
    assert len(t3_rows) == 25
    total = next(r for r in t3_rows if r.node.derived)
    assert total.label == "（七）总计" and len(total.siblings) == 21
    assert [c.type for c in by_table["t2"] if c.type != "count"] == ["wan_yuan"]


def test_counts_of_the_2019_form() -> None:
    spec = specs.load("2019")
    assert [s.heading for s in spec.sections] == [s.heading for s in specs.load("2021").sections]
    by_table = {t.key: [c for c in spec.cells() if c.table == t.key] for t in spec.tables()}
    assert len(by_table["t2"]) == 22 and not any(c.derived for c in by_table["t2"])  # format notes §3.1
    assert [b.caption for b in spec.table("t2").blocks] == [
        "第二十条第（一）项",
        "第二十条第（五）项",
        "第二十条第（六）项",
        "第二十条第（八）项",
        "第二十条第（九）项",
    ]
    signed = [c.key for c in spec.inputs() if c.type == "signed_count"]
    rows = ("license", "other_services", "penalty", "coercion", "fees")
    assert signed == [f"t2.{row}.change" for row in rows]
    assert [(c.key, u, c.col.node.units) for c, u in spec.chosen_units()] == [
        ("t2.procurement.amount", "t2.procurement.amount.unit", {"元": 1, "万元": 10000})
    ]
    t3 = by_table["t3"]
    assert len(t3) == 161 and sum(not c.derived for c in t3) == 132  # 23 value rows × 7 (§3.2)
    t3_rows = leaves(spec.table("t3").blocks[0].rows)
    total = next(r for r in t3_rows if r.node.derived)
    assert total.label == "（七）总计" and len(total.siblings) == 19 and "otherwise" in total.siblings
    assert [r.label for r in t3_rows if r.key == "otherwise"] == ["（六）其他处理"]
    assert len(by_table["t4"]) == 15
    assert spec.table("t4") == specs.load("2021").table("t4")  # §3.3: identical
    assert (spec.min_year, spec.max_year, spec.years) == (2019, 2020, "2019—2020 年")


def test_2021_form_declares_how_the_2019_form_corresponds() -> None:
    new, old = specs.load("2021"), specs.load("2019")
    links = new.counterparts(old)
    assert links["t3.carry_out.natural"] == ("t3.carry_out.natural",)
    assert links["t3.total.total"] == ("t3.total.total",)
    assert links["t2.license.decisions"] == ("t2.license.decisions",)
    without = sorted({k.rsplit(".", 1)[0] for k in (c.key for c in new.cells()) if k not in links})
    assert without == ["t2.fees", "t2.normative", "t2.rules", "t3.no_correction", "t3.other_handling", "t3.unpaid"]
    assert old.counterparts(new) == {}  # the older form knows nothing of its successor
    assert new.counterparts(new) == {c.key: (c.key,) for c in new.cells()}
    text = (Path(specs.__file__).parents[1] / "specs" / "gov_disclosure_2021.toml").read_text(encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        specs.parse(text.replace('"t2.license.decisions" = [', '"t2.licence.decisions" = [', 1), "x.toml")
    assert "succeeds.cells: unknown cells ['t2.licence.decisions']" in err.value.message
    wrong = specs.parse(text.replace('= ["t2.license.decisions"]', '= ["t2.licence.decisions"]', 1), "x.toml")
    with pytest.raises(DefinitionError) as err:
        wrong.counterparts(old)
    assert err.value.message == "表式定义文件有误：succeeds.cells: the 2019 form has no cells ['t2.licence.decisions']"


def test_labels_are_the_official_ones() -> None:
    spec = specs.load()
    rows = [leaf.label for leaf in leaves(spec.table("t3").blocks[0].rows)]
    assert rows[0] == "一、本年新收政府信息公开申请数量"
    assert rows[3] == "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"
    assert rows[6] == "3.危及“三安全一稳定”"
    assert rows[-1] == "四、结转下年度继续办理"
    assert spec.table("t3").blocks[0].corner == "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


def _format_doc_labels() -> set[str]:
    doc = SHARED / "format" / "gov-disclosure-format.md"
    if not doc.exists():
        missing("../shared/format/gov-disclosure-format.md")
    text = doc.read_text(encoding="utf-8")
    section = text[text.index("### 2.3") : text.index("## 3. The 2019 format")]
    return set(re.findall(r"`([^`]+)`", section)) | set(re.findall(r"\| ([^|`]*[\u4e00-\u9fff][^|`]*) \|", section))


@pytest.mark.parametrize("form", list(specs.SPEC_FILES))
def test_every_label_appears_in_the_format_document(form: str) -> None:
    """Every table label of the definition is spelled exactly as in the shared format document."""
    doc = _format_doc_labels()
    text = (SHARED / "format" / "gov-disclosure-format.md").read_text(encoding="utf-8")
    spec = specs.load(form)
    labels: set[str] = set()
    for table in spec.tables():
        for block in table.blocks:
            labels |= {n.label for n in _walk(block.rows) if block.label_columns}
            labels |= {n.label for n in _walk(block.columns)}
            labels |= {x for x in (block.caption, block.corner) if x}
    missing = sorted(label for label in labels if label not in doc and label not in text)
    assert missing == []


def _walk(nodes):  # type: ignore[no-untyped-def]
    for n in nodes:
        yield n
        yield from _walk(n.children)


def test_typo_in_definition_fails_with_its_path() -> None:
    text = (Path(specs.__file__).parents[1] / "specs" / "gov_disclosure_2021.toml").read_text(encoding="utf-8")
    broken = text.replace('key = "active"\nlabel', 'key = "active"\nlabell', 1)
    with pytest.raises(DefinitionError) as err:
        specs.parse(broken, "gov_disclosure_2021.toml")
    assert "gov_disclosure_2021.toml" in err.value.message
    assert "sections.0.parts.0.labell" in err.value.message


def test_version_for_year() -> None:
    assert [specs.for_year(y).form_version for y in (2019, 2020, 2021, 2024)] == ["2019", "2019", "2021", "2021"]
    with pytest.raises(VersionError) as err:
        specs.for_year(2018)
    assert err.value.message == (
        "没有适用于“2018”的表式。xltool 支持国办公开办函〔2019〕60号表式（2019—2020 年的年度报告）、"
        "国办公开办函〔2021〕30号表式（2021 年及以后的年度报告）。"
    )


def test_merge_policy_covers_every_cell() -> None:
    spec = specs.load()
    assert spec.summed() == [c.key for c in spec.inputs()] + ["s6.fee_notices", "s6.fee_collected"]
    assert spec.merge.types["text"] == "collect"
    assert [k for k, p in spec.merge.unit.items() if p == "summary"] == ["unit_name", "report_year"]
    text = (Path(specs.__file__).parents[1] / "specs" / "gov_disclosure_2021.toml").read_text(encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        specs.parse(text.replace(', fill_date = "blank" }', " }"), "x.toml")
    assert "merge.unit must name every unit field exactly once" in err.value.message
