"""An MCP adapter over streamable HTTP, stateless: one SDK server behind two of the SDK's
session managers, JSON responses for every request but a `tools/call` whose caller asked for
progress, answered as an SSE stream. The SDK's own DNS-rebinding protection is configured
from the service's host policy, which the service also applies in front of it.

Before the SDK sees a request, `ProgressRouter` reads its body (at most the request limit: a
larger declared or sent body is a 413 at once), refuses a JSON body that is not one JSON-RPC
2.0 request (-32600: batches, other versions, ids that are neither a string nor an integer,
nesting too deep to read), and sends a `tools/call` that asked for progress to the manager
that answers with an event stream. Every error the adapter answers outside JSON-RPC is an
RFC 9457 problem, Starlette's own included.

A JSON `tools/call` or `tools/list` the SDK would answer without anything its per-request
transport adds is answered by the fast lane (`lane.py`), with the SDK's own bytes.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..auth.inbound import resolve_guard
from ..engine import Service
from ..model import MCP_PATH, McpAdapter
from ..web.guard import answer
from ..web.hosts import HostPolicy, host_policy, install_checks
from ..web.observability import install_observability
from ..web.problem import MEDIA_TYPE, install_problem_handlers, problem_body
from ..web.shortcut import install_shortcut
from .catalog import Catalog
from .lane import Lane
from .server import ToolCalls, build_server

_PROBLEM = (b"content-type", MEDIA_TYPE.encode())
# an `"id"` member whose value is not plainly a string or an integer: the body is then read
# whole to check the message's own id (most bodies never are)
_ODD_ID = re.compile(rb'"id"\s*+:\s*+(?!"|-?\d++\s*+[,}\]])')


class ProgressRouter:
    """JSON responses, except for a `tools/call` whose caller asked for progress
    (`_meta.progressToken`): that one is answered as an SSE stream, so the notifications sent
    while the upstream streams reach the caller before the result.

    The endpoint is stateless: a GET (which would open a stream nothing is ever sent on) is a
    405, and a body that is JSON but not a JSON-RPC 2.0 request is a one-line -32600."""

    def __init__(
        self, json_app: ASGIApp, sse_app: ASGIApp, limit: int, lane: Lane | None = None
    ) -> None:
        self.json_app, self.sse_app, self.limit, self.lane = json_app, sse_app, limit, lane

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "GET" and scope["path"] == MCP_PATH:
            detail = problem_body(405, "GET is not supported: this endpoint is stateless")
            await answer(send, 405, [(b"allow", b"POST, DELETE"), _PROBLEM], detail)
            return
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.json_app(scope, receive, send)
            return
        if _declared_length(scope) > self.limit:  # refused before a byte of it is read
            await self._too_large(send)
            return
        body, more = b"", True
        while more and len(body) <= self.limit:
            message = await receive()
            if message["type"] != "http.request":  # the caller went away, or its body stalled
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if len(body) > self.limit:
            await self._too_large(send)
            return
        invalid = envelope_problem(body)
        if invalid is not None:
            error = {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": invalid}}
            headers = [(b"content-type", b"application/json")]
            await answer(send, 400, headers, json.dumps(error).encode())
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        if asks_progress(body):
            await self.sse_app(scope, replay, send)
        elif self.lane is None or not await self.lane.answer(scope, replay, send, body):
            await self.json_app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        detail = problem_body(413, f"request body is larger than {self.limit} bytes")
        await answer(send, 413, [_PROBLEM, (b"connection", b"close")], detail)


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def envelope_problem(body: bytes) -> str | None:
    """Why a JSON body is not a JSON-RPC 2.0 request, or None (also for what is not JSON: the
    SDK answers that with -32700). Bodies that name a method and version 2.0 and whose ids
    are plain, as every real request's are, are not parsed here."""
    if b'"2.0"' in body and b'"method"' in body and not _ODD_ID.search(body):
        return None
    try:
        message = json.loads(body)
    except RecursionError:
        return "Invalid Request: the message nests too deeply"
    except ValueError:
        return None
    if isinstance(message, list):
        return "Invalid Request: batches are not supported"
    if not isinstance(message, dict):
        return "Invalid Request: a JSON-RPC message is a JSON object"
    if message.get("jsonrpc") != "2.0":
        return 'Invalid Request: "jsonrpc" must be "2.0"'
    if not isinstance(message.get("method"), str) and not (
        "result" in message or "error" in message
    ):
        return 'Invalid Request: "method" must be a string'
    if "id" in message and not _valid_id(message["id"]):
        return 'Invalid Request: "id" must be a string or an integer'
    return None


def _valid_id(value: Any) -> bool:
    """MCP request ids: a string or an integer, never null (a bool is not an integer here)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def asks_progress(body: bytes) -> bool:
    if b"progressToken" not in body:  # most calls: no JSON parsed twice
        return False
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return False
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return False
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and meta.get("progressToken") is not None


def create_app(
    adapter: McpAdapter, service: Service, host: str = "127.0.0.1", *, lane: bool = True
) -> Starlette:
    """Streamable HTTP at /mcp (stateless), plus health and metrics routes. `lane=False`
    (for tests and comparisons only) sends every request through the SDK's transport."""
    guard = resolve_guard(adapter.auth, service.settings, adapter.namespace)
    catalog = Catalog(adapter, service.settings)
    calls = ToolCalls(catalog, service)
    server = build_server(adapter, service, catalog, calls)  # input schemas by lookup
    policy = host_policy(service.settings, host, loopback_default=True)
    security = transport_security(policy)
    managers = [
        StreamableHTTPSessionManager(
            app=server,
            json_response=json_response,
            stateless=True,
            security_settings=security,
            max_request_body_size=service.settings.max_request_bytes,
        )
        for json_response in (True, False)
    ]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with service.running(), managers[0].run(), managers[1].run():
            yield

    # the lane runs the server with the lifespan state the JSON manager entered it with
    state = lambda: managers[0]._lifespan_state  # noqa: E731
    fast = Lane(server, security, state, calls) if lane else None
    router = ProgressRouter(
        managers[0].handle_request,
        managers[1].handle_request,
        service.settings.max_request_bytes,
        fast,
    )
    endpoint = Route(MCP_PATH, router, methods=None)  # the SDK answers every method
    app = Starlette(routes=[endpoint], lifespan=lifespan)
    install_shortcut(app, functools.partial(_endpoint, endpoint))
    install_problem_handlers(app)  # Starlette's own 404 and 405 on paths besides /mcp
    install_checks(app, service.settings, guard, host, loopback_default=True)
    install_observability(app, service, adapter.namespace)
    return app


def _endpoint(endpoint: Route, scope: Scope) -> ASGIApp | None:
    """The MCP endpoint's app for a request to it, with the scope the router would give it."""
    if scope["path"] != MCP_PATH:
        return None
    scope.update(route=endpoint, endpoint=endpoint.endpoint, path_params={})
    return endpoint.app


def transport_security(policy: HostPolicy | None) -> TransportSecuritySettings:
    """The SDK's DNS-rebinding protection with the hosts and origins of `policy` (names with
    any port unless the pattern gives one); off where the policy is, or where it has wildcard
    names, which the SDK cannot match (the service's own check applies them)."""
    if policy is None or any("*" in p for p in (*policy.hosts, *policy.origins)):
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    hosts = [h for pattern in policy.hosts for h in _with_any_port(pattern)]
    origins = [f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(
        allowed_hosts=hosts, allowed_origins=[*policy.origins, *origins]
    )


def _with_any_port(pattern: str) -> list[str]:
    has_port = ":" in pattern.rsplit("]", 1)[-1]
    return [pattern] if has_port else [pattern, f"{pattern}:*"]
