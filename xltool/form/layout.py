"""Where everything stands in the workbook: a pure function of the form definition.

The template writer and the reader both use this module, so they cannot disagree about where a
label, an input or a formula is. No spreadsheet library is imported here.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from xltool.form.spec import (
    UNIT_SUFFIX,
    Block,
    FormSpec,
    Leaf,
    Node,
    Section,
    Table,
    TableCell,
    ValueType,
    block_cells,
    leaves,
)

Role = Literal["title", "note", "caption", "header", "corner", "label", "input", "total", "check", "legend"]
LABEL_ROLES: frozenset[str] = frozenset({"title", "caption", "header", "corner", "label"})

INSTRUCTIONS_SHEET = "填报说明"
CHECK_SHEET = "校验"
PASS, FAIL = "✓", "✗"
INPUT_NOTE = "浅黄色单元格为填写区域；灰色单元格为自动合计，不能修改。无数据请填 0，只填数字，不带单位。"
TEXT_HEIGHT = 150.0  # points: a narrative input area
DRAFT_FILL = "#FCE4D6"  # a text cell holding xltool's draft (xltool draft, merge): light orange


@dataclass(frozen=True)
class Cell:
    row: int  # 0-based
    col: int  # 0-based
    role: Role
    text: str = ""  # label text, or the formula of a total / check cell
    key: str | None = None  # input / total key (see spec.TableCell.key, "unit.x", "s1.x")
    vtype: ValueType | None = None
    last_row: int | None = None  # merged range end (inclusive), if merged
    last_col: int | None = None
    prompt: str = ""
    choices: tuple[str, ...] = ()
    style: Literal["", "input", "total", "draft"] = ""  # legend cells: which fill they show
    what: str = ""  # keyed cells: what the value is, for messages (行 / 列 labels, field label)

    @property
    def merged(self) -> bool:
        return self.last_row is not None

    @property
    def address(self) -> str:
        return a1(self.row, self.col)


@dataclass(frozen=True)
class Check:
    """One live check: ``sum(left) == sum(right)`` (or every cell numeric, for kind "numbers")."""

    rule: str
    what: str
    kind: Literal["equal", "numbers"]
    left: tuple[str, ...]
    right: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sheet:
    name: str
    kind: Literal["instructions", "unit", "narrative", "table", "checks"]
    cells: tuple[Cell, ...]
    widths: tuple[float, ...]
    heights: tuple[tuple[int, float], ...] = ()
    landscape: bool = False
    repeat_rows: tuple[int, int] | None = None
    table: str | None = None


@dataclass(frozen=True)
class Layout:
    spec: FormSpec
    sheets: tuple[Sheet, ...]
    checks: tuple[Check, ...]
    _index: dict[str, tuple[Sheet, Cell]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for sheet in self.sheets:
            for cell in sheet.cells:
                if cell.key is not None:
                    self._index[cell.key] = (sheet, cell)

    def locate(self, key: str) -> tuple[Sheet, Cell]:
        return self._index[key]

    def ref(self, key: str, *, local_to: str | None = None) -> str:
        sheet, cell = self.locate(key)
        return cell.address if sheet.name == local_to else f"{quote(sheet.name)}!{cell.address}"

    def sheet(self, name: str) -> Sheet:
        return next(s for s in self.sheets if s.name == name)

    def keyed(self, role: Role | None = None) -> Iterator[tuple[Sheet, Cell]]:
        for sheet in self.sheets:
            for cell in sheet.cells:
                if cell.key is not None and (role is None or cell.role == role):
                    yield sheet, cell


# ---------------------------------------------------------------- addresses


def col_letter(col: int) -> str:
    out = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def a1(row: int, col: int) -> str:
    return f"{col_letter(col)}{row + 1}"


def rowcol(address: str) -> tuple[int, int]:
    """1-based (row, column) of an A1 address: "J6" -> (6, 10)."""
    letters = address.rstrip("0123456789")
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(address[len(letters) :]), col


def quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


@functools.cache
def _tenths(ch: str) -> int:
    """A character's display width in tenths of an Excel character unit (a merge measures ~10^6 of them)."""
    return 20 if unicodedata.east_asian_width(ch) in "WF" else 11


def text_width(text: str) -> float:
    """Display width in Excel character units: East Asian wide characters count double."""
    return sum(map(_tenths, text)) / 10


def lines_needed(text: str, width: float) -> int:
    return sum(max(1, math.ceil(text_width(line) / max(width - 1.5, 1.0))) for line in text.split("\n"))


def sum_formula(refs: Iterable[str]) -> str:
    return "SUM(" + ",".join(compress(list(refs))) + ")"


def compress(refs: list[str]) -> list[str]:
    """Join runs of adjacent same-sheet cells into ranges: A1,A2,A3 -> A1:A3."""
    out: list[str] = []
    run: list[tuple[str, int, int, str]] = []

    def parse(ref: str) -> tuple[str, int, int, str]:
        prefix, _, addr = ref.rpartition("!")
        row, col = rowcol(addr)
        return prefix, row, col, addr

    def flush() -> None:
        if run:
            head = run[0][0] + "!" if run[0][0] else ""
            out.append(head + run[0][3] + (":" + run[-1][3] if len(run) > 1 else ""))
            run.clear()

    for ref in refs:
        cur = parse(ref)
        if run:
            prev, first = run[-1], run[0]
            same_col = cur[0] == prev[0] and cur[2] == prev[2] == first[2] and cur[1] == prev[1] + 1
            same_row = cur[0] == prev[0] and cur[1] == prev[1] == first[1] and cur[2] == prev[2] + 1
            if not (same_col or same_row):
                flush()
        run.append(cur)
    flush()
    return out


# ---------------------------------------------------------------- building


def depth(nodes: tuple[Node, ...]) -> int:
    return max((1 + depth(n.children) if n.children else 1) for n in nodes)


def leaf_count(node: Node) -> int:
    """Sheet columns under a header: one per leaf, two for a money leaf (value, then its unit)."""
    return sum(leaf_count(c) for c in node.children) if node.children else 1 + bool(node.units)


def block_width(block: Block) -> int:
    return block.label_columns + sum(leaf_count(n) for n in block.columns)


class _Grid:
    """Collects cells and row heights for one sheet."""

    def __init__(self, widths: list[float]) -> None:
        self.cells: list[Cell] = []
        self.widths = widths
        self.heights: dict[int, float] = {}

    def add(self, cell: Cell) -> None:
        self.cells.append(cell)
        if cell.role in LABEL_ROLES or cell.role == "note":
            self.fit(cell)

    def fit(self, cell: Cell) -> None:
        last_col = cell.last_col if cell.last_col is not None else cell.col
        last_row = cell.last_row if cell.last_row is not None else cell.row
        width = sum(self.widths[cell.col : last_col + 1])
        rows = last_row - cell.row + 1
        size = 20.0 if cell.role == "title" else 14.0
        need = lines_needed(cell.text, width * (0.9 if cell.role == "title" else 1.0)) * size + 6
        per_row = need / rows
        for r in range(cell.row, last_row + 1):
            self.heights[r] = max(self.heights.get(r, 18.0), per_row)


def build(spec: FormSpec) -> Layout:
    sheets: list[Sheet] = [_instructions(spec), _unit(spec)]
    for section in spec.sections:
        sheets.append(_table(section) if section.kind == "table" else _narrative(section))
    draft = Layout(spec, tuple(sheets), ())
    checks = tuple(_checks(spec))
    sheets.append(_check_sheet(draft, checks))
    return Layout(spec, tuple(sheets), checks)


_LAYOUTS: dict[int, tuple[FormSpec, Layout]] = {}


def for_spec(spec: FormSpec) -> Layout:
    """The layout of a spec, built once per spec object."""
    hit = _LAYOUTS.get(id(spec))
    if hit is None or hit[0] is not spec:
        hit = _LAYOUTS[id(spec)] = (spec, build(spec))
    return hit[1]


def _instructions(spec: FormSpec) -> Sheet:
    g = _Grid([88.0])
    lines: list[tuple[str, str]] = [
        ("title", f"{spec.title}填报模板"),
        ("note", f"表式依据：{spec.basis}（适用于 {spec.years}的年度报告）。"),
        ("caption", "一、怎样填写"),
        ("note", "1. 先在“单位信息”表填写单位名称、单位类型、填报人等信息。"),
        ("note", "2. 按工作表顺序填写第一至第六部分：第一、五、六部分为文字，第二、三、四部分为表格。"),
        ("note", "3. 表格中无数据的单元格填 0，不要留空；只填阿拉伯数字，不要填“无”“/”或带“件”“元”等单位。"),
        ("note", "4. " + "；".join(_type_notes(spec)) + "。"),
        ("note", "5. 合计（总计）由公式自动计算，不能修改。填完后查看“校验”表，全部为 ✓ 再报送。"),
        ("note", "6. 请直接保存为 .xlsx 格式报送，不要另存为 .xls、.et 或 .ods，不要改动工作表名称和表格结构。"),
        ("caption", "二、颜色说明"),
        ("legend:input", "浅黄色：需要填写的单元格"),
        ("legend:total", "灰色：自动计算的合计，锁定不能修改"),
        ("legend:", "白色：表格标签，锁定不能修改"),
        ("caption", "三、校验规则"),
    ]
    seen: set[str] = set()
    for rule in spec.rules:
        if rule.title not in seen and rule.for_filler:
            seen.add(rule.title)
            lines.append(("note", f"{rule.id}　{rule.title}（{_SEVERITY[rule.severity]}）"))
    for row, (role, text) in enumerate(lines):
        base, _, style = role.partition(":")
        g.add(Cell(row, 0, base, text, style=style))  # type: ignore[arg-type]
    return Sheet(INSTRUCTIONS_SHEET, "instructions", tuple(g.cells), tuple(g.widths), tuple(g.heights.items()))


def with_lines(sheet: Sheet, lines: Iterable[tuple[str, str]]) -> Sheet:
    """The 填报说明 sheet with more lines after a blank one (role, text; a legend's role is
    "legend:draft" and so on), fitted as its own lines are: a drafted copy lists its drafts there."""
    g = _Grid(list(sheet.widths))
    g.heights = dict(sheet.heights)
    start = max((c.last_row if c.last_row is not None else c.row) for c in sheet.cells) + 2
    for row, (role, text) in enumerate(lines, start=start):
        base, _, style = role.partition(":")
        g.add(Cell(row, 0, base, text, style=style))  # type: ignore[arg-type]
    return replace(sheet, cells=sheet.cells + tuple(g.cells), heights=tuple(g.heights.items()))


def _type_notes(spec: FormSpec) -> list[str]:
    """What the table cells accept, one phrase per value type in the order the tables use them."""
    out: dict[str, str] = {}
    for c in spec.inputs():
        if c.type == "count":
            out.setdefault(c.type, "件数只能是 0 或正整数")
        elif c.type == "signed_count":
            out.setdefault(c.type, f"“{c.col.label}”填整数，减少时填负数")
        elif c.type == "wan_yuan":
            out.setdefault(c.type, "收费金额以万元为单位，可以有小数（最多 6 位）")
        elif c.type == "money":
            units = "或".join(f"“{u}”" for u in c.col.node.units)
            out.setdefault(c.type, f"“{c.col.label}”可有小数，单位在其右侧的下拉列表中选择（{units}）")
    return list(out.values())


_SEVERITY = {"error": "错误", "warning": "提醒", "info": "提示"}
SEVERITY_LABEL = _SEVERITY


def _unit(spec: FormSpec) -> Sheet:
    g = _Grid([22.0, 60.0])
    g.add(Cell(0, 0, "title", spec.unit.title, last_row=0, last_col=1))
    g.add(Cell(1, 0, "note", INPUT_NOTE, last_row=1, last_col=1))
    for i, f in enumerate(spec.unit.fields, start=2):
        g.add(Cell(i, 0, "label", f.label))
        g.add(Cell(i, 1, "input", key=f"unit.{f.key}", vtype=f.type, prompt=f.prompt, choices=f.choices, what=f.label))
    return Sheet(spec.unit.sheet, "unit", tuple(g.cells), tuple(g.widths), tuple(g.heights.items()))


def _narrative(section: Section) -> Sheet:
    g = _Grid([30.0, 70.0])
    g.add(Cell(0, 0, "title", section.heading, last_row=0, last_col=1))
    g.add(Cell(1, 0, "note", section.prompt, last_row=1, last_col=1))
    row = 2
    for part in section.parts:
        g.add(Cell(row, 0, "caption", part.label, last_row=row, last_col=1))
        row += 1
        for f in part.fields:
            g.add(Cell(row, 0, "label", f.label))
            prompt = f.prompt or _prompt(f.type)
            g.add(Cell(row, 1, "input", key=f"{section.key}.{f.key}", vtype=f.type, prompt=prompt, what=f.label))
            row += 1
        key = f"{section.key}.{part.key}"
        prompt = "在此填写" + part.label.lstrip("（一二三四五六七八九十）") + "的情况；可直接粘贴文字，Alt+Enter 换行。"
        what = f"{section.heading}／{part.label}"
        g.add(Cell(row, 0, "input", key=key, vtype="text", last_row=row, last_col=1, prompt=prompt, what=what))
        g.heights[row] = TEXT_HEIGHT
        row += 1
    return Sheet(section.heading, "narrative", tuple(g.cells), tuple(g.widths), tuple(g.heights.items()))


def _block_widths(block: Block, width: int) -> list[float]:
    """Column widths (characters): label columns by how many there are, value columns by how many fit."""
    label_widths = {0: [], 1: [26.0], 2: [10.0, 30.0], 3: [7.0, 15.0, 40.0]}[block.label_columns]
    value_width = 13.0 if width - block.label_columns < 10 else 7.0
    return label_widths + [value_width] * (width - block.label_columns)


def _table(section: Section) -> Sheet:
    table = section.table
    assert table is not None
    width = max(block_width(b) for b in table.blocks)
    widest = max(table.blocks, key=lambda b: b.label_columns)
    g = _Grid(_block_widths(widest, width))
    g.add(Cell(0, 0, "title", section.heading, last_row=0, last_col=width - 1))
    g.add(Cell(1, 0, "note", INPUT_NOTE + _unit_note(table), last_row=1, last_col=width - 1))
    row = 2
    header_start = row
    for block in table.blocks:
        row = _block(g, table.key, block, row, width)
    repeat = (header_start, header_start + depth(table.blocks[0].columns) - 1) if len(table.blocks) == 1 else None
    return Sheet(
        section.heading,
        "table",
        tuple(g.cells),
        tuple(g.widths),
        tuple(g.heights.items()),
        landscape=table.landscape,
        repeat_rows=repeat,
        table=table.key,
    )


def _block(g: _Grid, table_key: str, block: Block, row: int, width: int) -> int:
    if block.caption:
        g.add(Cell(row, 0, "caption", block.caption, last_row=row, last_col=width - 1))
        row += 1
    lc = block.label_columns
    h = depth(block.columns)
    if lc:
        g.add(_merged(row, 0, row + h - 1, lc - 1, "corner", block.corner))
    last_leaf_col = block_width(block) - 1
    _headers(g, block.columns, row, lc, h, width, last_leaf_col)
    top = row + h
    row_leaves = leaves(block.rows)
    _row_labels(g, block.rows, top, 0, lc)
    positions = {leaf.key: top + i for i, leaf in enumerate(row_leaves)}
    col_positions: dict[str, int] = {}
    at = lc
    for leaf in leaves(block.columns):
        col_positions[leaf.key], at = at, at + leaf_count(leaf.node)

    def addr(row_key: str, col_key: str) -> str:
        return a1(positions[row_key], col_positions[col_key])

    for cell in block_cells(table_key, block):
        r, c = positions[cell.row.key], col_positions[cell.col.key]
        last = width - 1 if c == last_leaf_col and c < width - 1 else None
        if cell.col.node.derived:
            formula = "=" + sum_formula(addr(cell.row.key, k) for k in cell.col.siblings)
        elif cell.row.node.derived:
            formula = "=" + sum_formula(addr(k, cell.col.key) for k in cell.row.siblings)
        else:
            formula = ""
        role: Role = "total" if formula else "input"
        g.add(
            Cell(
                r,
                c,
                role,
                formula,
                key=cell.key,
                vtype=cell.type,
                last_row=r if last else None,
                last_col=last,
                prompt=_prompt(cell.type),
                what=cell_title(cell, block.label_columns),
            )
        )
        if cell.col.node.units:
            _unit_cell(g, cell, r, c + 1, width if c + 1 == last_leaf_col else None, block.label_columns)
    return top + len(row_leaves)


def _unit_note(table: Table) -> str:
    """Where a table has money amounts, the note says where their unit is chosen."""
    money = [leaf.node for b in table.blocks for leaf in leaves(b.columns) if leaf.node.units]
    return "".join(f"“{n.label}”的单位在其右侧单元格中选择（{'或'.join(n.units)}）。" for n in money)


def _unit_cell(g: _Grid, cell: TableCell, r: int, c: int, width: int | None, label_columns: int) -> None:
    """The drop-down beside a money cell, where the filler chooses its unit (元 or 万元)."""
    units = tuple(cell.col.node.units)
    last = width - 1 if width is not None and c < width - 1 else None
    g.add(
        Cell(
            r,
            c,
            "input",
            key=cell.key + UNIT_SUFFIX,
            vtype="choice",
            last_row=r if last else None,
            last_col=last,
            prompt=f"选择{cell.col.label}的单位：{'或'.join(units)}",
            choices=units,
            what=cell_title(cell, label_columns) + "的单位",
        )
    )


def _prompt(vtype: ValueType) -> str:
    return {
        "count": "填 0 或正整数（件数）",
        "signed_count": "填整数，减少填负数",
        "wan_yuan": "单位：万元，可有小数（最多 6 位）",
        "money": "填金额数字，可有小数，并在右侧选择单位",
        "yuan": "单位：元，可有两位小数",
    }.get(vtype, "")


def _merged(r0: int, c0: int, r1: int, c1: int, role: Role, text: str) -> Cell:
    if (r0, c0) == (r1, c1):
        return Cell(r0, c0, role, text)
    return Cell(r0, c0, role, text, last_row=r1, last_col=c1)


def _headers(g: _Grid, nodes: tuple[Node, ...], row: int, col: int, h: int, width: int, last_leaf: int) -> int:
    for node in nodes:
        n = leaf_count(node)
        if node.children:
            g.add(_merged(row, col, row, col + n - 1, "header", node.label))
            _headers(g, node.children, row + 1, col, h - 1, width, last_leaf)
        else:
            end_col = width - 1 if col + n - 1 == last_leaf else col + n - 1
            g.add(_merged(row, col, row + h - 1, end_col, "header", node.label))
        col += n
    return col


def _row_labels(g: _Grid, nodes: tuple[Node, ...], row: int, col: int, lc: int) -> int:
    for node in nodes:
        n = leaf_count(node)
        if lc == 0:
            row += n
            continue
        if node.children:
            g.add(_merged(row, col, row + n - 1, col, "label", node.label))
            _row_labels(g, node.children, row, col + 1, lc)
        else:
            g.add(_merged(row, col, row, lc - 1, "label", node.label))
        row += n
    return row


# ---------------------------------------------------------------- live checks


def _checks(spec: FormSpec) -> Iterator[Check]:
    for rule in spec.rules_of("equal_sums"):
        assert rule.table is not None
        table = spec.table(rule.table)
        for block in table.blocks:
            for col in leaves(block.columns):
                yield Check(
                    rule.id,
                    f"{col_title(col)}：{rule.title}",
                    "equal",
                    tuple(f"{table.key}.{r}.{col.key}" for r in rule.params["left"]),
                    tuple(f"{table.key}.{r}.{col.key}" for r in rule.params["right"]),
                )
    for rule in spec.rules_of("total_of"):
        assert rule.table is not None
        table = spec.table(rule.table)
        for block in table.blocks:
            rows, cols = leaves(block.rows), leaves(block.columns)
            if rule.params["axis"] == "columns":
                for total in (c for c in cols if c.node.derived):
                    for r in rows:
                        if r.node.derived:
                            continue
                        where = row_title(r) if block.label_columns else col_title(total)
                        yield Check(
                            rule.id,
                            f"{where}：{rule.title}",
                            "equal",
                            (f"{table.key}.{r.key}.{total.key}",),
                            tuple(f"{table.key}.{r.key}.{k}" for k in total.siblings),
                        )
            else:
                for total in (r for r in rows if r.node.derived):
                    for c in cols:
                        yield Check(
                            rule.id,
                            f"{col_title(c)}：{rule.title}",
                            "equal",
                            (f"{table.key}.{total.key}.{c.key}",),
                            tuple(f"{table.key}.{k}.{c.key}" for k in total.siblings),
                        )
    blank = spec.rule("C-BLANK")
    for table in spec.tables():
        section = spec.section_of(table.key)
        keys = tuple(c.key for c in spec.inputs() if c.table == table.key)
        yield Check(blank.id, f"{section.heading[:2]}表格：数字单元格均已填写数字", "numbers", keys)


def col_title(col: Leaf) -> str:
    """A column's name for messages: its label, prefixed by keyed group labels (表四: 行政复议·总计)."""
    groups = [n.label for n in col.path if n.key]
    return "·".join([*groups, col.label])


def row_title(row: Leaf) -> str:
    return row.label


def cell_title(cell: TableCell, label_columns: int) -> str:
    """A table cell's name for messages: 行标签／列标签 (only the column where rows have no label)."""
    return f"{row_title(cell.row)}／{col_title(cell.col)}" if label_columns else col_title(cell.col)


def _check_sheet(layout: Layout, checks: tuple[Check, ...]) -> Sheet:
    g = _Grid([10.0, 70.0, 8.0])
    g.add(Cell(0, 0, "title", "校验（自动计算，全部为 ✓ 才能报送）", last_row=0, last_col=2))
    for c, text in enumerate(("规则", "检查内容", "结果")):
        g.add(Cell(1, c, "header", text))
    for i, check in enumerate(checks, start=2):
        g.add(Cell(i, 0, "label", check.rule))
        g.add(Cell(i, 1, "label", check.what))
        g.add(Cell(i, 2, "check", "=" + check_formula(layout, check), key=f"check.{i - 2}"))
    return Sheet(CHECK_SHEET, "checks", tuple(g.cells), tuple(g.widths), tuple(g.heights.items()), repeat_rows=(1, 1))


def check_formula(layout: Layout, check: Check) -> str:
    left = [layout.ref(k) for k in check.left]
    if check.kind == "numbers":
        return f'IF(COUNT({",".join(compress(left))})={len(left)},"{PASS}","{FAIL}")'
    right = [layout.ref(k) for k in check.right]
    return f'IF({sum_formula(left)}={sum_formula(right)},"{PASS}","{FAIL}")'
