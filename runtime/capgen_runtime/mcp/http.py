"""An MCP adapter over streamable HTTP, stateless: one SDK server behind two of the SDK's
session managers, JSON responses for every request but a `tools/call` whose caller asked for
progress, answered as an SSE stream. The SDK's own DNS-rebinding protection is configured
from the service's host policy, which the service also applies in front of it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
from .catalog import Catalog
from .server import build_server


class ProgressRouter:
    """JSON responses, except for a `tools/call` whose caller asked for progress
    (`_meta.progressToken`): that one is answered as an SSE stream, so the notifications sent
    while the upstream streams reach the caller before the result.

    The endpoint is stateless: a GET (which would open a stream nothing is ever sent on) is a
    405, and a body that is JSON but not a JSON-RPC 2.0 message is a one-line -32600."""

    def __init__(self, json_app: ASGIApp, sse_app: ASGIApp, limit: int) -> None:
        self.json_app, self.sse_app, self.limit = json_app, sse_app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "GET":
            headers = [(b"allow", b"POST, DELETE"), (b"content-type", b"text/plain")]
            await answer(send, 405, headers, b"GET not supported: this endpoint is stateless")
            return
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.json_app(scope, receive, send)
            return
        body, more = b"", True
        while more and len(body) <= self.limit:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
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
                return {"type": "http.request", "body": body, "more_body": more}
            return await receive()

        target = self.sse_app if _asks_progress(body) else self.json_app
        await target(scope, replay, send)


def envelope_problem(body: bytes) -> str | None:
    """Why a JSON body is not a JSON-RPC 2.0 message, or None (also for what is not JSON: the
    SDK answers that with -32700). Bodies that name a method and version 2.0, as every real
    request does, are not parsed here."""
    if b'"2.0"' in body and b'"method"' in body:
        return None
    try:
        message = json.loads(body)
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
    return None


def _asks_progress(body: bytes) -> bool:
    if b"progressToken" not in body:  # most calls: no JSON parsed twice
        return False
    try:
        message = json.loads(body)
    except ValueError:
        return False
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return False
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and meta.get("progressToken") is not None


def create_app(adapter: McpAdapter, service: Service, host: str = "127.0.0.1") -> Starlette:
    """Streamable HTTP at /mcp (stateless), plus health and metrics routes."""
    guard = resolve_guard(adapter.auth, service.settings, adapter.namespace)
    server = build_server(adapter, service, Catalog(adapter, service.settings))
    policy = host_policy(service.settings, host, loopback_default=True)
    managers = [
        StreamableHTTPSessionManager(
            app=server,
            json_response=json_response,
            stateless=True,
            security_settings=transport_security(policy),
            max_request_body_size=service.settings.max_request_bytes,
        )
        for json_response in (True, False)
    ]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with service.running(), managers[0].run(), managers[1].run():
            yield

    router = ProgressRouter(
        managers[0].handle_request, managers[1].handle_request, service.settings.max_request_bytes
    )
    endpoint = Route(MCP_PATH, router, methods=None)  # the SDK answers every method
    app = Starlette(routes=[endpoint], lifespan=lifespan)
    install_checks(app, service.settings, guard, host, loopback_default=True)
    install_observability(app, service, adapter.namespace)
    return app


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
