"""Narrative rules: what the prose of the narrative sections says must agree with the tables.

Three kinds, parameterised by the definition's ``[narrative]`` vocabulary (form.spec.Narrative):
``narrative_figure`` (a stated figure differs from the table), ``narrative_year`` (the statistics
period or a 截至…年底 names another year than the report year) and ``narrative_claim`` (a
categorical statement — 未收到申请, 均已办结 — that the tables contradict).

Precision first: a figure counts only where a phrase of the vocabulary ends exactly at it with the
quantity's unit, the sentence has the quantity's context, no other quantity's phrase is as long, and
no part of the applications (自然人提出的申请中, 上年结转的申请中) is named before it in the sentence:
a figure belongs to the phrase that names it, never to one that only restricts the set. Everything
else is skipped. Chinese numerals are read by :func:`xltool.numbers.number`: the forms
reports use (两件, 十二件, 一百零五件) need a 30-line parser, not a dependency.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any

from xltool.checks.context import Context
from xltool.form.layout import Layout, compress
from xltool.form.spec import PLACEHOLDER, Claim, FormSpec, Leaf, Narrative, Node, Quantity, Rule, leaves
from xltool.numbers import CN_NUMERALS, number
from xltool.submission import Finding, Number
from xltool.text import ENUMERATOR

_WIDE = str.maketrans("０１２３４５６７８９．％", "0123456789.%")
NUMBER = rf"(?<![0-9.])[0-9]+(?:[,，][0-9]{{3}})*(?:\.[0-9]+)?|[{CN_NUMERALS}]+"  # 26, 1,295, 3.5, 十二
YEAR = r"(?<![0-9])(?:19|20)[0-9]{2}"
_SPACE = re.compile(r"\s")
_WIDE_CHARS = re.compile("[０-９．％]")
HAS_YEAR = re.compile(r"(?:19|20)[0-9]{2}")
SENTENCE_END = re.compile(r"[。！？!?]|\n")
WRAPPED = 15  # a line this long, ended without a full stop, was wrapped mid-sentence
CLAUSE = "，,；;：:。"
QUOTE_MAX = 30


# ---------------------------------------------------------------- numbers and text


def parse_number(text: str) -> Decimal | None:
    value = number(text, words=True)
    return None if value is None else Decimal(value)


@dataclass(frozen=True)
class Sentence:
    index: int
    original: str
    norm: str  # whitespace removed (kept as one space between ASCII letters/digits), digits ASCII
    pos: Sequence[int]  # norm index -> original index

    def quote(self, start: int, end: int, *, bounds: str = CLAUSE + "、（(") -> str:
        """The clause of norm[start:end], cut to QUOTE_MAX characters before its end."""
        cut = max(self.norm.rfind(ch, 0, start) for ch in bounds) + 1
        text = self.original[self.pos[cut] : self.pos[end - 1] + 1].replace("\n", "").strip()
        return text if len(text) <= QUOTE_MAX else "…" + text[-(QUOTE_MAX - 1) :]

    def clause(self, start: int, end: int) -> str:
        left = max(self.norm.rfind(ch, 0, start) for ch in CLAUSE) + 1
        rights = [i for i in (self.norm.find(ch, end) for ch in CLAUSE) if i >= 0]
        return self.norm[left : min(rights, default=len(self.norm))]


@lru_cache(maxsize=64)
def sentences(text: str) -> tuple[Sentence, ...]:
    """The sentences of a text (each rule kind reads the same texts: split once)."""
    out: list[Sentence] = []
    start = 0
    ascii_digits = text.translate(_WIDE) if _WIDE_CHARS.search(text) else text  # one for one: positions stay
    for m in [*SENTENCE_END.finditer(text), None]:
        if m is not None and m.group() == "\n" and _wrapped(text, m.start()):
            continue
        end = m.end() if m else len(text)
        norm, pos = _normalize(ascii_digits, start, end)
        if norm.strip("。！？!? "):
            out.append(Sentence(len(out), text, norm, pos))
        start = end
    return tuple(out)


def _wrapped(text: str, at: int) -> bool:
    """A line break inside a sentence: a long line before it, no full stop, no heading after it."""
    line = text[text.rfind("\n", 0, at) + 1 : at].strip()
    after = text[at + 1 : text.find("\n", at + 1) if "\n" in text[at + 1 :] else len(text)]
    return len(line) >= WRAPPED and line[-1] not in "。！？!?" and bool(after.strip()) and not ENUMERATOR.match(after)


def _normalize(text: str, start: int, end: int) -> tuple[str, Sequence[int]]:
    segment = text[start:end]
    if not _SPACE.search(segment):
        return segment, range(start, end)
    chars: list[str] = []
    pos: list[int] = []
    for m in re.finditer(r"\S+", segment):
        if chars and chars[-1].isascii() and chars[-1].isalnum() and m.group()[0].isascii() and m.group()[0].isalnum():
            chars.append(" ")
            pos.append(start + m.start() - 1)
        chars.extend(m.group())
        pos.extend(range(start + m.start(), start + m.end()))
    return "".join(chars), tuple(pos)


# ---------------------------------------------------------------- what the prose says


@dataclass(frozen=True)
class Stated:
    """A figure attributed to a quantity: ``keys`` hold it, ``also`` are other readings."""

    sentence: int
    quantity: str
    value: Decimal
    keys: tuple[str, ...]
    also: tuple[tuple[str, ...], ...]
    quote: str
    span: tuple[int, int]  # the figure, in the sentence's norm


@dataclass(frozen=True)
class Claimed:
    sentence: int
    claim: Claim
    quantity: str
    quote: str


@dataclass(frozen=True)
class YearStated:
    sentence: int
    year: int
    quote: str


@dataclass(frozen=True)
class _Hit:
    quantity: Quantity
    value: Decimal
    start: int
    end: int
    figure: tuple[int, int]


class Reader:
    """The compiled vocabulary of one definition."""

    def __init__(self, spec: FormSpec, vocabulary: Narrative) -> None:
        self.spec, self.v = spec, vocabulary
        types = {c.key: c.type for c in spec.cells()} | {f"{s.key}.{f.key}": f.type for s, _p, f in spec.fields()}
        self.units = {q.key: vocabulary.units[types[q.cell_keys()[0]]] for q in vocabulary.quantities}
        self.words = _breakdown_words(spec, vocabulary)
        phrases = [p for q in vocabulary.quantities for p in q.phrases]
        phrases += [vocabulary.breakdown.phrase] if vocabulary.breakdown else []
        measures = {u for units in vocabulary.units.values() for u in units}
        measures |= {u for p in phrases for u in _measures(p, {})}
        any_unit = sorted(measures, key=len, reverse=True)
        self.has_figure = re.compile(f"[0-9{CN_NUMERALS}](?:{'|'.join(any_unit)})")  # cheap: a digit, a unit
        # each text is read by three kinds: once
        self.figures = lru_cache(maxsize=64)(self._figures)
        self.claims = lru_cache(maxsize=64)(self._claims)
        self.years = lru_cache(maxsize=64)(self._years)

    # patterns are compiled on first use: a text without figures never needs the figure phrases
    @cached_property
    def figures_of(self) -> list[tuple[Quantity, re.Pattern[str], dict[str, Decimal]]]:
        out = []
        for q in self.v.quantities:
            for p in q.phrases:
                units = _measures(p, self.units[q.key])
                out.append((q, re.compile(self._expand(p, units)), units))
        return out

    @cached_property
    def claims_of(self) -> list[tuple[Claim, list[re.Pattern[str]]]]:
        return [(c, [re.compile(self._expand(p)) for p in c.phrases]) for c in self.v.claims]

    @cached_property
    def years_of(self) -> list[re.Pattern[str]]:
        return [re.compile(self._expand(p)) for p in self.v.years]

    @cached_property
    def subsets_of(self) -> list[re.Pattern[str]]:
        words = "|".join(sorted(map(re.escape, self.words), key=len, reverse=True)) or "(?!)"
        return [re.compile(self._expand(p, word=f"(?:{words})")) for p in self.v.subsets]

    @cached_property
    def breakdown(self) -> re.Pattern[str] | None:
        b = self.v.breakdown
        if b is None or not self.words:
            return None
        count = _measures(b.phrase, next(iter(self.v.units.values())))
        alternation = "|".join(sorted(map(re.escape, self.words), key=len, reverse=True))
        return re.compile(self._expand(b.phrase, count, word=f"(?P<w>{alternation})"))

    def _expand(self, phrase: str, units: dict[str, Decimal] | None = None, word: str = "") -> str:
        years = iter(range(100))

        def one(m: re.Match[str]) -> str:
            name = m.group(1)
            if name == "n":
                assert units is not None, f"{{n}} outside a quantity: {phrase}"
                return f"(?P<n>{NUMBER})(?P<u>{'|'.join(sorted(units, key=len, reverse=True))})"
            if name == "y":
                return f"(?P<y{next(years)}>{YEAR})"
            if name == "word":
                return word
            return f"(?:{self.v.fragments[name]})"

        return PLACEHOLDER.sub(one, phrase)

    # -- figures ------------------------------------------------------------------------
    def _figures(self, text: str, label: str = "") -> tuple[Stated, ...]:
        """The figures a text states; ``label`` is the part it is written under (its context too)."""
        out: list[Stated] = []
        previous: Sentence | None = None
        head: Stated | None = None
        for s in sentences(text):
            carried = previous is not None and s.norm.startswith(self.v.continues)
            context = _context(s, previous, label)
            found: list[Stated] = []
            if self.has_figure.search(s.norm):
                found = self._sentence_figures(s, context)
                found += self._breakdowns(s, found, head if carried else None)
                part = self._part_from(s)
                found = [f for f in found if f.span[0] < part]
            found.sort(key=lambda f: f.span)
            out.extend(found)
            heads = [f for f in found if self._is_head(f)]
            head = heads[-1] if heads else (head if carried else None)
            previous = s
        return tuple(out)

    def _part_from(self, s: Sentence) -> int:
        """Where the sentence first names a part of the applications (自然人提出的申请中, 上年结转的
        申请中): the figures from there to its end count that part only, not the table's whole."""
        return min((m.start() for rx in self.subsets_of for m in rx.finditer(s.norm)), default=len(s.norm))

    def _sentence_figures(self, s: Sentence, context: str) -> list[Stated]:
        hits: dict[tuple[int, int], list[_Hit]] = {}
        for q, rx, units in self.figures_of:
            if q.context and not any(w in context for w in q.context):
                continue
            for m in rx.finditer(s.norm):
                value = parse_number(m.group("n"))
                if value is None:
                    continue
                hit = _Hit(q, value * units[m.group("u")], m.start(), m.end(), m.span("n"))
                hits.setdefault(hit.figure, []).append(hit)
        out: list[Stated] = []
        for figure, candidates in hits.items():
            longest = max(h.end - h.start for h in candidates)
            best = {h.quantity.key: h for h in candidates if h.end - h.start == longest}
            if len(best) != 1:
                continue  # two quantities claim the figure equally: skipped, not guessed
            h = next(iter(best.values()))
            also = tuple(a.cell_keys() for a in h.quantity.also)
            out.append(
                Stated(s.index, h.quantity.key, h.value, h.quantity.cell_keys(), also, s.quote(h.start, h.end), figure)
            )
        return out

    def _is_head(self, f: Stated) -> bool:
        b = self.v.breakdown
        return b is not None and all(k.startswith(f"{b.table}.") and k.endswith(f".{b.column}") for k in f.keys)

    def _breakdowns(self, s: Sentence, found: list[Stated], carried: Stated | None) -> list[Stated]:
        if self.breakdown is None:
            return []
        taken = {f.span for f in found}
        out: list[Stated] = []
        for m in self.breakdown.finditer(s.norm):
            heads = [f for f in found if self._is_head(f) and f.span[1] <= m.start()]
            head = heads[-1] if heads else carried
            value = parse_number(m.group("n"))
            if head is None or value is None or m.span("n") in taken:
                continue
            columns = self.words[m.group("w")]
            keys = _per_column(head.keys, columns)
            also = tuple(_per_column(a, columns) for a in head.also)
            quantity = f"{head.quantity}·{m.group('w')}"
            out.append(Stated(s.index, quantity, value, keys, also, s.quote(m.start(), m.end()), m.span("n")))
        return out

    # -- claims and years ---------------------------------------------------------------
    def _claims(self, text: str, label: str = "") -> tuple[Claimed, ...]:
        out: list[Claimed] = []
        previous: Sentence | None = None
        for s in sentences(text):
            context = _context(s, previous, label)
            spans: list[tuple[int, int, Claim]] = []
            for claim, patterns in self.claims_of:
                if claim.context and not any(w in context for w in claim.context):
                    continue
                spans += [(m.start(), m.end(), claim) for rx in patterns for m in rx.finditer(s.norm)]
            for start, end, claim in _outermost(spans):
                scope = _scope(claim, s.clause(start, end), s.norm[:start])
                out.append(Claimed(s.index, claim, scope, s.quote(start, end)))
            previous = s
        return tuple(out)

    def _years(self, text: str) -> tuple[YearStated, ...]:
        """Each year a sentence's statistics period or 截至…年底 names, once per sentence."""
        out: dict[tuple[int, int], YearStated] = {}
        for s in sentences(text):
            if not HAS_YEAR.search(s.norm):
                continue
            for rx in self.years_of:
                for m in rx.finditer(s.norm):
                    for name, year in m.groupdict().items():
                        if year is not None and name.startswith("y"):
                            out.setdefault(
                                (s.index, int(year)), YearStated(s.index, int(year), s.quote(m.start(), m.end()))
                            )
        return tuple(sorted(out.values(), key=lambda y: (y.sentence, y.year)))


def _measures(phrase: str, units: dict[str, Decimal]) -> dict[str, Decimal]:
    """The units a phrase's figure may have: its quantity's, and the measure words its ``{n|条}``
    adds, each worth the quantity's unit of 1 (申请 counted in 条 where 申请 itself is counted)."""
    extra = [w for m in PLACEHOLDER.finditer(phrase) if m.group(1) == "n" and m.group(2) for w in m.group(2).split("|")]
    return units | {w: Decimal(1) for w in extra}


def _context(s: Sentence, previous: Sentence | None, label: str) -> str:
    """Where a quantity's or claim's context words are looked for: the sentence, the sentence
    before it (本年度收到政府信息公开申请3件。所有申请均已办结。) and the part's label
    (（二）依申请公开)."""
    return f"{s.norm}\n{previous.norm if previous else ''}\n{label}"


def _outermost(spans: list[tuple[int, int, Claim]]) -> list[tuple[int, int, Claim]]:
    """Overlapping claim phrases: the longest stands (行政复议均获维持 over 均获维持)."""
    kept: list[tuple[int, int, Claim]] = []
    for span in sorted(spans, key=lambda t: (t[0] - t[1], t[0])):
        if all(span[1] <= k[0] or span[0] >= k[1] for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda t: t[0])


def _scope(claim: Claim, clause: str, before: str) -> str:
    """The scope the claim's clause names; if it names none, the one the sentence named last
    (行政复议2件，均获维持); if it names several, the claim's own quantity (all of them)."""
    named = [s for s in claim.scopes if any(w in clause for w in s.words)]
    if not named:
        last = {s.quantity: max(before.rfind(w) for w in s.words) for s in claim.scopes}
        named = [s for s in claim.scopes if last[s.quantity] >= 0 and last[s.quantity] == max(last.values())]
    return named[0].quantity if len(named) == 1 else claim.quantity


def _per_column(keys: tuple[str, ...], columns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f"{k.rsplit('.', 1)[0]}.{c}" for k in keys for c in columns))


def _breakdown_words(spec: FormSpec, v: Narrative) -> dict[str, tuple[str, ...]]:
    """Column labels of the breakdown table: a leaf names itself, a group its leaves."""
    if v.breakdown is None:
        return {}
    b = v.breakdown
    words: dict[str, tuple[str, ...]] = {}

    def walk(nodes: tuple[Node, ...], prefix: str) -> list[str]:
        keys: list[str] = []
        for node in nodes:
            key = f"{prefix}_{node.key}" if prefix and node.key else (node.key or prefix)
            if node.children:
                inner = walk(node.children, key)
                if all(not n.derived for n in node.children):
                    words[node.label] = tuple(inner)
                keys += inner
            elif not node.derived:
                keys.append(key)
                if key not in b.skip:
                    words[node.label] = (key,)
        return keys

    for block in spec.table(b.table).blocks:
        walk(block.columns, "")
    return words


_READERS: dict[int, tuple[FormSpec, Reader | None]] = {}


def reader_for(spec: FormSpec) -> Reader | None:
    """The compiled vocabulary of a spec (None without one), built once per spec object."""
    hit = _READERS.get(id(spec))
    if hit is None or hit[0] is not spec:
        reader = Reader(spec, spec.narrative) if spec.narrative is not None else None
        hit = _READERS[id(spec)] = (spec, reader)
    return hit[1]


# ---------------------------------------------------------------- naming table cells


def target(spec: FormSpec, layout: Layout, keys: tuple[str, ...]) -> tuple[str, str]:
    """How a message names cells (表三 一、本年新收政府信息公开申请数量 总计) and where they are."""
    sheet, _cell = layout.locate(keys[0])
    where = f"{sheet.name}!{','.join(compress([layout.locate(k)[1].address for k in keys]))}"
    cells = {c.key: c for c in spec.cells()}
    if keys[0] not in cells:
        return layout.locate(keys[0])[1].what, where
    table = cells[keys[0]].table
    block = next(b for b in spec.table(table).blocks if b.key == cells[keys[0]].block)
    rows = list(dict.fromkeys(cells[k].row.key for k in keys))
    cols = list(dict.fromkeys(cells[k].col.key for k in keys))
    numeral = spec.section_of(table).heading.split("、")[0]
    col_name = _name(leaves(block.columns), cols)
    name = (
        f"表{numeral} {_name(leaves(block.rows), rows)} {col_name}"
        if block.label_columns
        else f"表{numeral} {col_name}"
    )
    return name, where


def _name(all_leaves: list[Leaf], keys: list[str]) -> str:
    chosen = [leaf for leaf in all_leaves if leaf.key in keys]
    if len(chosen) > 1:
        for group in _groups(all_leaves):
            inside = [leaf for leaf in all_leaves if group in leaf.path and not leaf.node.derived]
            if [leaf.key for leaf in inside] == [leaf.key for leaf in chosen]:
                return group.label
    labels = "+".join(dict.fromkeys(_short(leaf.label) for leaf in chosen))
    repeated = any(sum(leaf.label == c.label for leaf in all_leaves) > 1 for c in chosen)
    if not repeated:
        return labels
    common = [n for n in chosen[0].path if all(n in c.path for c in chosen)]
    prefix = common[-1].label if common else "、".join(dict.fromkeys(c.path[0].label for c in chosen if c.path))
    return f"{prefix}·{labels}"


def _groups(all_leaves: list[Leaf]) -> list[Node]:
    return list({id(n): n for leaf in all_leaves for n in leaf.path}.values())


def _short(label: str) -> str:
    """（二）部分公开（区分处理的，只计这一情形，不计其他情形） → （二）部分公开."""
    m = re.fullmatch(r"(.+?)（[^（）]{9,}）", label)
    return m.group(1) if m else label


# ---------------------------------------------------------------- the rule kinds


def _texts(spec: FormSpec) -> Iterator[tuple[str, str]]:
    """(key, label) of every text part of the narrative sections."""
    for section in spec.sections:
        if section.kind == "narrative":
            for part in section.parts:
                yield f"{section.key}.{part.key}", part.label


def _value(ctx: Context, keys: tuple[str, ...]) -> Number | None:
    """The sum of cells, or None when one of them could not be read."""
    total: Number = 0
    for key in keys:
        if key in ctx.numbers:
            if key in ctx.unknown:
                return None
            total += ctx.numbers[key]
        else:
            v = ctx.sub.values.get(key)
            if not isinstance(v, int | Decimal):
                return None
            total += v
    return total


def _finding(
    ctx: Context, rule: Rule, at: str, keys: tuple[str, ...], value: Any, expected: Number, quote: str
) -> Finding:
    name, where = target(ctx.spec, ctx.layout, keys)
    return ctx.finding(rule, at, value, expected, quote=quote, target=name, where=where)


def narrative_figure(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """A stated figure differs from the table (and from every other reading the vocabulary allows).

    A table whose every figure is 0 while the prose mentions applications is P-ZERO-TABLES's to
    report (kind narrative_mentions): its figures are not reported again here."""
    reader = reader_for(ctx.spec)
    if reader is None:
        return
    covered: set[str] | None = None  # worked out at the first figure: most texts state none
    for at, label in _texts(ctx.spec):
        for f in reader.figures(ctx.sub.text(at), label):
            covered = _zero_mentions(ctx) if covered is None else covered
            if f.keys[0].split(".")[0] in covered:
                continue
            readings = [_value(ctx, keys) for keys in (f.keys, *f.also)]
            if None in readings or f.value in readings:
                continue
            expected = readings[0]
            assert expected is not None
            yield _finding(ctx, rule, at, f.keys, _plain(f.value), expected, f.quote)


def narrative_claim(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """A categorical statement the tables contradict; where the same sentence states a figure of
    the claim's quantity, N-FIGURE speaks for it."""
    reader = reader_for(ctx.spec)
    if reader is None or ctx.spec.narrative is None:
        return
    for at, label in _texts(ctx.spec):
        text = ctx.sub.text(at)
        figures = reader.figures(text, label) if reader.has_figure.search(text) else ()
        stated = {(f.sentence, f.quantity) for f in figures}
        for c in reader.claims(text, label):
            if (c.sentence, c.quantity) in stated:
                continue
            keys = ctx.spec.narrative.quantity(c.quantity).cell_keys()
            value = _value(ctx, keys)
            if value is None:
                continue
            if (value > 0) if c.claim.contradicted == "positive" else (value == 0):
                yield _finding(ctx, rule, at, keys, c.quote, value, c.quote)


def narrative_year(ctx: Context, rule: Rule) -> Iterator[Finding]:
    reader = reader_for(ctx.spec)
    year = ctx.sub.year
    if reader is None or year is None:
        return
    for at, _label in _texts(ctx.spec):
        for y in reader.years(ctx.sub.text(at)):
            if y.year != year:
                yield ctx.finding(rule, at, y.year, year, quote=y.quote)


def _plain(value: Decimal) -> Number:
    return int(value) if value == value.to_integral_value() else value


KINDS = {"narrative_figure": narrative_figure, "narrative_year": narrative_year, "narrative_claim": narrative_claim}


def narrative_mentions(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """Every figure of ``rule.table`` is 0 while the prose states a positive figure of one of its
    quantities, read with the vocabulary N-FIGURE reads (one finding: the first such statement)."""
    if any(ctx.numbers[c.key] for c in ctx.spec.cells() if c.table == rule.table):
        return
    reader = reader_for(ctx.spec)
    if reader is None:
        return
    for at, label in _texts(ctx.spec):
        for f in reader.figures(ctx.sub.text(at), label):
            if f.value > 0 and all(k.split(".")[0] == rule.table for k in f.keys):
                yield ctx.finding(rule, at, f.quote, 0, quote=f.quote)
                return


def _zero_mentions(ctx: Context) -> set[str]:
    """Tables that P-ZERO-TABLES (kind narrative_mentions) reports: all 0, the prose says otherwise."""
    return {r.table for r in ctx.spec.rules_of("narrative_mentions") if r.table and any(narrative_mentions(ctx, r))}
