"""The roster (名单): the units expected to report, from a .csv or .xlsx with a 单位名称 column.

Its columns are the form's own unit-information labels (单位名称, optionally 单位类型 and 上级单位),
so a roster can pre-fill templates (``xltool template --roster``) and tell a merge who has not
submitted (``xltool merge --roster``). A roster that cannot be used is a run problem (UsageError). The file is read by
:mod:`xltool.sources.rosters`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from xltool.errors import UsageError
from xltool.form.spec import FormSpec
from xltool.submission import Value
from xltool.text import normalise

# Unit fields a roster may carry, by definition key; the first is required.
FIELDS = ("unit_name", "unit_type", "parent_unit")
HEADER_SEARCH = 10  # rows searched for the header (a title row may stand above it)


@dataclass(frozen=True)
class Member:
    """One unit on the roster; ``fields`` maps unit-field keys (unit_name, …) to their text."""

    row: int  # 1-based row in the roster file, for messages
    fields: tuple[tuple[str, str], ...]

    @property
    def name(self) -> str:
        return dict(self.fields)["unit_name"]

    def values(self) -> dict[str, Value]:
        """Template values (``unit.<key>``) of the fields the roster gives."""
        return {f"unit.{key}": text for key, text in self.fields if text}


@dataclass(frozen=True)
class Roster:
    path: str
    members: tuple[Member, ...]

    def compare(self, submitted: Iterable[str]) -> tuple[list[str], list[str]]:
        """(on the roster but not submitted, submitted but not on the roster), names compared normalised."""
        names = {normalise(n): n for n in submitted if n}
        listed = {normalise(m.name) for m in self.members}
        missing = [m.name for m in self.members if normalise(m.name) not in names]
        unlisted = sorted(n for key, n in names.items() if key not in listed)
        return missing, unlisted


def from_rows(rows: list[tuple[Any, ...]], spec: FormSpec, path: str) -> Roster:
    """The roster in ``rows`` (a sheet or CSV as read; ``path`` names it in messages)."""
    labels = {f.key: f.label for f in spec.unit.fields if f.key in FIELDS}
    header_at, columns = _header(path, rows, labels)
    choices = next(f.choices for f in spec.unit.fields if f.key == "unit_type")
    members: list[Member] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        fields = tuple((key, _text(row, i)) for key, i in columns.items())
        member = Member(number, fields)
        if not member.name:
            continue
        unit_type = dict(fields).get("unit_type", "")
        if unit_type and unit_type not in choices:
            raise UsageError(
                f"名单 {path} 第 {number} 行：单位类型“{unit_type}”不在可选范围内（{'、'.join(choices)}）。"
            )
        key = normalise(member.name)
        if key in seen:
            raise UsageError(f"名单 {path} 中“{member.name}”出现了两次（第 {seen[key]} 行和第 {number} 行）。")
        seen[key] = number
        members.append(member)
    if not members:
        raise UsageError(f"名单 {path} 中没有单位（“{labels['unit_name']}”列是空的）。")
    return Roster(str(path), tuple(members))


def _header(path: str, rows: list[tuple[Any, ...]], labels: dict[str, str]) -> tuple[int, dict[str, int]]:
    wanted = {normalise(label): key for key, label in labels.items()}
    for at, row in enumerate(rows[:HEADER_SEARCH]):
        found = {wanted[normalise(v)]: i for i, v in enumerate(row) if normalise(v) in wanted}
        if "unit_name" in found:
            return at, {key: found[key] for key in FIELDS if key in found}
    raise UsageError(
        f"名单 {path} 中没有“{labels['unit_name']}”列。名单的第一行应为列名："
        f"{labels['unit_name']}（必需）、{labels['unit_type']}、{labels['parent_unit']}（可选）。"
    )


def _text(row: tuple[Any, ...], i: int) -> str:
    v = row[i] if i < len(row) else None
    return "" if v is None else str(v).strip()
