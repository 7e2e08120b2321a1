"""Parsing untrusted XML: the only module that imports defusedxml or builds an expat parser.

Office packages (.xlsx, .docx) are zip files of XML parts written by whoever sent them. defusedxml
refuses entity declarations and external references (billion laughs, XXE); :func:`stream_parser`
gives an expat parser, fed a part piece by piece, that refuses them the same way and builds nothing.
Callers translate :class:`UnsafeXml` and :data:`Malformed` into their own message.
"""

from __future__ import annotations

from typing import NoReturn
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat
from xml.parsers.expat import ExpatError as Malformed

from defusedxml import ElementTree as _SafeET
from defusedxml.common import DefusedXmlException as UnsafeXml
from defusedxml.common import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

__all__ = ["Element", "Malformed", "ParseError", "UnsafeXml", "fromstring", "local", "stream_parser"]


def fromstring(data: bytes | str) -> Element:
    """The root element of ``data``; raises :class:`UnsafeXml` or :class:`ParseError`."""
    return _SafeET.fromstring(data)


def local(tag: str) -> str:
    """A tag or attribute name without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


def stream_parser() -> expat.XMLParserType:
    """An expat parser (no namespace processing, text buffered) to be fed with ``Parse(chunk, False)``.

    A document type declaration, an entity declaration or an external reference raises
    :class:`UnsafeXml` as soon as it is met; malformed XML raises :data:`Malformed`. The caller sets
    the element handlers; nothing is built in memory.
    """
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _doctype
    parser.EntityDeclHandler = _entity
    parser.ExternalEntityRefHandler = _external
    return parser


def _doctype(name: str, sysid: str | None, pubid: str | None, _internal: int) -> NoReturn:
    raise DTDForbidden(name, sysid, pubid)


def _entity(
    name: str, _pe: int, value: str | None, base: str | None, sysid: str | None, pubid: str | None, notation: str | None
) -> NoReturn:
    raise EntitiesForbidden(name, value, base, sysid, pubid, notation)


def _external(context: str, base: str | None, sysid: str | None, pubid: str | None) -> NoReturn:
    raise ExternalReferenceForbidden(context, base, sysid, pubid)
