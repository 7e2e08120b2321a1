"""Parsing untrusted XML: the only module that imports defusedxml.

Office packages (.xlsx, .docx) are zip files of XML parts written by whoever sent them. defusedxml
refuses entity declarations and external references (billion laughs, XXE); callers translate
:class:`UnsafeXml` into their own message.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import ElementTree as _SafeET
from defusedxml.common import DefusedXmlException as UnsafeXml

__all__ = ["Element", "ParseError", "UnsafeXml", "fromstring", "local"]


def fromstring(data: bytes | str) -> Element:
    """The root element of ``data``; raises :class:`UnsafeXml` or :class:`ParseError`."""
    return _SafeET.fromstring(data)


def local(tag: str) -> str:
    """A tag or attribute name without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]
