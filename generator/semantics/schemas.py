"""JSON Schema of exposed inputs, read once from the spec: the type and the constraints the
spec writes. Nothing is invented: a keyword the spec does not give is not in the schema."""

from __future__ import annotations

from typing import Any

from ..spec import models as m

SCHEMA_TYPES = ("string", "number", "integer", "boolean", "array", "object")
_ALIASES = {
    "int": "integer",
    "long": "integer",
    "float": "number",
    "double": "number",
    "decimal": "number",
    "bool": "boolean",
    "list": "array",
    "map": "object",
    "dict": "object",
    "json": "object",
    "str": "string",
    "text": "string",
}
# keyword -> the Python types its value may have (bool is not a number here)
_KEYWORDS: dict[str, tuple[type, ...]] = {
    "enum": (list,),
    "pattern": (str,),
    "format": (str,),
    "minimum": (int, float),
    "maximum": (int, float),
    "exclusiveMinimum": (int, float),
    "exclusiveMaximum": (int, float),
    "minLength": (int,),
    "maxLength": (int,),
    "minItems": (int,),
    "maxItems": (int,),
    "items": (dict,),
    "default": (object,),
    "examples": (list,),
}


def json_type(kind: str | None) -> str:
    """The JSON Schema type of a spec type; an unknown or missing one is a string."""
    name = (kind or "string").strip().lower()
    name = _ALIASES.get(name, name)
    return name if name in SCHEMA_TYPES else "string"


def constraints(item: m.InputParameter) -> dict[str, Any] | None:
    """The JSON Schema keywords an input parameter gives beyond type and description, in a
    fixed order; values of the wrong kind are left out."""
    given = {**(item.model_extra or {}), "pattern": item.pattern, "default": item.default}
    found: dict[str, Any] = {}
    for keyword, kinds in _KEYWORDS.items():
        value = given.get(keyword)
        if value is None or (isinstance(value, bool) and object not in kinds):
            continue
        if isinstance(value, kinds):
            found[keyword] = _items(value) if isinstance(value, dict) else value
    return found or None


def _items(value: dict[str, Any]) -> dict[str, Any]:
    kind = value.get("type")
    result: dict[str, Any] = {"type": json_type(kind if isinstance(kind, str) else None)}
    enum = value.get("enum")
    if isinstance(enum, list):
        result["enum"] = enum
    return result
