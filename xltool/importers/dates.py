"""When a published report says it was published: the page's 发布时间, its ``时间：``, or the date under
the signature, in that order of trust.

A web page prints its publication date in its header (``发布时间：2024-01-31``, ``来源： 时间：2022-01-15
13:56``); a report closes with the unit's name and a date (``平潭综合实验区公安局 2022年1月7日``, or the
date on a line of its own). The signature date is the date the report was signed: the publication is on
it or later, so a signature after the deadline proves lateness. Dates inside sentences (统计期限为
2023年1月1日至2023年12月31日) are not publication dates and are never taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from xltool.importers.model import Document, Text
from xltool.numbers import chinese_number

PAGE_LABELS, PAGE_TIME, SIGNATURE = "发布时间", "页面时间", "落款日期"

_NUMERIC = r"(?P<y>(?:19|20)\d\d)\s*(?:年|[-/.．])\s*(?P<m>\d{1,2})\s*(?:月|[-/.．])\s*(?P<d>\d{1,2})(?!\d)\s*日?"
_CN = "〇零○Ｏ一二三四五六七八九十"
_CHINESE = rf"(?P<cy>[{_CN}]{{4}})\s*年\s*(?P<cm>[{_CN}]{{1,3}})\s*月\s*(?P<cd>[{_CN}]{{1,3}})\s*日"
_LABELLED = re.compile(rf"(?:发布|公开|发表|发文)(?:时间|日期)\s*[:：]?\s*(?:{_NUMERIC})")
_TIME = re.compile(rf"(?<![\u4e00-\u9fff])时间\s*[:：]\s*(?:{_NUMERIC})")
_FURNITURE = r"(?:[\s\u3000]*(?:附件下载|附件|打印本页|打印|关闭窗口|关闭|【[^】]{0,8}】))*[\s\u3000]*$"
_SIGNED_NUMERIC = re.compile(rf"(?P<y>(?:19|20)\d\d)\s*年\s*(?P<m>\d{{1,2}})\s*月\s*(?P<d>\d{{1,2}})\s*日{_FURNITURE}")
_SIGNED_CHINESE = re.compile(rf"(?:{_CHINESE}){_FURNITURE}")
SIGNATURE_LINES = 8  # the signature stands among the document's last lines of text


@dataclass(frozen=True)
class Published:
    """A publication date, where it came from (PAGE_LABELS, PAGE_TIME, SIGNATURE) and the words that say it."""

    date: date
    how: str
    quote: str
    where: str = ""


def published(doc: Document, unit: str | None = None) -> Published | None:
    """The report's publication date as the document states it, or None."""
    texts = [b for b in doc.blocks if isinstance(b, Text)]
    for how, pattern in ((PAGE_LABELS, _LABELLED), (PAGE_TIME, _TIME)):
        for block in texts:
            for m in pattern.finditer(block.text):
                found = _numeric(m)
                if found is not None:
                    return Published(found, how, m.group(0).strip(), block.where)
    return _signature(_lines(doc), unit)


def _lines(doc: Document) -> list[Text]:
    """The document's text in order: its paragraphs, and the lines a table was inferred from (text
    and unruled PDF may put a closing signature's short lines into such a table); a grid's cells
    are not lines of text."""
    out: list[Text] = []
    for block in doc.blocks:
        if isinstance(block, Text):
            out.append(block)
        elif not block.exact:
            out += [Text(t, w) for t, w in zip(block.row_texts, block.row_wheres, strict=False)]
    return out


def _signature(texts: list[Text], unit: str | None) -> Published | None:
    lines = [(line, block.where) for block in texts for line in block.text.split("\n") if line.strip()]
    for line, where in reversed(lines[-SIGNATURE_LINES:]):
        for m in reversed([*_SIGNED_NUMERIC.finditer(line), *_SIGNED_CHINESE.finditer(line)]):
            if not _stands_alone(line, m.start(), unit):
                continue
            found = _numeric(m) if m.groupdict().get("y") else _chinese(m)
            if found is not None:
                return Published(found, SIGNATURE, line[m.start() : m.end()].strip(), where)
    return None


def _stands_alone(line: str, start: int, unit: str | None) -> bool:
    """The date opens its line, follows a space, or follows the unit's name (…公安局2022年1月7日)."""
    before = line[:start].rstrip(" \t\u3000")
    if not before or len(before) < start:
        return True
    return bool(unit) and before.endswith(re.sub(r"\s+", "", unit or ""))


def _numeric(m: re.Match[str]) -> date | None:
    return _valid(int(m.group("y")), int(m.group("m")), int(m.group("d")))


def _chinese(m: re.Match[str]) -> date | None:
    digits = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0, "Ｏ": 0}
    if any(c not in digits for c in m.group("cy")):
        return None
    year = int("".join(str(digits[c]) for c in m.group("cy")))
    month, day = chinese_number(m.group("cm")), chinese_number(m.group("cd"))
    return None if month is None or day is None else _valid(year, month, day)


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
