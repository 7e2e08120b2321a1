"""The one reading of a number written as text: a workbook's text cell, a published report's table
cell, a figure in a report's prose.

No xltool imports here (the bottom of the layer order). What a number may look like is decided here
once; what surrounds it (a sign word such as 增/减, a unit such as 件 or 万元, whether a count may have
a fraction) is the caller's: the importer's grammar, the narrative rules' phrases.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

# 26, -3, 1,295 (groups of three only), 3.5; full-width digits, signs and commas after NFKC.
_DECIMAL = re.compile(r"([+-]?)([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?")
_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMERALS = "零〇一二两三四五六七八九十百千万"  # the characters of a count written in words


def number(text: str, *, words: bool = False) -> int | Decimal | None:
    """The number a text holds, or None: an int when it is whole (``2.0`` → 2), else a Decimal.

    Digits with an optional sign, thousands grouped by commas only in threes (``1,2,3`` is not a
    number: a guess is worse than a question), an optional fraction. ``words``: a count written in
    Chinese numerals (十二, 一百零五) is read too.
    """
    s = unicodedata.normalize("NFKC", text).strip()
    m = _DECIMAL.fullmatch(s)
    if m is None:
        return chinese_number(s) if words and s else None
    whole = int(m.group(2).replace(",", ""))
    if m.group(3) is not None and m.group(3).strip("0"):
        value: int | Decimal = Decimal(f"{whole}.{m.group(3)}")
    else:
        value = whole
    return -value if m.group(1) == "-" else value


def chinese_number(text: str) -> int | None:
    """零 〇 一 … 九, 两, 十 百 千 万 as reports write counts: 十二 → 12, 一百零五 → 105, 两万 → 20000."""
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            if digit is not None and digit != 0 and _CN_DIGITS[ch] != 0:
                return None  # 二三: not a numeral
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        elif ch == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            return None
    return total + section + (digit or 0)
