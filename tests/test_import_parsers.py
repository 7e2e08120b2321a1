"""The format parsers of `xltool import`: web pages, Word documents and PDFs -> the neutral Document.

Bad input of every kind gets its Chinese message (InputFileError, exit 2 in the CLI); synthetic pages
imitate published layouts; our own rendered reports (HTML, .docx, and PDF via LibreOffice) must give
back every label and figure of the workbook where the layout places them.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import ROOT
from tests.helpers import libreoffice_pdf
from tests.sample_data import CHEPAIZI
from xltool.checks.check import exit_code as check_exit_code
from xltool.cli import app
from xltool.documents.render import number_text, render
from xltool.errors import InputFileError
from xltool.form import spec as specs
from xltool.form.layout import for_spec
from xltool.form.spec import UNIT_SUFFIX
from xltool.importers import docx as docx_parser
from xltool.importers import html as html_parser
from xltool.importers import pdf as pdf_parser
from xltool.importers.model import Document, Table, Text
from xltool.sources.checking import check
from xltool.submission import Submission, computed
from xltool.workbook import template
from xltool.workbook.files import preflight
from xltool.workbook.reader import read

SAMPLES = sorted((ROOT / "samples").glob("*.xlsx"))
PARSERS = {"html": html_parser, "docx": docx_parser, "pdf": pdf_parser}


def _message(parser: object, path: Path) -> str:
    with pytest.raises(InputFileError) as info:
        parser.parse(path)  # type: ignore[attr-defined]
    assert info.value.exit_code == 2
    assert info.value.message.startswith(f"{path}：")
    return info.value.reason


def _tables(doc: Document) -> list[Table]:
    return [b for b in doc.blocks if isinstance(b, Table)]


def _texts(doc: Document) -> list[str]:
    return [b.text for b in doc.blocks if isinstance(b, Text)]


# ---------------------------------------------------------------- bad input, every parser


@pytest.mark.parametrize("suffix", ["html", "docx", "pdf"])
def test_missing_folder_and_empty_files(tmp_path: Path, suffix: str) -> None:
    parser = PARSERS[suffix]
    assert _message(parser, tmp_path / f"无此文件.{suffix}") == "文件不存在。请检查文件名和路径。"
    folder = tmp_path / f"文件夹.{suffix}"
    folder.mkdir()
    assert _message(parser, folder) == "这是一个文件夹，不是文件。"
    empty = tmp_path / f"空.{suffix}"
    empty.write_bytes(b"")
    assert _message(parser, empty) == "文件是空的（0 字节），可能没有保存成功。请重新保存后再试。"


@pytest.mark.parametrize(
    ("suffix", "what", "limit"), [("html", "网页", 20), ("docx", "Word 文档", 50), ("pdf", "PDF", 50)]
)
def test_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str, what: str, limit: int) -> None:
    parser = PARSERS[suffix]
    assert limit * (1 << 20) == parser.MAX_BYTES
    monkeypatch.setattr(parser, "MAX_BYTES", 1 << 20)
    big = tmp_path / f"大.{suffix}"
    big.write_bytes(b"%PDF" + b" " * (3 << 20))
    assert _message(parser, big) == f"文件过大（3.0 MB），超过{what}的上限 1 MB，已拒绝读取。"


def test_wrong_content(tmp_path: Path) -> None:
    binary = tmp_path / "图片.html"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert _message(html_parser, binary) == html_parser.NOT_HTML
    text = tmp_path / "文本.docx"
    text.write_text("不是 Word", encoding="utf-8")
    assert _message(docx_parser, text) == docx_parser.NOT_DOCX
    text = tmp_path / "文本.pdf"
    text.write_text("不是 PDF", encoding="utf-8")
    assert _message(pdf_parser, text) == pdf_parser.NOT_PDF


# ---------------------------------------------------------------- HTML


def _page(tmp_path: Path, body: str, *, name: str = "页面.html", head: str = '<meta charset="utf-8">') -> Path:
    path = tmp_path / name
    path.write_text(f"<!DOCTYPE html><html><head>{head}<title>测试</title></head><body>{body}</body></html>", "utf-8")
    return path


# 表三 as published pages print it: the 申请人情况 header over two rows, 法人或其他组织 spanning five
# columns, the 总计 column left out, a figure with its unit, a label broken with <br>.
TABLE3 = """
<script>document.write("<p>脚本文字</p>")</script><style>p {color: red}</style>
<div class="nav"><a href="/">首页</a> &gt; <a href="/xxgk">信息公开</a></div>
<p>三、收到和处理政府信息公开申请情况</p>
<table border="1">
<tr><td rowspan="3" colspan="3">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td>
    <td colspan="6">申请人情况</td></tr>
<tr><td rowspan="2">自然人</td><td colspan="5">法人或其他组织</td></tr>
<tr><td>商业<br>企业</td><td>科研机构</td><td>社会公益组织</td><td>法律服务机构</td><td>其他</td></tr>
<tr><td colspan="3">一、本年新收政府信息公开申请数量</td><td>3件</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td rowspan="2">三、本年度办理结果</td><td colspan="2">（一）予以公开</td><td>2</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td colspan="2">（二）部分公开</td><td>1</td><td></td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
</table>
<p style="display:none">隐藏的文字</p>
<p>第一段<br>第二段&nbsp;&nbsp;末尾</p>
"""


def test_html_spans_resolved_like_a_published_table3(tmp_path: Path) -> None:
    doc = html_parser.parse(_page(tmp_path, TABLE3))
    assert doc.format == "html" and doc.title == "测试"
    assert _texts(doc) == ["首页 > 信息公开", "三、收到和处理政府信息公开申请情况", "第一段", "第二段 末尾"]
    [table] = _tables(doc)
    note = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    assert table.where == "第 1 个表格"
    assert table.rows == (
        (note, note, note, *["申请人情况"] * 6),
        (note, note, note, "自然人", *["法人或其他组织"] * 5),
        (note, note, note, "自然人", "商业\n企业", "科研机构", "社会公益组织", "法律服务机构", "其他"),
        (*["一、本年新收政府信息公开申请数量"] * 3, "3件", "1", "0", "0", "0", "0"),
        ("三、本年度办理结果", "（一）予以公开", "（一）予以公开", "2", "1", "0", "0", "0", "0"),
        ("三、本年度办理结果", "（二）部分公开", "（二）部分公开", "1", "", "0", "0", "0", "0"),
    )


def test_html_layout_table_and_nested_tables(tmp_path: Path) -> None:
    body = """<table><tr><td><p>一、总体情况</p><p>正文。</p>
    <table><tr><th>信息内容</th><th>本年制发件数</th></tr><tr><td>规章</td><td>0</td></tr></table>
    <p>二、其他</p></td><td>侧栏</td></tr></table>"""
    doc = html_parser.parse(_page(tmp_path, body))
    assert doc.blocks == (
        Text("一、总体情况"),
        Text("正文。"),
        Table((("信息内容", "本年制发件数"), ("规章", "0")), "第 1 个表格"),
        Text("二、其他"),
        Text("侧栏"),
    )


def test_html_ragged_rows_overlong_spans_and_rowspan_zero(tmp_path: Path) -> None:
    body = """<table><tr><td rowspan="0">甲</td><td colspan="99999">乙</td></tr>
    <tr><td>丙</td></tr><tr><td rowspan="5">丁</td><td>戊</td></tr></table>"""
    [table] = _tables(html_parser.parse(_page(tmp_path, body)))
    assert len(table.rows) == 3
    assert all(len(r) == 1 + html_parser.MAX_SPAN for r in table.rows)
    assert [r[:3] for r in table.rows] == [("甲", "乙", "乙"), ("甲", "丙", ""), ("甲", "丁", "戊")]


def test_html_huge_table_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html_parser, "MAX_CELLS", 50)
    path = _page(tmp_path, "<table>" + "<tr><td>1</td><td>2</td></tr>" * 30 + "</table>")
    assert _message(html_parser, path) == "网页中的表格过大（超过 50 个单元格），已拒绝读取。"


@pytest.mark.parametrize(
    ("head", "encoding"),
    [
        ('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', "gbk"),
        ('<meta charset="GBK">', "gbk"),
        ("", "gb18030"),  # undeclared: not UTF-8, so GB18030
        ('<meta charset="utf-8">', "gbk"),  # declared wrongly, as some sites do
        ('<meta charset="big5">', "big5"),
    ],
)
def test_html_encodings(tmp_path: Path, head: str, encoding: str) -> None:
    text = "<html><head>{}<title>規章和规范性文件</title></head><body><p>行政許可 3件</p></body></html>"
    path = tmp_path / "页面.html"
    word = "規章和規範性文件" if encoding == "big5" else "規章和规范性文件"
    path.write_bytes(text.format(head).replace("規章和规范性文件", word).encode(encoding))
    doc = html_parser.parse(path)
    assert doc.title == word
    assert _texts(doc) == ["行政許可 3件"]


def test_html_bom_and_no_content(tmp_path: Path) -> None:
    path = tmp_path / "bom.html"
    path.write_bytes(b"\xef\xbb\xbf<p>\xe8\xa1\x8c\xe6\x94\xbf</p>")
    assert _texts(html_parser.parse(path)) == ["行政"]
    empty = _page(tmp_path, "<script>load()</script><div> </div>", name="空白.html")
    assert _message(html_parser, empty) == html_parser.NOTHING


def test_html_no_network_no_entities(tmp_path: Path) -> None:
    """libxml2's HTML parser defines no external entities; a DOCTYPE with one is inert text."""
    body = '<!DOCTYPE html [<!ENTITY x SYSTEM "file:///etc/passwd">]><p>&x;</p><img src="http://127.0.0.1:9/a.png">'
    path = tmp_path / "实体.html"
    path.write_text(body, encoding="utf-8")
    texts = _texts(html_parser.parse(path))
    assert not any("root:" in t for t in texts)


def test_html_deep_nesting(tmp_path: Path) -> None:
    path = _page(tmp_path, "<div>" * 20000 + "深处" + "</div>" * 20000)
    try:
        texts = _texts(html_parser.parse(path))
    except InputFileError as exc:
        assert exc.reason in ("网页的标签嵌套层次过深，疑似恶意构造的文件，已拒绝读取。", html_parser.NOTHING)
    else:
        assert texts == ["深处"]


# ---------------------------------------------------------------- .docx


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _docx(tmp_path: Path, body: str, *, name: str = "文档.docx", doctype: str = "") -> Path:
    path = tmp_path / name
    rels = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="word/document.xml"/></Relationships>'
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("_rels/.rels", rels)
        zf.writestr(
            "word/document.xml",
            f'<?xml version="1.0"?>{doctype}<w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>',
        )
    return path


def _p(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def _tc(text: str, pr: str = "") -> str:
    return f"<w:tc><w:tcPr>{pr}</w:tcPr>{_p(text)}</w:tc>"


def test_docx_merged_cells_and_order(tmp_path: Path) -> None:
    body = (
        _p("二、主动公开政府信息情况")
        + "<w:tbl>"
        + "<w:tr>" + _tc("第二十条第（一）项", '<w:gridSpan w:val="3"/>') + "</w:tr>"
        + "<w:tr>" + _tc("信息内容", '<w:vMerge w:val="restart"/>') + _tc("本年制发件数", '<w:gridSpan w:val="2"/>') + "</w:tr>"
        + "<w:tr>" + _tc("", "<w:vMerge/>") + _tc("甲") + _tc("乙") + "</w:tr>"
        + '<w:tr><w:trPr><w:gridBefore w:val="1"/></w:trPr>' + _tc("1") + _tc("2") + "</w:tr>"
        + "</w:tbl>"
        + "<w:p><w:r><w:t>第一行</w:t><w:br/><w:t>第二行</w:t><w:tab/><w:delText>删去</w:delText>"
        + "<w:instrText>PAGE</w:instrText></w:r><w:ins><w:r><w:t>插入</w:t></w:r></w:ins></w:p>"
        + "<w:p><w:del><w:r><w:delText>整段删去</w:delText></w:r></w:del></w:p>"
    )  # fmt: skip
    doc = docx_parser.parse(_docx(tmp_path, body))
    assert doc.format == "docx" and doc.title is None
    assert doc.blocks == (
        Text("二、主动公开政府信息情况"),
        Table(
            (
                ("第二十条第（一）项",) * 3,
                ("信息内容", "本年制发件数", "本年制发件数"),
                ("信息内容", "甲", "乙"),
                ("", "1", "2"),
            ),
            "第 1 个表格",
        ),
        Text("第一行\n第二行\t插入"),
    )


def test_docx_layout_table(tmp_path: Path) -> None:
    inner = "<w:tbl><w:tr>" + _tc("规章") + _tc("0") + "</w:tr></w:tbl>"
    body = "<w:tbl><w:tr><w:tc>" + _p("一、总体情况") + inner + _p("") + "</w:tc>" + _tc("侧栏") + "</w:tr></w:tbl>"
    doc = docx_parser.parse(_docx(tmp_path, body))
    assert doc.blocks == (Text("一、总体情况"), Table((("规章", "0"),), "第 1 个表格"), Text("侧栏"))


def test_docx_bad_packages(tmp_path: Path) -> None:
    ole = bytes.fromhex("D0CF11E0A1B11AE1")
    old = tmp_path / "旧版.docx"
    old.write_bytes(ole + b"\x00" * 600)
    assert _message(docx_parser, old) == docx_parser.OLD_DOC
    locked = tmp_path / "加密.docx"
    locked.write_bytes(ole + b"\x00" * 600 + "EncryptionInfo".encode("utf-16-le"))
    assert _message(docx_parser, locked) == docx_parser.ENCRYPTED
    broken = tmp_path / "损坏.docx"
    broken.write_bytes(_docx(tmp_path, _p("正文")).read_bytes()[:200])
    assert _message(docx_parser, broken) == docx_parser.CORRUPT
    other = tmp_path / "压缩包.docx"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "x")
    assert _message(docx_parser, other) == "是压缩文件，但不是 Word 文档（.docx）：其中没有正文部件。"
    assert _message(docx_parser, _docx(tmp_path, "<w:p/>", name="空.docx")) == docx_parser.NOTHING
    bad_xml = tmp_path / "坏XML.docx"
    with zipfile.ZipFile(bad_xml, "w") as zf:
        zf.writestr("word/document.xml", "<w:document")
    assert _message(docx_parser, bad_xml) == docx_parser.CORRUPT


def test_docx_entities_and_bombs_refused(tmp_path: Path) -> None:
    laughs = '<!DOCTYPE d [<!ENTITY a "哈哈"><!ENTITY b "&a;&a;&a;&a;">]>'
    path = _docx(tmp_path, _p("&b;"), doctype=laughs)
    assert _message(docx_parser, path) == "文件包含不安全的 XML 内容（实体或文档类型声明），已拒绝读取。"
    bomb = tmp_path / "炸弹.docx"
    shutil.copy(_docx(tmp_path, _p("正文"), name="正常.docx"), bomb)
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/media/zeros.bin", b"\0" * (4 << 20))
    assert _message(docx_parser, bomb) == "文件解压后异常庞大（4 MB，4 个部件），疑似恶意构造的文件，已拒绝读取。"


def test_docx_bad_numbers_in_attributes(tmp_path: Path) -> None:
    body = (
        "<w:tbl><w:tr>"
        + _tc("甲", '<w:gridSpan w:val="x"/>')
        + _tc("乙", '<w:gridSpan w:val="99999999"/>')
        + "</w:tr></w:tbl>"
    )
    [table] = _tables(docx_parser.parse(_docx(tmp_path, body)))
    assert table.rows == (("甲", *["乙"] * 1000),)


# ---------------------------------------------------------------- PDF


def _pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A minimal PDF file of the given objects (object 1 is the catalog), with a correct xref table."""
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R ".encode() + trailer + b" >>\n"
    return out + f"startxref\n{xref}\n%%EOF\n".encode()


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< " + extra + f" /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


def test_pdf_blank_scanned_encrypted_corrupt(tmp_path: Path) -> None:
    blank = tmp_path / "空白.pdf"
    blank.write_bytes(_pdf([CATALOG, PAGES, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]))
    assert _message(pdf_parser, blank) == "PDF 中没有任何内容（空白页）。"

    image = _stream(
        b"\x00\xff\xff\x00",
        b"/Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8",
    )
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 4 0 R >> >> /Contents 5 0 R >>"
    scanned = tmp_path / "扫描件.pdf"
    scanned.write_bytes(_pdf([CATALOG, PAGES, page, image, _stream(b"q 400 0 0 600 100 100 cm /Im1 Do Q")]))
    assert _message(pdf_parser, scanned) == (
        "PDF 没有文字层（可能是扫描件或图片），无法读取其中的文字和数字。"
        "请使用原始的 Word 或网页版本，或先用 OCR 软件把它识别成带文字层的 PDF 后再试。"
    )

    # the Standard security handler with a user password we do not know
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /P -4 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> >>"
    locked = tmp_path / "加密.pdf"
    ident = b"/ID [<" + b"33" * 16 + b"> <" + b"33" * 16 + b">]"
    locked.write_bytes(
        _pdf(
            [CATALOG, PAGES, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>", encrypt],
            b"/Encrypt 4 0 R " + ident,
        )
    )
    assert _message(pdf_parser, locked) == pdf_parser.ENCRYPTED

    corrupt = tmp_path / "损坏.pdf"
    corrupt.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    assert _message(pdf_parser, corrupt) == pdf_parser.CORRUPT


def test_pdf_page_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_parser, "MAX_PAGES", 0)
    path = tmp_path / "页多.pdf"
    path.write_bytes(_pdf([CATALOG, PAGES, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]))
    assert _message(pdf_parser, path) == "PDF 页数过多（1 页，上限 0 页），不像是一份年度报告，已拒绝读取。"


def test_pdf_text_lines_and_latin_spacing(tmp_path: Path) -> None:
    content = b"BT /F1 12 Tf 72 700 Td (Annual report 2023) Tj ET BT /F1 12 Tf 72 680 Td (12) Tj ET"
    content += b" BT /F1 12 Tf 200 680 Td (34) Tj ET BT /F1 12 Tf 280 60 Td (- 2 -) Tj ET"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    path = tmp_path / "文字.pdf"
    path.write_bytes(_pdf([CATALOG, PAGES, page, font, _stream(content)]))
    doc = pdf_parser.parse(path)
    assert doc.format == "pdf"
    assert doc.blocks == (Text("Annual report 2023", "第 1 页"), Text("12 34", "第 1 页"))


@pytest.mark.parametrize(
    "line",
    [
        "- 3 -",
        "—3—",
        "— 12 —",
        "－ 4 －",
        "第3页",
        "第 3 页 共 5 页",
        "第3页，共5页",
        "共5页 第3页",
        "3/5",
        "Page 2 of 9",
    ],
)
def test_page_markers(line: str) -> None:
    assert pdf_parser.PAGE_MARK.match(line)


@pytest.mark.parametrize("line", ["3", "3件", "一、总体情况", "2023年", "第二十条第（一）项", "0.00"])
def test_not_page_markers(line: str) -> None:
    assert not pdf_parser.PAGE_MARK.match(line)


# ---------------------------------------------------------------- round trips of our own documents


def _expected_grids(sample: Path) -> list[tuple[tuple[str, ...], ...]]:
    """Each table of the form as the layout places it: labels, and the workbook's figures (totals
    recomputed), a merged cell's text in every position it covers."""
    submission = read(sample)
    numbers = computed(submission.spec, submission.values)
    # a money amount and its unit drop-down print as one cell: "1690.9913万元" (render.value_text)
    units = {cell.key: submission.text(unit_key) for cell, unit_key in submission.spec.chosen_units()}
    amount_of = {cell.key + UNIT_SUFFIX: cell.key for cell in (c for c, _u in submission.spec.chosen_units())}
    out = []
    for sheet in for_spec(submission.spec).sheets:
        if sheet.kind != "table":
            continue
        cells = [c for c in sheet.cells if c.role in ("caption", "corner", "header", "label", "input", "total")]
        top = min(c.row for c in cells)
        bottom = max(c.last_row if c.last_row is not None else c.row for c in cells)
        grid = [[""] * len(sheet.widths) for _ in range(bottom - top + 1)]
        for c in cells:
            key = amount_of.get(c.key or "", c.key)
            text = number_text(numbers[key]) + units.get(key, "") if key is not None else c.text
            for r in range(c.row, (c.last_row if c.last_row is not None else c.row) + 1):
                for col in range(c.col, (c.last_col if c.last_col is not None else c.col) + 1):
                    grid[r - top][col] = text
        out.append(tuple(tuple(row) for row in grid))
    return out


def _distinct(path: Path) -> Path:
    """The 车排子镇 sample with a different figure in every input cell (decimals for 万元 and 元)."""
    spec = specs.load()
    values = dict(CHEPAIZI)
    inputs = [c for sheet, c in for_spec(spec).keyed("input") if sheet.kind == "table"]
    for i, cell in enumerate(inputs, 1):
        values[cell.key] = Decimal(f"{i}.25") if cell.vtype in ("wan_yuan", "yuan") else i
    template.write(path, spec, values)
    return path


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {p.stem: p for p in SAMPLES}
    out["每格不同"] = _distinct(tmp_path_factory.mktemp("distinct") / "每格不同.xlsx")
    return out


@pytest.fixture(scope="module")
def rendered(workbooks: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    folder = tmp_path_factory.mktemp("rendered")
    return {
        name: {fmt: render(read(path), folder / f"{name}.{fmt}") for fmt in ("html", "docx")}
        for name, path in workbooks.items()
    }


NAMES = [*(p.stem for p in SAMPLES), "每格不同"]


@pytest.fixture(scope="module")
def rendered_pdfs(
    rendered: dict[str, dict[str, Path]], soffice: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pdf")
    return {name: libreoffice_pdf(soffice, files["docx"], folder) for name, files in rendered.items()}


def test_distinct_figures_are_all_different(workbooks: dict[str, Path]) -> None:
    inputs = _figures(workbooks["每格不同"])
    assert len(inputs) == len(set(inputs)) > 100


def _figures(path: Path) -> list[str]:
    submission = read(path)
    numbers = computed(submission.spec, submission.values)
    return [number_text(numbers[c.key]) for s, c in for_spec(submission.spec).keyed("input") if s.kind == "table"]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["html", "docx"])
@pytest.mark.parametrize("name", NAMES)
def test_rendered_tables_read_back_exactly(
    workbooks: dict[str, Path], rendered: dict[str, dict[str, Path]], name: str, fmt: str
) -> None:
    expected = _expected_grids(workbooks[name])
    doc = PARSERS[fmt].parse(rendered[name][fmt])
    assert [t.rows for t in _tables(doc)] == expected


@pytest.mark.parametrize("name", NAMES)
def test_rendered_html_and_docx_give_the_same_document(
    workbooks: dict[str, Path], rendered: dict[str, dict[str, Path]], name: str
) -> None:
    html_doc = html_parser.parse(rendered[name]["html"])
    docx_doc = docx_parser.parse(rendered[name]["docx"])
    submission = read(workbooks[name])
    title = f"{submission.unit_name}{submission.year}年政府信息公开工作年度报告"
    assert html_doc.title == docx_doc.title == title
    assert html_doc.blocks[0] == Text(title)
    assert docx_doc.blocks[0] == Text(f"{submission.unit_name}\n{submission.year}年政府信息公开工作年度报告")
    assert html_doc.blocks[1:] == docx_doc.blocks[1:]
    assert [b.text for b in html_doc.blocks if isinstance(b, Text) and b.text == "（一）主动公开"]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_rendered_pdf_tables_hold_every_row(
    workbooks: dict[str, Path], rendered_pdfs: dict[str, Path], name: str
) -> None:
    """LibreOffice's PDF of our .docx: every row of every table (labels and figures, in layout
    order) is a row of a Table; page footers (— n —) are not text; the narratives are there."""
    sample = workbooks[name]
    pdf = rendered_pdfs[name]
    doc = pdf_parser.parse(pdf)
    assert doc == pdf_parser.parse(pdf, tables="pdfplumber")  # PDFium's strokes find pdfplumber's tables
    rows = {tuple(_squash(t) for t in row) for t in _tables(doc) for row in t.rows}
    for grid in _expected_grids(sample):
        for row in grid:
            assert tuple(_squash(t) for t in row) in rows
    texts = _texts(doc)
    assert not [t for t in texts if pdf_parser.PAGE_MARK.match(t)]
    assert {b.where for b in doc.blocks} == {f"第 {n} 页" for n in range(1, 6)}
    table_text = {t for table in _tables(doc) for row in table.rows for t in row}
    assert not set(texts) & table_text  # a table's text is not repeated as lines
    submission = read(sample)
    narrative = _squash(submission.text("s1.active"))
    assert narrative and narrative.replace("、", "") in _squash("".join(texts)).replace("、", "")


def test_pdf_without_tables_keeps_the_rows_as_lines(rendered_pdfs: dict[str, Path]) -> None:
    pdf = rendered_pdfs[SAMPLES[0].stem]
    doc = pdf_parser.parse(pdf, tables="none")
    assert not _tables(doc)
    assert "规章 0 0 0" in _texts(doc) or any(re.fullmatch(r"规章( \d+){3}", t) for t in _texts(doc))


def _damage_deflate(path: Path, member: str) -> None:
    """Overwrite bytes at the start of one member's compressed data (a zlib error, not a bad zip)."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    data = bytearray(path.read_bytes())
    name_len, extra_len = (
        int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little"),
        int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little"),
    )
    start = info.header_offset + 30 + name_len + extra_len
    data[start : start + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))


def test_damaged_deflate_stream(tmp_path: Path) -> None:
    path = tmp_path / "压缩流损坏.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", f'<w:document xmlns:w="{W}"><w:body>{_p("正文" * 500)}</w:body></w:document>')
    _damage_deflate(path, "word/document.xml")
    assert _message(docx_parser, path) == docx_parser.CORRUPT
    workbook = tmp_path / "压缩流损坏.xlsx"
    shutil.copy(SAMPLES[0], workbook)
    _damage_deflate(workbook, "xl/workbook.xml")
    with pytest.raises(InputFileError) as info:
        preflight(workbook)
    assert (
        info.value.reason
        == "文件已损坏，无法打开。请在 WPS 或 Excel 中打开并重新保存；打不开的，请向填报单位重新索取。"
    )


# ---------------------------------------------------------------- end to end: xltool import of our documents


def _narratives(submission: Submission) -> dict[str, str]:
    return {
        f"{s.key}.{p.key}": submission.text(f"{s.key}.{p.key}").strip()
        for s in submission.spec.sections
        for p in s.parts
        if not p.fields
    }


@pytest.mark.parametrize("fmt", ["html", "docx", "pdf"])
@pytest.mark.parametrize("name", NAMES)
def test_import_gives_back_the_workbook(
    workbooks: dict[str, Path],
    rendered: dict[str, dict[str, Path]],
    rendered_pdfs: dict[str, Path],
    name: str,
    fmt: str,
    tmp_path: Path,
) -> None:
    """`xltool import` of each rendered document: every cell read, the same figures and narratives."""
    source = read(workbooks[name])
    report = rendered_pdfs[name] if fmt == "pdf" else rendered[name][fmt]
    out = tmp_path / "导入.xlsx"
    proc = CliRunner().invoke(app, ["import", str(report), "-o", str(out), "--json"])
    result = json.loads(proc.stdout)["files"][0]
    assert (result["import"]["cells_found"], result["import"]["missing"]) == (result["import"]["cells_expected"], [])
    imported = read(out)
    assert (imported.unit_name, imported.year) == (source.unit_name, source.year)
    spec = source.spec
    assert computed(spec, imported.values) == computed(spec, source.values)
    expected = _narratives(source)
    if fmt == "pdf":  # LibreOffice drops a 、 or ， that falls at the end of a printed line
        assert {k: _squash(v).replace("、", "") for k, v in _narratives(imported).items()} == {
            k: _squash(v).replace("、", "") for k, v in expected.items()
        }
    else:
        assert _narratives(imported) == expected
    # the import finds what check finds in the source (the 2020 sample keeps its report's real error;
    # the every-cell-different workbook breaks the 勾稽 rules on purpose)
    assert proc.exit_code == check_exit_code(check([workbooks[name]])), proc.stdout


def _article(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    return text[text.index("<article>") : text.index("</article>") + len("</article>")]


PORTAL = """<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{title}_政府信息公开_某某县人民政府门户网站</title>
<script src="/js/jquery.min.js"></script><script>var _hmt = []; document.write("统计代码");</script>
<style>.top {{ background: #c00; }} td {{ font-size: 14px; }}</style></head><body>
<div class="top"><a href="/">首页</a> | <a href="/xxgk/">政府信息公开</a> | 无障碍 | 长者模式</div>
<table width="1000" align="center"><tr>
<td width="200" valign="top"><ul><li><a href="#">信息公开指南</a></li><li><a href="#">信息公开年报</a></li></ul></td>
<td valign="top"><div class="position">当前位置：首页 &gt; 政府信息公开 &gt; 年度报告</div>
<div class="info">发布时间：2024-01-20 浏览次数：<span id="hits"></span></div>
{article}
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a></div></td></tr></table>
<div class="foot">主办：某某县人民政府办公室 <a href="#">网站地图</a><br>备案号：X ICP 备 00000000 号</div>
</body></html>"""


def test_article_only_parses_like_the_page(rendered: dict[str, dict[str, Path]], tmp_path: Path) -> None:
    page = rendered["每格不同"]["html"]
    fragment = tmp_path / "仅正文.html"
    fragment.write_text(_article(page), encoding="utf-8")
    alone = html_parser.parse(fragment)
    assert alone.title is None and alone.blocks == html_parser.parse(page).blocks


@pytest.fixture(scope="module")
def portal(
    workbooks: dict[str, Path], rendered: dict[str, dict[str, Path]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Submission, Path, Path]:
    """A GB2312 portal page wrapping the rendered article in a layout table with menus and scripts, imported."""
    page = rendered["每格不同"]["html"]
    folder = tmp_path_factory.mktemp("portal")
    path = folder / "门户.html"
    title = html_parser.parse(page).title
    path.write_bytes(PORTAL.format(title=title, article=_article(page)).encode("gb18030"))
    out = folder / "门户.xlsx"
    result = CliRunner().invoke(app, ["import", str(path), "-o", str(out)])
    assert result.exit_code == 1, result.stdout  # this workbook breaks the 勾稽 rules on purpose
    return read(workbooks["每格不同"]), path, out


def test_portal_page_tables_and_figures(
    rendered: dict[str, dict[str, Path]], portal: tuple[Submission, Path, Path]
) -> None:
    source, page, out = portal
    assert _tables(html_parser.parse(page)) == _tables(html_parser.parse(rendered["每格不同"]["html"]))
    assert computed(source.spec, read(out).values) == computed(source.spec, source.values)
    narratives = _narratives(read(out))
    assert {k: v for k, v in narratives.items() if k != "s6.other"} == {
        k: v for k, v in _narratives(source).items() if k != "s6.other"
    }


def test_portal_page_last_narrative(portal: tuple[Submission, Path, Path]) -> None:
    source, _, out = portal
    assert _narratives(read(out))["s6.other"] == _narratives(source)["s6.other"]


def test_cli_scanned_pdf_exits_2_with_the_message(tmp_path: Path) -> None:
    image = _stream(
        b"\x00\xff\xff\x00",
        b"/Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8",
    )
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 4 0 R >> >> /Contents 5 0 R >>"
    scanned = tmp_path / "扫描件.pdf"
    scanned.write_bytes(_pdf([CATALOG, PAGES, page, image, _stream(b"q 400 0 0 600 100 100 cm /Im1 Do Q")]))
    out = tmp_path / "导入.xlsx"
    result = CliRunner().invoke(app, ["import", str(scanned), "-o", str(out)])
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [f"✗ {scanned}：无法导入", f"  {pdf_parser.NO_TEXT}"]
    assert not out.exists()
