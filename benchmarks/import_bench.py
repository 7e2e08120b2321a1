"""`xltool import` benchmark: published reports (HTML, PDF) against the parsing libraries' own floor.

    python benchmarks/import_bench.py                 # 200 HTML and 200 PDF reports
    python benchmarks/import_bench.py --count 20      # small, for a shared machine

Reports are our own: N filled workbooks (benchmarks/bench.py's generator) rendered to .html and
.docx, the .docx turned into PDF by one LibreOffice run; all cached under /tmp, so only the first
run pays for LibreOffice. Timed in CPU seconds (the machine may be shared), best of --repeat, each
over all N files:

- floor: the same library on the same files, nothing placed: lxml parses each page and reads
  every element's text; PDFium reads every page's text segments; and, for comparison, pdfplumber
  alone finding the tables of every page (the usual route to PDF tables, which xltool avoids by
  feeding PDFium's strokes to pdfplumber's table finder);
- parse: xltool's parsers (the neutral Document of each file);
- import: `xltool import FOLDER -o OUT` as one process (parsing, placing, writing and checking
  every workbook), when the command exists.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

CACHE = Path(tempfile.gettempdir()) / "xltool-import-bench"


def reports(count: int) -> tuple[list[Path], list[Path]]:
    """N rendered .html and N LibreOffice .pdf reports, made once and cached."""
    from bench import generate

    from xltool.documents.render import render
    from xltool.workbook.reader import read

    books = generate(CACHE / f"xlsx-{count}", count)
    html_dir, docx_dir, pdf_dir = (CACHE / f"{kind}-{count}" for kind in ("html", "docx", "pdf"))
    for folder in (html_dir, docx_dir, pdf_dir):
        folder.mkdir(parents=True, exist_ok=True)
    for book in sorted(books.glob("*.xlsx")):
        for folder, suffix in ((html_dir, ".html"), (docx_dir, ".docx")):
            out = folder / (book.stem + suffix)
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
    return sorted(html_dir.glob("*.html")), sorted(pdf_dir.glob("*.pdf"))


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
    """Best CPU time (s) of ``repeat`` runs: this process's, plus its children's (the CLI runs).

    CPU time, not wall time: on a shared machine the wall clock measures the neighbours."""
    times = []
    for _ in range(repeat):
        start = _cpu()
        fn()
        times.append(_cpu() - start)
    return min(times)


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cli_import(paths: list[Path], repeat: int) -> float | None:
    probe = subprocess.run([sys.executable, "-m", "xltool", "import", "--help"], capture_output=True, cwd=ROOT)
    if probe.returncode != 0:
        return None

    def once() -> None:
        with tempfile.TemporaryDirectory() as out:
            subprocess.run(
                [sys.executable, "-m", "xltool", "import", str(paths[0].parent), "-o", str(Path(out) / "导入")],
                capture_output=True, cwd=ROOT, timeout=3600,
            )  # fmt: skip

    return best(once, repeat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from xltool.importers import html, pdf

    html_files, pdf_files = reports(args.count)
    n = args.count
    print(f"{n} reports each; CPU seconds, best of {args.repeat}")
    print(f"{'':10} {'floor':>14} {'parse':>22} {'import (CLI)':>26}")
    for kind, files, floor_fn, parser in (
        ("HTML", html_files, html_floor, html.parse),
        ("PDF", pdf_files, pdf_text_floor, pdf.parse),
        ("PDF/plumb", pdf_files, pdfplumber_floor, pdf.parse),
    ):
        floor = best(lambda f=files, fn=floor_fn: fn(f), args.repeat)
        parsed = best(lambda f=files, p=parser: parse_all(p, f), args.repeat)
        imported = cli_import(files, args.repeat) if kind != "PDF/plumb" else None
        row = f"{kind:10} {floor:6.2f} s {n / floor:5.0f}/s {parsed:6.2f} s {n / parsed:5.0f}/s {parsed / floor:5.2f}x"
        row += f" {imported:6.2f} s {n / imported:5.0f}/s {imported / floor:5.2f}x" if imported else ""
        print(row, flush=True)
    if cli_import(html_files[:1], 1) is None:
        print("(no `xltool import` command on this branch yet: import column left out)")


if __name__ == "__main__":
    main()
