"""What a report says outside its tables: unit and year from the title, and the narrative sections."""

from __future__ import annotations

import re
from dataclasses import dataclass

from xltool.form.spec import FormSpec, Section
from xltool.importers.find import Hit
from xltool.importers.labels import fold, label_form
from xltool.importers.model import Document
from xltool.importers.stream import Stream

_TITLE_WORDS = r"政府信息公开(?:工作)?(?:年度)?报告|政府信息公开工作|政府信息公开|政务公开"
_TITLES = (
    re.compile(rf"^(?P<unit>.+?)(?P<year>20\d\d)\s*年度?\s*(?:{_TITLE_WORDS})"),
    re.compile(rf"^(?P<year>20\d\d)\s*年度?\s*(?P<unit>.+?)(?:{_TITLE_WORDS})"),
    re.compile(r"^(?P<unit>.+?)政府信息公开工作\s*(?P<year>20\d\d)\s*年度?\s*报告"),
)
_TITLE_PREFIX = re.compile(r"^\s*(?:#+\s*)?(?:title\s*[:：]|标题\s*[:：]|名称\s*[:：]?)?\s*", re.I)
MAX_TITLE = 60


@dataclass(frozen=True)
class Title:
    unit: str | None
    year: int | None
    text: str | None


def title(doc: Document, stream: Stream) -> Title:
    """The report's unit and year as its title states them (its format's title first, then its first lines)."""
    candidates = [doc.title] if doc.title else []
    lines = [line for line in stream.raw.split("\n")[:40] if line.strip()]
    head = lines[:30]
    candidates += head + [" ".join(head[i : i + 2]) for i in range(len(head) - 1)]
    for text in candidates:
        found = _from_title(text or "")
        if found is not None:
            return found
    return Title(None, None, None)


def _from_title(text: str) -> Title | None:
    s = _TITLE_PREFIX.sub("", text.strip())
    s = re.sub(r"\s+", "", s)
    if len(s) > MAX_TITLE + 20 or "http" in s.lower():
        return None
    for pattern in _TITLES:
        m = pattern.match(s)
        if m:
            unit = m.group("unit").strip("《》“”\"' ：:，,")
            if unit and len(unit) <= MAX_TITLE and not re.search(r"[。；;！!？?，,《》（）()]|^根据|^关于", unit):
                return Title(unit, int(m.group("year")), s)
    return None


def narratives(
    stream: Stream,
    spec: FormSpec,
    anchors: dict[str, Hit | None],
    ends: dict[str, int],
    wrapped: bool = False,
    unit: str | None = None,
) -> tuple[dict[str, str], frozenset[str]]:
    """Each narrative section's text, split into its parts where the report prints their headings,
    and the sections of several parts whose text was not split (it is all in the first part).

    ``wrapped``: the lines are a page's lines (PDF), so a paragraph's lines are joined again.
    """
    out: dict[str, str] = {}
    unsplit: set[str] = set()
    keys = [s.key for s in spec.sections]
    for i, section in enumerate(spec.sections):
        if section.kind != "narrative" or not section.parts:
            continue
        start = _start(section, i, spec, anchors, ends, stream.raw)
        if start is None:
            continue
        later = [a.start for k in keys[i + 1 :] if (a := anchors[k]) is not None and a.start >= start]
        text = stream.raw[start : min(later) if later else len(stream.raw)]
        text = _without_signature(text, unit) if i == len(spec.sections) - 1 or not later else text
        parts = split_parts(section, text)
        if parts is None:
            parts = {section.parts[0].key: _clean(text), **{p.key: "" for p in section.parts[1:]}}
            unsplit.update([section.key] if len(section.parts) > 1 and parts[section.parts[0].key] else [])
        for part_key, part_text in parts.items():
            out[f"{section.key}.{part_key}"] = _unwrap(part_text) if wrapped else part_text
    return out, frozenset(unsplit)


def _start(
    section: Section, i: int, spec: FormSpec, anchors: dict[str, Hit | None], ends: dict[str, int], raw: str
) -> int | None:
    own = anchors.get(section.key)
    if own is not None:
        return own.end
    before = spec.sections[i - 1] if i > 0 else None
    if before is not None and before.key in ends:  # heading left out: the text after the table before it
        return ends[before.key]
    return _renamed(section, i, spec, anchors, raw)


def _renamed(section: Section, i: int, spec: FormSpec, anchors: dict[str, Hit | None], raw: str) -> int | None:
    """A heading with the section's number but other words (一、工作基本情况 for 一、总体情况): the first
    line that starts with the number, between the sections found before and after it."""
    number = section.heading.split("、", 1)[0] + "、"
    lo = max((a.end for s in spec.sections[:i] if (a := anchors.get(s.key)) is not None), default=0)
    hi = min((a.start for s in spec.sections[i + 1 :] if (a := anchors.get(s.key)) is not None), default=-1)
    if hi < lo:
        return None  # no later section found: the section's place is unknown
    m = re.search(rf"(?m)^[ \t\u3000]*{number}[^\n]*$", raw[lo:hi])
    return lo + m.end() if m else None


_PART = re.compile(r"(?:^|\n|(?<=[。；;：:]))[ \t\u3000]*(?:#+[ \t]*)?[(（]([一二三四五六七八九十])[)）]")


def split_parts(section: Section, text: str) -> dict[str, str] | None:
    """The section's parts: by the part headings printed in order (（一）…（N）, one for each part),
    matched to the form's parts by their words where they differ in order; None when the report
    does not print them (then the whole text is the first part)."""
    parts = section.parts
    marks = list(_PART.finditer(text))
    numbers = [m.group(1) for m in marks]
    wanted = [label_form(p.label).number for p in parts]
    if len(parts) > 1 and numbers == wanted:
        chunks = [
            text[m.start() : (marks[j + 1].start() if j + 1 < len(marks) else len(text))] for j, m in enumerate(marks)
        ]
        lead = _clean(text[: marks[0].start()])
        order = _by_words(parts, chunks)
        out = {p.key: "" for p in parts}
        for part, chunk in zip(order, chunks, strict=True):
            out[part.key] = _without_heading(_clean(chunk), part.label)
        if lead:
            first_key = parts[0].key
            out[first_key] = (lead + "\n" + out[first_key]).strip()
        return out
    return None


def _by_words(parts: tuple, chunks: list[str]) -> list:
    """Parts in the order the chunks print them: a chunk whose heading has a part's words goes there
    (the heading line only: the text after it may name the other part, 针对……存在的主要问题)."""
    chosen = []
    for chunk in chunks:
        head = fold(chunk.strip().split("\n", 1)[0][:40])
        best = [p for p in parts if _shares(fold(label_form(p.label).core), head)]
        chosen.append(best[0] if len(best) == 1 else None)
    if None not in chosen and len(set(id(p) for p in chosen)) == len(parts):
        return chosen
    return list(parts)


def _shares(core: str, head: str, k: int = 4) -> bool:
    return any(core[i : i + k] in head for i in range(max(len(core) - k + 1, 1)))


_DATE = re.compile(r"^\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$")


def _without_signature(text: str, unit: str | None) -> str:
    """The report's closing lines (the unit's name, the date) are not part of its last section, nor is
    what a web page prints after them (share links, the site's footer)."""
    lines = text.rstrip().split("\n")
    if unit:
        for i in range(len(lines) - 1, -1, -1):
            line = lines[i].strip()
            after_name = i > 0 and fold(lines[i - 1]) == fold(unit) and _DATE.match(line)
            if after_name or (line.startswith(unit) and _DATE.match(line.removeprefix(unit).strip())):
                lines = lines[: i + 1]
                break
    while lines and (
        _DATE.match(lines[-1].strip())
        or (unit and fold(lines[-1]) in (fold(unit), ""))
        or (unit and _DATE.match(lines[-1].strip().removeprefix(unit).strip()))
    ):
        lines.pop()
    return "\n".join(lines)


_HEADING_SUFFIX = 2  # （一）主动公开方面: the form's heading and a word such as 方面, 情况


def _without_heading(text: str, label: str) -> str:
    """A part's text less its first line when that line is only the form's part heading (and a word)."""
    head, _, rest = text.partition("\n")
    h, form = fold(head), fold(label)
    return rest.strip() if h.startswith(form) and len(h) - len(form) <= _HEADING_SUFFIX else text


def _clean(text: str) -> str:
    lines = [re.sub(r"^#+\s*", "", line.strip()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line).strip()


_ENDS = "。！？!?；;：:"


def _unwrap(text: str) -> str:
    """Join a paragraph's page lines: a line that does not end a sentence continues on the next."""
    out: list[str] = []
    for line in text.split("\n"):
        if out and out[-1] and out[-1][-1] not in _ENDS and not _PART.match(line):
            out[-1] += line
        else:
            out.append(line)
    return "\n".join(out)
