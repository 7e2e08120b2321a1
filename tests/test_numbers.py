"""The one number parser (xltool/numbers.py): what each reader of figures gets from the same text."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xltool.checks.narrative import parse_number
from xltool.importers.values import Doubt, parse_value
from xltool.numbers import chinese_number, number
from xltool.workbook.reader import _as_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("26", 26),
        (" 26 ", 26),
        ("２６", 26),
        ("-3", -3),
        ("+3", 3),
        ("1,295", 1295),
        ("1，295", 1295),  # a full-width comma is a comma after NFKC
        ("12,345,678", 12345678),
        ("3.5", Decimal("3.5")),
        ("1.50", Decimal("1.50")),
        ("2.0", 2),
        ("-0.25", Decimal("-0.25")),
        ("1,2,3", None),  # commas not in threes: not a number, never 123
        ("12,34", None),
        ("5.", None),
        (".5", None),
        ("1 000", None),
        ("十二", None),  # words only when asked
        ("", None),
        ("3件", None),  # a unit is the caller's
        ("١٢", None),  # digits of another script are not read as ours
    ],
)
def test_number(text: str, expected: int | Decimal | None) -> None:
    got = number(text)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(("text", "expected"), [("十二", 12), ("一百零五", 105), ("两万", 20000), ("二三", None)])
def test_number_in_words(text: str, expected: int | None) -> None:
    assert number(text, words=True) == expected == chinese_number(text)


@pytest.mark.parametrize("text", ["26", "1,295", "3.5", "2.0", "0", "1,2,3", "12,34", "十二"])
def test_every_reader_agrees_on_a_plain_figure(text: str) -> None:
    """A workbook's text cell, a published money cell and a figure in prose: the same number or none."""
    expected = number(text)
    assert _as_number(text) == expected
    money = parse_value(text, "yuan")
    assert (None if isinstance(money, Doubt) else money) == expected
    if text[0].isdigit() and expected is not None:
        assert parse_number(text) == expected


def test_a_count_is_a_whole_number_without_leading_zeros() -> None:
    assert parse_value("1,234件", "count") == 1234
    assert isinstance(parse_value("2.0", "count"), Doubt)
    assert isinstance(parse_value("0,123", "count"), Doubt)
    assert isinstance(parse_value("012", "count"), Doubt)
    assert parse_value("减12", "signed_count") == -12
    assert isinstance(parse_value("500元", "wan_yuan"), Doubt)  # another unit is a question, not a conversion
    assert parse_value("3.5万元", "wan_yuan") == Decimal("3.5")
