"""The OpenAPI 3.1 document of a REST adapter, from the same schemas the adapter enforces.

Every operation says where each input goes and its schema, what bodies it takes, what it
answers on success, and the errors the service itself can answer (RFC 9457 problems) beside
the upstream's own ones. Security schemes are the inbound authentication actually in force.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ..auth.inbound import Guard
from ..engine.answer import maps_whole_body
from ..model import Input, RestAdapter, Route
from ..schemas import (
    HEADER_VALUE,
    PATH_SEGMENT,
    PATH_TAIL,
    object_schema,
    result_schema,
    schema,
    with_pattern,
)
from ..web.problem import MEDIA_TYPE as PROBLEM
from ..web.problem import SCHEMA as PROBLEM_SCHEMA
from .routes import OperationRoute

_VARIABLE = re.compile(r"\{(\w+)(:path)?\}")
# Headers OpenAPI describes elsewhere (content negotiation, security): never parameters.
_RESERVED_HEADERS = frozenset({"accept", "authorization", "content-type"})
_ANY: dict[str, Any] = {"*/*": {"schema": {}}}
_BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}
_RAW: dict[str, Any] = {"application/octet-stream": _BINARY}
# What a route that passes the upstream's body on may answer besides JSON: a stream relayed
# chunk by chunk, an image, audio or other bytes, as the upstream sent them.
_PASSED_ON: dict[str, Any] = {
    "text/event-stream": {"schema": {"type": "string"}},
    "application/x-ndjson": {"schema": {"type": "string"}},
    "image/*": _BINARY,
    "audio/*": _BINARY,
    "application/octet-stream": _BINARY,
}
# The media type of each `outputRawFormat` whose body may be passed on as it is (JSON is
# listed anyway, and binary as octet-stream, images and audio).
_FORMAT_MEDIA = {
    "xml": "application/xml",
    "yaml": "application/yaml",
    "yml": "application/yaml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "psv": "text/plain",
    "text": "text/plain",
    "plain": "text/plain",
    "html": "text/html",
    "markdown": "text/markdown",
}
# The path-safety patterns (schemas.PATH_SEGMENT, PATH_TAIL), in words, for the reader.
_PATTERN_NOTES = {
    PATH_SEGMENT: "One path segment: no `/`, `\\` or control character, and not `.` or `..`.",
    PATH_TAIL: (
        "May hold `/`, sent as it is (`a/b/c`); no part empty, `.` or `..`, and no `\\` or "
        "control character."
    ),
}


Schemes = dict[str, tuple[dict[str, Any], list[str]]]  # name -> (scheme, scopes it requires)


def openapi_document(app: FastAPI, adapter: RestAdapter, schemes: Schemes) -> dict[str, Any]:
    """FastAPI's document of the app's routes, each operation's part written from its
    contract, with the problem schema and the security schemes in force."""
    tags: dict[str, None] = {}
    for route in app.routes:
        if isinstance(route, OperationRoute):
            route.openapi_extra = _operation(route.descriptor, bool(schemes))
            tags.update(dict.fromkeys(route.descriptor.tags))
    document = get_openapi(
        title=adapter.title,
        version=adapter.version,
        description=adapter.description or None,
        routes=app.routes,
        tags=[{"name": tag} for tag in tags] or None,
    )
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    if schemes:
        components["securitySchemes"] = {n: s for n, (s, _) in schemes.items()}
        document["security"] = [{name: scopes} for name, (_, scopes) in schemes.items()]
    return document


def security_schemes(guard: Guard | None) -> Schemes:
    """The schemes a caller may use, by name; each alone is enough. None when auth is off."""
    if guard is None:
        return {}
    schemes: Schemes = {}
    for credential in guard.credentials:
        name, scheme, scopes = credential.openapi()
        schemes[name] = (scheme, scopes)
    return schemes


def _operation(route: Route, guarded: bool) -> dict[str, Any]:
    """What an operation's contract says of it; FastAPI writes the rest (ids, summary, tags)."""
    operation: dict[str, Any] = {}
    parameters = list(_parameters(route))
    if parameters:
        operation["parameters"] = parameters
    body = _request_body(route)
    if body is not None:
        operation["requestBody"] = body
    operation["responses"] = _responses(route, body is not None, guarded)
    return operation


def _parameters(route: Route) -> Iterable[dict[str, Any]]:
    declared = {i.name: i for i in route.endpoint.inputs}
    described = dict(route.described)
    tails = {m.group(1) for m in _VARIABLE.finditer(route.route) if m.group(2)}
    for identifier, name in route.variables:
        item = declared.get(name)
        pattern = PATH_TAIL if identifier in tails else PATH_SEGMENT
        value_schema = schema(item, described=False) if item else {"type": "string"}
        text = item.description if item is not None else described.get(name)
        note = _PATTERN_NOTES[pattern] if value_schema.get("type") == "string" else None
        parameter: dict[str, Any] = {
            "name": identifier,
            "in": "path",
            "required": True,
            "schema": _path_rule(value_schema, pattern),
        }
        if text or note:
            parameter["description"] = "\n\n".join(t for t in (text, note) if t)
        yield parameter
    for item in route.endpoint.inputs:
        if item.location not in ("query", "header", "cookie") or item.value is not None:
            continue
        if item.location == "header" and item.name.lower() in _RESERVED_HEADERS:
            continue
        value_schema = _text_schema(item)
        if item.location == "header":
            value_schema = with_pattern(value_schema, HEADER_VALUE)
        parameter = {
            "name": item.name,
            "in": item.location,
            "required": item.required,
            "schema": value_schema,
        }
        if item.description:
            parameter["description"] = item.description
        yield parameter


def _path_rule(value_schema: dict[str, Any], pattern: str) -> dict[str, Any]:
    """A path variable's schema with the service's path rule beside it (in `allOf`, which
    validators apply and Swagger UI leaves out: the description says it in words)."""
    if value_schema.get("type") != "string":
        return value_schema
    rule = {"pattern": pattern, "minLength": 1}
    return {**value_schema, "allOf": [*value_schema.get("allOf", ()), rule]}


def _text_schema(item: Input) -> dict[str, Any]:
    """A parameter read from text: an array's items are text unless the spec says otherwise."""
    result = schema(item, described=False)
    if item.type == "array" and "items" not in result:
        result["items"] = {"type": "string"}
    return result


def _request_body(route: Route) -> dict[str, Any] | None:
    body = [
        i
        for i in route.endpoint.inputs
        if i.location == "body" and (i.value is None or i.value.startswith("$"))
    ]
    if not body:
        return None
    whole = len(body) == 1 and body[0].value is None
    if whole:  # the body is the input; raw media (audio, images, files) pass as they are
        content = {"application/json": {"schema": schema(body[0])}, **_RAW}
    elif all(i.value is None or _field(i.value) == i.name for i in body):
        content = {"application/json": {"schema": object_schema(body)}}
    else:  # inputs read by JSONPath from deeper in the body: its shape is not written down
        content = {"application/json": {"schema": {"type": "object"}}}
    return {"required": any(i.required for i in body), "content": content}


def _field(path: str) -> str | None:
    found = re.fullmatch(r"\$(?:\.(\w+)|\['([^']+)'\])", path)
    return (found.group(1) or found.group(2)) if found else None


def _declared_media(route: Route) -> dict[str, Any]:
    """The media types the spec gives what the route's calls answer: `outputMediaType`, else
    that of `outputRawFormat`."""
    endpoint = route.endpoint
    calls = [endpoint.call] if endpoint.call else []
    calls += [step.call for step in endpoint.steps if step.call is not None]
    media = [
        c.operation.media_type or _FORMAT_MEDIA.get(c.operation.output_format.lower())
        for c in calls
    ]
    return {m: {"schema": {}} for m in sorted(filter(None, set(media))) if m != "application/json"}


def _problem(description: str, *, upstream: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    if upstream:  # the same status from the upstream keeps its own body and type
        content.update(_ANY)
    return {"description": description, "content": content}


def _responses(route: Route, has_body: bool, guarded: bool) -> dict[str, Any]:
    outputs = route.endpoint.outputs or (
        route.endpoint.function.outputs if route.endpoint.function else ()
    )
    mapped = result_schema(route.endpoint)
    passthrough = mapped is None or maps_whole_body(outputs) or route.endpoint.forward is not None
    content: dict[str, Any] = {"application/json": {"schema": mapped if mapped is not None else {}}}
    if passthrough:  # the upstream's own body: JSON, an event stream, an image, ...
        content.update({**_declared_media(route), **_PASSED_ON, **_ANY})
    responses: dict[str, Any] = {
        "200": {
            "description": "The upstream's answer, mapped as the spec says",
            "content": content,
        },
        "2XX": {"description": "Another success status of the upstream", "content": content},
        "400": _problem("The inputs cannot make a valid upstream request", upstream=True),
    }
    if guarded:
        responses["401"] = _problem("Missing or wrong credentials", upstream=True)
        responses["403"] = _problem("The credentials do not grant this", upstream=True)
    responses["404"] = _problem("Nothing answers this request", upstream=True)
    if has_body:
        responses["413"] = _problem("The request body is larger than the service accepts")
        responses["415"] = _problem(
            "The request body is compressed, or JSON without its content type"
        )
    responses["422"] = _problem("An input does not match its schema", upstream=True)
    if route.endpoint.unavailable:
        responses["501"] = _problem("This operation cannot run: " + route.endpoint.unavailable)
    responses["502"] = _problem("The upstream failed or could not be reached", upstream=True)
    responses["503"] = _problem(
        "The upstream is throttling (429/503) after the retries", upstream=True
    )
    responses["504"] = _problem("The upstream did not answer in time", upstream=True)
    responses["4XX"] = {"description": "The upstream's own error, as it sent it", "content": _ANY}
    return responses
