"""The inputs of a REST request (SEMANTICS §5.1 with DEV-15, 16, 17), and the contract they are
checked against before anything is sent upstream."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect, Request, cookie_parser
from starlette.types import Message, Receive, Scope

from ..engine.contract import COERCED, Checker, coerce
from ..errors import CapabilityError, InvalidInput, InvalidRequest
from ..expr import jsonpath
from ..model import Input, RawBody, Route
from ..schemas import object_schema
from .body import check_encoding, decode_json, raw_media


class TooLarge(CapabilityError):
    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body is larger than {limit} bytes")


class Incoming:
    """A REST request as an operation reads it: its headers by lower-case name (the first of
    each, as Starlette's `Headers.get` gives it), found in one pass over the scope; its query
    and cookies parsed when first read; its body read from the ASGI `receive`, or through the
    Starlette request (`given`) a route's dependencies may have read it from already."""

    __slots__ = ("_cookies", "_headers", "_query", "given", "receive", "scope")

    def __init__(self, scope: Scope, receive: Receive, given: Request | None = None) -> None:
        self.scope, self.receive, self.given = scope, receive, given
        self._headers: dict[str, str] | None = None
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None

    @property
    def headers(self) -> dict[str, str]:
        if self._headers is None:
            found: dict[str, str] = {}
            for name, value in self.scope["headers"]:
                key = name.decode("latin-1").lower()
                if key not in found:
                    found[key] = value.decode("latin-1")
            self._headers = found
        return self._headers

    @property
    def path_params(self) -> dict[str, Any]:
        params: dict[str, Any] = self.scope.get("path_params", {})
        return params

    @property
    def query_params(self) -> QueryParams:
        if self._query is None:
            self._query = QueryParams(self.scope["query_string"])
        return self._query

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            cookie = self.headers.get("cookie")
            self._cookies = cookie_parser(cookie) if cookie else {}
        return self._cookies

    def request(self) -> Request:
        """The Starlette request of the same exchange."""
        return self.given or Request(self.scope, self.receive)

    async def chunks(self, first: Message | None = None) -> AsyncIterator[bytes]:
        """The body's pieces as they arrive (from `first`, a message received already);
        ClientDisconnect when the caller is gone first."""
        if self.given is not None:
            async for chunk in self.given.stream():
                yield chunk
            return
        message = first or await self.receive()
        while True:
            if message["type"] == "http.request":
                yield message.get("body", b"")
                if not message.get("more_body", False):
                    return
            elif message["type"] == "http.disconnect":
                raise ClientDisconnect()
            message = await self.receive()


async def read_body(incoming: Incoming, limit: int) -> bytes:
    declared = incoming.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(limit)
    first = None
    if incoming.given is None:  # most bodies come in one message: taken as it is
        first = await incoming.receive()
        if first["type"] == "http.request" and not first.get("more_body", False):
            body: bytes = first.get("body", b"")
            if len(body) > limit:
                raise TooLarge(limit)
            return body
    chunks, size = [], 0
    try:
        async for chunk in incoming.chunks(first):
            size += len(chunk)
            if size > limit:
                raise TooLarge(limit)
            chunks.append(chunk)
    except ClientDisconnect:  # gone, or its body stalled (serve/wire.py): nobody reads the answer
        raise InvalidRequest("the request body did not arrive") from None
    return b"".join(chunks)


class RouteInputs:
    """What a route reads of a request, worked out once: its inputs, those that come from
    the body, and the one that takes the whole body (`whole`) when there is only one."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.inputs = route.endpoint.inputs
        body_inputs = [i for i in self.inputs if i.location == "body" and i.value is None]
        self.whole = body_inputs[0].name if len(body_inputs) == 1 else None
        self.has_body = any(i.location == "body" for i in self.inputs)
        self.body_required = any(i.required for i in body_inputs)


async def extract_inputs(
    request: Incoming, plan: RouteInputs, limit: int, hidden: frozenset[str]
) -> dict[str, Any]:
    """Collect the inputs of a REST request; `hidden` are where inbound credentials travel
    (lower-case header names, `?name` for query keys), never read as inputs."""
    check_encoding(request.scope)
    values: dict[str, Any] = {}
    path_params = request.path_params
    for identifier, name in plan.route.variables:
        if identifier in path_params and name not in values:
            values[name] = path_params[identifier]
    body: Any = None
    whole = plan.whole
    content_type = request.headers.get("content-type")
    if whole is not None and raw_media(content_type):  # bytes to pass through, not JSON
        values[whole] = RawBody(await read_body(request, limit), str(content_type))
    elif plan.has_body:
        raw = await read_body(request, limit)
        body = decode_json(raw, request.headers, plan.body_required)
        fields = whole is None  # the inputs are fields of a JSON object
        if raw.strip() == b"null" or (fields and body is not None and not isinstance(body, dict)):
            raise InvalidInput(
                "the request body must be a JSON object", ["(body): must be an object"]
            )
    for item in plan.inputs:
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
        # each input with whether its value is read as it is (`typed` would not change it)
        self.plan = tuple((i, _as_given(i)) for i in self.inputs)

    def check(self, values: dict[str, Any]) -> None:
        if self.checker is None:
            return
        instance: dict[str, Any] = {}
        raw: set[str] = set()
        for item, as_given in self.plan:
            name = item.name
            if name in values:
                value = values[name]
                if isinstance(value, RawBody):
                    raw.add(name)
                else:
                    instance[name] = value if as_given else typed(item, value)
        offences = self.checker.offences(instance)
        if not offences:
            return
        problems = [line for name, line in offences if name not in raw]
        if problems:
            raise InvalidInput(f"invalid input: {'; '.join(problems)}", problems)


def _as_given(item: Input) -> bool:
    """`typed` leaves every value of this input as it is: one `coerce` reads as text (an array
    arrives as a list, whose items it may read)."""
    return item.location in ("body", "argument") or (
        item.type not in COERCED and item.type != "array"
    )


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
    request: Incoming,
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
        name = item.name.lower()
        return None if name in hidden else request.headers.get(name)
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
