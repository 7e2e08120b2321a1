"""Read a filled workbook into a typed :class:`Submission` (openpyxl; the only module importing it).

The reader never trusts a formula cell's value: totals are recomputed elsewhere from the inputs.
It carries on past bad cells, recording a finding with the cell address for each, so one run
reports every problem. Problems with the file itself raise :class:`InputFileError`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import openpyxl
from defusedxml.common import DefusedXmlException
from openpyxl.utils.exceptions import InvalidFileException

from xltool import spec as specs
from xltool.atomic import atomic_path
from xltool.errors import InputFileError, XltoolError
from xltool.files import CORRUPT, XML_UNSAFE, preflight
from xltool.layout import CHECK_SHEET, INSTRUCTIONS_SHEET, LABEL_ROLES, Cell, Layout, Sheet, for_spec
from xltool.spec import NUMERIC_TYPES, FormSpec
from xltool.submission import PROPERTY_PREFIX, Finding, Number, Submission, Value, computed

Grid = list[tuple[Any, ...]]
OPTIONAL_SHEETS = frozenset({INSTRUCTIONS_SHEET, CHECK_SHEET})
DECIMAL_PLACES = {"wan_yuan": 6, "yuan": 2}
NOT_OURS = "不是用 xltool 模板填写的工作簿（没有模板标识，表格结构也对不上）。请使用 xltool template 生成的模板填写。"


def normalise(text: Any) -> str:
    """Labels compare after NFKC and with all whitespace removed (published copies vary)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", "" if text is None else str(text)))


def read(path: Path) -> Submission:
    """Read one workbook. Raises InputFileError when it cannot be read as one of ours."""
    path = Path(path)
    preflight(path)
    wb = _open(path, data_only=False)
    try:
        props = _properties(wb)
        spec = _identify(path, wb, props)
        layout = for_spec(spec)
        grids = _grids(path, wb, layout)
        cached = _cached_totals(path, wb, layout)
    finally:
        wb.close()
    return _Reader(spec, layout, str(path), grids, cached, props).run()


def _open(path: Path, *, data_only: bool) -> Any:
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except DefusedXmlException:
        raise InputFileError(str(path), XML_UNSAFE) from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ParseError, ValueError, TypeError, OSError, EOFError):
        raise InputFileError(str(path), CORRUPT) from None


def _properties(wb: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for prop in getattr(wb.custom_doc_props, "props", []) or []:
        if prop.name.startswith(PROPERTY_PREFIX):
            out[prop.name[len(PROPERTY_PREFIX) :]] = "" if prop.value is None else str(prop.value)
    return out


def _identify(path: Path, wb: Any, props: dict[str, str]) -> FormSpec:
    """Which form version made this workbook: the identity stamp, else the sheet names."""
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
    # No stamp (a program dropped the custom properties): accept if the form's sheets are there.
    for version in specs.SPEC_FILES:
        spec = specs.load(version)
        wanted = {s.name for s in for_spec(spec).sheets} - OPTIONAL_SHEETS
        if len(wanted & set(wb.sheetnames)) >= len(wanted) - 1:
            return spec
    raise InputFileError(str(path), NOT_OURS)


def _grids(path: Path, wb: Any, layout: Layout) -> dict[str, Grid]:
    grids: dict[str, Grid] = {}
    present = set(wb.sheetnames)
    expected = [s.name for s in layout.sheets]
    strangers = [n for n in wb.sheetnames if n not in expected]
    for sheet in layout.sheets:
        if sheet.name in OPTIONAL_SHEETS and sheet.name not in present:
            continue
        if sheet.name not in present:
            hint = f"（现有的“{'”“'.join(strangers)}”可能是它被改名后的结果）" if strangers else ""
            raise InputFileError(
                str(path),
                f"缺少工作表“{sheet.name}”，可能被删除或改名{hint}。请把工作表名称改回原样，或使用原模板重新填写。",
            )
        if sheet.name not in OPTIONAL_SHEETS:  # no keyed cells and no labels to verify there
            grids[sheet.name] = _grid(wb[sheet.name])
    return grids


_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]+[0-9]+)"')
_CACHED = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")


def _cached_totals(path: Path, wb: Any, layout: Layout) -> dict[str, dict[str, Any]]:
    """The cached values of the total cells, as the last program that calculated them stored them.

    openpyxl shows a formula cell either as its formula or as its cached value, one pass each;
    the totals are a few cells of two sheets, so they are taken from the sheet XML directly
    (``<c r="J6"><f>…</f><v>26</v></c>``) instead of reading the whole workbook twice.
    """
    wanted: dict[str, set[str]] = {}
    for sheet, cell in layout.keyed("total"):
        wanted.setdefault(sheet.name, set()).add(cell.address)
    out: dict[str, dict[str, Any]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for name, addresses in wanted.items():
                xml = zf.read(wb[name]._worksheet_path)
                found: dict[str, Any] = {}
                for attrs, body in _CELL.findall(xml):
                    ref = _REF.search(attrs)
                    if ref is None or ref.group(1).decode() not in addresses or not body or b"<f" not in body:
                        continue
                    value = _CACHED.search(body)
                    if value is not None and b't="' not in attrs.replace(b't="n"', b""):
                        found[ref.group(1).decode()] = value.group(1).decode()
                out[name] = found
    except (KeyError, AttributeError, zipfile.BadZipFile, OSError):
        raise InputFileError(str(path), CORRUPT) from None
    return out


def _grid(ws: Any) -> Grid:
    try:
        return list(ws.iter_rows(values_only=True))
    except (ParseError, ValueError, TypeError, KeyError) as exc:
        raise InputFileError(ws.parent.path if hasattr(ws.parent, "path") else "", CORRUPT) from exc


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
        s = unicodedata.normalize("NFKC", raw).strip().replace(",", "")
        if re.fullmatch(r"[-+]?\d+", s):
            return int(s)
        if re.fullmatch(r"[-+]?(\d+\.\d*|\.\d+)", s):
            try:
                d = Decimal(s)
            except InvalidOperation:
                return None
            return int(d) if d == d.to_integral_value() else d
    return None


def sheet_rows(path: Path, names: Sequence[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Plain rows of some sheets (the first sheet when ``names`` is None); numbers as int or Decimal.

    For tables that are not the form itself: a roster of units, or the sheets a merge appends to a
    summary. Sheets not in the workbook are left out. Raises InputFileError when it cannot be opened.
    """
    path = Path(path)
    preflight(path)
    wb = _open(path, data_only=True)
    try:
        wanted = wb.sheetnames[:1] if names is None else [n for n in names if n in wb.sheetnames]
        return {name: [tuple(_plain(v) for v in row) for row in _grid(wb[name])] for name in wanted}
    finally:
        wb.close()


def _plain(raw: Any) -> Any:
    return _as_number(raw) if isinstance(raw, float) else raw


ANNOTATION_SHEET = "核查结果"
_FILLS = {"error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7"}


def annotate(src: Path, findings: list[Finding], out: Path) -> None:
    """Write a copy of ``src`` with every finding's cell highlighted and commented, plus a 核查结果 sheet."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill

    from xltool.layout import SEVERITY_LABEL

    try:
        wb = openpyxl.load_workbook(src)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ParseError, ValueError, OSError) as exc:
        raise InputFileError(str(src), CORRUPT) from exc
    notes: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.sheet and f.cell and f.sheet in wb.sheetnames:
            notes.setdefault((f.sheet, f.cell), []).append(f)
    for (sheet, address), items in notes.items():
        cell = wb[sheet][address]
        worst = min(items, key=lambda f: ("error", "warning", "info").index(f.severity))
        cell.fill = PatternFill("solid", fgColor=_FILLS[worst.severity])
        text = "\n".join(f"{SEVERITY_LABEL[f.severity]} {f.rule}：{f.message}" for f in items)
        cell.comment = Comment(text, "xltool", width=360, height=120)
    if ANNOTATION_SHEET in wb.sheetnames:
        del wb[ANNOTATION_SHEET]
    ws = wb.create_sheet(ANNOTATION_SHEET, 0)
    ws.append(["严重程度", "规则", "工作表", "单元格", "说明"])
    for f in findings:
        ws.append([SEVERITY_LABEL[f.severity], f.rule, f.sheet or "", f.cell or "", f.message])
        if f.sheet and f.cell and f.sheet in wb.sheetnames:
            link = ws.cell(ws.max_row, 4)
            link.hyperlink = f"#'{f.sheet}'!{f.cell}"
            link.font = Font(color="0563C1", underline="single")
    if not findings:
        ws.append(["", "", "", "", "未发现问题。"])
    for col, width in zip("ABCDE", (10, 14, 34, 8, 90), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2):
        row[4].alignment = Alignment(wrap_text=True, vertical="top")
    for cell in ws[1]:
        cell.font = Font(bold=True)
    wb.active = 0
    with atomic_path(out) as tmp:
        wb.save(tmp)
