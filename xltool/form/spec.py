"""The form definition: data files under ``specs/`` loaded into frozen, strict models.

Everything else in xltool derives from a :class:`FormSpec`; a typo in a definition file fails here,
at load time, with its path.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, cached_property
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from xltool.errors import DefinitionError, VersionError
from xltool.text import normalise

ValueType = Literal["count", "signed_count", "wan_yuan", "yuan", "money", "text", "year", "choice"]
NUMERIC_TYPES: frozenset[str] = frozenset({"count", "signed_count", "wan_yuan", "yuan", "money"})
UNIT_SUFFIX = ".unit"  # key of the unit chosen for a "money" cell: the cell's key + this
Severity = Literal["error", "warning", "info"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Field(_Strict):
    """One labelled value outside the tables (unit information, section-六 figures)."""

    key: str
    label: str
    type: ValueType = "text"
    required: Literal["error", "warning", "no"] = "no"
    prompt: str = ""
    choices: tuple[str, ...] = ()


class Node(_Strict):
    """A row or column header of a table; leaves carry values, groups only a label."""

    key: str | None = None
    label: str
    short: str | None = None  # what summaries call it in a column header (新收, 结转下年度)
    type: ValueType = "count"
    derived: Literal["sum"] | None = None
    children: tuple[Node, ...] = ()
    # "money" columns whose unit the form does not print: the units a filler chooses from (in a
    # drop-down beside the value), each with its size in the first (smallest) one: {元 = 1, 万元 = 10000}
    units: dict[str, int] = {}

    @model_validator(mode="after")
    def _leaf_has_key(self) -> Node:
        if not self.children and not self.key:
            raise ValueError(f"leaf {self.label!r} needs a key")
        if self.children and self.derived:
            raise ValueError(f"group {self.label!r} cannot be derived")
        if (self.type == "money") != bool(self.units) or (self.units and next(iter(self.units.values())) != 1):
            raise ValueError(f"{self.label!r}: a money column lists its units, the first of size 1, and only it")
        return self


class Block(_Strict):
    """One rectangular grid: header rows from ``columns``, label columns from ``rows``."""

    key: str
    caption: str | None = None
    corner: str = ""
    label_columns: int = 1
    columns: tuple[Node, ...]
    rows: tuple[Node, ...]


class Table(_Strict):
    key: str
    landscape: bool = False
    blocks: tuple[Block, ...]


class Part(_Strict):
    """A sub-topic of a narrative section: a text area, optionally preceded by figures."""

    key: str
    label: str
    fields: tuple[Field, ...] = ()


class Section(_Strict):
    key: str
    heading: str
    kind: Literal["narrative", "table"]
    prompt: str = ""
    parts: tuple[Part, ...] = ()
    table: Table | None = None

    @model_validator(mode="after")
    def _kind_matches(self) -> Section:
        if (self.kind == "table") != (self.table is not None):
            raise ValueError(f"section {self.key}: kind {self.kind} and table do not agree")
        return self


class Rule(_Strict):
    """A rule of the form. ``kind`` names its implementation in rules.py; ``params`` are its arguments."""

    id: str
    kind: Literal[
        "equal_sums",
        "total_of",
        "file",
        "cell",
        "required",
        "year",
        "narrative",
        "zero_for_unit_types",
        "fee_magnitude",
        "narrative_mentions",
        "carry_over",
        "running_total",
        "same_as_last",
        "same_text_as_last",
        "narrative_figure",
        "narrative_year",
        "narrative_claim",
        "unit_chosen",
        "draft",
        "expected",
        "states",
        "deadline",
    ]
    severity: Severity
    title: str
    message: str
    table: str | None = None
    params: dict[str, Any] = {}
    source: str = ""  # where the rule comes from (the statute, the form, an assessment's criteria)
    default: bool = True  # run by every check; False: only when asked (`check --assess`) and by review

    @property
    def cross_year(self) -> bool:
        return self.kind in ("carry_over", "running_total", "same_as_last", "same_text_as_last")

    @property
    def for_filler(self) -> bool:
        """Listed in a template's 填报说明: checked on every workbook by default, of the workbook alone
        (not last year's, not the file, not a publication date only a published report has)."""
        # D-DRAFT (kind draft) concerns drafted copies only: their 填报说明 lists it with the drafted parts
        return self.default and not self.cross_year and self.kind not in ("file", "deadline", "draft", "expected")


class CellSet(_Strict):
    """Cells named by key and summed: ``cells`` (full keys: table cells, section fields), and/or
    ``table`` with ``rows`` × ``columns`` (row and column leaf keys of that table)."""

    cells: tuple[str, ...] = ()
    table: str | None = None
    rows: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()

    def cell_keys(self) -> tuple[str, ...]:
        return self.cells + tuple(f"{self.table}.{r}.{c}" for r in self.rows for c in self.columns)


class Quantity(CellSet):
    """A quantity the prose may state: phrases that name it and the cells that hold it.

    ``also``: other readings a stated figure may match without a finding (新收, or 新收+上年结转).
    ``context``: words one of which the sentence (or the one it continues) must contain.
    """

    key: str
    phrases: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    also: tuple[CellSet, ...] = ()


class Scope(_Strict):
    """A claim whose clause names only these words is about this quantity (行政复议 / 行政诉讼)."""

    words: tuple[str, ...]
    quantity: str


class Claim(_Strict):
    """A categorical statement: contradicted when its quantity is > 0 ("positive": the text says
    none) or is 0 ("zero": the text says some)."""

    key: str
    phrases: tuple[str, ...]
    quantity: str
    contradicted: Literal["positive", "zero"]
    context: tuple[str, ...] = ()
    scopes: tuple[Scope, ...] = ()


class Breakdown(_Strict):
    """Figures per column after a quantity of ``column`` in ``table`` (其中自然人N件): the words are
    the table's column labels (groups and leaves), except the ``skip`` leaves."""

    table: str
    column: str
    phrase: str  # {word} is one of the derived words
    skip: tuple[str, ...] = ()


class Narrative(_Strict):
    """The vocabulary of the narrative rules (kinds narrative_figure / _year / _claim).

    Phrases are regular expressions over the prose with whitespace removed and full-width digits
    made ASCII; ``{n}`` is a figure with its unit (by the quantity's value type, from ``units``),
    ``{n|条}`` one that may also be counted in the measure words after ``|`` (each worth the unit
    of 1; 申请 counted in 条 only where 申请 itself is counted), ``{y}`` a four-digit year,
    ``{name}`` a fragment.
    """

    units: dict[ValueType, dict[str, Decimal]]
    fragments: dict[str, str] = {}
    continues: tuple[str, ...] = ()  # a sentence opening so continues the sentence before it
    breakdown: Breakdown | None = None
    quantities: tuple[Quantity, ...] = ()
    claims: tuple[Claim, ...] = ()
    years: tuple[str, ...] = ()
    subsets: tuple[str, ...] = ()  # a part of the applications named before figures: they count it only

    def quantity(self, key: str) -> Quantity:
        return next(q for q in self.quantities if q.key == key)

    def placeholders(self, phrase: str) -> list[str]:
        return [m.group(1) for m in PLACEHOLDER.finditer(phrase)]


# {name}; {n|条|...}: a figure that may also be counted in these measure words (worth its unit of 1)
PLACEHOLDER = re.compile(r"\{([a-z_]+)(?:\|([^{}]+))?\}")


class DraftItem(_Strict):
    """One figure of a drafted sentence: the value of a narrative ``quantity`` in ``text``.

    ``text`` may hold {n} (the figure), {kinds} (its non-zero kinds in the form's order and words,
    along the ``kinds`` axis of its table) and {change} (on last year's figure, when it is known).
    A figure of 0 is said by ``zero``, or left out.
    """

    quantity: str
    text: str
    zero: str = ""
    kinds: Literal["rows", "columns"] | None = None


class DraftSentence(_Strict):
    """Items joined by ``join`` into ``text``'s {items}; every figure 0: ``none`` if it has one.
    {who} is the unit word (全县共…; empty in a unit's own report)."""

    text: str
    items: tuple[DraftItem, ...]
    join: str = "、"
    none: str = ""
    paragraph: bool = False  # starts a paragraph of its own


class DraftPart(_Strict):
    """The sentences drafted into one text part (``section.part``, e.g. "s1.on_request")."""

    part: str
    sentences: tuple[DraftSentence, ...]


class Change(_Strict):
    """{change}: a figure against last year's; {d} the difference, {p} the percentage (never on 0)."""

    up: str
    down: str
    same: str
    from_zero: str


class Drafting(_Strict):
    """What ``xltool draft`` and ``merge`` write into the empty text parts: the figures in words.

    ``areas``: a summary's unit word by how its unit's name ends once an ``offices`` suffix is
    taken off (青禾县人民政府 → 青禾县 → 全县); ``default_area`` otherwise.
    """

    areas: dict[str, str]
    offices: tuple[str, ...] = ()
    default_area: str
    change: Change
    parts: tuple[DraftPart, ...]


class Succession(_Strict):
    """How the cells of the form this one replaced correspond to this form's (cross-year rules and
    ``template --previous`` when last year's report is on the older form).

    In the ``same`` tables a cell key both forms have means the same thing; ``cells`` gives more
    counterparts (this form's key: the older form's keys, summed). Every other cell has none.
    """

    form_version: str
    same: tuple[str, ...] = ()
    cells: dict[str, tuple[str, ...]] = {}


class Deadline(_Strict):
    """When a unit of one level must publish its report of year Y: ``month``/``day`` of year Y+1.

    A unit belongs to the first deadline whose ``unit_types`` hold its 单位类型, or (type unknown or
    "其他") whose ``names`` (regular expressions over the name, normalised) match its name. No
    ``month``: the law sets no date for the level (乡镇, 街道), so there is no verdict.
    """

    level: str
    unit_types: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    month: int | None = None
    day: int | None = None
    source: str

    @model_validator(mode="after")
    def _date(self) -> Deadline:
        if (self.month is None) != (self.day is None):
            raise ValueError(f"deadline {self.level}: month and day together")
        if self.month is not None and self.day is not None:
            date(2001, self.month, self.day)  # raises on 2月30日
        for name in self.names:
            re.compile(name)
        return self

    def due(self, year: int) -> date | None:
        """The last day to publish the report of ``year`` (None: no statutory date)."""
        return None if self.month is None or self.day is None else date(year + 1, self.month, self.day)


class Indicator(_Strict):
    """A figure a supervisor compares across units: ``numerator``, or its share of ``denominator``."""

    key: str
    name: str
    numerator: CellSet
    denominator: CellSet | None = None

    @property
    def share(self) -> bool:
        return self.denominator is not None


class UnitInfo(_Strict):
    sheet: str
    title: str
    fields: tuple[Field, ...]


class MergePolicy(_Strict):
    """How merge combines cells: inputs by value type, unit fields one by one."""

    types: dict[ValueType, Literal["sum", "collect"]]
    unit: dict[str, Literal["summary", "blank"]]


class FormSpec(_Strict):
    form_version: str
    template_id: str
    title: str
    basis: str
    min_year: int
    max_year: int | None = None
    succeeds: Succession | None = None
    fee_implausible_wan: dict[str, Decimal]
    printed_units: dict[ValueType, tuple[str, ...]] = {}  # what a published figure may carry
    unit: UnitInfo
    sections: tuple[Section, ...]
    merge: MergePolicy
    rules: tuple[Rule, ...]
    narrative: Narrative | None = None
    drafting: Drafting | None = None
    deadlines: tuple[Deadline, ...] = ()
    indicators: tuple[Indicator, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> FormSpec:
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate rule ids")
        tables = {t.key: t for t in self.tables()}
        for rule in self.rules:
            if rule.table is not None and rule.table not in tables:
                raise ValueError(f"rule {rule.id}: unknown table {rule.table}")
        keys = [c.key for c in self.cells()]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate cell keys")
        if self.succeeds is not None:
            own = set(keys)
            unknown = [k for k in self.succeeds.cells if k not in own]
            if unknown:
                raise ValueError(f"succeeds.cells: unknown cells {unknown}")
        if set(self.merge.unit) != {f.key for f in self.unit.fields}:
            raise ValueError("merge.unit must name every unit field exactly once")
        used = {c.type for c in self.inputs()} | {f.type for _s, _p, f in self.fields()} | {"text"}
        if not used <= set(self.merge.types):
            raise ValueError(f"merge.types lacks {sorted(used - set(self.merge.types))}")
        if self.narrative is not None:
            self._narrative_consistent(self.narrative)
        if self.drafting is not None:
            self._drafting_consistent(self.drafting)
        self._review_consistent(set(keys))
        return self

    def _review_consistent(self, keys: set[str]) -> None:
        choices = next((f.choices for f in self.unit.fields if f.key == "unit_type"), ())
        for d in self.deadlines:
            unknown_types = [t for t in d.unit_types if t not in choices]
            if unknown_types:
                raise ValueError(f"deadline {d.level}: unknown unit types {unknown_types}")
        for ind in self.indicators:
            for cells in (ind.numerator, *([ind.denominator] if ind.denominator else [])):
                unknown = [k for k in cells.cell_keys() if k not in keys]
                if unknown or not cells.cell_keys():
                    raise ValueError(f"indicator {ind.key}: unknown cells {unknown}")

    def _drafting_consistent(self, d: Drafting) -> None:
        parts = {f"{s.key}.{p.key}" for s in self.sections if s.kind == "narrative" for p in s.parts}
        quantities = {q.key: q for q in self.narrative.quantities} if self.narrative else {}
        texts: list[tuple[str, set[str]]] = [(t, {"d", "p"}) for t in d.change.model_dump().values()]
        for part in d.parts:
            if part.part not in parts:
                raise ValueError(f"drafting: unknown part {part.part}")
            for sentence in part.sentences:
                texts += [(sentence.text, {"who", "items"}), (sentence.none, {"who"})]
                for item in sentence.items:
                    q = quantities.get(item.quantity)
                    if q is None:
                        raise ValueError(f"drafting {part.part}: unknown quantity {item.quantity}")
                    if item.kinds and (q.table is None or q.cells):
                        raise ValueError(f"drafting {part.part}: kinds of {item.quantity} need a table quantity")
                    texts += [(item.text, {"n", "kinds", "change"}), (item.zero, set())]
        for text, known in texts:
            if not {m.group(1) for m in PLACEHOLDER.finditer(text)} <= known:
                raise ValueError(f"drafting: {text!r} has an unknown placeholder")

    def _narrative_consistent(self, n: Narrative) -> None:
        types = {c.key: c.type for c in self.cells()} | {f"{s.key}.{f.key}": f.type for s, _p, f in self.fields()}
        quantities = {q.key for q in n.quantities}
        for q in n.quantities:
            for cells in (q, *q.also):
                unknown_keys = [k for k in cells.cell_keys() if k not in types]
                if unknown_keys or not cells.cell_keys():
                    raise ValueError(f"narrative quantity {q.key}: unknown cells {unknown_keys}")
            if len({types[k] for k in q.cell_keys()}) != 1 or types[q.cell_keys()[0]] not in n.units:
                raise ValueError(f"narrative quantity {q.key}: cells of one value type with units")
        for claim in n.claims:
            if not {claim.quantity, *(s.quantity for s in claim.scopes)} <= quantities:
                raise ValueError(f"narrative claim {claim.key}: unknown quantity")
        known = {"n", "y", "word", *n.fragments}
        breakdown = [n.breakdown.phrase] if n.breakdown else []
        phrases = [*(p for q in n.quantities for p in q.phrases), *(p for c in n.claims for p in c.phrases)]
        for phrase in [*phrases, *n.years, *breakdown, *n.subsets]:
            if not set(n.placeholders(phrase)) <= known:
                raise ValueError(f"narrative phrase {phrase!r}: unknown placeholder")
            if any(m.group(2) and m.group(1) != "n" for m in PLACEHOLDER.finditer(phrase)):
                raise ValueError(f"narrative phrase {phrase!r}: measure words are for {{n}} only")
            try:
                re.compile(PLACEHOLDER.sub("x", phrase))
            except re.error as exc:
                raise ValueError(f"narrative phrase {phrase!r}: {exc}") from None
        b = n.breakdown
        if b is not None and (b.table not in {t.key for t in self.tables()}):
            raise ValueError(f"narrative breakdown: unknown table {b.table}")

    # -- derived views -------------------------------------------------------------------
    def tables(self) -> list[Table]:
        return [s.table for s in self.sections if s.table is not None]

    def table(self, key: str) -> Table:
        return next(t for t in self.tables() if t.key == key)

    def section_of(self, table_key: str) -> Section:
        return next(s for s in self.sections if s.table is not None and s.table.key == table_key)

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)

    def rules_of(self, kind: str) -> list[Rule]:
        return [r for r in self.rules if r.kind == kind]

    def cells(self) -> tuple[TableCell, ...]:
        """Every value cell of every table, in reading order."""
        return self._cells

    @cached_property
    def _cells(self) -> tuple[TableCell, ...]:
        return tuple(c for table in self.tables() for block in table.blocks for c in block_cells(table.key, block))

    def inputs(self) -> list[TableCell]:
        return [c for c in self.cells() if not c.derived]

    @cached_property
    def by_key(self) -> Mapping[str, TableCell]:
        """Every table cell by its key, in reading order (TableCell.key is built on each call: the
        placer and review look keys up thousands of times a report, so they are worked out once)."""
        return MappingProxyType({c.key: c for c in self.cells()})

    @cached_property
    def derived_keys(self) -> frozenset[str]:
        """The keys of the totals."""
        return frozenset(k for k, c in self.by_key.items() if c.derived)

    @cached_property
    def input_keys(self) -> tuple[str, ...]:
        """The keys of the cells a clerk fills, in reading order."""
        return tuple(k for k in self.by_key if k not in self.derived_keys)

    def fields(self) -> Iterator[tuple[Section, Part, Field]]:
        for section in self.sections:
            for part in section.parts:
                for field in part.fields:
                    yield section, part, field

    def summed(self) -> list[str]:
        """Keys merge sums: table inputs, then the numeric fields of narrative sections."""
        tables = [c.key for c in self.inputs() if self.merge.types[c.type] == "sum"]
        fields = [f"{s.key}.{f.key}" for s, _p, f in self.fields() if self.merge.types.get(f.type) == "sum"]
        return tables + fields

    def deadline_for(self, unit_type: str, unit_name: str) -> Deadline | None:
        """The deadline of a unit's level, by its 单位类型, else by its name; None: level unknown."""
        for d in self.deadlines:
            if unit_type in d.unit_types:
                return d
        name = normalise(unit_name)
        if not name:
            return None
        return next((d for d in self.deadlines if any(re.search(p, name) for p in d.names)), None)

    def accepts_year(self, year: int) -> bool:
        return year >= self.min_year and (self.max_year is None or year <= self.max_year)

    @property
    def years(self) -> str:
        """The report years of this form, as messages say it: "2021 年及以后" / "2019—2020 年"."""
        if self.max_year is None:
            return f"{self.min_year} 年及以后"
        return f"{self.min_year}—{self.max_year} 年" if self.max_year > self.min_year else f"{self.min_year} 年"

    def chosen_units(self) -> list[tuple[TableCell, str]]:
        """The money cells and the keys of their unit cells."""
        return [(c, c.key + UNIT_SUFFIX) for c in self.inputs() if c.col.node.units]

    def counterparts(self, older: FormSpec) -> dict[str, tuple[str, ...]]:
        """This form's table keys -> the keys of ``older``'s cells they correspond to (summed).

        The same form: every cell is itself. The form this one succeeds: as its ``succeeds``
        declares. Any other pair of forms has no declared correspondence: empty.
        """
        if older.form_version == self.form_version:
            return {c.key: (c.key,) for c in self.cells()}
        link = self.succeeds
        if link is None or link.form_version != older.form_version:
            return {}
        theirs = {c.key for c in older.cells()}
        strangers = [k for keys in link.cells.values() for k in keys if k not in theirs]
        if strangers:  # checked here: the older form is another file
            raise DefinitionError(f"succeeds.cells: the {older.form_version} form has no cells {strangers}")
        out = {c.key: (c.key,) for c in self.cells() if c.table in link.same and c.key in theirs}
        return out | dict(link.cells)


@dataclass(frozen=True)
class Leaf:
    """A leaf of a header tree with its full key and the labels of its ancestors."""

    key: str
    node: Node
    path: tuple[Node, ...]  # ancestors, outermost first, not including the leaf
    siblings: tuple[str, ...]  # full keys of the non-derived leaves summed by a derived leaf

    @property
    def label(self) -> str:
        return self.node.label


@dataclass(frozen=True)
class TableCell:
    """A value cell of a table: the crossing of a row leaf and a column leaf."""

    table: str
    block: str
    row: Leaf
    col: Leaf

    @property
    def key(self) -> str:
        return f"{self.table}.{self.row.key}.{self.col.key}"

    @property
    def type(self) -> ValueType:
        return self.col.node.type if self.col.node.type != "count" else self.row.node.type

    @property
    def derived(self) -> bool:
        return bool(self.row.node.derived or self.col.node.derived)


_LEAVES: dict[int, tuple[tuple[Node, ...], tuple[Leaf, ...]]] = {}


def leaves(nodes: tuple[Node, ...]) -> list[Leaf]:
    """Flatten a header tree; a leaf's key joins the keys of its keyed ancestors with '_'.

    Trees are immutable parts of a loaded spec, so each is flattened once (keyed by identity).
    """
    hit = _LEAVES.get(id(nodes))
    if hit is None or hit[0] is not nodes:
        if len(_LEAVES) > 1024:  # trees built on the fly (not a spec's own) must not pile up
            _LEAVES.clear()
        hit = _LEAVES[id(nodes)] = (nodes, tuple(_flatten(nodes, "", ())))
    return list(hit[1])


def _flatten(nodes: tuple[Node, ...], prefix: str, path: tuple[Node, ...]) -> list[Leaf]:
    out: list[Leaf] = []
    for node in nodes:
        key = f"{prefix}_{node.key}" if prefix and node.key else (node.key or prefix)
        if node.children:
            out.extend(_flatten(node.children, key, (*path, node)))
        else:
            summed = _summed_keys(nodes, prefix) if node.derived else ()
            out.append(Leaf(key, node, path, summed))
    return out


def _summed_keys(siblings: tuple[Node, ...], prefix: str) -> tuple[str, ...]:
    return tuple(
        leaf.key for leaf in _flatten(tuple(n for n in siblings if not n.derived), prefix, ()) if not leaf.node.derived
    )


def block_cells(table_key: str, block: Block) -> Iterator[TableCell]:
    for row in leaves(block.rows):
        for col in leaves(block.columns):
            yield TableCell(table_key, block.key, row, col)


SPEC_FILES = {"2019": "gov_disclosure_2019.toml", "2021": "gov_disclosure_2021.toml"}
DEFAULT_VERSION = "2021"  # the current form: what a command uses when no year or file says otherwise


@cache
def load(version: str = DEFAULT_VERSION) -> FormSpec:
    """Load the definition of one form version."""
    try:
        name = SPEC_FILES[version]
    except KeyError:
        raise VersionError(version, supported()) from None
    text = resources.files("xltool.specs").joinpath(name).read_text(encoding="utf-8")
    return parse(text, name)


def parse(text: str, origin: str = "<string>") -> FormSpec:
    try:
        return FormSpec.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{origin}: {exc}") from None
    except ValidationError as exc:
        raise DefinitionError(f"{origin}: {exc}") from None


def for_year(year: int) -> FormSpec:
    """The form version that applies to a report year."""
    for version in SPEC_FILES:
        spec = load(version)
        if spec.accepts_year(year):
            return spec
    raise VersionError(str(year), supported())


@cache
def printed_units(vtype: ValueType | None = None) -> tuple[str, ...]:
    """The units a published figure of ``vtype`` may carry in any form (every type's when None), longest first."""
    found = {
        unit
        for version in SPEC_FILES
        for kind, units in load(version).printed_units.items()
        if vtype is None or kind == vtype
        for unit in units
    }
    return tuple(sorted(found, key=lambda u: (-len(u), u)))


def supported() -> str:
    """The known forms, as messages list them: 国办公开办函〔2019〕60号表式（2019—2020 年的年度报告）、…"""
    return "、".join(f"{s.basis}表式（{s.years}的年度报告）" for s in map(load, SPEC_FILES))
