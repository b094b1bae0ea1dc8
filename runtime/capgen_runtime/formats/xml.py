"""XML: elements as objects (attributes and children by local name, repeated ones as lists,
text under `""`), a leaf as its text."""

from __future__ import annotations

from typing import Any, Final, Literal
from xml.etree import ElementTree

from .bounds import check_xml
from .scheme import Format


def _decode(text: str, selector: str | None) -> Any:
    check_xml(text)  # no entity declarations: they can expand without a bound
    root = ElementTree.fromstring(text)
    return _element(root)


def _element(element: ElementTree.Element) -> Any:
    children = list(element)
    if not children and not element.attrib:
        return (element.text or "").strip()
    result: dict[str, Any] = {_local(k): v for k, v in element.attrib.items()}
    for child in children:
        key, value = _local(child.tag), _element(child)
        if key in result:
            existing = result[key]
            result[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            result[key] = value
    text = (element.text or "").strip()
    if text:
        result[""] = text
    return result


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


FORMAT: Final[Format[Literal["xml"]]] = Format(
    "xml", _decode, errors=(ValueError, ElementTree.ParseError)
)
