"""Read a filled workbook into a typed :class:`Submission` (the only module reading workbooks).

Cell values come from python-calamine (Rust; about 30x faster than openpyxl, which matters for a
province's tens of thousands of files and for a clerk's cold start). calamine gives only cached
values, so formulas, error cells and cached totals are taken from the sheet XML in one regex pass;
openpyxl (:mod:`xltool.workbook.annotate`) is asked only to expand a shared formula (rare).

The reader never trusts a formula cell's value: totals are recomputed elsewhere from the inputs.
It carries on past bad cells, recording a finding with the cell address for each, so one run
reports every problem. Problems with the file itself raise :class:`InputFileError`.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from python_calamine import CalamineError, CalamineWorkbook

from xltool.errors import InputFileError, XltoolError
from xltool.form import spec as specs
from xltool.form.layout import CHECK_SHEET, INSTRUCTIONS_SHEET, LABEL_ROLES, Cell, Layout, Sheet, a1, for_spec, rowcol
from xltool.form.spec import NUMERIC_TYPES, FormSpec
from xltool.numbers import number
from xltool.safexml import UnsafeXml, fromstring
from xltool.submission import IMPORT_PROPERTY, PROPERTY_PREFIX, SUMMARY, Finding, Number, Submission, Value, computed
from xltool.text import normalise
from xltool.workbook.annotate import translate
from xltool.workbook.files import CORRUPT, XML_UNSAFE, preflight
from xltool.workbook.package import ROSTER, Budget, Survey, resolve

Grid = list[list[Any]]
OPTIONAL_SHEETS = frozenset({INSTRUCTIONS_SHEET, CHECK_SHEET})
NOT_OURS = "不是用 xltool 模板填写的工作簿（没有模板标识，表格结构也对不上）。请使用 xltool template 生成的模板填写。"
# What a damaged package raises on the way through zipfile, the XML parsers and calamine.
_BROKEN = (
    CalamineError,
    zipfile.BadZipFile,
    KeyError,
    LookupError,  # an XML declaration naming an unknown encoding
    ParseError,
    ValueError,
    TypeError,
    OverflowError,
    OSError,
    EOFError,
    RuntimeError,
)


def read(path: Path, budget: Budget | None = None) -> Submission:
    """Read one workbook. Raises InputFileError when it cannot be read as one of ours, or holds more
    than ``budget`` (None: a unit's workbook, or the summary of as many units as it says)."""
    path = Path(path)
    with _Book(path, preflight(path, budget)) as book:
        props = book.properties()
        spec = _identify(path, book, props)
        layout = for_spec(spec)
        _require_sheets(path, book.sheetnames, layout)
        grids: dict[str, Grid] = {}
        cached: dict[str, dict[str, str]] = {}
        for sheet in layout.sheets:
            if sheet.name not in OPTIONAL_SHEETS:  # no keyed cells and no labels to verify there
                grids[sheet.name], cached[sheet.name] = book.sheet(sheet.name)
        own = [n for n in book.sheetnames if n not in grids and n not in OPTIONAL_SHEETS] if props.get(SUMMARY) else []
        extra = {name: book.sheet(name, formulas=False)[0] for name in own}  # a summary's 单位明细 and the like
    sub = _Reader(spec, layout, str(path), grids, cached, props).run()
    sub.sheets = {name: [tuple(_plain(v) for v in row) for row in grid] for name, grid in extra.items()}
    return sub


class _Book:
    """One .xlsx package: calamine for cell values, the zip's XML for names, properties and formulas.

    ``sheet(name)`` returns the grid of values exactly as openpyxl (read-only, formulas not
    evaluated) would show it: a formula cell holds its formula text (``"=SUM(D6:I6)"``), an error
    cell its error text (``"#N/A"``), a date its ``datetime``, an empty cell ``None``.
    """

    def __init__(self, path: Path, survey: Survey | None = None) -> None:
        """``survey``: what the scan found (its sheets and sheet XML are then not read again)."""
        self.path = path
        self.xml = survey.xml if survey is not None else {}
        try:
            data = path.read_bytes()
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            self.calamine = CalamineWorkbook.from_filelike(io.BytesIO(data))
            self.parts = survey.sheets if survey is not None else self._sheet_parts()
        except UnsafeXml:
            raise InputFileError(str(path), XML_UNSAFE) from None
        except _BROKEN:
            raise InputFileError(str(path), CORRUPT) from None
        self.sheetnames = list(self.parts)

    def __enter__(self) -> _Book:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.close()
        self.calamine.close()

    def _xml(self, name: str) -> Element:
        return fromstring(self.zip.read(name))

    def _targets(self, rels: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, target path inside the package) of one ``.rels`` part."""
        if rels not in self.zip.namelist():
            return {}
        return {
            rel.get("Id", ""): (rel.get("Type", ""), resolve(rels, rel.get("Target", ""))) for rel in self._xml(rels)
        }

    def _sheet_parts(self) -> dict[str, str]:
        """Sheet name -> its XML part, in workbook order (xl/workbook.xml and its relationships)."""
        rels = self._targets("xl/_rels/workbook.xml.rels")
        out = {}
        for node in self._xml("xl/workbook.xml").iter():
            if node.tag.rsplit("}", 1)[-1] == "sheet":
                rid = next((v for k, v in node.attrib.items() if k.rsplit("}", 1)[-1] == "id"), "")
                out[node.get("name", "")] = rels.get(rid, ("", ""))[1]
        return out

    def properties(self) -> dict[str, str]:
        """Our custom document properties (``xltool.*``), as text."""
        out: dict[str, str] = {}
        try:
            rels = self._targets("_rels/.rels").values()
            for part in [p for kind, p in rels if kind.endswith("/custom-properties")]:
                for prop in self._xml(part):
                    name = prop.get("name", "")
                    if name.startswith(PROPERTY_PREFIX):
                        out[name[len(PROPERTY_PREFIX) :]] = "".join(next(iter(prop), Element("")).itertext())
        except UnsafeXml:
            raise InputFileError(str(self.path), XML_UNSAFE) from None
        except _BROKEN:
            raise InputFileError(str(self.path), CORRUPT) from None
        return out

    def sheet(self, name: str, *, formulas: bool = True) -> tuple[Grid, dict[str, str]]:
        """The sheet's grid and the cached values of its formula cells (address -> text).

        With ``formulas=False`` the grid shows what a program displays: cached values throughout.
        """
        try:
            rows = self.calamine.get_sheet_by_name(name).to_python(skip_empty_area=False)
            grid = [[_cell_value(v) for v in row] for row in rows]
            if not formulas:
                return grid, {}
            part = self.parts[name]
            overlay, cached = _scan(self.xml[part] if part in self.xml else self.zip.read(part))
        except UnsafeXml:
            raise InputFileError(str(self.path), XML_UNSAFE) from None
        except _BROKEN:
            raise InputFileError(str(self.path), CORRUPT) from None
        for (row, col), value in overlay.items():
            while len(grid) <= row:
                grid.append([])
            line = grid[row]
            line.extend([None] * (col + 1 - len(line)))
            line[col] = value
        return grid, cached


def _cell_value(value: Any) -> Any:
    """calamine's value as openpyxl shows it: "" is an empty cell, 26.0 is 26, a whole date is midnight."""
    if isinstance(value, str) and value == "":
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


# <row …> start tags (groups 1-2) and whole <c> cells (groups 3-4), in document order
_NODE = re.compile(rb"<(?:\w+:)?(?:(row)\b([^>]*)>|c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>))", re.S)
_REF = re.compile(rb'\br="([A-Z]*[0-9]+)"')
_TYPE = re.compile(rb'\bt="(\w+)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
_SHARED_INDEX = re.compile(rb'\bsi="(\d+)"')
_CACHED = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")


def _scan(xml: bytes, *, every: bool = False) -> tuple[dict[tuple[int, int], str], dict[str, str]]:
    """Formula and error cells of one sheet's XML: (row, col) -> shown text; address -> cached number.

    ``<c r="J6"><f>SUM(D6:I6)</f><v>26</v></c>`` shows as ``=SUM(D6:I6)`` with cached value 26.
    A shared formula (``<f t="shared" si="0"/>``) is expanded from its master cell as Excel would.
    A cell or row without its optional ``r`` attribute follows the one before it (0-based here).
    ``every`` looks at every cell (the reference :func:`_formulas` is tested against).
    """
    overlay: dict[tuple[int, int], str] = {}
    cached: dict[str, str] = {}
    if b'"e"' not in xml and not any(tag in xml for tag in (b"<f", b":f>", b":f ", b":f/")):
        return overlay, cached  # no formula and no error cell (a sheet of text and figures only)
    found = None if every else _formulas(xml)
    if found is not None:
        return found
    masters: dict[bytes, tuple[str, str]] = {}
    row, last, steps = -1, b"", 0  # a cell's place: the last r="…" seen, plus the r-less cells since
    for is_row, row_attrs, attrs, body in _NODE.findall(xml):
        if is_row:  # a <row>: its cells start again from column A
            ref = _REF.search(row_attrs)
            row, last, steps = (int(ref.group(1)) - 1 if ref else row + 1), b"", -1
            continue
        ref = _REF.search(attrs)
        last, steps = (ref.group(1), 0) if ref else (last, steps + 1)
        if b"f" not in body and b'"e"' not in attrs:  # most cells: a plain value, nothing to overlay
            continue
        if last:
            r, c = rowcol(last.decode())
            row, col = r - 1, c - 1 + steps
        else:
            col = steps
        typed = _TYPE.search(attrs)
        kind = typed.group(1) if typed else b"n"
        formula = _FORMULA.search(body)
        value = _CACHED.search(body)
        if formula is None:
            if kind == b"e":  # an error cell: openpyxl shows its text, calamine an empty string
                overlay[row, col] = html.unescape(value.group(1).decode()) if value else ""
            continue
        address = a1(row, col)
        f_attrs, f_text = formula.groups()
        overlay[row, col] = _shown(f_attrs, f_text or b"", address, masters)
        if value is not None and kind == b"n":
            cached[address] = value.group(1).decode()
    return overlay, cached


# a formula cell as Office writes it: address, attributes, the formula's attributes and text, <v>
_FORMULA_CELL = re.compile(rb'<c r="([A-Z]{1,3}[1-9][0-9]*)"([^>]*)><f([^>]*?)(?:/>|>([^<]*)</f>)(<v>([^<]*)</v>)?</c>')
_F_TAG = re.compile(rb"<f[\s/>]")
_CELL_TAG = re.compile(rb"<c[\s/>]")


def _formulas(xml: bytes) -> tuple[dict[tuple[int, int], str], dict[str, str]] | None:
    """What :func:`_scan` finds, from the formula cells alone, when the sheet is written as Office
    writes it: every cell ``<c r="…"``, no error cell, no prefixed tag, every formula the first
    thing in its cell. None otherwise (then every cell is looked at)."""
    if b'"e"' in xml or b":f" in xml or b":c" in xml or len(_CELL_TAG.findall(xml)) != xml.count(b'<c r="'):
        return None
    cells = _FORMULA_CELL.findall(xml)
    if len(cells) != len(_F_TAG.findall(xml)):
        return None
    overlay: dict[tuple[int, int], str] = {}
    cached: dict[str, str] = {}
    masters: dict[bytes, tuple[str, str]] = {}
    for ref, attrs, f_attrs, f_text, v, value in cells:
        address = ref.decode()
        r, c = rowcol(address)
        overlay[r - 1, c - 1] = _shown(f_attrs, f_text, address, masters)
        if v and (b"t=" not in attrs or (typed := _TYPE.search(attrs)) is None or typed.group(1) == b"n"):
            cached[address] = value.decode()
    return overlay, cached


def _shown(f_attrs: bytes, f_text: bytes, address: str, masters: dict[bytes, tuple[str, str]]) -> str:
    """A formula as openpyxl shows it (``=SUM(D6:I6)``); a shared one's master is remembered in
    ``masters`` and its followers translated from it, as Excel would."""
    text = "=" + (html.unescape(f_text.decode()) if b"&" in f_text else f_text.decode())
    if b't="shared"' in f_attrs and (index := _SHARED_INDEX.search(f_attrs)):
        if f_text:
            masters[index.group(1)] = (text, address)
        elif index.group(1) in masters:
            text = translate(*masters[index.group(1)], address)
    return text


def _identify(path: Path, book: _Book, props: dict[str, str]) -> FormSpec:
    """Which form version made this workbook: the identity stamp, else the sheets and their labels."""
    version = props.get("form_version")
    if version is not None:
        template_id = props.get("template_id", "")
        if not template_id.startswith("xltool/gov-disclosure/"):
            raise InputFileError(str(path), NOT_OURS)
        try:
            return specs.load(version)
        except XltoolError:
            raise InputFileError(
                str(path),
                f"模板的表式版本为“{version}”，这个版本的 xltool 不认识（可能是更新版本的模板）。"
                "请升级 xltool，或使用当前版本的模板重新填写。",
            ) from None
    # No stamp (a program dropped the custom properties): the forms whose sheets are there, and of
    # those (forms share sheet names) the one whose labels stand where its definition puts them.
    candidates = []
    for version in specs.SPEC_FILES:
        spec = specs.load(version)
        wanted = {s.name for s in for_spec(spec).sheets} - OPTIONAL_SHEETS
        if len(wanted & set(book.sheetnames)) >= len(wanted) - 1:
            candidates.append(spec)
    if not candidates:
        raise InputFileError(str(path), NOT_OURS)
    if len(candidates) == 1:
        return candidates[0]
    grids: dict[str, Grid] = {}

    def labels_in_place(spec: FormSpec) -> int:
        found = 0
        for sheet in for_spec(spec).sheets:
            if sheet.kind == "table" and sheet.name in book.sheetnames:
                grid = grids.setdefault(sheet.name, book.sheet(sheet.name, formulas=False)[0])
                found += sum(normalise(_at(grid, c)) == normalise(c.text) for c in sheet.cells if c.role in LABEL_ROLES)
        return found

    return max(candidates, key=lambda spec: (labels_in_place(spec), spec.form_version == specs.DEFAULT_VERSION))


def _require_sheets(path: Path, sheetnames: list[str], layout: Layout) -> None:
    expected = [s.name for s in layout.sheets]
    strangers = [n for n in sheetnames if n not in expected]
    for sheet in layout.sheets:
        if sheet.name not in OPTIONAL_SHEETS and sheet.name not in sheetnames:
            hint = f"（现有的“{'”“'.join(strangers)}”可能是它被改名后的结果）" if strangers else ""
            raise InputFileError(
                str(path),
                f"缺少工作表“{sheet.name}”，可能被删除或改名{hint}。请把工作表名称改回原样，或使用原模板重新填写。",
            )


def _at(grid: Grid, cell: Cell) -> Any:
    if cell.row < len(grid) and cell.col < len(grid[cell.row]):
        return grid[cell.row][cell.col]
    return None


class _Reader:
    def __init__(
        self,
        spec: FormSpec,
        layout: Layout,
        source: str,
        grids: dict[str, Grid],
        cached: dict[str, dict[str, Any]],
        props: dict[str, str],
    ) -> None:
        self.spec, self.layout, self.grids, self.cached = spec, layout, grids, cached
        self.sub = Submission(spec, source, {}, properties=props)

    def run(self) -> Submission:
        if "form_version" not in self.sub.properties:
            rule = self.spec.rule("I-STAMP")
            self.sub.findings.append(Finding(rule.id, rule.severity, rule.message.format(basis=self.spec.basis)))
        for sheet in self.layout.sheets:
            if sheet.name not in self.grids or sheet.kind == "instructions":
                continue
            grid = self.grids[sheet.name]
            for cell in sheet.cells:
                if cell.role in LABEL_ROLES:
                    self._label(sheet, cell, grid)
                elif cell.role == "input":
                    assert cell.key is not None
                    self.sub.values[cell.key] = self._input(sheet, cell, _at(grid, cell))
        numbers = computed(self.spec, self.sub.values)
        for sheet, cell in self.layout.keyed("total"):
            self._total(sheet, cell, numbers)
        return self.sub

    def finding(
        self, rule_id: str, sheet: Sheet, cell: Cell, value: Any = None, expected: Any = None, **kw: Any
    ) -> None:
        rule = self.spec.rule(rule_id)
        shown = value.isoformat() if isinstance(value, dt.date | dt.datetime) else value
        message = rule.message.format(where=cell.what or cell.address, value=shown, expected=expected, **kw)
        self.sub.findings.append(Finding(rule.id, rule.severity, message, sheet.name, cell.address, shown, expected))

    def _label(self, sheet: Sheet, cell: Cell, grid: Grid) -> None:
        found = _at(grid, cell)
        if normalise(found) != normalise(cell.text):
            self.finding("L-LABEL", sheet, cell, "" if found is None else str(found), cell.text)

    def _input(self, sheet: Sheet, cell: Cell, raw: Any) -> Value:
        vtype = cell.vtype or "text"
        if vtype in NUMERIC_TYPES or vtype == "year":
            return self._number(sheet, cell, raw)
        text = "" if raw is None else (raw.isoformat()[:10] if isinstance(raw, dt.date) else str(raw)).strip()
        if vtype == "choice" and text and text not in cell.choices:
            self.finding("C-CHOICE", sheet, cell, text, "、".join(cell.choices))
        return text or None

    def _number(self, sheet: Sheet, cell: Cell, raw: Any) -> Number | None:
        value = _as_number(raw)
        if value is None:
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if cell.vtype != "year":  # a missing year is reported by the unit-information rules
                    self.finding("C-BLANK", sheet, cell)
            else:
                self.finding("C-TEXT", sheet, cell, raw if isinstance(raw, str) else str(raw))
            return None
        return value

    def _total(self, sheet: Sheet, cell: Cell, numbers: dict[str, Number]) -> None:
        """An intact formula is checked against its cached value; a constant is kept as reported.

        A constant that differs from the recomputed total is left to the total rules (T3-2, …),
        whose message shows the arithmetic; one that equals it is still a broken formula.
        """
        assert cell.key is not None
        found = _at(self.grids[sheet.name], cell)
        if isinstance(found, str) and found.startswith("="):
            cached = _as_number(self.cached.get(sheet.name, {}).get(cell.address))
            if normalise(found).upper().lstrip("=") != normalise(cell.text).upper().lstrip("="):
                self.finding("F-FORMULA", sheet, cell, found, cell.text)
            elif cached is not None and cached != numbers[cell.key]:
                self.finding("F-CACHE", sheet, cell, cached, numbers[cell.key])
            return
        if found is None and IMPORT_PROPERTY in self.sub.properties:  # a total the report printed blank
            self.finding("C-BLANK", sheet, cell)
            return
        constant = _as_number(found)
        if constant is not None:
            self.sub.reported[cell.key] = constant
        if constant is None or constant == numbers[cell.key]:
            self.finding("F-FORMULA", sheet, cell, "" if found is None else str(found), cell.text)


def _as_number(raw: Any) -> Number | None:
    """An int or Decimal for numeric cells and plain numeric text; None for anything else."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            return None
        d = Decimal(repr(raw))
        return int(d) if d == d.to_integral_value() else d.normalize()
    if isinstance(raw, str):
        return number(raw)
    return None


def sheet_rows(path: Path, names: Sequence[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Plain rows of some sheets (the first sheet when ``names`` is None); numbers as int or Decimal.

    For tables that are not the form itself: a roster of units (the first sheet, held to a
    province's roster: :data:`~xltool.workbook.package.ROSTER`), or the sheets a merge appends to a
    summary. Formula cells show their cached values. Sheets not in the workbook are left out.
    Raises InputFileError when it cannot be opened.
    """
    path = Path(path)
    with _Book(path, preflight(path, ROSTER if names is None else None)) as book:
        wanted = book.sheetnames[:1] if names is None else [n for n in names if n in book.sheetnames]
        grids = {name: book.sheet(name, formulas=False)[0] for name in wanted}
    return {name: [tuple(_plain(v) for v in row) for row in grid] for name, grid in grids.items()}


def _plain(raw: Any) -> Any:
    return _as_number(raw) if isinstance(raw, float) else raw
