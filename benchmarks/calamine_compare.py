"""Side-by-side: xltool's reader (python-calamine + the sheet XML) vs openpyxl read-only.

    python benchmarks/calamine_compare.py [FOLDER ...]   # default: the 200 files bench.py generated

For every workbook it reads every form sheet both ways and compares each label, input and total
cell (a total as its formula text, as ``check`` sees it), then reports the time and any cell whose
value differs. openpyxl is the reference: it is what xltool read with before switching.
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
    import openpyxl

    from xltool.form import spec as specs
    from xltool.form.layout import for_spec
    from xltool.workbook.reader import OPTIONAL_SHEETS, _Book

    folders = [Path(a) for a in sys.argv[1:]] or [Path(tempfile.gettempdir()) / "xltool-bench" / "n200"]
    paths = sorted(p for f in folders for p in f.rglob("*.xlsx"))
    if not paths:
        raise SystemExit(f"no workbooks in {', '.join(map(str, folders))}: run benchmarks/bench.py first")
    layout = for_spec(specs.load())
    sheets = [s for s in layout.sheets if s.name not in OPTIONAL_SHEETS]
    cells = sum(len(s.cells) for s in sheets)

    t = time.perf_counter()
    by_openpyxl = []
    for p in paths:
        wb = openpyxl.load_workbook(p, read_only=True)
        by_openpyxl.append({s.name: list(wb[s.name].iter_rows(values_only=True)) for s in sheets})
        wb.close()
    t_openpyxl = time.perf_counter() - t

    t = time.perf_counter()
    by_xltool = []
    for p in paths:
        with _Book(p) as book:
            by_xltool.append({s.name: book.sheet(s.name)[0] for s in sheets})
    t_xltool = time.perf_counter() - t

    def at(grid: list[Any], row: int, col: int) -> Any:
        return grid[row][col] if row < len(grid) and col < len(grid[row]) else None

    def kind(v: Any) -> tuple[str, Any]:
        return ("number", v) if isinstance(v, int | float) and not isinstance(v, bool) else (type(v).__name__, v)

    differ = 0
    for p, a, b in zip(paths, by_openpyxl, by_xltool, strict=True):
        for sheet in sheets:
            for cell in sheet.cells:
                x, y = at(a[sheet.name], cell.row, cell.col), at(b[sheet.name], cell.row, cell.col)
                if kind(x) != kind(y):
                    differ += 1
                    if differ <= 10:
                        print(f"differs: {p.name} {sheet.name}!{cell.address}: openpyxl={x!r} xltool={y!r}")
    print(
        f"{len(paths)} workbooks, {cells} cells each: openpyxl {t_openpyxl:.2f}s, "
        f"xltool reader (calamine + sheet XML) {t_xltool:.2f}s ({t_openpyxl / t_xltool:.1f}x faster), "
        f"{differ} differing cells"
    )


if __name__ == "__main__":
    main()
