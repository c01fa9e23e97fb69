"""Parsing untrusted XML into an ElementTree, with nothing for an attacker to expand.

DAWproject files carry no DTD, so a document type declaration is refused outright:
without one there are no entities to expand (no "billion laughs") and no external
entities to fetch. expat builds the tree through ElementTree's `TreeBuilder`, and the
number of elements is capped, so a file costs memory in proportion to its size.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET
from xml.parsers import expat

from .errors import DawProjectError

__all__ = ["MAX_ELEMENTS", "parse_xml"]

#: Elements one XML file may hold (a long Bitwig project has some hundred thousand).
MAX_ELEMENTS = 5_000_000


def parse_xml(data: bytes, name: str, *, max_elements: int = MAX_ELEMENTS) -> ET.Element:
    """The root element of ``data`` (the file ``name``, for messages); raises
    `DawProjectError` for XML that is malformed, declares a DTD or is too large."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    count = 0

    def start(tag: str, attributes: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > max_elements:
            raise DawProjectError(f"{name} holds more than {max_elements} elements")
        builder.start(tag, attributes)

    def refuse_doctype(*_: object) -> None:
        raise DawProjectError(f"{name} declares a document type; DAWproject XML has none")

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    try:
        parser.Parse(data, True)
        return builder.close()
    except expat.ExpatError as exc:
        raise DawProjectError(f"{name} is not well-formed XML: {exc}") from exc
    except AssertionError as exc:  # TreeBuilder: the document ended inside an element
        raise DawProjectError(f"{name} is not well-formed XML") from exc
