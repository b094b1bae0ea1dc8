"""Upstream body formats (`outputRawFormat`): one module per format, each registered here by
its kind, and the decoding of a body into a JSON tree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import binary, delimited, html, json, markdown, text, xml, yaml
from .html import check_selector
from .scheme import Format, FormatError, UnsupportedFormat

REGISTERED: tuple[Format[Any], ...] = (
    json.FORMAT, xml.FORMAT, yaml.FORMAT, delimited.CSV, delimited.TSV, delimited.PSV,
    text.FORMAT, html.FORMAT, markdown.FORMAT, binary.FORMAT,
)  # fmt: skip
FORMATS: Mapping[str, Format[Any]] = {
    name: fmt for fmt in REGISTERED for name in (fmt.kind, *fmt.aliases)
}
PASSTHROUGH = frozenset(name for name, fmt in FORMATS.items() if fmt.decode is None)


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type value, lower case (`""` when there is none)."""
    return (content_type or "").split(";")[0].strip().lower()


def decode(content: bytes, fmt: str | None, selector: str | None = None) -> Any:
    """Decode `content`; an empty body gives None. For HTML, `selector` chooses the tables."""
    if not content:
        return None
    name = (fmt or "json").lower()
    found = FORMATS.get(name)
    if found is None or found.decode is None:
        raise UnsupportedFormat(f'Unsupported "{fmt}" format specified')
    try:
        return found.decode(content.decode("utf-8", errors="replace"), selector)
    except RecursionError:
        raise FormatError(f"upstream body nests too deeply to read as {name}") from None
    except found.errors as exc:
        raise FormatError(f"upstream body is not valid {name}: {exc}") from None


__all__ = [
    "FORMATS",
    "PASSTHROUGH",
    "Format",
    "FormatError",
    "UnsupportedFormat",
    "check_selector",
    "decode",
    "media_type",
]
