"""Routing of REST operations, and their OpenAPI document.

One Starlette route object serves all operations of an adapter: it matches by path segments
(routes are tried in declaration order, among those with the right number of segments, then
the catch-all ones), so start-up costs no regular expression or dependency analysis per
operation, and a request is matched without trying every route in turn.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from ..model import Route

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
        for compiled, params in self._resource(segments):
            child = {"endpoint": compiled.handler, "path_params": params, "route": compiled.route}
            if compiled.route.method == method:
                return Match.FULL, child
            partial = partial or child
        return (Match.PARTIAL, partial) if partial else (Match.NONE, {})

    def allowed(self, path: str) -> list[str]:
        """The methods of the resource at `path`, for a 405's Allow header."""
        return sorted(
            {compiled.route.method for compiled, _ in self._resource(path[1:].split("/"))}
        )

    def _resource(self, segments: list[str]) -> Iterator[tuple[_Compiled, dict[str, str]]]:
        """The operations of the first resource whose path matches (SEMANTICS §7.2: the
        resource is chosen first, then the method), with the path parameters."""
        resource: str | None = None
        for compiled in self._candidates(segments):
            if resource is not None and compiled.route.route != resource:
                continue
            params = _match(compiled, segments)
            if params is not None:
                resource = compiled.route.route
                yield compiled, params

    def _candidates(self, segments: list[str]) -> Iterator[_Compiled]:
        """Routes with as many segments, in declaration order, then the catch-all ones."""
        yield from self.fixed.get(len(segments), [])
        yield from (c for c in self.catch_all if len(c.parts) < len(segments))

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = scope.get("route")
        if route is None or route.method != scope["method"]:
            allow = ", ".join(self.allowed(scope["path"]))
            raise HTTPException(status_code=405, headers={"Allow": allow})
        response = await scope["endpoint"](Request(scope, receive, send))
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NotImplementedError("operation routes are not reversed by name")
