"""Each upload's share of the summary (a merge :class:`~xltool.summary.merge.Part`), kept as JSON
beside the uploaded file, so that a summary only loads, sums and writes.

A summary of 200 units used to read and check every latest upload again (most of its seconds). A
part depends only on the file's content and on the code that reads and checks it, so it is computed
once, from the same reading as the upload's check, and written as ``files/ab/<sha256>.<code>.part.json``
where ``<code>`` is :func:`fingerprint` (a digest of xltool's own source and form definitions): a
part written by other code has another name and is never read, it is computed again. A part file that
is missing or damaged is computed again too: a cached part is a shortcut, never a source of truth.

JSON, not pickle: the data folder holds data, never code. Every value keeps its exact type (ints,
Decimals as text, floats, dates); a part holding any other kind of value is not stored (it is
computed each time it is needed).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from xltool.submission import Finding
from xltool.summary.figures import UnitRow
from xltool.summary.merge import Part

SUFFIX = ".part.json"
PACKAGE = Path(__file__).resolve().parent.parent  # the xltool package


class Unstorable(ValueError):
    """A part holds a value JSON cannot carry exactly."""


@functools.cache
def fingerprint() -> str:
    """A digest of the code and definitions that make a part (xltool's .py and .toml files)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in PACKAGE.rglob("*") if p.suffix in (".py", ".toml")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def path_of(blob: Path) -> Path:
    """Where the part of the stored upload ``blob`` (``<sha256>.xlsx``) is kept, for this code."""
    return blob.with_name(f"{blob.stem}.{fingerprint()}{SUFFIX}")


def sha_of(part_file: Path) -> str:
    return part_file.name.split(".", 1)[0]


def current(part_file: Path) -> bool:
    """Whether a part file was written by this code (others are left over from another version)."""
    return part_file.name.endswith(f".{fingerprint()}{SUFFIX}")


# ---------------------------------------------------------------- the file


def save(path: Path, part: Part) -> bool:
    """Write ``part`` to ``path`` (atomically: a reader sees the whole file or none); False when
    it holds a value that JSON cannot carry exactly (then nothing is written)."""
    try:
        text = encode(part)
    except Unstorable:
        return False
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=".part-", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(name, path)
    finally:
        Path(name).unlink(missing_ok=True)
    return True


def load(path: Path, file: str) -> Part | None:
    """The part at ``path``, named ``file`` (the path the summary knows the upload by); None when
    there is none or it cannot be read back whole (computed again by the caller)."""
    try:
        return decode(path.read_text(encoding="utf-8"), file)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError):
        return None


# ---------------------------------------------------------------- JSON, exactly


def encode(part: Part) -> str:
    data = {
        "unit": _str(part.unit),
        "year": _value(part.year),
        "version": _value(part.version),
        "summary_units": _value(part.summary_units),
        "numbers": None if part.numbers is None else [_value(v) for v in part.numbers],
        "units": [_row(u) for u in part.units],
        "texts": [[_str(s) for s in t] for t in part.texts],
        "findings": [_finding(f) for f in part.findings],
        "chosen": [_str(s) for s in part.chosen],
    }
    return json.dumps(data, ensure_ascii=False, allow_nan=False)


def decode(text: str, file: str) -> Part:
    d = json.loads(text)
    numbers = d["numbers"]
    return Part(
        file,
        _text(d["unit"]),
        _back(d["year"]),
        _back(d["version"]),
        _back(d["summary_units"]),
        None if numbers is None else tuple(_back(v) for v in numbers),
        tuple(_row_back(u) for u in d["units"]),
        tuple(tuple(_text(s) for s in t) for t in d["texts"]),
        tuple(_finding_back(f) for f in d["findings"]),
        tuple(_text(s) for s in d["chosen"]),
    )


def _row(u: UnitRow) -> dict[str, Any]:
    return {
        "name": _str(u.name),
        "unit_type": _str(u.unit_type),
        "file": _str(u.file),
        "status": _str(u.status),
        "figures": None if u.figures is None else [_value(v) for v in u.figures],
        "carry": None if u.carry is None else [_value(v) for v in u.carry],
    }


def _row_back(d: dict[str, Any]) -> UnitRow:
    figures, carry = d["figures"], d["carry"]
    return UnitRow(
        _text(d["name"]),
        _text(d["unit_type"]),
        _text(d["file"]),
        _text(d["status"]),
        None if figures is None else tuple(_back(v) for v in figures),
        None if carry is None else tuple(_back(v) for v in carry),
    )


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "rule": _str(f.rule),
        "severity": _str(f.severity),
        "message": _str(f.message),
        "sheet": _value(f.sheet),
        "cell": _value(f.cell),
        "value": _value(f.value),
        "expected": _value(f.expected),
        "quote": _value(f.quote),
    }


def _finding_back(d: dict[str, Any]) -> Finding:
    return Finding(
        _text(d["rule"]),
        _text(d["severity"]),
        _text(d["message"]),
        _back(d["sheet"]),
        _back(d["cell"]),
        _back(d["value"]),
        _back(d["expected"]),
        _back(d["quote"]),
    )


def _str(s: object) -> str:
    if not isinstance(s, str):
        raise Unstorable(f"{type(s).__name__} where text belongs")
    return s


def _text(s: object) -> str:
    if not isinstance(s, str):
        raise TypeError("text expected")
    return s


# a value and its type: JSON's own for None, bool, int and str; tagged for the rest
_TAGS: dict[str, Any] = {
    "decimal": Decimal,
    "float": float,
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
}


def _value(v: object) -> Any:
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, Decimal):
        return {"decimal": str(v)}
    if isinstance(v, float):
        return {"float": repr(v)}
    for tag, kind in (("datetime", dt.datetime), ("date", dt.date), ("time", dt.time)):
        if isinstance(v, kind):
            return {tag: v.isoformat()}
    raise Unstorable(type(v).__name__)


def _back(v: Any) -> Any:
    if isinstance(v, dict):
        ((tag, text),) = v.items()
        return _TAGS[tag](text)
    if isinstance(v, list):
        raise TypeError("a list is no value")
    return v
