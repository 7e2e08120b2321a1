"""A summary's key figures and unit rows: the columns of 单位明细, derived from the definition.

Shared by the merge (which writes them), its analytics (which compare them year over year) and
whatever reads a summary back.
"""

from __future__ import annotations

from dataclasses import dataclass

from xltool.form.spec import FormSpec, Leaf, Node, leaves
from xltool.submission import Number
from xltool.text import without_enumerator


@dataclass(frozen=True)
class Figure:
    """A key figure of 单位明细: the sum of some table cells (derived from the definition)."""

    name: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class UnitRow:
    """One unit of 单位明细.

    ``file`` is "" for an input's own unit and, for a unit that a summary lists, its file as that
    summary names it; ``status`` is "" until the merge decides.
    """

    name: str
    unit_type: str
    file: str
    status: str
    figures: tuple[Number, ...] | None
    carry: tuple[Number, ...] | None = None  # per column 上年结转, then 结转下年度 (analytics.Carry)


def key_figures(spec: FormSpec) -> tuple[Figure, ...]:
    """单位明细 columns: 表三 each outcome in its 总计 column, 表四 each group's 总计, 表二 one-column items."""
    ranked: list[tuple[int, Figure]] = []
    for table in spec.tables():
        for block in table.blocks:
            rows, cols = leaves(block.rows), leaves(block.columns)
            totals = [c for c in cols if c.node.derived]
            if block.label_columns and totals:
                for anchor, members in _groups(rows):
                    keys = tuple(f"{table.key}.{r.key}.{totals[-1].key}" for r in members)
                    ranked.append((0, Figure(short_name(anchor), keys)))
            elif not block.label_columns:
                for node in block.columns:
                    keys = tuple(
                        f"{table.key}.{r.key}.{c.key}" for r in rows for c in leaves((node,)) if c.node.derived
                    )
                    ranked.append((1, Figure(_short(node.label).removeprefix("行政") + "总计", keys)))
            elif len(cols) == 1:
                for r in rows:
                    money = "（万元）" if cols[0].node.type == "wan_yuan" else ""
                    ranked.append((2, Figure(short_name(r.node) + money, (f"{table.key}.{r.key}.{cols[0].key}",))))
    return tuple(f for _rank, f in sorted(ranked, key=lambda item: item[0]))


def _groups(rows: list[Leaf]) -> list[tuple[Node, list[Leaf]]]:
    """Row leaves grouped under their second-level header (（三）不予公开 gathers its eight reasons)."""
    groups: dict[int, tuple[Node, list[Leaf]]] = {}
    for leaf in rows:
        chain = (*leaf.path, leaf.node)
        anchor = chain[min(1, len(chain) - 1)]
        groups.setdefault(id(anchor), (anchor, []))[1].append(leaf)
    return list(groups.values())


def short_name(node: Node) -> str:
    """What a summary calls a row: the definition's ``short`` name, else its label without numbering
    and parenthesis (（三）不予公开 -> 不予公开)."""
    return node.short or _short(node.label)


def _short(label: str) -> str:
    return without_enumerator(label).split("（")[0]


def figures_of(spec: FormSpec, numbers: dict[str, Number]) -> tuple[Number, ...]:
    return tuple(sum((numbers[k] for k in f.keys), start=0) for f in key_figures(spec))
