"""A text manifest of a workbook: what a person and our reader can see, without bytes."""

from __future__ import annotations

from pathlib import Path

import openpyxl


def manifest(path: Path) -> str:
    wb = openpyxl.load_workbook(path)
    out: list[str] = []
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    out.append("properties: " + ", ".join(f"{k}={v}" for k, v in sorted(props.items()) if k != "xltool.version"))
    for ws in wb.worksheets:
        out.append(f"== sheet {ws.title}")
        out.append(f"protected={ws.protection.sheet} password={bool(ws.protection.password)}")
        ps = ws.page_setup
        out.append(
            f"print: paper={ps.paperSize} orientation={ps.orientation} fitToWidth={ps.fitToWidth} "
            f"fitToHeight={ps.fitToHeight} titles={ws.print_title_rows}"
        )
        out.append("merged: " + " ".join(sorted(str(r) for r in ws.merged_cells.ranges)))
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None and cell.protection.locked:
                    continue
                flag = "unlocked" if not cell.protection.locked else "locked"
                out.append(f"{cell.coordinate} [{flag}] {cell.value!r}")
        for dv in ws.data_validations.dataValidation:
            out.append(
                f"validation {dv.sqref}: {dv.type} {dv.operator} {dv.formula1} {dv.formula2} "
                f"prompt={dv.prompt!r} error={dv.error!r}"
            )
        for rng in ws.conditional_formatting:
            for rule in rng.rules:
                out.append(f"conditional {rng.sqref}: {rule.type} {rule.operator} {rule.formula}")
    return "\n".join(out) + "\n"
