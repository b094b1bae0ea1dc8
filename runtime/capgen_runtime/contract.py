"""The contract of an exposed unit: its inputs and outputs as JSON Schema, checked before
anything is sent upstream (SEMANTICS DEV-21) and published by every adapter.

The schemas are the ones `model.object_schema` and `result_schema` below build from the
descriptors, so what a caller reads in `tools/list` or the OpenAPI document is exactly what
is enforced. Each validator is compiled once, on its first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .model import Endpoint, Output

if TYPE_CHECKING:  # jsonschema is imported on the first check, not at start-up
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_MAX_PROBLEMS = 10


class Checker:
    """A JSON Schema, compiled on first use; `problems` names each offending field in one short
    line."""

    __slots__ = ("_validator", "schema")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = dict(schema)
        self._validator: Draft202012Validator | None = None

    def problems(self, instance: Any) -> list[str]:
        return [line for _, line in self.offences(instance)]

    def offences(self, instance: Any) -> list[tuple[str, str]]:
        """(field, line) for each violation, in a stable order."""
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
        for name in _given(error.validator_value):
            if name not in error.instance:
                return str(name)
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


def coerce(value: str, kind: str) -> Any:
    """A text value (query, header, cookie, path) read as its declared scalar type; left as
    text when it does not read as one, so the schema check names it."""
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


def output_schema(
    outputs: tuple[Output, ...] | list[Output], loose: bool = False
) -> dict[str, Any] | None:
    """The JSON Schema of what the outputs produce, None when the spec declares none (the
    upstream's answer then passes unchanged) or when nothing about it can be asserted. Several
    top-level outputs are alternatives. With `loose` (a body that is not JSON), no declared
    scalar type is asserted (DEV-26)."""
    schemas = [value_schema(output, top=True, loose=loose) for output in outputs]
    if not schemas or any(not set(schema) - {"description"} for schema in schemas):
        return None
    return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}


def value_schema(output: Output, top: bool = False, loose: bool = False) -> dict[str, Any]:
    """One output, asserting only what its mapping guarantees (DEV-26): arrays and objects it
    builds, text for a static value, and a declared scalar type only where the body is JSON
    and the mapping is not the whole body (`$.`, whose answer may be anything). Below the top,
    a mapped value may be absent from the answer: null too."""
    result: dict[str, Any]
    if output.value is not None:
        result = {"type": "string"}  # a static value is rendered as text
    elif output.type == "array":
        result = {"type": "array"}
        if output.items is not None:
            result["items"] = value_schema(output.items, loose=loose)
    elif output.type == "object" and output.properties:
        result = {
            "type": "object",
            "properties": {
                (prop.name or "value"): value_schema(prop, loose=loose)
                for prop in output.properties
            },
        }
    elif output.type == "object" and output.values is not None and output.mapping:
        result = {
            "type": "object",
            "additionalProperties": value_schema(output.values, loose=loose),
        }
    elif loose or (output.mapping or "").strip() in ("$", "$.") or output.type not in TYPES:
        result = {}
    else:
        result = {"type": output.type}
    if not top and "type" in result:
        result["type"] = [result["type"], "null"]
    if output.description:
        result["description"] = output.description
    return result


TYPES = ("string", "number", "integer", "boolean", "object")


def result_schema(endpoint: Endpoint) -> dict[str, Any] | None:
    """The JSON Schema of what an endpoint answers, None when the spec does not say (the
    upstream's answer then passes unchanged). A call's top-level outputs are alternatives (the
    first that maps wins); a mock result or an orchestration's mapped result is an object with
    one property per named output."""
    if not endpoint.outputs and endpoint.function is not None:
        return result_schema(endpoint.function)
    calls = [endpoint.call] if endpoint.call else [s.call for s in endpoint.steps if s.call]
    formats = [call.operation.output_format.lower() for call in calls]
    if endpoint.call is not None or (endpoint.steps and not endpoint.mappings):
        return output_schema(endpoint.outputs, bool(formats) and formats[-1] != "json")
    named = [output for output in endpoint.outputs if output.name]
    if not named:
        return {"type": "object"} if endpoint.outputs or endpoint.mappings else None
    loose = any(f != "json" for f in formats)  # step values read from a body that is not JSON
    properties = {o.name: value_schema(o, loose=loose) for o in named if o.name}
    return {"type": "object", "properties": properties}
