"""The OpenAPI 3.1 document of a REST adapter, from the same schemas the adapter enforces.

Every operation says where each input goes and its schema, what bodies it takes, what it
answers on success, and the errors the service itself can answer (RFC 9457 problems) beside
the upstream's own ones. Security schemes are the inbound authentication actually in force.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .engine import maps_whole_body
from .model import (
    HEADER_VALUE,
    PATH_SEGMENT,
    PATH_TAIL,
    Input,
    RestAdapter,
    Route,
    object_schema,
    result_schema,
    schema,
    with_pattern,
)
from .problem import MEDIA_TYPE as PROBLEM
from .problem import SCHEMA as PROBLEM_SCHEMA
from .security import Guard

_VARIABLE = re.compile(r"\{(\w+)(:path)?\}")
# Headers OpenAPI describes elsewhere (content negotiation, security): never parameters.
_RESERVED_HEADERS = frozenset({"accept", "authorization", "content-type"})
_ANY: dict[str, Any] = {"*/*": {"schema": {}}}
_RAW: dict[str, Any] = {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
}


Schemes = dict[str, tuple[dict[str, Any], list[str]]]  # name -> (scheme, scopes it requires)


def openapi_document(adapter: RestAdapter, schemes: Schemes) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    taken: set[str] = set()
    tags: dict[str, None] = {}
    for route in adapter.routes:
        operation = _operation(route, _unique(route.name, taken), bool(schemes))
        tags.update(dict.fromkeys(route.tags))
        paths.setdefault(_VARIABLE.sub(r"{\1}", route.route), {})[route.method.lower()] = operation
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": adapter.title,
            "version": adapter.version,
            **({"description": adapter.description} if adapter.description else {}),
        },
        "paths": paths,
        "components": {"schemas": {"Problem": PROBLEM_SCHEMA}},
    }
    if tags:
        document["tags"] = [{"name": tag} for tag in tags]
    if schemes:
        document["components"]["securitySchemes"] = {n: s for n, (s, _) in schemes.items()}
        document["security"] = [{name: scopes} for name, (_, scopes) in schemes.items()]
    return document


def security_schemes(guard: Guard | None) -> Schemes:
    """The schemes a caller may use, by name; each alone is enough. None when auth is off."""
    if guard is None:
        return {}
    if guard.oauth is not None:
        issuer = guard.oauth.issuer
        scheme = {
            "type": "openIdConnect",  # RFC 8414 metadata: the same endpoints OIDC discovery gives
            "openIdConnectUrl": f"{issuer}/.well-known/oauth-authorization-server",
            "description": f"an access token (JWT) issued by {issuer}",
        }
        return {"oauth2": (scheme, list(guard.oauth.scopes))}
    schemes: Schemes = {}
    for credential in guard.credentials:
        if credential.kind == "apikey":
            place = (
                credential.placement if credential.placement in ("query", "cookie") else "header"
            )
            schemes["apiKey"] = ({"type": "apiKey", "in": place, "name": credential.key}, [])
        else:
            schemes[credential.kind] = ({"type": "http", "scheme": credential.kind}, [])
    return schemes


def _unique(name: str, taken: set[str]) -> str:
    candidate, count = name, 1
    while candidate in taken:
        count += 1
        candidate = f"{name}_{count}"
    taken.add(candidate)
    return candidate


def _operation(route: Route, operation_id: str, guarded: bool) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": route.summary or route.name,
    }
    if route.description:
        operation["description"] = route.description
    if route.tags:
        operation["tags"] = list(route.tags)
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
    tails = {m.group(1) for m in _VARIABLE.finditer(route.route) if m.group(2)}
    for identifier, name in route.variables:
        item = declared.get(name)
        pattern = PATH_TAIL if identifier in tails else PATH_SEGMENT
        parameter: dict[str, Any] = {
            "name": identifier,
            "in": "path",
            "required": True,
            "schema": with_pattern(
                schema(item, described=False) if item else {"type": "string"}, pattern, 1
            ),
        }
        if item is not None and item.description:
            parameter["description"] = item.description
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
        content.update(_ANY)
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
        responses["415"] = _problem("The request body is compressed")
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
