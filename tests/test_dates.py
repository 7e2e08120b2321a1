"""The publication date a published report states (xltool/importers/dates.py), in every form pages print it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from xltool.importers.dates import PAGE_LABELS, PAGE_TIME, SIGNATURE, published
from xltool.importers.model import Document, Table, Text

UNIT = "青禾县交通运输局"
BODY = ["一、总体情况", "本报告所列数据的统计期限为2023年1月1日至2023年12月31日。", "六、其他需要报告的事项", "无。"]


def doc(*lines: str, table: bool = False) -> Document:
    blocks: list[Text | Table] = [Text(line, f"第 {i + 1} 行") for i, line in enumerate(lines)]
    if table:
        blocks.insert(1, Table((("发布时间：2024-01-05",),)))  # a table cell is never a page header
    return Document(Path("x.html"), "html", tuple(blocks))


@pytest.mark.parametrize(
    ("line", "when", "how"),
    [
        ("信息来源:兴化市大营镇 发布日期:2024-01-20 09:19 浏览次数:", date(2024, 1, 20), PAGE_LABELS),
        ("发布时间：2024年1月9日", date(2024, 1, 9), PAGE_LABELS),
        ("来源： 时间：2022-01-15 13:56 --> 微信", date(2022, 1, 15), PAGE_TIME),
        ("时间:2024/01/31", date(2024, 1, 31), PAGE_TIME),
    ],
)
def test_the_pages_own_date(line: str, when: date, how: str) -> None:
    found = published(doc(line, *BODY, UNIT, "2024年1月17日"), UNIT)
    assert found is not None and (found.date, found.how) == (when, how)


@pytest.mark.parametrize(
    "closing",
    [
        (UNIT, "2024年1月17日"),
        (f"无。 {UNIT} 2024年1月17日 附件下载",),
        (f"无。{UNIT}2024年1月17日",),
        (UNIT, "二〇二四年一月十七日"),
        ("2024 年 1 月 17 日",),
    ],
)
def test_the_date_under_the_signature(closing: tuple[str, ...]) -> None:
    found = published(doc(*BODY, *closing), UNIT)
    assert found is not None and (found.date, found.how) == (date(2024, 1, 17), SIGNATURE)


@pytest.mark.parametrize(
    "lines",
    [
        BODY,  # the period's dates stand inside a sentence
        [*BODY, "截至2023年12月31日"],  # a date after words is not a signature
        [*BODY, UNIT, "2024年2月30日"],  # no such day
        ["统计时间：2023年12月31日", *BODY],  # 统计时间 is not the page's time
    ],
)
def test_dates_that_are_not_publication_dates(lines: list[str]) -> None:
    assert published(doc(*lines), UNIT) is None


def test_the_signature_is_looked_for_only_at_the_end() -> None:
    lines = [*BODY[:2], UNIT, "2024年1月17日", *(["正文"] * 10)]
    assert published(doc(*lines), UNIT) is None
    assert published(doc(*BODY, table=True), UNIT) is None  # a date in a table cell is not the page's


def test_the_page_date_wins_over_the_signature() -> None:
    found = published(doc("时间：2024-02-01", *BODY, UNIT, "2024年1月17日"), UNIT)
    assert found is not None and found.date == date(2024, 2, 1) and found.quote == "时间：2024-02-01"


def test_the_real_pages(shared_reports: Path) -> None:
    from xltool.sources.importing import read_report

    expected = {
        "001_pingtan-gonganju_2021.txt": (date(2022, 1, 7), SIGNATURE),
        "004_pingtan-ziranziyuan_2020.txt": (date(2021, 1, 28), PAGE_TIME),
        "015_xinghua_daying_2023.txt": (date(2024, 1, 20), PAGE_LABELS),
        "025_shuyang_fgj_2023_full.txt": (date(2024, 1, 17), SIGNATURE),
        "series/gwh-2021.txt": (date(2022, 1, 15), PAGE_TIME),
        "series/gwh-2022.txt": None,  # the archive kept no date on the page: --dates gives it
        "chepaizi-2023.txt": None,
    }
    got = {}
    for name in expected:
        p = read_report(shared_reports / name).published
        got[name] = None if p is None else (p.date, p.how)
    assert got == expected
