"""Column headers as printed -> the form's columns of one block.

Two ways a report's header reaches us. *Aligned*: each column has its header cells above it (a
table grid with spans resolved, or text rows as wide as the figures below); each column's header
texts are matched to a leaf of the block's column tree (a repeated leaf label, 结果维持 under three
groups, is told apart by the group labels above it). *Flattened*: the header survives only as text
(a header spread over several rows written out one row after another, or run together in a line);
its labels are found in that text in order and read back into columns the way the rows of a header
print them: the top level left to right, then each group's sub-columns in the order printed.

A decode is ``certain`` when every column comes from a printed label in a place the tree allows.
Otherwise it is an assumption (a group label not printed, a garbled header, no header at all) and
the placer accepts it only where the printed totals agree (:func:`agrees`).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from xltool.form.spec import Block, Leaf, Node, leaves
from xltool.importers.labels import fold
from xltool.importers.lines import numbered
from xltool.importers.memo import Memo
from xltool.submission import Number

FUZZY = 0.8  # a printed label this similar to one of the form's (and clearly more than to any other) is it
MARGIN = 0.1
BY_ORDER = "（表头未能逐栏认出，按表式的栏目顺序）"


@dataclass(frozen=True)
class Columns:
    """Which of the block's leaf columns each printed value position holds."""

    leaves: tuple[Leaf | None, ...]  # per value position; None: not one of the block's columns
    labels: tuple[str, ...]  # per value position: the printed header text it was matched by
    certain: bool
    missing: tuple[Leaf, ...] = ()  # columns of the block the header does not print
    # not certain: whether what the header does print leaves the form's own order possible (a
    # garbled header, or one printed in the form's order over several rows) or rules it out
    form_order_possible: bool = True

    @property
    def found(self) -> int:
        return sum(leaf is not None for leaf in self.leaves)


def by_order(block: Block) -> Columns:
    """The form's own column order (no header to go by): an assumption, to be verified."""
    cols = leaves(block.columns)
    return Columns(tuple(cols), (BY_ORDER,) * len(cols), False)


# ---------------------------------------------------------------- matching one label


@cache
def _core(label: str) -> str:
    return fold(label)


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def fuzzy(text: str, candidates: Sequence[tuple[str, object]]) -> object | None:
    """The candidate whose (folded) label ``text`` resembles, when it is clearly the one."""
    if not text:
        return None
    scored = sorted(((similarity(text, core), i) for i, (core, _) in enumerate(candidates)), reverse=True)
    if not scored or scored[0][0] < FUZZY:
        return None
    if len(scored) > 1 and scored[0][0] - scored[1][0] < MARGIN:
        return None
    core, item = candidates[scored[0][1]]
    return item if 0.6 * len(core) <= len(text) <= 1.5 * len(core) else None


# ---------------------------------------------------------------- aligned headers


_ALIGNED: Memo[Columns] = Memo()
_FLATTENED: Memo[Columns | None] = Memo()


def aligned(paths: Sequence[Sequence[str]], block: Block) -> Columns:
    """Each value position's header texts (top to bottom) -> the block's leaves."""
    key = tuple(tuple(path) for path in paths)
    return _ALIGNED.get(block, key, lambda: _aligned(key, block))


def _aligned(paths: Sequence[Sequence[str]], block: Block) -> Columns:
    cols = leaves(block.columns)
    out: list[Leaf | None] = []
    labels: list[str] = []
    ambiguous: list[int] = []
    unknown: list[int] = []
    for k, path in enumerate(paths):
        texts = [fold(t) for t in path if t.strip()]
        leaf, label = _leaf_of(texts, cols)
        if leaf is None and label:
            ambiguous.append(k)
        elif leaf is None and texts and _own(texts[-1], block):
            unknown.append(k)
        out.append(leaf)
        labels.append(label or "")
    certain = not ambiguous
    if ambiguous:  # a repeated leaf label with no group above it: the k-th one printed is the form's k-th
        out = _by_sequence(out, labels, ambiguous, cols)
        placed = [id(c) for c in out if c is not None]
        certain = placed == [id(c) for c in cols]  # all of them, in the form's order: no other reading
    seen = {id(leaf) for leaf in out if leaf is not None}
    missing = [c for c in cols if id(c) not in seen]
    if unknown and len(unknown) == len(missing):  # headers the form does not name (数据1, 本年新): its order
        certain = False
        for k, leaf in zip(unknown, missing, strict=True):
            out[k], labels[k] = leaf, f"{paths[k][-1]}{BY_ORDER}"
        missing = []
    return Columns(tuple(out), tuple(labels), certain, tuple(missing))


def _own(text: str, block: Block) -> bool:
    """Whether a header cell may be one of the block's columns printed in other words: not its
    corner, caption or a group label (those stand above label columns or over several columns)."""
    others = {fold(block.corner), fold(block.caption or "")} | {_core(n.label) for n in _nodes(block) if n.children}
    return text not in others


def _leaf_of(texts: list[str], cols: list[Leaf]) -> tuple[Leaf | None, str]:
    """The leaf named by a column's header texts; (None, label) when the label names several."""
    if not texts:
        return None, ""
    hits: list[Leaf] = []
    label = ""
    for text in reversed(texts):  # the lowest header cell names the leaf
        hits = [c for c in cols if _core(c.label) == text]
        if not hits:
            hits = [c for c in cols if _core(c.label) in text and len(_core(c.label)) >= 3]
            hits = [
                c
                for c in hits
                if not any(_core(o.label) in text and _core(c.label) in _core(o.label) for o in hits if o is not c)
            ]
        if not hits:
            found = fuzzy(text, [(_core(c.label), c) for c in cols])
            hits = [found] if isinstance(found, Leaf) else []
        if hits:
            label = text
            break
    if not hits:
        return None, ""
    if len({c.key for c in hits}) == 1:
        return hits[0], label
    groups = set(texts)
    ranked = [(sum(_core(n.label) in groups for n in c.path), c) for c in hits]
    best = max(score for score, _ in ranked)
    chosen = [c for score, c in ranked if score == best]
    return (chosen[0], label) if best > 0 and len(chosen) == 1 else (None, label)


def _by_sequence(
    out: list[Leaf | None], labels: list[str], ambiguous: list[int], cols: list[Leaf]
) -> list[Leaf | None]:
    taken = {id(x) for x in out if x is not None}
    result = list(out)
    for k in ambiguous:
        same = [c for c in cols if _core(c.label) == labels[k] and id(c) not in taken]
        if same:
            result[k] = same[0]
            taken.add(id(same[0]))
    return result


# ---------------------------------------------------------------- flattened headers


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str
    nodes: tuple[Node, ...]


def flattened(variants: Sequence[str], block: Block) -> Columns | None:
    """The columns a header printed as text gives (each variant a way of reading its cells in
    order); a certain reading before an uncertain one, then the one naming the most columns. None
    when the text names none of the block's columns."""
    key = tuple(variants)
    return _FLATTENED.get(block, key, lambda: _flattened(key, block))


def _flattened(variants: Sequence[str], block: Block) -> Columns | None:
    best: Columns | None = None
    for text in variants:
        tokens = _tokens(fold(text), block)
        if not tokens:
            continue
        found = _decode(tokens, block)
        if best is None or (found.certain, found.found) > (best.certain, best.found):
            best = found
    return best


def header_cells(cells: Sequence[str]) -> list[str]:
    """The cells of a header context that may be header cells: not a numbered row label or
    heading (四、政府信息公开行政复议…, （六）其他处理), not a sentence."""
    return [c for c in cells if c.strip() and not numbered(c) and "。" not in c]


def _nodes(block: Block) -> list[Node]:
    out: list[Node] = []

    def walk(nodes: tuple[Node, ...]) -> None:
        for n in nodes:
            out.append(n)
            walk(n.children)

    walk(block.columns)
    return out


_CORES: dict[int, tuple[Block, dict[str, list[Node]]]] = {}


def _by_core(block: Block) -> dict[str, list[Node]]:
    """The block's column labels (folded) and the nodes that carry each (computed once per block)."""
    hit = _CORES.get(id(block))
    if hit is None or hit[0] is not block:
        by_core: dict[str, list[Node]] = {}
        for node in _nodes(block):
            by_core.setdefault(_core(node.label), []).append(node)
        hit = _CORES[id(block)] = (block, by_core)
    return hit[1]


def _tokens(text: str, block: Block) -> list[_Token]:
    by_core = _by_core(block)
    spans: list[tuple[int, int, str]] = []
    for core in by_core:
        i = text.find(core)
        while i >= 0 and core:
            spans.append((i, i + len(core), core))
            i = text.find(core, i + 1)
    chosen: list[tuple[int, int, str]] = []
    for start, end, core in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[0])):
        if all(end <= a or start >= b for a, b, _ in chosen):
            chosen.append((start, end, core))
    chosen.sort()
    tokens = [_Token(a, b, core, tuple(by_core[core])) for a, b, core in chosen]
    return _with_gaps(text, tokens, block, by_core)


def _with_gaps(text: str, tokens: list[_Token], block: Block, by_core: dict[str, list[Node]]) -> list[_Token]:
    """Tokens plus the gaps between them that resemble an unprinted leaf label (本年废纸件数)."""
    named = {t.text for t in tokens}
    unnamed = [(core, nodes) for core, nodes in by_core.items() if core not in named and not nodes[0].children]
    if not unnamed or not tokens:
        return tokens
    out: list[_Token] = []
    prev = 0
    for t in [*tokens, _Token(len(text), len(text), "", ())]:
        gap = text[prev : t.start]
        found = fuzzy(gap, unnamed) if gap else None
        if found is not None:
            out.append(_Token(prev, t.start, gap, tuple(found)))  # type: ignore[arg-type]
        if t.text:
            out.append(t)
        prev = t.end
    return out


def _decode(tokens: list[_Token], block: Block) -> Columns:
    """Read a header's labels back into columns, level by level (see the module docstring)."""
    pos = 0
    order: dict[int, list[Node]] = {}
    labels: dict[int, str] = {}
    certain = True

    def take(candidates: tuple[Node, ...]) -> list[Node]:
        nonlocal pos
        got: list[Node] = []
        while pos < len(tokens):
            match = [n for n in tokens[pos].nodes if any(n is c for c in candidates) and all(n is not g for g in got)]
            if not match:
                break
            got.append(match[0])
            labels[id(match[0])] = tokens[pos].text
            pos += 1
        return got

    roots = block.columns
    level = take(roots)
    if not level and len(roots) == 1 and roots[0].children:
        level = [roots[0]]  # 申请人情况 not printed: its sub-columns are the top level
    elif not level:
        certain = False
    elif len(level) < len(roots):
        certain = certain and all(not r.children for r in roots if all(r is not x for x in level))
    queue = [n for n in level if n.children]
    order[-1] = level
    while queue:
        nxt: list[Node] = []
        for group in queue:
            kids = take(group.children)
            if not kids:
                certain = False
            order[id(group)] = kids
            nxt += [k for k in kids if k.children]
        queue = nxt
    if pos < len(tokens):
        certain = False
    by_node = {id(c.node): c for c in leaves(block.columns)}
    placed: list[Leaf] = []

    def expand(nodes: list[Node]) -> None:
        for n in nodes:
            if n.children:
                expand(order.get(id(n), []))
            else:
                placed.append(by_node[id(n)])

    expand(order[-1])
    possible = True
    if not certain:
        sequence = _sequence(tokens, block)
        form = [id(c) for c in leaves(block.columns)]
        # the leaves printed one after another exactly as the form orders them (a header in one
        # row, without its group labels): read in any way, the columns are the form's
        leaf_tokens = [t for t in tokens if not t.nodes[0].children]
        certain = [id(c) for c in sequence] == form and len(leaf_tokens) == len(sequence)
        if certain:
            placed = sequence
        else:
            possible = _form_order_possible(sequence, block)
    seen = {id(c) for c in placed}
    missing = tuple(c for c in leaves(block.columns) if id(c) not in seen)
    return Columns(tuple(placed), tuple(labels.get(id(c.node), c.label) for c in placed), certain, missing, possible)


def _form_order_possible(sequence: list[Leaf], block: Block) -> bool:
    """Whether the leaf labels a header prints (in the order printed) allow the form's column order:
    a header naming fewer than half the columns is garbled and allows anything; otherwise its labels
    must come in the form's order, read across (one header row) or level by level (several rows)."""
    form = leaves(block.columns)
    if 2 * len(sequence) < len(form):
        return True
    printed = [id(c) for c in sequence]
    return any(_ascending(printed, [id(c) for c in order]) for order in (form, _by_level(block)))


def _ascending(printed: list[int], order: list[int]) -> bool:
    rank = {x: i for i, x in enumerate(order)}
    ranks = [rank[x] for x in printed]
    return ranks == sorted(ranks)


def _by_level(block: Block) -> list[Leaf]:
    """The form's leaves as a header over several rows prints them: level by level, left to right."""
    by_node = {id(c.node): c for c in leaves(block.columns)}
    out: list[Leaf] = []
    level: list[Node] = list(block.columns)
    while level:
        out += [by_node[id(n)] for n in level if not n.children]
        level = [k for n in level for k in n.children]
    return out


def _sequence(tokens: list[_Token], block: Block) -> list[Leaf]:
    """The leaf labels printed, in order, the k-th of a repeated label being the form's k-th (an
    assumption: a header printed in one row without its group labels)."""
    cols = leaves(block.columns)
    taken: set[int] = set()
    out: list[Leaf] = []
    for t in tokens:
        same = [c for c in cols if any(c.node is n for n in t.nodes) and id(c) not in taken]
        if same:
            out.append(same[0])
            taken.add(id(same[0]))
    return out


# ---------------------------------------------------------------- verification


def groups(block: Block) -> list[tuple[str, tuple[str, ...]]]:
    """The block's total columns: (total leaf key, the leaf keys it sums)."""
    return [(c.key, c.siblings) for c in leaves(block.columns) if c.node.derived]


def agrees(block: Block, row: dict[str, Number | None]) -> tuple[bool, bool]:
    """(every printed total of the row that can be checked agrees, at least one was checked)."""
    checked = False
    for total, parts in groups(block):
        value = row.get(total)
        if value is None or any(p not in row for p in parts):
            continue
        checked = True
        if sum((row[p] or 0 for p in parts), start=0) != value:
            return False, True
    return True, checked
