"""Routing of REST operations, and their OpenAPI document.

One Starlette route object serves all operations of an adapter: it matches by path segments
(routes are tried in declaration order, among those with the right number of segments, then
the catch-all ones), so start-up costs no regular expression or dependency analysis per
operation, and a request is matched without trying every route in turn.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from .model import Route, object_schema, schema

Handler = Callable[[Request], Awaitable[Response]]
_VARIABLE = re.compile(r"\{(\w+)(:path)?\}")


@dataclass(frozen=True)
class _Compiled:
    route: Route
    handler: Handler
    parts: tuple[
        tuple[str, Any], ...
    ]  # ("literal", text) | ("variable", name) | ("pattern", regex)
    rest: str | None  # the catch-all variable, when the route ends with one


def _compile(route: Route, handler: Handler) -> _Compiled:
    segments = route.route.lstrip("/").split("/")
    rest = None
    last = _VARIABLE.fullmatch(segments[-1])
    if last and last.group(2):
        rest, segments = last.group(1), segments[:-1]
    parts: list[tuple[str, Any]] = []
    for segment in segments:
        whole = _VARIABLE.fullmatch(segment)
        if whole:
            parts.append(("variable", whole.group(1)))
        elif "{" in segment:
            pieces = _VARIABLE.split(segment)
            regex = "".join(
                re.escape(p) if i % 3 == 0 else f"(?P<{p}>[^/]+)"
                for i, p in enumerate(pieces)
                if i % 3 != 2
            )
            parts.append(("pattern", re.compile(regex)))
        else:
            parts.append(("literal", segment))
    return _Compiled(route, handler, tuple(parts), rest)


def _match(compiled: _Compiled, segments: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for (kind, value), segment in zip(compiled.parts, segments, strict=False):
        if kind == "literal":
            if segment != value:
                return None
        elif kind == "variable":
            if not segment:
                return None
            params[value] = segment
        else:
            found = value.fullmatch(segment)
            if found is None:
                return None
            params.update(found.groupdict())
    if compiled.rest is not None:
        params[compiled.rest] = "/".join(segments[len(compiled.parts) :])
    return params


class OperationRoutes(BaseRoute):
    """Every operation of one REST adapter, as a single Starlette route."""

    def __init__(self, routes: Sequence[Route], handlers: Sequence[Handler]) -> None:
        self.fixed: dict[int, list[_Compiled]] = {}
        self.catch_all: list[_Compiled] = []
        for route, handler in zip(routes, handlers, strict=True):
            compiled = _compile(route, handler)
            if compiled.rest is None:
                self.fixed.setdefault(len(compiled.parts), []).append(compiled)
            else:
                self.catch_all.append(compiled)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        segments = scope["path"][1:].split("/")
        method = scope["method"]
        partial: Scope | None = None
        candidates = self.fixed.get(len(segments), [])
        for compiled in (*candidates, *(c for c in self.catch_all if len(c.parts) < len(segments))):
            params = _match(compiled, segments)
            if params is None:
                continue
            child = {"endpoint": compiled.handler, "path_params": params, "route": compiled.route}
            if compiled.route.method == method:
                return Match.FULL, child
            partial = partial or child
        return (Match.PARTIAL, partial) if partial else (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = scope.get("route")
        if route is None or route.method != scope["method"]:
            raise HTTPException(status_code=405)
        response = await scope["endpoint"](Request(scope, receive, send))
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NotImplementedError("operation routes are not reversed by name")


def openapi_document(
    title: str, description: str | None, routes: Sequence[Route], bearer: bool
) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "operationId": route.name,
            "summary": route.summary or route.name,
        }
        if route.description:
            operation["description"] = route.description
        operation.update(parameters_and_body(route))
        operation["responses"] = {
            "200": {"description": "The upstream's answer, mapped when the spec maps it"},
            "400": {"description": "Inputs that cannot make a valid upstream request"},
            "401": {"description": "Missing or wrong credentials"},
            "502": {"description": "The upstream failed or could not be reached"},
            "504": {"description": "The upstream did not answer in time"},
        }
        paths.setdefault(_VARIABLE.sub(r"{\1}", route.route), {})[route.method.lower()] = operation
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": "1.0.0",
            **({"description": description} if description else {}),
        },
        "paths": paths,
    }
    if bearer:
        document["components"] = {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}
        }
        document["security"] = [{"bearer": []}]
    return document


def parameters_and_body(route: Route) -> dict[str, Any]:
    """A route's parameters and request body, from its inputs."""
    described = {i.name: i for i in route.endpoint.inputs}
    parameters: list[dict[str, Any]] = []
    for identifier, name in route.variables:
        parameter: dict[str, Any] = {
            "name": identifier,
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
        }
        if name in described and described[name].description:
            parameter["description"] = described[name].description
        parameters.append(parameter)
    for item in route.endpoint.inputs:
        if item.location in ("query", "header", "cookie") and item.value is None:
            parameter = {
                "name": item.name,
                "in": item.location,
                "required": item.required,
                "schema": schema(item),
            }
            if item.description:
                parameter["description"] = item.description
            parameters.append(parameter)
    result: dict[str, Any] = {"parameters": parameters} if parameters else {}
    body = [
        i
        for i in route.endpoint.inputs
        if i.location == "body" and (i.value is None or i.value.startswith("$"))
    ]
    if body:
        whole = len(body) == 1 and body[0].value is None
        content = schema(body[0]) if whole else object_schema(body)
        result["requestBody"] = {
            "required": any(i.required for i in body),
            "content": {"application/json": {"schema": content}},
        }
    return result
