"""`xltool import` benchmark: published reports against the floor of issue 22 (benchmarks/floors.py).

    python benchmarks/import_bench.py                       # 100 HTML reports, best of 3
    python benchmarks/import_bench.py --count 20 --repeat 5 # small, for a shared machine
    python benchmarks/import_bench.py --parsers             # also each parser alone (PDF needs LibreOffice)

Reports are our own: N filled workbooks (benchmarks/bench.py's generator) rendered to .html (and,
with --parsers, to .docx and by one LibreOffice run to PDF); all cached under /tmp, so only the first
run pays for rendering. Each command runs as its own process, the two alternating, best of --repeat;
the ratio is of CPU seconds (the machine may be shared) and peak memory is the process's max RSS:

- floor: ``floors.py import FOLDER OUT``, one process: the libraries' imports (pandera.pandas,
  python-calamine, lxml, xlsxwriter), lxml parsing each page and xlsxwriter writing one workbook of
  its figures; nothing placed or checked;
- import: ``xltool import FOLDER -o OUT``, one process: every report parsed, placed, written as the
  form's workbook and checked as ``xltool check`` checks it, and 导入结果.xlsx (goal <= 3x the floor).

With --parsers, in this process (CPU seconds, best of --repeat, over all N files): each xltool parser
(the neutral Document of each file) against its library alone: lxml reading every element's text,
PDFium every page's text segments, and pdfplumber finding the tables of every page (the usual route
to PDF tables, which xltool avoids by feeding PDFium's strokes to pdfplumber's table finder).
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench import FLOORS, interleaved  # noqa: E402 - benchmarks/ is put on the path just above

CACHE = Path(tempfile.gettempdir()) / "xltool-import-bench"
GOAL = 3.0  # issue 22: import <= 3x its floor


def html_reports(count: int) -> list[Path]:
    """N rendered .html reports, made once and cached."""
    from bench import generate

    from xltool.documents.render import render
    from xltool.workbook.reader import read

    books = generate(CACHE / f"xlsx-{count}", count)
    folder = CACHE / f"html-{count}"
    folder.mkdir(parents=True, exist_ok=True)
    for book in sorted(books.glob("*.xlsx")):
        out = folder / (book.stem + ".html")
        if not out.exists():
            render(read(book), out)
    return sorted(folder.glob("*.html"))


def pdf_reports(count: int) -> list[Path]:
    """N .pdf reports: the workbooks rendered to .docx, converted by one LibreOffice run (cached)."""
    from bench import generate

    from xltool.documents.render import render
    from xltool.workbook.reader import read

    books = generate(CACHE / f"xlsx-{count}", count)
    docx_dir, pdf_dir = CACHE / f"docx-{count}", CACHE / f"pdf-{count}"
    for folder in (docx_dir, pdf_dir):
        folder.mkdir(parents=True, exist_ok=True)
    for book in sorted(books.glob("*.xlsx")):
        out = docx_dir / (book.stem + ".docx")
        if not out.exists():
            render(read(book), out)
    missing = [d for d in sorted(docx_dir.glob("*.docx")) if not (pdf_dir / (d.stem + ".pdf")).exists()]
    if missing:
        print(f"LibreOffice: {len(missing)} .docx -> PDF (once, cached in {pdf_dir}) ...", flush=True)
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run(
                ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                 "--outdir", str(pdf_dir), *map(str, missing)],
                check=True, capture_output=True, timeout=3600,
            )  # fmt: skip
    return sorted(pdf_dir.glob("*.pdf"))


# ---------------------------------------------------------------- the parsers alone (--parsers)


def html_floor(paths: list[Path]) -> int:
    from lxml import etree

    chars = 0
    parser = etree.HTMLParser(no_network=True)
    for p in paths:
        root = etree.fromstring(p.read_bytes(), parser)
        chars += sum(len(t) for t in root.itertext())
    return chars


def pdf_text_floor(paths: list[Path]) -> int:
    """PDFium alone: every page's text segments (what a PDF parser cannot do without)."""
    import pypdfium2 as pdfium

    found = 0
    for p in paths:
        pdf = pdfium.PdfDocument(p.read_bytes())
        for i in range(len(pdf)):
            text = pdf[i].get_textpage()
            for k in range(text.count_rects()):
                found += len(text.get_text_bounded(*text.get_rect(k)))
        pdf.close()
    return found


def pdfplumber_floor(paths: list[Path]) -> int:
    """pdfplumber alone: the ruled tables of every page (the usual way to get PDF tables)."""
    import pdfplumber

    with_tables = 0
    for p in paths:
        with pdfplumber.open(p) as doc:
            with_tables += sum(len(page.find_tables()) for page in doc.pages)
    return with_tables


def parse_all(parser: Callable[[Path], object], paths: list[Path]) -> int:
    return sum(len(parser(p).blocks) for p in paths)  # type: ignore[attr-defined]


def best(fn: Callable[[], object], repeat: int) -> float:
    """Best CPU time (s) of this process over ``repeat`` runs of ``fn``."""
    times = []
    for _ in range(repeat):
        start = resource.getrusage(resource.RUSAGE_SELF)
        fn()
        end = resource.getrusage(resource.RUSAGE_SELF)
        times.append(end.ru_utime + end.ru_stime - start.ru_utime - start.ru_stime)
    return min(times)


def parsers(count: int, repeat: int, html_files: list[Path]) -> None:
    from xltool.importers import html, pdf

    rows: list[tuple[str, list[Path], Callable[[list[Path]], int], Callable[[Path], object]]] = [
        ("HTML", html_files, html_floor, html.parse)
    ]
    if shutil.which("soffice"):
        pdf_files = pdf_reports(count)
        rows += [("PDF", pdf_files, pdf_text_floor, pdf.parse), ("PDF/plumb", pdf_files, pdfplumber_floor, pdf.parse)]
    else:
        print("(no LibreOffice: the PDF rows are left out)")
    print(f"parsers alone, {count} reports each, CPU seconds, best of {repeat}:")
    for kind, files, floor_fn, parser in rows:
        floor = best(lambda f=files, fn=floor_fn: fn(f), repeat)
        parsed = best(lambda f=files, p=parser: parse_all(p, f), repeat)
        print(
            f"  {kind:10} library {floor:6.2f} s {count / floor:5.0f}/s | "
            f"xltool parser {parsed:6.2f} s {count / parsed:5.0f}/s {parsed / floor:5.2f}x",
            flush=True,
        )


# ---------------------------------------------------------------- xltool import against its floor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--parsers", action="store_true", help="also each parser alone (HTML; PDF with LibreOffice)")
    args = ap.parse_args()
    py = sys.executable
    print(
        f"xltool import benchmark — {time.strftime('%Y-%m-%d')} — {os.cpu_count()} CPUs — Python {sys.version.split()[0]}"
    )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    compileall.compile_dir(ROOT / "xltool", quiet=1)  # as installed (see benchmarks/bench.py)
    files = html_reports(args.count)
    folder = files[0].parent
    with tempfile.TemporaryDirectory() as scratch:
        ours_out, floor_out = Path(scratch) / "导入", Path(scratch) / "floor"
        ours_cmd = [py, "-m", "xltool", "import", str(folder), "-o", str(ours_out), "--force"]
        ours, floor = interleaved(ours_cmd, [py, str(FLOORS), "import", str(folder), str(floor_out)], args.repeat)
    n = len(files)
    ratio = ours.cpu / floor.cpu
    print(f"{n} HTML reports, one process each side, best of {args.repeat}:")
    print(f"  floor  (lxml + xlsxwriter)  CPU {floor.cpu:6.2f} s  wall {floor.wall:6.2f} s  {n / floor.cpu:6.1f} reports/s  peak {floor.peak:4.0f} MB")  # fmt: skip
    print(f"  xltool import               CPU {ours.cpu:6.2f} s  wall {ours.wall:6.2f} s  {n / ours.cpu:6.1f} reports/s  peak {ours.peak:4.0f} MB")  # fmt: skip
    print(f"  import / floor: {ratio:.2f}x CPU (goal <= {GOAL}) {'ok' if ratio <= GOAL else 'OVER'}", flush=True)
    if args.parsers:
        parsers(args.count, args.repeat, files)


if __name__ == "__main__":
    main()
