"""A form's workbook as xlsxwriter writes it, cut once at every cell of the layout and then filled.

xlsxwriter builds each workbook from nothing: formats, merged ranges, validations and the XML of
some 2,500 cells, nearly all the same in every workbook of a form. :mod:`xltool.workbook.template`
lets it write one workbook of a form (and of one set of marks: locked, drafted, notes), and a
:class:`Skeleton` keeps that package cut at the layout's cells. Filling puts each cell back as
xlsxwriter writes it: a number as ``%.16G``, a text as its index in the shared-string table (in the
order the cells are written, repeats counted), a formula with its cached value; the custom
properties, and the zip entries as xlsxwriter makes them. The bytes are xlsxwriter's
(tests/test_template_fill.py compares them on every sample, report and odd value).

What xlsxwriter writes in a way of its own (control characters and their ``_xHHHH_`` escapes,
text past a cell's or a property's limit, rich-text markup, NaN, other types) is not filled:
:meth:`Skeleton.fill` returns None and xlsxwriter writes that workbook.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SHARED_STRINGS = "xl/sharedStrings.xml"
CUSTOM_PROPERTIES = "docProps/custom.xml"
MAX_TEXT = 32767  # UTF-16 units of a cell's text (xlsxwriter truncates longer text and says so)
MAX_PROPERTY = 255  # UTF-16 units of a text property (xlsxwriter refuses longer)

# Text xlsxwriter changes on its way into the XML, or cannot encode: left to xlsxwriter.
_UNUSUAL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]|_x[0-9a-fA-F]{4}_")
_PRESERVE = re.compile(r"^\s|\s$")  # xlsxwriter's test for xml:space="preserve"
_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"( s="\d+")?[^>]*?(?:/>|>(.*?)</c>)', re.S)
_FORMULA = re.compile(r"<f>(.*?)</f>", re.S)
_STRING_ITEM = re.compile(r"<si>.*?</si>", re.S)
_COUNTS = re.compile(r'count="\d+" uniqueCount="\d+"')
_PROPERTY_VALUE = re.compile(r"<vt:lpwstr>.*?</vt:lpwstr>", re.S)


@dataclass(frozen=True)
class Formula:
    """A formula cell: its text as the layout gives it, and the value shown until it is recalculated."""

    text: str
    cached: Any


@dataclass(frozen=True)
class _Slot:
    """One cell of the layout in a sheet part: where it goes, its style attribute, its formula as written."""

    cell: int  # index in the sheet's cells (the order they are written)
    head: str  # '<c r="D6" s="12"'
    formula: str  # the <f> text as xlsxwriter wrote it ("" when the cell was not a formula)


@dataclass(frozen=True)
class _Part:
    """A sheet part: literal XML around its slots (``chunks`` has one more item than ``slots``)."""

    chunks: tuple[str, ...]
    slots: tuple[_Slot, ...]
    formulas: frozenset[int]  # the cells written as formulas (the only ones that may hold a Formula)


class Skeleton:
    """One xlsxwriter package of a form, cut at the layout's cells (build with :meth:`cut`)."""

    def __init__(
        self,
        infos: list[zipfile.ZipInfo],
        static: dict[str, bytes],
        sheets: dict[str, _Part],
        strings: tuple[str, str],
        properties: tuple[str, ...],
    ) -> None:
        self.infos, self.static, self.sheets = infos, static, sheets
        self.strings, self.properties = strings, properties

    @classmethod
    def cut(cls, package: bytes, addresses: Sequence[Sequence[str]]) -> Skeleton | None:
        """The package xlsxwriter wrote, with ``addresses[i]`` the cells of sheet i+1 in the order
        they are written. None when the package is not laid out as expected (every cell once)."""
        with zipfile.ZipFile(io.BytesIO(package)) as zf:
            infos = zf.infolist()
            parts = {i.filename: zf.read(i).decode("utf-8") for i in infos}
        sheets: dict[str, _Part] = {}
        for n, wanted in enumerate(addresses, start=1):
            name = f"xl/worksheets/sheet{n}.xml"
            part = _cut_sheet(parts.get(name, ""), wanted)
            if part is None:
                return None
            sheets[name] = part
        table = parts.get(SHARED_STRINGS, "")
        counts = _COUNTS.search(table)
        items = list(_STRING_ITEM.finditer(table))
        values = _PROPERTY_VALUE.split(parts.get(CUSTOM_PROPERTIES, ""))
        if counts is None or not items:
            return None
        head = table[: counts.start()]
        tail = table[items[-1].end() :]
        static = {k: v.encode("utf-8") for k, v in parts.items() if k not in sheets and k != SHARED_STRINGS}
        static.pop(CUSTOM_PROPERTIES, None)
        return cls(infos, static, sheets, (head, tail), tuple(values))

    def fill(self, contents: Sequence[Sequence[Any]], properties: Sequence[str]) -> bytes | None:
        """The package with each sheet's cells holding ``contents`` (per sheet, in the cells' order:
        None or "" blank, int or float a number, str a text, :class:`Formula`) and the custom
        properties ``properties`` (in the skeleton's order). None: not written here exactly as
        xlsxwriter writes it (the caller lets xlsxwriter write it)."""
        if len(properties) != len(self.properties) - 1 or not all(plain_property(p) for p in properties):
            return None
        index: dict[str, int] = {}
        writes = 0
        cells: list[list[str]] = []
        parts = list(self.sheets.values())
        if len(contents) != len(parts):
            return None
        for part, sheet in zip(parts, contents, strict=True):
            shown: list[str] = []
            for i, content in enumerate(sheet):
                kind = content.__class__
                if kind is Formula:
                    if i not in part.formulas or not _plain_result(content.cached):
                        return None
                    shown.append("")
                elif content is None or content == "":
                    shown.append("")
                elif kind is int or (kind is float and math.isfinite(content)):
                    shown.append(format(content, ".16G"))
                elif kind is str and plain_text(content):
                    writes += 1
                    shown.append(str(index.setdefault(content, len(index))))
                else:
                    return None
            cells.append(shown)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=False) as zf:
            for info in self.infos:
                name = info.filename
                if name in self.sheets:
                    n = int(name.removeprefix("xl/worksheets/sheet").removesuffix(".xml"))
                    data = _fill_sheet(self.sheets[name], contents[n - 1], cells[n - 1])
                elif name == SHARED_STRINGS:
                    data = self._shared_strings(index, writes)
                elif name == CUSTOM_PROPERTIES:
                    data = _interleave(self.properties, [f"<vt:lpwstr>{_escape(p)}</vt:lpwstr>" for p in properties])
                else:
                    zf.writestr(_entry(info), self.static[name])
                    continue
                zf.writestr(_entry(info), data.encode("utf-8"))
        return out.getvalue()

    def _shared_strings(self, index: dict[str, int], writes: int) -> str:
        head, tail = self.strings
        items = "".join(
            f'<si><t xml:space="preserve">{_escape(s)}</t></si>'
            if _PRESERVE.search(s)
            else f"<si><t>{_escape(s)}</t></si>"
            for s in index
        )
        return f'{head}count="{writes}" uniqueCount="{len(index)}">{items}{tail}'


def _cut_sheet(xml: str, wanted: Sequence[str]) -> _Part | None:
    order = {address: i for i, address in enumerate(wanted)}
    if len(order) != len(wanted):
        return None
    chunks: list[str] = []
    slots: list[_Slot] = []
    at = 0
    for m in _CELL.finditer(xml):
        address = m.group(1)
        if address not in order:
            continue
        formula = _FORMULA.search(m.group(3) or "")
        chunks.append(xml[at : m.start()])
        slots.append(_Slot(order[address], f'<c r="{address}"{m.group(2) or ""}', formula.group(1) if formula else ""))
        at = m.end()
    chunks.append(xml[at:])
    if len(slots) != len(wanted):
        return None
    return _Part(tuple(chunks), tuple(slots), frozenset(s.cell for s in slots if s.formula))


def _fill_sheet(part: _Part, contents: Sequence[Any], shown: list[str]) -> str:
    out = [part.chunks[0]]
    for slot, chunk in zip(part.slots, part.chunks[1:], strict=True):
        content = contents[slot.cell]
        if content.__class__ is Formula:
            out.append(_formula(slot, content.cached))
        elif not shown[slot.cell]:
            out.append(slot.head + "/>")
        elif content.__class__ is str:
            out.append(f'{slot.head} t="s"><v>{shown[slot.cell]}</v></c>')
        else:
            out.append(f"{slot.head}><v>{shown[slot.cell]}</v></c>")
        out.append(chunk)
    return "".join(out)


def _formula(slot: _Slot, cached: Any) -> str:
    """A formula cell as xlsxwriter writes it: a text result is typed ``str``, a number is not."""
    if cached.__class__ is str:
        return f'{slot.head} t="str"><f>{slot.formula}</f><v>{_escape(cached)}</v></c>'
    return f"{slot.head}><f>{slot.formula}</f><v>{cached}</v></c>"


def _interleave(chunks: Sequence[str], items: Sequence[str]) -> str:
    out = [chunks[0]]
    for item, chunk in zip(items, chunks[1:], strict=True):
        out += (item, chunk)
    return "".join(out)


def _entry(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A zip entry like xlsxwriter's (its date, its file mode): a copy of the skeleton's."""
    entry = zipfile.ZipInfo(info.filename, info.date_time)
    entry.compress_type = info.compress_type
    entry.create_system, entry.create_version = info.create_system, info.create_version
    entry.extract_version, entry.external_attr = info.extract_version, info.external_attr
    return entry


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _utf16(text: str) -> int:
    return len(text) + sum(ord(ch) > 0xFFFF for ch in text)


def plain_text(text: str) -> bool:
    """Text xlsxwriter writes as it is (escaped): within a cell's limit, no control characters, no rich text."""
    if len(text) > MAX_TEXT // 2 and _utf16(text) > MAX_TEXT:
        return False
    if text.startswith("<r>") and text.endswith("</r>"):
        return False
    return _UNUSUAL.search(text) is None


def _plain_result(value: Any) -> bool:
    """A formula's cached value xlsxwriter writes as it is: a finite number, or plain text (not an error code)."""
    if value.__class__ is int or (value.__class__ is float and math.isfinite(value)):
        return True
    return value.__class__ is str and value != "" and not value.startswith("#") and plain_text(value)


def plain_property(text: Any) -> bool:
    return text.__class__ is str and _utf16(text) <= MAX_PROPERTY and _UNUSUAL.search(text) is None
