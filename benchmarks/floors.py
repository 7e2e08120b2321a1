"""The floors xltool is measured against (issue 22): the least work any tool must do on the same files.

    python benchmarks/floors.py imports                 # import the libraries check needs, nothing else
    python benchmarks/floors.py check FOLDER            # 1 process: every sheet of every workbook read
    python benchmarks/floors.py merge FOLDER OUT.xlsx   # the same read on 2 processes + one workbook written
    python benchmarks/floors.py import FOLDER OUTDIR    # each page parsed by lxml + a workbook of its figures

Each floor pays the imports of the libraries xltool uses for the same job (pandera.pandas,
python-calamine, lxml, xlsxwriter) and reads or writes at least what xltool reads or writes, but
checks, places and decides nothing.
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def _read(paths: list[str]) -> list[list[object]]:
    """Every cell of every sheet of each workbook (python-calamine), one flat row per workbook."""
    from python_calamine import CalamineWorkbook

    out = []
    for p in paths:
        wb = CalamineWorkbook.from_path(p)
        row: list[object] = []
        for name in wb.sheet_names:
            for cells in wb.get_sheet_by_name(name).to_python():
                row.extend(c for c in cells if isinstance(c, int | float))
        out.append(row)
    return out


def _write(rows: list[list[object]], out: str) -> None:
    """One workbook: a sheet with a row per input holding its numbers (what a summary at least writes)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(out)
    ws = wb.add_worksheet("汇总")
    for r, row in enumerate(rows):
        ws.write_row(r, 0, row)
    wb.close()


def main(argv: list[str]) -> None:
    kind = argv[0]
    import pandera.pandas  # noqa: F401 - every checking floor pays pandera's import, as xltool does
    import python_calamine  # noqa: F401

    if kind == "imports":
        return
    folder = Path(argv[1])
    if kind == "check":
        print(sum(len(r) for r in _read(sorted(str(p) for p in folder.glob("*.xlsx")))))
    elif kind == "merge":
        paths = sorted(str(p) for p in folder.glob("*.xlsx"))
        chunks = [paths[i : i + 50] for i in range(0, len(paths), 50)]
        with ProcessPoolExecutor(2) as pool:
            rows = [row for part in pool.map(_read, chunks) for row in part]
        _write(rows, argv[2])
    elif kind == "import":
        from lxml import etree

        parser = etree.HTMLParser(no_network=True)
        out = Path(argv[2])
        out.mkdir(exist_ok=True)
        for p in sorted(folder.glob("*.html")):
            root = etree.fromstring(p.read_bytes(), parser)
            figures = [int(t) for t in (s.strip() for s in root.itertext()) if t.isdigit()]
            _write([figures], str(out / f"{p.stem}.xlsx"))
    else:
        raise SystemExit(f"unknown floor {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
