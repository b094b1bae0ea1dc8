"""The JSON Schemas of exposed units' inputs and results: what the adapters publish (MCP
`inputSchema`/`outputSchema`, the OpenAPI document) and what they enforce (`engine.contract`),
built from the descriptors, and the patterns of what may go into a path or a header.
"""

from __future__ import annotations

from typing import Any

from .model import Endpoint, Input, Output

# A path value: no control character or backslash, no `.` or `..` part (some servers decode
# %2F before they route), nor one once a `;` suffix is removed (Tomcat, Jetty and Spring read
# `..;x` as `..`, matrix parameters dropped); one that ends the path may carry `/` but has no
# empty part. The OpenAPI document publishes these same patterns.
_CHAR, _NOT_DOT = r"[^\x00-\x1f\x7f\\/]", r"[^\x00-\x1f\x7f\\/.]"
_AFTER_DOT, _AFTER_DOTS = r"[^\x00-\x1f\x7f\\/.;]", r"[^\x00-\x1f\x7f\\/;]"
_PART = rf"(?:{_NOT_DOT}{_CHAR}*|\.{_AFTER_DOT}{_CHAR}*|\.\.{_AFTER_DOTS}{_CHAR}*)"
PATH_VALUE = rf"^(?:{_PART})?(?:/(?:{_PART})?)*$"  # `/` is sent encoded
PATH_SEGMENT = rf"^{_PART}$"  # one segment of an exposed REST path
PATH_TAIL = rf"^{_PART}(?:/{_PART})*$"  # the last placeholder: `/` is sent as it is
# A header value: printable ASCII and tabs (HTTP has no agreed encoding for other characters).
HEADER_VALUE = r"^[\t\x20-\x7e]*$"


def schema(item: Input, described: bool = True, placed: bool = True) -> dict[str, Any]:
    """The JSON Schema of one input (MCP tool argument, OpenAPI parameter or body): its type,
    the constraints the spec gives (enum, pattern, format, bounds, items) and its description.

    With `placed`, an input that fills a path placeholder or a header also carries the pattern
    of what can go there (OpenAPI: clients and schemathesis generate from it). Without it (MCP,
    where a listing's size is what a model pays for) only non-emptiness is written; the request
    builder still refuses the rest, naming the argument."""
    prop: dict[str, Any] = {"type": item.type, **(item.constraints or {})}
    if item.feeds == "path":
        prop = with_pattern(prop, PATH_TAIL, 1) if placed else {"minLength": 1, **prop}
    elif item.feeds == "header" and placed:
        prop = with_pattern(prop, HEADER_VALUE)
    if item.header and not placed:  # MCP: mirrored as `Mcp-Param-<header>` (SEP-2243)
        prop["x-mcp-header"] = item.header
    if described and item.description:
        prop["description"] = item.description
    return prop


def with_pattern(value_schema: dict[str, Any], pattern: str, min_length: int = 0) -> dict[str, Any]:
    """A string schema that also demands what the service itself accepts in a place of the
    request (the patterns above); the spec's own pattern, if any, applies too."""
    if value_schema.get("type") != "string":
        return value_schema
    rule: dict[str, Any] = {"pattern": pattern, **({"minLength": min_length} if min_length else {})}
    if "pattern" in value_schema:
        return {**value_schema, "allOf": [rule]}
    return {**value_schema, **rule}


def object_schema(items: tuple[Input, ...] | list[Input], placed: bool = True) -> dict[str, Any]:
    """An object of inputs; empty parts are left out, so no inputs is exactly {"type": "object"}."""
    result: dict[str, Any] = {"type": "object"}
    if items:
        result["properties"] = {item.name: schema(item, placed=placed) for item in items}
    required = [item.name for item in items if item.required]
    if required:
        result["required"] = required
    return result


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
