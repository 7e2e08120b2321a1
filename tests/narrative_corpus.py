"""The precision corpus of the narrative rules: the real reports in ../shared/reports as submissions.

Until ``xltool import`` places a report's narratives, this helper does the least it needs: it cuts
each text at the section headings of the definition (一、总体情况 … 六、其他需要报告的事项, found by
their numeral and the first words of their title), and takes the tables' figures from figures.json
(the six 平潭 reports), from the samples (沭阳 025, 车排子) or from the transcription below (上海 028).
Every other table cell is unknown, so no figure is compared with it. Each report is read on the
form of its year (2019 and 2020 reports on the 2019 form). The prose is read from
../shared/reports at test time and never stored here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xltool.form import spec as specs
from xltool.form.spec import FormSpec, leaves
from xltool.submission import Submission, Value

from .sample_data import CHEPAIZI, SHUYANG

SPEC: FormSpec = specs.load()  # the cutting of sections: both forms have the same headings
FIRST_PART = re.compile(r"[（(]一[）)]")
PAGE_MARKER = re.compile(r"^\s*(?:— \d+ —|## .*|\|.*\|)\s*$", re.MULTILINE)
# where each cut of a report is put: under parts whose labels add no context (s6 is the fee part)
TEXTS = {"preamble": "s1.management", "s1": "s1.active", "s5": "s5.problems", "s6": "s6.fee"}
SAMPLES = {"025_shuyang_fgj_2023_full": SHUYANG, "chepaizi-2023": CHEPAIZI}

# 上海市人民政府办公厅 2025 (028), transcribed from its table rows: 自然人, 商业企业, 法律服务机构 (others 0).
SHANGHAI_T3 = {
    "new": (1259, 36, 0), "carry_in": (170, 15, 4), "disclosed": (201, 5, 0), "partly": (2, 0, 0),
    "secret": (4, 0, 0), "prohibited": (0, 0, 0), "security": (1, 0, 0), "third_party": (0, 0, 0),
    "internal": (8, 0, 1), "process": (1, 0, 0), "enforcement_file": (0, 0, 0), "inquiry": (5, 0, 0),
    "not_held": (484, 28, 1), "needs_making": (47, 1, 0), "unclear": (3, 0, 0), "petition": (61, 1, 0),
    "repeated": (16, 0, 0), "publication": (1, 0, 0), "abusive": (1, 0, 0), "confirm": (0, 0, 0),
    "no_correction": (40, 1, 2), "unpaid": (0, 0, 0), "other_handling": (264, 12, 0), "carry_out": (290, 3, 0),
}  # fmt: skip
SHANGHAI_T4 = {"review": (40, 0, 10, 5), "direct": (2, 0, 4, 6), "after_review": (6, 0, 9, 7)}
SHANGHAI_T2 = {"t2.rules.issued": 22, "t2.rules.in_force": 235, "t2.normative.issued": 34, "t2.normative.in_force": 189}


@dataclass(frozen=True)
class Report:
    name: str
    year: int | None
    texts: dict[str, str]  # preamble, s1, s5, s6 -> text
    submission: Submission

    @property
    def spec(self) -> FormSpec:
        return self.submission.spec


def form_of(year: int | None) -> FormSpec:
    return SPEC if year is None else specs.for_year(year)


def reports(folder: Path) -> list[Report]:
    figures = json.loads((folder / "figures.json").read_text(encoding="utf-8"))
    out = []
    for path in sorted(folder.glob("*.txt")):
        texts = split(body(path.read_text(encoding="utf-8")))
        year = _year(path.stem, figures)
        spec = form_of(year)
        values = _values(spec, path.stem, figures) | {"unit.report_year": year, "unit.unit_name": path.stem}
        values |= {TEXTS[k]: v for k, v in texts.items()}
        out.append(Report(path.stem, year, texts, Submission(spec, path.name, values)))
    return out


def body(text: str) -> str:
    """The report without the collector's header lines and the extraction's page markers."""
    lines = [line for line in text.splitlines() if not line.startswith("# ")]
    return PAGE_MARKER.sub("", "\n".join(lines))


def _heading(section_index: int, heading: str) -> re.Pattern[str]:
    """一、总体情况 (or 1、): the numeral, the title's first words, the rest of the title or of a
    short heading line (五、存在的主要问题及整改措施)."""
    numeral, _, title = heading.partition("、")
    head, rest = (r"\s*".join(map(re.escape, part)) for part in (title[:4], title[4:]))
    return re.compile(rf"(?:{numeral}|{section_index + 1})\s*[、.．]\s*{head}(?:{rest}|[^\n。，]{{0,12}}(?=\n))?")


def split(text: str) -> dict[str, str]:
    """preamble, and the narrative sections' texts, cut at the definition's section headings."""
    kinds = {s.key: s.kind for s in SPEC.sections}
    found: dict[str, tuple[int, int]] = {}  # section key -> (heading start, text start)
    at = 0
    for i, section in enumerate(SPEC.sections):
        m = _heading(i, section.heading).search(text, at)
        if m is not None:
            found[section.key] = m.span()
            at = m.end()
    keys = [s.key for s in SPEC.sections]
    for before, lost, after in zip(keys, keys[1:], keys[2:], strict=False):  # a heading lost in extraction (028 五)
        if lost not in found and before in found and after in found and kinds[before] == "table":
            m = FIRST_PART.search(text, found[before][1], found[after][0])
            if m is not None and kinds[lost] == "narrative":
                found[lost] = (m.start(), m.start())
    starts = sorted((span, key) for key, span in found.items())
    out = {"preamble": text[: starts[0][0][0]] if starts else text}
    for n, ((_start, begin), key) in enumerate(starts):
        end = starts[n + 1][0][0] if n + 1 < len(starts) else len(text)
        if kinds[key] == "narrative":
            out[key] = text[begin:end]
    return {k: v.strip() for k, v in out.items() if v.strip()}


def _year(stem: str, figures: dict[str, Any]) -> int | None:
    if stem in figures:
        return int(figures[stem]["year"])
    m = re.search(r"(?<!\d)(20\d\d)(?!\d)", stem)
    return int(m.group(1)) if m else None


def _values(spec: FormSpec, stem: str, figures: dict[str, Any]) -> dict[str, Value]:
    """Table figures by key; every cell not transcribed is None (unknown)."""
    values: dict[str, Value] = {c.key: None for c in spec.inputs()}
    values |= {f"{s.key}.{f.key}": None for s, _p, f in spec.fields()}
    if stem in SAMPLES:
        numbers = {k: v for k, v in SAMPLES[stem].items() if k.startswith(("t", "s6.fee_"))}
        return values | {c.key: 0 for c in spec.inputs()} | numbers
    if stem.startswith("028_"):
        return values | _shanghai(spec)
    if stem in figures:
        return values | _from_figures(spec, figures[stem])
    return values


def _t3_leaves(spec: FormSpec) -> tuple[list[str], dict[str, str]]:
    block = spec.table("t3").blocks[0]
    rows = [r.key for r in leaves(block.rows) if not r.node.derived]
    cols = {c.label: c.key for c in leaves(block.columns) if not c.node.derived}
    return rows, cols


def _from_figures(spec: FormSpec, fig: dict[str, Any]) -> dict[str, Value]:
    """figures.json transcribes 表三 row by row in the form's order (r1 …, r6 or r6_1 … r6_3)."""
    assert fig["form"] == spec.form_version, fig["unit"]
    rows, cols = _t3_leaves(spec)
    names = list(dict.fromkeys(cell.split("|")[0] for cell in fig["t3"]))
    split_six = len(rows) == len(names) + 2  # a single （六） row printed on a form with three (012)
    if split_six:
        names[names.index("r6") : names.index("r6") + 1] = ["r6_1", "r6_2", "r6_3"]
    by_name = dict(zip(names, rows, strict=True))
    out: dict[str, Value] = {}
    for cell, value in fig["t3"].items():
        row, col = cell.split("|")
        if split_six and row == "r6":  # its sum, as 3.其他
            out |= {f"t3.{by_name['r6_1']}.{cols[col]}": 0, f"t3.{by_name['r6_2']}.{cols[col]}": 0}
            row = "r6_3"
        out[f"t3.{by_name[row]}.{cols[col]}"] = value
    out |= _t2(spec, fig["t2"])
    t4 = spec.table("t4").blocks[0]
    groups = {n.label: n.key for leaf in leaves(t4.columns) for n in leaf.path if n.key}
    for label, results in fig["t4"].items():
        prefix = groups[label]
        for key, v in zip(("upheld", "corrected", "other", "pending"), results, strict=True):
            out[f"t4.cases.{prefix}_{key}"] = v
    return out


def _t2(spec: FormSpec, t2: dict[str, Any]) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for block in spec.table("t2").blocks:
        cols = [c.key for c in leaves(block.columns)]
        for row in leaves(block.rows):
            got = t2.get(row.label)
            if got is None:
                continue
            got = got if isinstance(got, list) else [got]
            for col, v in zip(cols, got, strict=True):
                out[f"t2.{row.key}.{col}"] = v if not isinstance(v, str) else None
    return out


def _shanghai(spec: FormSpec) -> dict[str, Value]:
    out: dict[str, Value] = {c.key: 0 for c in spec.inputs() if c.table in ("t3", "t4")}
    for row, (natural, business, legal) in SHANGHAI_T3.items():
        out |= {f"t3.{row}.natural": natural, f"t3.{row}.business": business, f"t3.{row}.legal": legal}
    for group, results in SHANGHAI_T4.items():
        for key, v in zip(("upheld", "corrected", "other", "pending"), results, strict=True):
            out[f"t4.cases.{group}_{key}"] = v
    return out | SHANGHAI_T2
