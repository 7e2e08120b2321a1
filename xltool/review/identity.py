"""Which unit a report belongs to: names compare as printed after :func:`xltool.text.normalise`
(full/half width, spaces). Two names that only nearly match (局 renamed 委员会, a word dropped) are
never the same unit: :func:`near` finds them so that a person can say.
"""

from __future__ import annotations

import re

from xltool.text import normalise

# what a name ends with that says what kind of body it is, not which one (longest first)
_KIND = re.compile(
    r"(?:人民政府办公室|人民政府办公厅|人民政府|办事处|管理委员会|委员会|管委会|办公室|办公厅|服务中心|管理局|中心|局|委|办|厅)$"
)
DROPPED = 3  # characters a name may lose (发展和改革局 / 发展改革局) and still be a question
SHORTEST = 4  # a name this short is too common a word to be a question by containment


def key(name: str | None) -> str:
    return normalise(name)


def stem(name: str) -> str:
    """A normalised name less what kind of body it is: 卫生健康局, 卫生健康委员会 -> 卫生健康."""
    return _KIND.sub("", name)


def near(a: str, b: str) -> bool:
    """Two different normalised names that may be one unit renamed or written another way: the same
    but for what kind of body (局 / 委员会), one inside the other, or one with a few characters left
    out. Names that differ by a character in place of another (东城 / 西城) are different units."""
    if not a or not b or a == b:
        return False
    sa, sb = stem(a), stem(b)
    if sa and sa == sb:
        return True
    short, long = sorted((a, b), key=len)
    if len(short) >= SHORTEST and short in long:
        return True
    short, long = sorted((sa, sb), key=len)
    return len(short) >= SHORTEST and 0 < len(long) - len(short) <= DROPPED and _subsequence(short, long)


def _subsequence(short: str, long: str) -> bool:
    rest = iter(long)
    return all(ch in rest for ch in short)
