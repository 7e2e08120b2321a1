"""Text helpers every layer shares: how names compare, and what a file may be called.

No xltool imports here (the bottom of the layer order): anything that compares unit names or
labels, or turns a unit name into a file name, uses these and nothing of its own.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

# The numbering of a heading or a row as the forms print it and reports copy it: 一、 （一） (1) 1. 1、 1．
ENUMERATOR = re.compile(r"\s*(?:[（(][一二三四五六七八九十0-9]+[)）]|[一二三四五六七八九十]+、|[0-9]+[.、．])")


def without_enumerator(label: str) -> str:
    """A label without its leading numbering: ``（三）不予公开`` -> ``不予公开``."""
    found = ENUMERATOR.match(label)
    return label[found.end() :] if found else label


_SPACE = re.compile(r"\s+")


def normalise(text: Any) -> str:
    """Labels and unit names compare after NFKC and with all whitespace removed (published copies vary)."""
    return _normalised(text) if isinstance(text, str) else _normalised("" if text is None else str(text))


@functools.lru_cache(maxsize=8192)  # the same labels are compared in every workbook of a batch
def _normalised(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


def safe_filename(name: str) -> str:
    """A file name valid on Windows: no reserved characters, no trailing dots or spaces."""
    return re.sub(r'[\\/:*?"<>|\r\n\t]', "_", name).strip(" .") or "单位"
