"""What review takes in (a :class:`Source` per input, publication dates given by the caller) and what
it keeps of each report (a :class:`Row` and its :class:`Problem` list, the :class:`Carried` figures
the pairs of years need): never a Submission past its own check, so memory grows only with the rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from xltool.errors import UsageError
from xltool.submission import Finding, Number, Submission, Value
from xltool.text import normalise

WORKBOOK, REPORT = "工作簿", "已发布报告"


@dataclass
class Source:
    """One input as read: a submission (a published report imported in memory, or a workbook), or why not."""

    file: str  # as the supervisor sees it (relative to the inputs' folder)
    submission: Submission | None
    kind: str = REPORT
    reason: str = ""  # why it cannot be reviewed (unreadable, not a report)
    note: str = ""  # reviewed, but not all of a report (cut off part-way): an error of its own
    unit: str | None = None  # what could be read of an unreviewable report
    year: int | None = None
    missing: dict[str, str] = field(default_factory=dict)  # table cells the importer could not place -> why
    places: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (printed text, where in the source)


@dataclass
class Problem:
    """One finding of one report, with where it is in our form and in the source document."""

    finding: Finding
    title: str  # the rule's title: what the finding is about, in words
    source_where: str = ""
    source_text: str = ""
    what: str = ""  # the cell's name in our form (行／列), where the finding has a cell

    def to_json(self) -> dict[str, Any]:
        return self.finding.to_json() | {
            "title": self.title,
            "source_where": self.source_where or None,
            "source_text": self.source_text or self.finding.quote or None,
        }


@dataclass
class Row:
    """One report of 评查结果."""

    file: str
    kind: str
    unit: str
    year: int | None
    form: str  # the form's version (2019, 2021), "" when not read
    level: str = ""
    published: date | None = None
    published_from: str = ""
    due: date | None = None
    on_time: str = ""
    on_time_note: str = ""
    cells_read: int = 0
    cells_expected: int = 0
    problems: list[Problem] = field(default_factory=list)
    reason: str = ""  # not reviewable: why
    cross_year: str = ""
    indicators: tuple[Number | None, ...] = ()  # the definition's indicators, in order

    @property
    def key(self) -> str:
        return normalise(self.unit)

    @property
    def errors(self) -> int:
        return sum(p.finding.severity == "error" for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.finding.severity == "warning" for p in self.problems)

    @property
    def reviewed(self) -> bool:
        return not self.reason


@dataclass(frozen=True)
class Carried:
    """What a pair of years needs of one report: its form and its table inputs (and report year)."""

    row: int  # index of its Row
    version: str
    values: tuple[Value, ...]  # the form's table inputs in spec.inputs() order, None where not read


@dataclass
class Pair:
    """Two consecutive years of one unit (跨年核对)."""

    unit: str
    year: int
    file: str
    last_file: str
    carried: tuple[tuple[Number | None, Number | None], ...]  # per column: this year's 上年结转, last year's 结转下年度
    findings: list[Finding] = field(default_factory=list)
    verdict: str = ""  # 一致, the titles of the cross-year rules that found something, or why not compared
    compared: bool = True  # False: the two forms have no declared correspondence


@dataclass(frozen=True)
class Question:
    """Something a person must decide: names that nearly match, two reports of one unit and year."""

    kind: str
    message: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class PublicationDates:
    """Publication dates the caller gives (``--dates``): by file name, or by unit and report year."""

    path: str
    by_file: dict[str, date]
    by_unit: dict[tuple[str, int], date]

    def of(self, file: str, unit: str | None, year: int | None) -> date | None:
        name = file.replace("\\", "/")
        for candidate in (name, name.rsplit("/", 1)[-1]):
            if candidate in self.by_file:
                return self.by_file[candidate]
        return self.by_unit.get((normalise(unit), year)) if unit and year is not None else None


DATE_COLUMN, FILE_COLUMN, UNIT_COLUMN, YEAR_COLUMN = "发布日期", "文件", "单位名称", "报告年度"
_DATE = re.compile(r"^\s*((?:19|20)\d\d)\s*(?:年|[-/.])\s*(\d{1,2})\s*(?:月|[-/.])\s*(\d{1,2})\s*日?(?:\s.*)?$")


def dates_from_rows(rows: Sequence[Sequence[Any]], path: str) -> PublicationDates:
    """The dates list in ``rows`` (a sheet or CSV as read): a 发布日期 column, and a 文件 column or
    单位名称 and 报告年度 columns. A row that cannot be used is refused with its number."""
    header = [normalise(v) for v in rows[0]] if rows else []
    at = {name: header.index(name) for name in (DATE_COLUMN, FILE_COLUMN, UNIT_COLUMN, YEAR_COLUMN) if name in header}
    if DATE_COLUMN not in at or not (FILE_COLUMN in at or {UNIT_COLUMN, YEAR_COLUMN} <= set(at)):
        raise UsageError(
            f"发布日期清单 {path} 的第一行应为列名：{DATE_COLUMN}，以及{FILE_COLUMN}或{UNIT_COLUMN}和{YEAR_COLUMN}。"
        )
    by_file: dict[str, date] = {}
    by_unit: dict[tuple[str, int], date] = {}
    for number, row in enumerate(rows[1:], start=2):
        cells = {name: ("" if i >= len(row) or row[i] is None else str(row[i]).strip()) for name, i in at.items()}
        if not any(cells.values()):
            continue
        when = _date(cells[DATE_COLUMN], path, number)
        if cells.get(FILE_COLUMN):
            by_file[cells[FILE_COLUMN].replace("\\", "/")] = when
        elif cells.get(UNIT_COLUMN) and cells.get(YEAR_COLUMN, "").removesuffix(".0").isdigit():
            by_unit[(normalise(cells[UNIT_COLUMN]), int(cells[YEAR_COLUMN].removesuffix(".0")))] = when
        else:
            raise UsageError(f"发布日期清单 {path} 第 {number} 行：没有写明文件，或单位名称和报告年度。")
    return PublicationDates(path, by_file, by_unit)


def _date(text: str, path: str, number: int) -> date:
    m = _DATE.match(text)
    try:
        if m is None:
            raise ValueError
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise UsageError(
            f"发布日期清单 {path} 第 {number} 行：发布日期“{text}”无法识别，请写成 2024-01-31 或 2024年1月31日。"
        ) from None
