"""What the review prints: a screen of text, or ``--json`` with stable field names (docs/review.md)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Any

from xltool.form import spec as specs
from xltool.review import indicators
from xltool.review.core import Outcome, UnitSummary
from xltool.review.model import Pair, Row
from xltool.review.reports import by_rule, main_problems
from xltool.review.sheets import ordered
from xltool.submission import jsonable
from xltool.summary import analytics


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def as_text(o: Outcome, output: str) -> str:
    rows = ordered(o.rows)
    reviewed = [r for r in rows if r.reviewed]
    units = len({r.key for r in reviewed if r.unit})
    span = f"{o.years[0]}—{o.years[-1]} 年度" if len(o.years) > 1 else f"{o.years[0]} 年度" if o.years else "年度不明"
    clean = sum(not r.errors for r in reviewed)
    lines = [f"已生成评查结果工作簿 {output}"]
    lines.append(
        f"评查 {len(rows)} 份报告（{units} 个单位，{span}）：{clean} 份无错误，{len(reviewed) - clean} 份有错误，"
        f"{len(rows) - len(reviewed)} 份无法评查。"
    )
    verdicts = Counter(r.on_time for r in reviewed)
    lines.append(
        f"按期公开：按时 {verdicts['按时']} 份，逾期 {verdicts['逾期']} 份，无法判断 {verdicts['无法判断']} 份"
        + (f"，不适用 {verdicts['不适用']} 份（条例未规定其期限）" if verdicts["不适用"] else "")
        + "。"
    )
    bad = sum(bool(p.findings) for p in o.pairs)
    skipped = sum(not p.compared for p in o.pairs)
    lines.append(
        f"跨年核对：{len(o.pairs)} 组相邻年度，{bad} 组不一致"
        + (f"，{skipped} 组未核对（表式之间没有对应关系）" if skipped else "")
        + "。"
    )
    for r in rows:
        mark = "✗" if r.errors or not r.reviewed else "✓"
        who = "，".join(x for x in (r.unit, f"{r.year} 年度" if r.year is not None else "") if x)
        counts = f"错误 {r.errors}，提醒 {r.warnings}" if r.reviewed else "无法评查"
        lines.append(f"{mark} {r.file}" + (f"（{who}）" if who else "") + f"：{counts}；{main_problems(r)}")
    if o.questions:
        lines.append(f"待确认 {len(o.questions)} 项：")
        lines += [f"  {q.kind}：{q.message}" for q in o.questions]
    if o.roster is not None:
        lines.append(f"名单核对（{o.roster.path}，{len(o.roster.members)} 个单位）：")
        for year, names in o.missing.items():
            lines.append(f"  {year} 年度未见报告 {len(names)} 个" + ("：" + "、".join(names) if names else ""))
        lines.append(f"  不在名单中 {len(o.unlisted)} 个" + ("：" + "、".join(o.unlisted) if o.unlisted else ""))
    if o.skipped:
        lines.append(f"另有 {o.skipped} 份报告不是 {o.year} 年度（或其上一年度）的，未评查。")
    return "\n".join(lines)


# ---------------------------------------------------------------- --json


def row_json(r: Row) -> dict[str, Any]:
    return {
        "file": r.file,
        "kind": r.kind,
        "unit": r.unit or None,
        "year": r.year,
        "form": r.form or None,
        "reviewed": r.reviewed,
        "reason": r.reason or None,
        "level": r.level or None,
        "published": _iso(r.published),
        "published_from": r.published_from or None,
        "deadline": _iso(r.due),
        "on_time": r.on_time or None,
        "on_time_note": r.on_time_note or None,
        "days_late": (r.published - r.due).days if r.on_time == "逾期" and r.published and r.due else None,
        "cells_read": r.cells_read if r.reviewed else None,
        "cells_expected": r.cells_expected if r.reviewed else None,
        "errors": r.errors,
        "warnings": r.warnings,
        "by_rule": by_rule(r) or None,
        "cross_year": r.cross_year or None,
        "main_problems": main_problems(r),
        "indicators": _indicators(r.indicators),
        "findings": [p.to_json() for p in r.problems],
    }


def _indicators(values: tuple[Any, ...]) -> dict[str, Any]:
    spec = specs.load()
    return {
        ind.key: jsonable(indicators.shown(values[i], share=ind.share)) if i < len(values) else None
        for i, ind in enumerate(spec.indicators)
    }


def pair_json(p: Pair) -> dict[str, Any]:
    titles = analytics.carry(specs.load()).titles()
    return {
        "unit": p.unit,
        "year": p.year,
        "previous_year": p.year - 1,
        "file": p.file,
        "previous_file": p.last_file,
        "carried": [
            {"column": t, "carried_in": jsonable(a), "carried_out_last_year": jsonable(b), "equal": a == b}
            for t, (a, b) in zip(titles, p.carried, strict=True)
        ],
        "compared": p.compared,
        "consistent": (not p.findings) if p.compared else None,
        "verdict": p.verdict,
        "findings": [f.to_json() for f in p.findings],
    }


def unit_json(u: UnitSummary) -> dict[str, Any]:
    spec = specs.load()
    return {
        "unit": u.name,
        "level": u.level or None,
        "on_roster": u.on_roster,
        "years": list(u.years),
        "missing_years": list(u.missing),
        "errors_by_year": {str(y): n for y, n in u.errors.items()},
        "warnings": u.warnings,
        "indicator_year": u.latest,
        "indicators": [
            {
                "key": ind.key,
                "name": ind.name,
                "value": jsonable(indicators.shown(u.values[i], share=ind.share)) if i < len(u.values) else None,
                "percentile": u.ranks[i] if i < len(u.ranks) else None,
                "outlier": (u.marks[i] or None) if i < len(u.marks) else None,
            }
            for i, ind in enumerate(spec.indicators)
        ],
    }


def to_json(o: Outcome, output: str, *, ascii_only: bool = False) -> str:
    data = {
        "workbook": output,
        "exit_code": o.exit_code,
        "years": list(o.years),
        "reports": [row_json(r) for r in ordered(o.rows)],
        "pairs": [pair_json(p) for p in o.pairs],
        "questions": [{"kind": q.kind, "message": q.message, "files": list(q.files)} for q in o.questions],
        "units": [unit_json(u) for u in o.units],
        "roster": None
        if o.roster is None
        else {
            "file": o.roster.path,
            "missing": {str(y): names for y, names in o.missing.items()},
            "unlisted": o.unlisted,
        },
        "skipped": o.skipped,
    }
    return json.dumps(data, ensure_ascii=ascii_only, indent=2)
