"""Finding the definition's labels in a :class:`~xltool.importers.stream.Stream`."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from xltool.form.spec import FormSpec, Node
from xltool.importers.labels import LabelForm, label_form, numbering_start
from xltool.importers.stream import Stream

CLOSING = "”’\"'」』"  # a label's closing quote belongs to the label, not to the figures after it
MIN_ALIAS = 5  # a label printed without its leading words (规范性文件) keeps at least this many characters


@dataclass(frozen=True)
class Hit:
    start: int  # raw position, including the printed numbering
    end: int  # raw position just after the label
    label: str
    numbered: bool = False  # the label's numbering is printed with it


def _folded_range(stream: Stream, lo: int, hi: int) -> tuple[int, int]:
    origin = stream.folded.origin
    return bisect.bisect_left(origin, lo), bisect.bisect_left(origin, hi)


def find_all(stream: Stream, label: str, lo: int, hi: int, spec: FormSpec | None = None) -> list[Hit]:
    """Every place ``label`` is printed between raw positions lo and hi (in order)."""
    form = label_form(label)
    hits = _find_core(stream, form.core, form, lo, hi)
    if not hits and spec is not None:
        for alias in _aliases(spec, form.core):
            hits = _find_core(stream, alias, form, lo, hi)
            if hits:
                break
    return hits


def _find_core(stream: Stream, core: str, form: LabelForm, lo: int, hi: int) -> list[Hit]:
    if not core:
        return []
    text, origin = stream.folded.text, stream.folded.origin
    flo, fhi = _folded_range(stream, lo, hi)
    out: list[Hit] = []
    i = text.find(core, flo, fhi)
    while i >= 0:
        raw_start, raw_end = origin[i], origin[i + len(core) - 1] + 1
        while raw_end < len(stream.raw) and stream.raw[raw_end] in CLOSING:
            raw_end += 1
        numbered = numbering_start(stream.raw, raw_start, form.number)
        if not (form.needs_number and numbered is None):
            out.append(Hit(raw_start if numbered is None else numbered, raw_end, form.label, numbered is not None))
        i = text.find(core, i + len(core), fhi)
    return out


def first(stream: Stream, label: str, lo: int, hi: int, spec: FormSpec | None = None) -> Hit | None:
    hits = find_all(stream, label, lo, hi, spec)
    return hits[0] if hits else None


_CORES: dict[int, tuple[FormSpec, tuple[str, ...]]] = {}


def _all_cores(spec: FormSpec) -> tuple[str, ...]:
    hit = _CORES.get(id(spec))
    if hit is None or hit[0] is not spec:
        hit = _CORES[id(spec)] = (spec, _cores(spec))
    return hit[1]


def _cores(spec: FormSpec) -> tuple[str, ...]:
    labels: list[str] = []

    def walk(nodes: tuple[Node, ...]) -> None:
        for n in nodes:
            labels.append(n.label)
            walk(n.children)

    for table in spec.tables():
        for block in table.blocks:
            walk(block.rows)
            walk(block.columns)
    return tuple(label_form(x).core for x in labels)


def _aliases(spec: FormSpec, core: str) -> list[str]:
    """Shorter prints of a label (``规范性文件`` for ``行政规范性文件``): suffixes that no other label has."""
    out = []
    others = [c for c in _all_cores(spec) if c != core]
    for k in range(1, len(core) - MIN_ALIAS + 1):
        suffix = core[k:]
        if not any(suffix in c for c in others):
            out.append(suffix)
    return out


def heading(stream: Stream, text: str, lo: int, hi: int, *, any_number: bool = False) -> Hit | None:
    """A section heading: its numbering (``三、``) printed, then the first four characters of its words.

    Reports reword headings (``存在的主要问题及整改措施``); the numbering and the opening words stay.
    ``any_number``: a heading numbered otherwise (a report that inserts a part of its own numbers
    the following ones on: ``四、收到和处理…``) is the heading too.
    """
    form = label_form(text)
    if any_number:
        form = LabelForm(form.label, "", form.core)
    prefix = form.core[:4]
    text_f, origin = stream.folded.text, stream.folded.origin
    flo, fhi = _folded_range(stream, lo, hi)
    i = text_f.find(prefix, flo, fhi)
    while i >= 0:
        raw_start = origin[i]
        numbered = (
            _any_numbering(stream.raw, raw_start) if any_number else numbering_start(stream.raw, raw_start, form.number)
        )
        if numbered is not None:
            if text_f.startswith(form.core, i):
                return Hit(numbered, origin[i + len(form.core) - 1] + 1, text)
            return Hit(numbered, origin[i + len(prefix) - 1] + 1, text)
        i = text_f.find(prefix, i + 1, fhi)
    return None


_HEADING_NUMBER = re.compile(
    r"(?:^|(?<=[\s。；;：:，,|]))[ \t\u3000]*(?:#+[ \t]*)?[一二三四五六七八九十]+、[ \t\u3000]*$"
)


def _any_numbering(raw: str, pos: int) -> int | None:
    """Where a heading numbering (``四、``) stands just before ``pos``, at a line or sentence start."""
    start = max(0, pos - 12)
    m = _HEADING_NUMBER.search(raw[start:pos])
    if m is None:
        return None
    return start + m.start() + len(m.group()) - len(m.group().lstrip(" \t\u3000#"))
