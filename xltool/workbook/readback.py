"""What :func:`xltool.workbook.reader.read` gives for a workbook :func:`xltool.workbook.template.write`
wrote, without reading it: ``xltool import`` checks each workbook it writes this way.

Each cell holds what the template writer puts there (:func:`~xltool.workbook.template.contents`),
and comes back as it does through the file: a number through xlsxwriter's ``%.16G`` and calamine's
float (a whole float below 2**53 an int, as the reader shows it), a text unchanged when the XML
carries it unchanged (:func:`~xltool.workbook.filling.plain_text`), a total's ``SUM`` formula with its
cached value; the custom properties as written. The reader's own rules then make the submission.

Whatever the file might carry otherwise (a text with control characters, ``\\r`` or ``_xHHHH_``, a
formula xlsxwriter rewrites, a workbook whose text nears the reader's size budget, a form not loaded
from the definitions, or other than the one of its version) gives None, and the caller reads the file. tests/test_import_readback.py shows
the submission and its findings equal to the file's on every sample, report and odd value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from xltool.form import spec as specs
from xltool.form.layout import for_spec
from xltool.form.spec import FormSpec
from xltool.submission import SUMMARY, Submission, Value, blank_values
from xltool.workbook import template
from xltool.workbook.filling import Formula, plain_property, plain_text
from xltool.workbook.reader import OPTIONAL_SHEETS, _cell_value, _Reader

MAX_TEXT = 200_000  # characters of text in one workbook: at most 1 MB of XML, a quarter of a unit's budget
_SUM = re.compile(r"=SUM\([A-Z0-9:,]+\)")  # a total's formula, which xlsxwriter writes as it is
_UNSURE = object()


def as_read(
    path: Path,
    spec: FormSpec,
    values: dict[str, Value],
    *,
    properties: dict[str, str] | None = None,
    constants: dict[str, Value] | None = None,
) -> Submission | None:
    """The submission ``read(path)`` returns once ``template.write(path, spec, values, properties=…,
    constants=…)`` has written it (no locked or drafted cells, no notes); None when that is not sure."""
    if specs.SPEC_FILES.get(spec.form_version) is None:
        return None
    loaded = specs.load(spec.form_version)  # the form the reader takes the workbook to be
    if loaded is not spec and loaded != spec:
        return None
    cells = template.contents(spec, values, constants)
    props = template.template_properties(spec, blank_values(spec) | values) | (properties or {})
    if SUMMARY in props or not all(plain_property(v) for v in props.values()):
        return None
    text = 0
    grids: dict[str, list[list[Any]]] = {}
    cached: dict[str, dict[str, str]] = {}
    for sheet, held in cells:
        if sheet.name in OPTIONAL_SHEETS:
            continue
        grid: list[list[Any]] = []
        cached[sheet.name] = {}
        for cell, content in zip(sheet.cells, held, strict=True):
            if isinstance(content, Formula):
                if not _SUM.fullmatch(content.text) or not _number(content.cached):
                    return None
                raw: Any = content.text
                cached[sheet.name][cell.address] = str(content.cached)
            else:
                raw = _raw(content)
                if raw is _UNSURE:
                    return None
                text += len(raw) if isinstance(raw, str) else 0
            while len(grid) <= cell.row:
                grid.append([])
            row = grid[cell.row]
            row.extend([None] * (cell.col + 1 - len(row)))
            row[cell.col] = raw
        grids[sheet.name] = grid
    if text > MAX_TEXT:
        return None
    return _Reader(spec, for_spec(spec), str(Path(path)), grids, cached, props).run()


def _number(value: Any) -> bool:
    return value.__class__ is int or (value.__class__ is float and value == value and abs(value) != float("inf"))


def _raw(content: Any) -> Any:
    """What calamine gives the reader for a cell holding ``content``."""
    if content is None or content == "":
        return None
    if _number(content):
        return _cell_value(float(format(content, ".16G")))
    if content.__class__ is str and plain_text(content):
        return content
    return _UNSURE
