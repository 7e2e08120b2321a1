"""Test helpers: fill a template by definition keys (as a clerk would), and LibreOffice round trips."""

from __future__ import annotations

import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl

from xltool.form import spec as specs
from xltool.form.layout import for_spec
from xltool.workbook import template

FORMS = tuple(specs.SPEC_FILES)  # every form version: tests parametrised over the forms use this


def make_template(path: Path, form: str = specs.DEFAULT_VERSION, **values: Any) -> Path:
    spec = specs.load(form)
    template.write(path, spec, {k.replace("__", "."): v for k, v in values.items()})
    return path


def fill(src: Path, dst: Path, values: dict[str, Any], raw: dict[tuple[str, str], Any] | None = None) -> Path:
    """Write values into a workbook with openpyxl, addressing inputs by key (and raw cells by sheet/address)."""
    from xltool.workbook.reader import read

    layout = for_spec(read(src).spec)
    wb = openpyxl.load_workbook(src)
    for key, value in values.items():
        sheet, cell = layout.locate(key)
        wb[sheet.name][cell.address].value = float(value) if isinstance(value, Decimal) else value
    for (sheet_name, address), value in (raw or {}).items():
        wb[sheet_name][address].value = value
    wb.save(dst)
    return dst


def _soffice(soffice: str, src: Path, outdir: Path, target: str, *extra: str) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", *extra,
             "--convert-to", target, "--outdir", str(outdir), str(src)],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip


def libreoffice_resave(soffice: str, src: Path, outdir: Path) -> Path:
    """Open src in LibreOffice headless, recalculate, and save it as xlsx into outdir."""
    _soffice(soffice, src, outdir, "xlsx:Calc MS Excel 2007 XML", "--calc")
    out = outdir / (src.stem + ".xlsx")
    assert out.exists(), f"LibreOffice did not write {out}"
    return out


def libreoffice_pdf(soffice: str, src: Path, outdir: Path) -> Path:
    _soffice(soffice, src, outdir, "pdf")
    return outdir / (src.stem + ".pdf")
