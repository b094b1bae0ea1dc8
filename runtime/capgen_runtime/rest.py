"""Serve a REST adapter with FastAPI (SEMANTICS §5.1, §7)."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from . import jsonpath
from .body import RawBody, check_encoding, decode_json, raw_media
from .contract import Checker, coerce
from .docs import ASSETS, DOCS_PATHS, install_docs
from .engine import Outcome, Service, execute
from .errors import CapabilityError, InvalidInput, InvalidRequest, NoHandler
from .hosts import install_checks
from .model import Input, RestAdapter, Route, object_schema
from .observability import install_observability
from .openapi import openapi_document, security_schemes
from .problem import internal_error, phrase, problem
from .routing import OperationRoutes
from .security import Guard, resolve_guard
from .streams import error_marker, stream_failure
from .upstream import OpenStream

logger = logging.getLogger(__name__)
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def build_app(adapter: RestAdapter, service: Service, host: str | None = None) -> FastAPI:
    """The FastAPI application of `adapter`, served on `host`; raises AuthConfigError when
    auth has no credential."""
    guard = resolve_guard(adapter.auth, service.settings, adapter.namespace)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with service.running():
            yield

    docs = service.settings.docs
    app = FastAPI(
        title=adapter.title,
        description=adapter.description or "",
        version="1.0.0",
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url=None,  # docs.py serves them, with their scripts, when they are on
        redoc_url=None,
        openapi_url=None,
    )
    handlers = [_handler(route, service, guard) for route in adapter.routes]
    app.router.routes.append(OperationRoutes(adapter.routes, handlers))
    schemes = security_schemes(guard)
    # built on first request: a 740-operation adapter answers before it has written its docs
    document = functools.cache(lambda: openapi_document(adapter, schemes))
    app.openapi = document  # type: ignore[method-assign]
    app.add_exception_handler(StarletteHTTPException, _no_handler)
    app.add_exception_handler(Exception, internal_error)
    if docs:
        install_docs(app, adapter.title, document)
    install_checks(  # the docs hold no secret: open without credentials
        app,
        service.settings,
        guard,
        host,
        loopback_default=True,
        also_open=DOCS_PATHS if docs else frozenset(),
        open_prefix=ASSETS + "/" if docs else None,
    )
    install_observability(app, service, adapter.namespace)  # outermost: 401s are logged too
    return app


async def _no_handler(request: Request, exc: Exception) -> Response:
    """An unknown path is the engine's 404 (SEMANTICS §7.2); a known path with a method it
    lacks is a 405 naming the methods it has (DEV-20)."""
    status = getattr(exc, "status_code", 500)
    if status == 405:
        headers = getattr(exc, "headers", None) or {}
        allowed = headers.get("Allow", "")
        return problem(405, f"{request.method} is not allowed here; use {allowed}", headers)
    if status == 404:
        return problem(404, NoHandler().message)
    return problem(status, phrase(status))


def _handler(route: Route, service: Service, guard: Guard | None) -> Handler:
    if route.endpoint.forward is not None:

        async def forward(request: Request) -> Response:
            return await _forward(request, route, service)

        return forward

    contract = RouteContract(route)

    async def handle(request: Request) -> Response:
        try:
            limit = service.settings.max_request_bytes
            declared = request.headers.get("content-length", "")
            if (
                declared.isdigit() and int(declared) > limit
            ):  # refused whether the body is used or not
                raise _TooLarge(limit)
            inputs = await extract_inputs(request, route, limit, guard)
            contract.check(inputs)
            passthrough = request.headers.get("authorization") if guard is None else None
            outcome = await execute(
                route.endpoint, inputs, service, inbound_authorization=passthrough, stream=True
            )
        except CapabilityError as exc:
            return error_response(exc, service)
        return to_response(outcome, service)

    return handle


def error_response(exc: CapabilityError, service: Service) -> Response:
    """What capgen itself answers for a failure: a problem, with the headers it calls for."""
    errors = exc.errors if isinstance(exc, InvalidInput) else None
    headers = {"Retry-After": "1"} if exc.status == 503 else None
    return problem(exc.status, service.redact(exc.message), headers, errors)


def to_response(outcome: Outcome, service: Service) -> Response:
    if outcome.stream is not None:
        return StreamingResponse(
            relay(outcome.stream, service),
            outcome.status,
            headers=outcome.headers,
            media_type=outcome.media_type,
        )
    if outcome.status == 204:
        return Response(status_code=204, headers=outcome.headers)
    content = service.redact_bytes(outcome.content)
    headers = dict(outcome.headers)
    if outcome.media_type:  # as the upstream wrote it (Response would add a charset to text/*)
        headers["content-type"] = outcome.media_type
    return Response(content, outcome.status, headers=headers)


async def relay(stream: OpenStream, service: Service) -> AsyncIterator[bytes]:
    """The upstream's chunks as they arrive, secrets redacted even when one is split across two
    chunks (the end of a chunk that could begin a secret waits for the next). A stall longer
    than the read timeout, a broken upstream or a stream over the size limit ends the stream
    with an error marker (streams.py) and is logged; a caller who goes away closes the
    upstream stream."""
    held = service.redactor.held_bytes()
    failure: tuple[int, str] | None = None
    try:
        async for chunk in stream.chunks():
            data = held.feed(chunk)
            if data:
                yield data
        if stream.truncated:
            failure = 502, f"the upstream stream is larger than {stream.limit} bytes"
    except httpx.HTTPError as exc:
        logger.warning("upstream stream ended early: %s", type(exc).__name__)
        failure = stream_failure(exc)
    finally:
        with anyio.CancelScope(shield=True):  # also when the caller went away (cancelled)
            await stream.aclose()
    rest = held.end()
    if rest:
        yield rest
    if failure is not None:
        yield error_marker(stream.media_type, *failure)


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge(limit)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _TooLarge(limit)
            chunks.append(chunk)
    except ClientDisconnect:  # gone, or its body stalled (wire.py): nobody reads the answer
        raise InvalidRequest("the request body did not arrive") from None
    return b"".join(chunks)


class _TooLarge(CapabilityError):
    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body is larger than {limit} bytes")


async def extract_inputs(
    request: Request, route: Route, limit: int, guard: Guard | None
) -> dict[str, Any]:
    """Collect the inputs of a REST request (SEMANTICS §5.1 with DEV-15, 16, 17)."""
    check_encoding(request.scope)
    values: dict[str, Any] = {}
    for identifier, name in route.variables:
        if identifier in request.path_params and name not in values:
            values[name] = request.path_params[identifier]
    hidden = guard.hidden if guard else frozenset()
    body: Any = None
    body_inputs = [i for i in route.endpoint.inputs if i.location == "body" and i.value is None]
    whole = body_inputs[0].name if len(body_inputs) == 1 else None
    content_type = request.headers.get("content-type")
    if whole is not None and raw_media(content_type):  # bytes to pass through, not JSON
        values[whole] = RawBody(await read_body(request, limit), str(content_type))
    elif any(i.location == "body" for i in route.endpoint.inputs):
        raw = await read_body(request, limit)
        required = any(i.required for i in body_inputs)
        body = decode_json(raw, request.headers, required)
        fields = whole is None  # the inputs are fields of a JSON object
        if raw.strip() == b"null" or (fields and body is not None and not isinstance(body, dict)):
            raise InvalidInput(
                "the request body must be a JSON object", ["(body): must be an object"]
            )
    for item in route.endpoint.inputs:
        if isinstance(values.get(item.name), RawBody):
            continue
        value = _input_value(item, request, body, values, hidden, whole)
        if value is not None:
            values[item.name] = value
    return values


class RouteContract:
    """The inputs of a route as one JSON Schema (the one its OpenAPI document publishes),
    checked before anything is sent upstream: a violation is a 422 naming each field. Values
    read from text (path, query, header, cookie) are checked as their declared type; the
    text itself is what goes on."""

    def __init__(self, route: Route) -> None:
        self.inputs = tuple(i for i in route.endpoint.inputs if checked(i))
        self.checker = Checker(object_schema(self.inputs)) if self.inputs else None

    def check(self, values: dict[str, Any]) -> None:
        if self.checker is None:
            return
        instance = {
            item.name: typed(item, values[item.name])
            for item in self.inputs
            if item.name in values and not isinstance(values[item.name], RawBody)
        }
        raw = {i.name for i in self.inputs if isinstance(values.get(i.name), RawBody)}
        offences = self.checker.offences(instance)
        problems = [line for name, line in offences if name not in raw]
        if problems:
            raise InvalidInput(f"invalid input: {'; '.join(problems)}", problems)


def checked(item: Input) -> bool:
    """Inputs a caller supplies (not static values, not the process environment)."""
    static = item.value is not None and not item.value.startswith("$")
    return not static and item.location != "environment"


def typed(item: Input, value: Any) -> Any:
    if item.location in ("body", "argument") or not isinstance(value, str | list):
        return value
    if isinstance(value, list):
        kind = str((item.constraints or {}).get("items", {}).get("type", "string"))
        return [coerce(v, kind) if isinstance(v, str) else v for v in value]
    return coerce(value, item.type)


def _input_value(
    item: Input,
    request: Request,
    body: Any,
    values: dict[str, Any],
    hidden: frozenset[str],
    whole: str | None,
) -> Any:
    if item.value is not None and not item.value.startswith("$"):
        return item.value
    location = item.location
    if location == "path":
        return values.get(item.name)
    if location == "query":
        found = [] if f"?{item.name}" in hidden else request.query_params.getlist(item.name)
        if item.type == "array":
            return found or None
        return found[0] if found else None
    if location == "header":
        return None if item.name.lower() in hidden else request.headers.get(item.name)
    if location == "cookie":
        return request.cookies.get(item.name)
    if location == "environment":
        return os.environ.get(item.name)
    if body is None:
        return None
    if item.value is not None:
        return jsonpath.query(body, item.value)
    if isinstance(body, dict) and item.name in body:
        return body[item.name]
    # the whole body belongs to the only body input, when it is not a field of the body
    if item.name != whole or (isinstance(body, dict) and item.type not in ("object", "array")):
        return None
    return body


async def _forward(request: Request, route: Route, service: Service) -> Response:
    forward = route.endpoint.forward
    assert forward is not None
    try:
        check_encoding(request.scope)
        rest = ""
        if forward.path_variable:
            identifiers = {name: identifier for identifier, name in route.variables}
            rest = str(
                request.path_params.get(
                    identifiers.get(forward.path_variable, forward.path_variable), ""
                )
            )
        trusted = {h.lower() for h in forward.trusted_headers}
        headers = {k: v for k, v in request.headers.items() if k.lower() in trusted}
        body = await read_body(request, service.settings.max_request_bytes)
        client = service.client(forward.upstream)
        response = await client.forward(request.method, rest, headers, body)
    except CapabilityError as exc:
        return error_response(exc, service)
    return Response(
        service.redact_bytes(response.content),
        response.status_code,
        media_type=response.headers.get("content-type"),
    )
