"""A grid row's printed label -> the form's row (a leaf of one table's row tree).

The label text is the row's label cells joined (``三、本年度办理结果`` ``（一）予以公开``); the form's row
labels are looked for in it after folding (:mod:`xltool.importers.labels`). A numbered row
(``2.重复申请``) is taken with its numbering printed, or without it only where a cell starts; a
short one (``3.其他``, ``（七）总计``) only with its numbering. A row printed in other words
(``2.其他法律和行政法规禁止公开``, ``…不再受理…``) is taken when it is clearly that row and no other
(same numbering, and far more alike than to any other row). Two different rows in one label: none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xltool.form.spec import Block, FormSpec, Leaf, Section, leaves
from xltool.importers.headers import fuzzy
from xltool.importers.labels import LabelForm, fold, fold_with_positions, label_form, numbering_start
from xltool.importers.memo import Memo

_NUMBER_AT = re.compile(
    r"(?:^|(?<=\s))((?:\d+\s*[.．、](?!\d))|[(（]\s*[一二三四五六七八九十]+\s*[)）]|[一二三四五六七八九十]+、)"
)
MIN_ALIAS = 5  # a label printed without its leading words (规范性文件) keeps at least this many characters


@dataclass(frozen=True)
class Row:
    """One labelled row of the form."""

    section: Section
    block: Block
    leaf: Leaf
    form: LabelForm
    aliases: tuple[str, ...]

    @property
    def table(self) -> str:
        assert self.section.table is not None
        return self.section.table.key


@dataclass(frozen=True)
class Match:
    row: Row
    start: int  # in the label text, including its printed numbering
    end: int
    fuzzy: bool = False


_INDEX: dict[int, tuple[FormSpec, tuple[Row, ...], re.Pattern[str], dict[str, list[Row]]]] = {}


def index(spec: FormSpec) -> tuple[Row, ...]:
    """Every labelled row of the form's tables (computed once per loaded form)."""
    return _indexed(spec)[1]


def _indexed(spec: FormSpec) -> tuple[FormSpec, tuple[Row, ...], re.Pattern[str], dict[str, list[Row]]]:
    hit = _INDEX.get(id(spec))
    if hit is None or hit[0] is not spec:
        found = _index(spec)
        by_core: dict[str, list[Row]] = {}
        for r in found:
            for c in (r.form.core, *r.aliases):
                if c:
                    by_core.setdefault(c, []).append(r)
        cores = sorted(by_core, key=len, reverse=True)
        hit = _INDEX[id(spec)] = (spec, found, re.compile("|".join(map(re.escape, cores))), by_core)
    return hit


def _index(spec: FormSpec) -> tuple[Row, ...]:
    rows: list[Row] = []
    for section in spec.sections:
        if section.table is None:
            continue
        for block in section.table.blocks:
            if block.label_columns == 0:
                continue
            for leaf in leaves(block.rows):
                rows.append(Row(section, block, leaf, label_form(leaf.label), ()))
    cores = [r.form.core for r in rows] + [fold(n) for n in _column_labels(spec)]
    return tuple(Row(r.section, r.block, r.leaf, r.form, _aliases(r.form.core, cores)) for r in rows)


def _column_labels(spec: FormSpec) -> list[str]:
    out: list[str] = []
    for table in spec.tables():
        for block in table.blocks:
            out += [c.label for c in leaves(block.columns)]
    return out


def _aliases(core: str, cores: list[str]) -> tuple[str, ...]:
    """Shorter prints of a label (``规范性文件`` for ``行政规范性文件``): suffixes no other label has."""
    others = [c for c in cores if c != core]
    return tuple(core[k:] for k in range(1, len(core) - MIN_ALIAS + 1) if not any(core[k:] in c for c in others))


_MATCHES: Memo[tuple[Match | None, str | None]] = Memo()


def match(spec: FormSpec, cells: list[str]) -> tuple[Match | None, str | None]:
    """The form's row a row's label cells name; (None, why) when they name two rows."""
    text = "\n".join(c for c in cells if c.strip())
    if not text:
        return None, None
    return _MATCHES.get(spec, text, lambda: _match(spec, text))


def _match(spec: FormSpec, text: str) -> tuple[Match | None, str | None]:
    _spec, _rows, any_core, by_core = _indexed(spec)
    folded = fold_with_positions(text)
    found: list[Match] = []
    candidates = {id(r): r for m in any_core.finditer(folded.text) for r in by_core[m.group()]}
    for row in candidates.values():
        found += _find(row, text, folded)
    found = [
        m
        for m in found
        if not any(
            o is not m and o.start <= m.start and m.end <= o.end and (o.end - o.start) > (m.end - m.start)
            for o in found
        )
    ]
    rows = {id(m.row): m for m in found}
    if len(rows) > 1:  # the row's own label is its last cell(s); what stands before it is context
        last = max(found, key=lambda m: m.end)
        cut = text.rfind("\n", 0, last.start) + 1
        if all(m.end <= cut for m in found if m.row is not last.row):
            return last, None
    if len(rows) > 2:
        return None, None  # text that names many rows is no row label
    if len(rows) > 1:
        names = "、".join(f"“{m.row.leaf.label}”" for m in sorted(rows.values(), key=lambda m: m.start))
        return None, f"一行中印有两个行标签（{names}）"
    if rows:
        return next(iter(rows.values())), None
    return _fuzzy(spec, text), None


def _find(row: Row, text: str, folded) -> list[Match]:  # type: ignore[no-untyped-def]
    out: list[Match] = []
    for core in (row.form.core, *row.aliases):
        i = folded.text.find(core)
        while i >= 0 and core:
            start, end = folded.origin[i], folded.origin[i + len(core) - 1] + 1
            numbered = numbering_start(text, start, row.form.number)
            if numbered is not None:
                out.append(Match(row, numbered, end))
            elif not row.form.needs_number and (not row.form.number or _cell_start(text, start)):
                out.append(Match(row, start, end))
            i = folded.text.find(core, i + 1)
        if out:
            break
    return out


def _cell_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \u3000")
    return not before or before[-1] in "\n\t|"


def _fuzzy(spec: FormSpec, text: str) -> Match | None:
    """A row printed in other words: the label from its numbering on (a row without numbering is
    matched by its words only)."""
    starts = [m.start(1) for m in _NUMBER_AT.finditer(text)]
    if not starts:
        return None
    start = max(starts)
    tail = text[start:]
    form = label_form(tail)
    candidates = [r for r in index(spec) if r.form.number == form.number and len(r.form.core) > 2]
    found = fuzzy(form.core, [(r.form.core, r) for r in candidates])
    return Match(found, start, len(text), fuzzy=True) if isinstance(found, Row) else None
