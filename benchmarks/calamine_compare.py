"""Side-by-side: python-calamine vs openpyxl (read_only) on the cells xltool reads.

    pip install python-calamine   # not a dependency of xltool
    python benchmarks/calamine_compare.py [FOLDER]   # default: the 200 files bench.py generated

For every workbook it reads each label and input cell of the layout with both libraries and
reports the time and any cell whose value differs (after the same number normalisation the reader
applies). Formula cells are not compared: calamine exposes only cached values, and xltool takes
formulas and cached totals from the sheet XML anyway (reader._cached_totals).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        raise SystemExit("python-calamine is not installed: pip install python-calamine") from None
    import openpyxl

    from xltool import spec as specs
    from xltool.layout import LABEL_ROLES, for_spec
    from xltool.reader import _as_number, normalise

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.gettempdir()) / "xltool-bench" / "n200"
    paths = sorted(folder.glob("*.xlsx"))
    if not paths:
        raise SystemExit(f"no workbooks in {folder}: run benchmarks/bench.py first")
    layout = for_spec(specs.load())
    wanted = [
        (s.name, c)
        for s in layout.sheets
        if s.kind != "checks"
        for c in s.cells
        if c.role in LABEL_ROLES or c.role == "input"
    ]

    def same(a: Any, b: Any) -> bool:
        na, nb = _as_number(a), _as_number(b)
        if na is not None or nb is not None:
            return na == nb
        return normalise(a) == normalise(b)

    t = time.perf_counter()
    by_openpyxl = []
    for p in paths:
        wb = openpyxl.load_workbook(p, read_only=True)
        grids = {name: list(wb[name].iter_rows(values_only=True)) for name in {n for n, _ in wanted}}
        wb.close()
        by_openpyxl.append(grids)
    t_openpyxl = time.perf_counter() - t

    t = time.perf_counter()
    by_calamine = []
    for p in paths:
        wb = CalamineWorkbook.from_path(str(p))
        by_calamine.append({name: wb.get_sheet_by_name(name).to_python() for name in {n for n, _ in wanted}})
    t_calamine = time.perf_counter() - t

    def at(grid: list[Any], row: int, col: int) -> Any:
        value = grid[row][col] if row < len(grid) and col < len(grid[row]) else None
        return None if value == "" else value

    differ = 0
    for p, a, b in zip(paths, by_openpyxl, by_calamine, strict=True):
        for name, cell in wanted:
            x, y = at(a[name], cell.row, cell.col), at(b[name], cell.row, cell.col)
            if not same(x, y):
                differ += 1
                if differ <= 10:
                    print(f"differs: {p.name} {name}!{cell.address}: openpyxl={x!r} calamine={y!r}")
    print(
        f"{len(paths)} workbooks, {len(wanted)} cells each: openpyxl {t_openpyxl:.2f}s, calamine {t_calamine:.2f}s "
        f"({t_openpyxl / t_calamine:.1f}x faster), {differ} differing cells"
    )


if __name__ == "__main__":
    main()
