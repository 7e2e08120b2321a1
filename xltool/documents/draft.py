"""Drafts of the written parts from the figures: what ``xltool draft`` and ``merge`` write into the
empty text parts, and which parts a document still lacks.

Values in, values out. The wording is the form definition's ``[drafting]`` (sentences of narrative
quantities, :class:`xltool.form.spec.Drafting`); the kinds of a figure (其中自然人…件、法人或其他组织…件)
are its table's own row or column labels in the form's order. A draft says what the figures say and
nothing else: parts the figures cannot write stay empty and are listed as still to write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from xltool.form.layout import for_spec
from xltool.form.spec import (
    DraftItem,
    DraftPart,
    DraftSentence,
    FormSpec,
    Leaf,
    Node,
    Part,
    Quantity,
    TableCell,
    leaves,
)
from xltool.submission import Number, Submission, computed, shown, unknown
from xltool.text import without_enumerator

STAMP = "〔草稿〕"  # printed at the top of a document that is not finished
TO_WRITE = "〔待撰写〕"  # printed, in such a document, under a part nobody has written yet
_NOTE = re.compile(r"（[^（）]{9,}）$")  # （二）部分公开（区分处理的，只计这一情形，不计其他情形）


@dataclass(frozen=True)
class Draft:
    """What the figures can say: ``texts`` by part key (each replaces an empty part or an unedited
    draft), and the parts that stay empty because figures cannot write them (``to_write``)."""

    texts: dict[str, str] = field(default_factory=dict)
    to_write: tuple[str, ...] = ()


def draft(submission: Submission, previous: Mapping[str, Number] | None = None, unit_word: str | None = None) -> Draft:
    """The drafts of a submission's empty text parts (and of parts still holding an unedited draft).

    ``previous``: last year's figures under this form's table keys (:func:`xltool.submission.previous_numbers`;
    a key missing has no counterpart): the year-over-year clauses. ``unit_word``: the subject of a
    summary's sentences (全县); default :func:`unit_word_of`.
    """
    spec = submission.spec
    if spec.drafting is None:
        return Draft(to_write=tuple(blank_parts(submission)))
    redraft = set(submission.unedited_drafts())
    words = Words(submission, previous, unit_word_of(submission) if unit_word is None else unit_word)
    texts: dict[str, str] = {}
    for part in spec.drafting.parts:
        if submission.text(part.part).strip() and part.part not in redraft:
            continue
        text = words.part(part)
        if text:
            texts[part.part] = text
    return Draft(texts, tuple(k for k in blank_parts(submission) if k not in texts))


def figures_text(submission: Submission, key: str) -> str | None:
    """What the definition drafts for one part from the current figures (None: it drafts nothing there)."""
    spec = submission.spec
    part = next((p for p in spec.drafting.parts if p.part == key), None) if spec.drafting else None
    return None if part is None else Words(submission, None, unit_word_of(submission)).part(part)


def unit_word_of(submission: Submission) -> str:
    """The subject of drafted sentences: a summary's area (:func:`area_word`); nothing for one unit."""
    return area_word(submission.spec, submission.unit_name) if submission.summary_units else ""


def area_word(spec: FormSpec, unit: str) -> str:
    """全县 for 青禾县人民政府, 全区 for …区人民政府; the definition's default (本机关) otherwise."""
    d = spec.drafting
    if d is None:
        return ""
    name = unit.strip()
    for office in sorted(d.offices, key=len, reverse=True):
        if name.endswith(office) and len(name) > len(office):
            name = name[: -len(office)]
            break
    area = next((a for a in sorted(d.areas, key=len, reverse=True) if name.endswith(a) and len(name) > len(a)), None)
    return d.areas[area] if area is not None else d.default_area


# ---------------------------------------------------------------- what a document still lacks


def text_parts(spec: FormSpec) -> list[tuple[str, Part]]:
    return [(f"{s.key}.{p.key}", p) for s in spec.sections if s.kind == "narrative" for p in s.parts]


def blank_parts(submission: Submission) -> list[str]:
    """Text parts nobody wrote: empty, and not a part whose figures speak for it (六（一）'s fields) nor
    one a report printed unsplit into its section's first part (Submission.unsplit_sections)."""
    out = []
    for key, part in text_parts(submission.spec):
        section, name = key.split(".")
        first = next(s for s in submission.spec.sections if s.key == section).parts[0].key == name
        if part.fields or (section in submission.unsplit_sections and not first):
            continue
        if not submission.text(key).strip():
            out.append(key)
    return out


def unfinished(submission: Submission) -> list[tuple[str, str]]:
    """(part key, why) of every part a published document may not have: empty, or an unedited draft."""
    drafts = set(submission.drafts_to_review())
    blank = set(blank_parts(submission))
    return [
        (key, "未填写" if key in blank else "仍是未经修改的草稿")
        for key, _part in text_parts(submission.spec)
        if key in blank or key in drafts
    ]


def part_name(spec: FormSpec, key: str) -> str:
    """一、总体情况／（一）主动公开: how messages name a text part."""
    return for_spec(spec).locate(key)[1].what


def notes(spec: FormSpec, d: Draft) -> list[tuple[str, str]]:
    """What a drafted workbook's 填报说明 adds (role, text): which parts are drafts, which remain to
    write. Short lines: a spreadsheet program prints the sheet's one wide column as it is."""
    out: list[tuple[str, str]] = [("caption", "四、xltool 起草的草稿")]
    if d.texts:
        out.append(
            ("note", "下列部分的文字由 xltool 根据本工作簿表格中的数字起草（橙色单元格），只写数字能说明的内容：")
        )
        out += [("note", f"　　{part_name(spec, k)}") for k in d.texts]
        out.append(("note", "请逐句核对，补充本单位的工作情况后使用；改动后即不再视为草稿。"))
        for rule in spec.rules_of("draft"):
            out.append(("note", f"未经修改的草稿：校验时提示 {rule.id}（{rule.title}），成文时不予生成，"))
            out.append(("note", f"加 --allow-draft 可生成标注{STAMP}的草稿文档。"))
    if d.to_write:
        out.append(("note", "下列部分无法根据数字起草，请撰写："))
        out += [("note", f"　　{part_name(spec, k)}") for k in d.to_write]
    if d.texts:
        out.append(("legend:draft", "橙色：xltool 起草的草稿"))
    return out


# ---------------------------------------------------------------- composing


@dataclass(frozen=True)
class Kind:
    """A row or column of a figure's table with its value: 不予公开 1 (属于四类过程性信息 1)."""

    word: str
    value: Number
    parts: tuple[Kind, ...] = ()


class Words:
    """The drafting vocabulary applied to one submission's figures."""

    def __init__(self, sub: Submission, previous: Mapping[str, Number] | None, who: str) -> None:
        assert sub.spec.drafting is not None and sub.spec.narrative is not None
        self.sub, self.spec, self.d = sub, sub.spec, sub.spec.drafting
        self.vocabulary = sub.spec.narrative
        self.numbers = computed(sub.spec, sub.values)
        self.unknown = unknown(sub.spec, sub.values)
        self.previous, self.who = previous, who
        self.cells = {c.key: c for c in sub.spec.cells()}

    def part(self, part: DraftPart) -> str:
        out = ""
        for s in part.sentences:
            said = self.sentence(s)
            out += ("\n" if out and said and s.paragraph else "") + said
        return out

    def sentence(self, s: DraftSentence) -> str:
        """The sentence; "" when a figure it needs could not be read (never a guess) or it says nothing."""
        quantities = [self.vocabulary.quantity(item.quantity) for item in s.items]
        if any(self.value(q) is None for q in quantities):
            return ""
        if any(
            item.kinds and self._kind_cells(q, item.kinds) & self.unknown
            for item, q in zip(s.items, quantities, strict=True)
        ):
            return ""
        if s.none and all(self.value(q) == 0 for q in quantities):
            return s.none.format(who=self.who)
        said = [self.item(item, q) for item, q in zip(s.items, quantities, strict=True)]
        items = s.join.join(t for t in said if t)
        return s.text.format(who=self.who, items=items) if items else ""

    def item(self, item: DraftItem, q: Quantity) -> str:
        value = self.value(q)
        assert value is not None
        if value == 0:
            return item.zero
        kinds = self.kinds(q, item.kinds) if item.kinds else ()
        return item.text.format(n=_text(value), kinds=self.kinds_text(kinds, q), change=self.change(q, value))

    def value(self, q: Quantity) -> Number | None:
        total: Number = 0
        for key in q.cell_keys():
            if key in self.cells:
                if key in self.unknown:
                    return None
                total += self.numbers[key]
            else:
                v = self.sub.values.get(key)
                if not isinstance(v, int | Decimal):
                    return None
                total += v
        return total

    # -- the kinds of a figure: its table's labels ------------------------------------------
    def kinds(self, q: Quantity, axis: str) -> tuple[Kind, ...]:
        merged: dict[str, Kind] = {}
        for key in q.cell_keys():
            for kind in self._tree(self.cells[key], axis):
                had = merged.get(kind.word)
                merged[kind.word] = kind if had is None else _plus(had, kind)
        return tuple(merged.values())

    def _siblings(self, cell: TableCell, axis: str) -> tuple[tuple[Node, ...], list[Leaf], Leaf]:
        block = next(b for b in self.spec.table(cell.table).blocks if b.key == cell.block)
        nodes = block.rows if axis == "rows" else block.columns
        own = cell.row if axis == "rows" else cell.col
        return (own.path[-1].children if own.path else nodes), leaves(nodes), own

    def _key(self, cell: TableCell, axis: str, leaf: Leaf) -> str:
        row, col = (leaf.key, cell.col.key) if axis == "rows" else (cell.row.key, leaf.key)
        return f"{cell.table}.{row}.{col}"

    def _tree(self, cell: TableCell, axis: str) -> list[Kind]:
        siblings, all_leaves, _own = self._siblings(cell, axis)

        def kind(node: Node) -> Kind:
            under = [
                lf for lf in all_leaves if (lf.node is node or any(n is node for n in lf.path)) and not lf.node.derived
            ]
            value = sum((self.numbers[self._key(cell, axis, lf)] for lf in under), start=0)
            parts = tuple(kind(child) for child in node.children if not child.derived)
            return Kind(word(node.label), value, parts)

        return [kind(node) for node in siblings if not node.derived]

    def _kind_cells(self, q: Quantity, axis: str) -> set[str]:
        out: set[str] = set()
        for key in q.cell_keys():
            cell = self.cells[key]
            _siblings, all_leaves, own = self._siblings(cell, axis)
            parent = own.path[-1] if own.path else None
            out |= {
                self._key(cell, axis, lf)
                for lf in all_leaves
                if not lf.node.derived and (parent is None or any(n is parent for n in lf.path))
            }
        return out

    def kinds_text(self, kinds: tuple[Kind, ...], q: Quantity) -> str:
        unit = self._unit(q)

        def one(k: Kind) -> str:
            inner = [p for p in k.parts if p.value]
            return f"{k.word}{_text(k.value)}{unit}" + (f"（{'、'.join(map(one, inner))}）" if inner else "")

        return "、".join(one(k) for k in kinds if k.value)

    def _unit(self, q: Quantity) -> str:
        """The quantity's unit as the definition's narrative vocabulary names it (件)."""
        key = q.cell_keys()[0]
        vtype = self.cells[key].type if key in self.cells else "count"
        return next(u for u, size in self.vocabulary.units[vtype].items() if size == 1)

    # -- last year --------------------------------------------------------------------------
    def change(self, q: Quantity, value: Number) -> str:
        if self.previous is None or any(k not in self.previous for k in q.cell_keys()):
            return ""
        last: Number = sum((self.previous[k] for k in q.cell_keys()), start=0)
        c, diff = self.d.change, Decimal(value) - Decimal(last)
        if diff == 0:
            return c.same
        if last == 0:  # never a percentage on a zero base
            return c.from_zero.format(d=_text(diff))
        percent = (Decimal(abs(diff)) * 100 / Decimal(last)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        return (c.up if diff > 0 else c.down).format(d=_text(abs(diff)), p=percent)


def word(label: str) -> str:
    """A label in running text: 予以公开 for （一）予以公开, 部分公开 for （二）部分公开（区分处理的…）."""
    return _NOTE.sub("", without_enumerator(label)).strip()


def _plus(a: Kind, b: Kind) -> Kind:
    parts = {p.word: p for p in a.parts}
    for p in b.parts:
        parts[p.word] = _plus(parts[p.word], p) if p.word in parts else p
    return Kind(a.word, a.value + b.value, tuple(parts.values()))


def _text(value: Number) -> str:
    return str(shown(value))
