"""Each REST operation a FastAPI route (`OperationRoute`), whose endpoint is the operation's
handler compiled once at start-up (`OperationHandler`), and a dispatch index that finds an
operation's route by its path segments instead of trying every route in turn.

A route without dependencies (the default) calls its handler directly; dependencies given to
the app (`create_app(..., dependencies=[...])`) run as FastAPI runs them.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Iterator, Sequence
from typing import Any

from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..engine import EXCHANGE, Answer, Exchange, Service, as_answer
from ..errors import CapabilityError
from ..model import Route
from .inputs import Incoming, RouteContract, RouteInputs, TooLarge, extract_inputs
from .responses import error_response, forward, to_response

_VARIABLE = re.compile(r"\{(\w+)(:path)?\}")
_STREAMED = Exchange(stream=True)  # what a REST request without an Authorization to pass is


class OperationHandler:
    """One operation, compiled once: read its inputs, check them against its contract, and
    answer through the service (the replaced method, when a subclass replaced it)."""

    # what FastAPI reads of the endpoint, resolved once for every operation (not per route)
    __signature__ = inspect.Signature(
        [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)],
        return_annotation=Response,
    )

    def __init__(self, route: Route, service: Service, hidden: frozenset[str], passthrough: bool):
        self.route = route
        self.service = service
        self.hidden = hidden  # where inbound credentials travel: never inputs
        self.passthrough = passthrough  # no inbound auth: the caller's Authorization goes on
        self.contract = RouteContract(route)
        self.inputs = RouteInputs(route)
        self.limit = service.settings.max_request_bytes
        self.method = route.handler if route.handler in service.replaced else None

    async def __call__(self, request: Request) -> Response:
        """The endpoint FastAPI calls (a route with dependencies)."""
        return await self.respond(Incoming(request.scope, request.receive, request))

    async def respond(self, request: Incoming) -> Response:
        if self.route.endpoint.forward is not None:
            return await forward(request, self.route, self.service)
        try:
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.limit:  # used or not: refused
                raise TooLarge(self.limit)
            inputs = await extract_inputs(request, self.inputs, self.limit, self.hidden)
            self.contract.check(inputs)
            exchange = (
                Exchange(request.headers.get("authorization"), stream=True)
                if self.passthrough
                else _STREAMED
            )
            token = EXCHANGE.set(exchange)
            try:
                answer = await self.answer(inputs)
            finally:
                EXCHANGE.reset(token)
        except CapabilityError as exc:
            return error_response(exc, self.service.redactor)
        return to_response(answer, self.service.redactor)

    def answer(self, inputs: dict[str, Any]) -> Awaitable[Answer]:
        if self.method is None:  # the engine's coroutine itself: no frame of ours around it
            return self.service.run(self.route.endpoint, inputs)
        return self._replaced(self.method, inputs)

    async def _replaced(self, method: str, inputs: dict[str, Any]) -> Answer:
        arguments = {arg: inputs.get(name) for arg, name in self.route.signature}
        return as_answer(await getattr(self.service, method)(**arguments))


class OperationRoute(APIRoute):
    """A REST operation as a FastAPI route; its OpenAPI part comes from the same contract the
    handler enforces (filled in when the document is first built)."""

    def __init__(self, descriptor: Route, handler: OperationHandler, **options: Any) -> None:
        super().__init__(
            descriptor.route,
            handler,
            methods=[descriptor.method],
            name=descriptor.name,
            summary=descriptor.summary or descriptor.name,
            description=descriptor.description,
            tags=list(descriptor.tags) or None,
            response_class=Response,
            **options,
        )
        self.descriptor = descriptor
        self.direct = not self.dependant.dependencies
        if self.direct:  # nothing for FastAPI to solve: call it straight
            self.app = _direct(handler)


def _direct(handler: OperationHandler) -> ASGIApp:
    """The handler as an ASGI app. Starlette's `request_response` would also look up the
    exception handlers here; the app's ExceptionMiddleware, around every route, does so
    with the same handlers, so an exception raised here is answered as it would be there."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await handler.respond(Incoming(scope, receive))
        await response(scope, receive, send)

    return app


class OperationDispatch:
    """The app router's dispatch, with operations found by their path segments (routes with as
    many segments, in declaration order, then those whose last variable takes the rest).
    SEMANTICS §7.2: the resource is chosen first, then the method, so a known path with
    another method is a 405 naming that resource's methods. Anything else goes to the router."""

    def __init__(self, fallback: ASGIApp, routes: Sequence[OperationRoute]) -> None:
        self.fallback = fallback
        self.fixed: dict[int, list[_Compiled]] = {}
        self.catch_all: list[_Compiled] = []
        for route in routes:
            compiled = _Compiled(route)
            if compiled.rest is None:
                self.fixed.setdefault(len(compiled.parts), []).append(compiled)
            else:
                self.catch_all.append(compiled)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = list(self._resource(scope["path"][1:].split("/")))
            if found:
                await self._handle(found, scope, receive, send)
                return
        await self.fallback(scope, receive, send)

    async def _handle(
        self, found: list[tuple[OperationRoute, dict[str, str]]], scope: Scope, r: Receive, s: Send
    ) -> None:
        method = scope["method"]
        for route, params in found:
            if route.descriptor.method == method:
                await _entered(route, params, scope)(scope, r, s)
                return
        allowed = ", ".join(sorted({route.descriptor.method for route, _ in found}))
        raise HTTPException(status_code=405, headers={"Allow": allowed})

    def claimed(self, scope: Scope) -> ASGIApp | None:
        """The app of the operation a request names, when it is called straight (no
        dependencies: `web.shortcut` takes it there); None for anything else."""
        method = scope["method"]
        for route, params in self._resource(scope["path"][1:].split("/")):
            if route.descriptor.method == method:
                return _entered(route, params, scope) if route.direct else None
        return None

    def allowed(self, path: str) -> bool:
        """Some operation has this path (one-port mode routes by it)."""
        return any(True for _ in self._resource(path[1:].split("/")))

    def _resource(self, segments: list[str]) -> Iterator[tuple[OperationRoute, dict[str, str]]]:
        """The operations of the first resource whose path matches, with the path parameters."""
        resource: str | None = None
        candidates = [*self.fixed.get(len(segments), ()), *self.catch_all]
        for compiled in candidates:
            if compiled.rest is not None and len(compiled.parts) >= len(segments):
                continue
            if resource is not None and compiled.route.path != resource:
                continue
            params = compiled.match(segments)
            if params is not None:
                resource = compiled.route.path
                yield compiled.route, params


def _entered(route: OperationRoute, params: dict[str, str], scope: Scope) -> ASGIApp:
    """The route's app, with the scope its router would give it."""
    scope["route"] = route
    scope["endpoint"] = route.endpoint
    scope["path_params"] = {**scope.get("path_params", {}), **params}
    return route.app


class _Compiled:
    """A route's path as segments: literals, variables, and patterns for a segment holding
    text around a variable; `rest` is the variable that takes the remaining segments."""

    def __init__(self, route: OperationRoute) -> None:
        self.route = route
        segments = route.path.lstrip("/").split("/")
        last = _VARIABLE.fullmatch(segments[-1])
        self.rest = last.group(1) if last and last.group(2) else None
        if self.rest is not None:
            segments = segments[:-1]
        self.parts = tuple(_part(segment) for segment in segments)

    def match(self, segments: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for (kind, value), segment in zip(self.parts, segments, strict=False):
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
        if self.rest is not None:
            params[self.rest] = "/".join(segments[len(self.parts) :])
        return params


def _part(segment: str) -> tuple[str, Any]:
    whole = _VARIABLE.fullmatch(segment)
    if whole:
        return ("variable", whole.group(1))
    if "{" not in segment:
        return ("literal", segment)
    pieces = _VARIABLE.split(segment)
    regex = "".join(
        re.escape(p) if i % 3 == 0 else f"(?P<{p}>[^/]+)"
        for i, p in enumerate(pieces)
        if i % 3 != 2
    )
    return ("pattern", re.compile(regex))
