"""The contract of an exposed unit: its inputs and outputs as JSON Schema, checked before
anything is sent upstream (SEMANTICS DEV-21) and published by every adapter.

The schemas are the ones `schemas.object_schema` and `schemas.result_schema` build from the
descriptors, so what a caller reads in `tools/list` or the OpenAPI document is exactly what
is enforced. Each validator is compiled once, on its first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .fastcheck import Check, compile_check

if TYPE_CHECKING:  # jsonschema is imported on the first check, not at start-up
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_MAX_PROBLEMS = 10


class Checker:
    """A JSON Schema, compiled on first use; `problems` names each offending field in one short
    line."""

    __slots__ = ("_compiled", "_fast", "_validator", "schema")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = dict(schema)
        self._validator: Draft202012Validator | None = None
        self._fast: Check | None = None
        self._compiled = False  # `_fast` is compiled on first use too

    def problems(self, instance: Any) -> list[str]:
        return [line for _, line in self.offences(instance)]

    def offences(self, instance: Any) -> list[tuple[str, str]]:
        """(field, line) for each violation, in a stable order. A value the compiled check
        (fastcheck.py) proves valid has none; anything else is jsonschema's to judge."""
        if not self._compiled:
            self._fast, self._compiled = compile_check(self.schema), True
        if self._fast is not None and self._fast(instance):
            return []
        if self._validator is None:  # a big spec's start-up does not pay for every tool
            from jsonschema import Draft202012Validator

            self._validator = Draft202012Validator(self.schema)
        found = sorted(self._validator.iter_errors(instance), key=_order)
        return [(field_name(error), describe(error)) for error in found[:_MAX_PROBLEMS]]


def _order(error: ValidationError) -> tuple[str, str]:
    return (field_name(error), str(error.validator))


def field_name(error: ValidationError) -> str:
    """The top-level field an error is about: the property it is under, or the missing one."""
    if error.path:
        return ".".join(str(part) for part in error.path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [str(n) for n in _given(error.validator_value) if n not in error.instance]
        # jsonschema raises one error per missing property, named only in its message
        named = [n for n in missing if error.message.startswith(f"{n!r} ")]
        return (named or missing or ["(value)"])[0]
    return "(value)"


def describe(error: ValidationError) -> str:
    """`<field>: <what is wrong>`, without repeating the caller's value at length."""
    name, keyword, expected = field_name(error), error.validator, _given(error.validator_value)
    if keyword == "required":
        return f"{name}: is required"
    if keyword == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{name}: must be of type {wanted}, not {_json_type(error.instance)}"
    if keyword == "enum":
        return f"{name}: must be one of {', '.join(map(_short, expected))}"
    if keyword == "pattern":
        return f"{name}: must match the pattern {expected}"
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"{name}: must satisfy {keyword} {expected}"
    if keyword in ("minLength", "maxLength", "minItems", "maxItems"):
        return f"{name}: must satisfy {keyword} {expected}"
    return f"{name}: does not satisfy {keyword}"


def _given(value: Any) -> Any:
    """A keyword's value in the schema (typed loosely by jsonschema)."""
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


COERCED = frozenset({"integer", "number", "boolean"})  # the types `coerce` reads text as


def coerce(value: str, kind: str) -> Any:
    """A text value (query, header, cookie, path) read as its declared scalar type (one of
    `COERCED`); left as text when it does not read as one, so the schema check names it."""
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            return value
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            return value
        return number if number == number and abs(number) != float("inf") else value
    if kind == "boolean" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def structured(value: Any, wrapped: bool) -> dict[str, Any]:
    """MCP structuredContent of a JSON value: an object as it is, anything else (or every value
    when the published schema wraps it) under `result`."""
    if not wrapped and isinstance(value, dict):
        return value
    return {"result": value}


def mcp_output_schema(schema: Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
    """The `outputSchema` to publish for an output schema, and whether results are wrapped: an
    MCP output schema must describe an object, so any other value is `{"result": value}`."""
    if schema is None:
        return None, False
    if schema.get("type") == "object":
        return dict(schema), False
    return {"type": "object", "properties": {"result": dict(schema)}, "required": ["result"]}, True
