"""Label text as the placer compares it: printed copies vary, the definition's labels do not.

A label matches when both sides agree after :func:`fold`: NFKC (full-width brackets, digits and
colons become half-width), Traditional characters as Simplified (``規章`` → ``规章``; opencc,
the only module importing it), quotes and list punctuation dropped, and all whitespace removed
(``第二十条  第(一)项``, ``商业\\n企业``). The definition's own numbering (``1.``, ``（一）``,
``一、``) is split off so a report may print sub-items with or without their numbers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import opencc

from xltool.text import ENUMERATOR

_DROP = frozenset("“”‘’\"'「」『』、,，.。:：;；·•")
_T2S = opencc.OpenCC("t2s")
_CN_DIGITS = "一二三四五六七八九十"


@cache
def fold_char(ch: str) -> str:
    """One character as labels compare it ("" for characters that never matter)."""
    if ch.isspace():
        return ""
    out = unicodedata.normalize("NFKC", ch)
    if len(out) == 1 and ord(out) > 0x2E7F:  # CJK: Traditional -> Simplified, one character for one
        simple = _T2S.convert(out)
        out = simple if len(simple) == 1 else out
    return "".join(c for c in out if c not in _DROP and not c.isspace())


def fold(text: str) -> str:
    return "".join(fold_char(ch) for ch in text)


@dataclass(frozen=True)
class Folded:
    """A text folded for matching, with the position in the original of every folded character."""

    text: str
    origin: tuple[int, ...]  # origin[i]: index in the original text of folded character i

    def start(self, i: int) -> int:
        return self.origin[i] if i < len(self.origin) else self.end_of_text

    end_of_text: int = 0


SHORT = 200  # texts up to this long recur from report to report (labels, cells): worth remembering


def fold_with_positions(text: str) -> Folded:
    """Fold a text, keeping where each folded character came from. Short texts (row labels, cells)
    are remembered; a whole report's text is not (it never recurs, and 4,096 of them held ~140 MB
    in a long review)."""
    return _fold_short(text) if len(text) <= SHORT else _fold(text)


@lru_cache(maxsize=4096)
def _fold_short(text: str) -> Folded:
    return _fold(text)


def _fold(text: str) -> Folded:
    """Fold a whole text, keeping where each folded character came from.

    Traditional text is converted as a whole first (phrases: 反覆 -> 反复), when the conversion
    keeps every character in its place, as it does for the characters of these reports.
    """
    simple = _T2S.convert(text)
    source = simple if len(simple) == len(text) else text
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(source):
        for c in fold_char(ch):
            chars.append(c)
            origin.append(i)
    return Folded("".join(chars), tuple(origin), len(text))


@dataclass(frozen=True)
class LabelForm:
    """A definition label split for matching: its numbering (``2``, ``七``) and the folded rest."""

    label: str
    number: str  # "" when the label has none
    core: str

    @property
    def needs_number(self) -> bool:
        """Short labels (``其他``, ``总计``) are recognised only with their numbering printed."""
        return bool(self.number) and len(self.core) <= 2


@cache
def label_form(label: str) -> LabelForm:
    m = ENUMERATOR.match(label.strip())
    if m is None:
        return LabelForm(label, "", fold(label))
    number = re.sub(r"[^0-9" + _CN_DIGITS + "]", "", m.group(0))
    return LabelForm(label, number, fold(label[m.end() :]))


def numbering_start(raw: str, pos: int, number: str) -> int | None:
    """Where the label's printed numbering starts if it stands just before ``pos`` in the raw text.

    ``00000002.其他法律…``: the ``2.`` before the label is its numbering, not the last digit of
    the row before. A bare digit without its separator is never taken as numbering.
    """
    if not number:
        return None
    start = max(0, pos - 12)
    window = raw[start:pos]
    num = "".join(f"[{d}{chr(ord(d) + 0xFEE0)}]" if d.isdigit() else d for d in number)
    if number in _CN_DIGITS:  # 六、 may be printed 6、
        arabic = str(_CN_DIGITS.index(number) + 1)
        num = f"(?:{number}|[{arabic}{chr(ord(arabic) + 0xFEE0)}])" if len(arabic) == 1 else f"(?:{number}|{arabic})"
    sep = "[.．、]" if number.isdigit() else "、"
    m = re.search(rf"(?:[(（]\s*{num}\s*[)）]|{num}\s*{sep})\s*$", window)
    if m is None:
        return None
    return start + m.start()
