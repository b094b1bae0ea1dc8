"""A fast lane for the stateless streamable-HTTP adapter: a `tools/call` (without a progress
token), a `tools/list`, an `initialize` or its `notifications/initialized` of the handshake era
(2025-11-25 and before), and a `tools/list` of 2026-07-28, wanting a JSON answer, are served
without the SDK's per-request transport, task group, streams and dispatcher, which cost more
CPU than the tool's own work. Everything else goes to the SDK untouched.

What it answers is the SDK's own answer, byte for byte: the request is admitted only where
the SDK's checks (its era routing, DNS-rebinding check, Accept and Content-Type checks, its
JSON parser and JSON-RPC validation) would pass it, and it is answered by the SDK's own
kernel (`serve_one`: the server's middleware, the method's params validation, the handler
(`Service.answer` for a call), the result's wire shaping) under the dispatch context and
connection the SDK's stateless transport gives a request, the reply framed as that transport
frames it (a 2026-07-28 request passes the SDK's own envelope and routing-header checks
first). A call in the plainest shape (an envelope of exactly its members, a string or
integer id, params of a tool name and arguments), which the SDK's validation can only accept
as it is, skips the kernel's per-request runner where the server has no middleware: its
handler (`ToolCalls.invoke`) is called straight and its result shaped by the SDK's own
serializer. The differential test (tests/integration/test_mcp_lane.py) sends the same
requests to an adapter with the lane and one without and compares status, headers and bytes.

A `tools/list` page, and the answer to `initialize`, is serialised once per protocol revision
and params (the cursor, the 2026 envelope, the client's handshake): the same params always pass
the same validation to the same fixed result (the catalog's listing, the server's
capabilities and the revision negotiated from the one asked for), as long as the server has
no middleware that could see or change it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import pydantic_core
from mcp.server.connection import Connection
from mcp.server.lowlevel.server import Server
from mcp.server.runner import ServerRunner, serve_one
from mcp.server.streamable_http import check_accept_headers
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.shared.exceptions import NoBackChannelError
from mcp.shared.inbound import (
    InboundModernRoute,
    classify_inbound_request,
    find_duplicated_routing_header,
)
from mcp.shared.jsonrpc_dispatcher import handler_exception_to_error_data
from mcp.shared.message import MessageMetadata, ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp_types import (
    DEFAULT_NEGOTIATED_VERSION,
    ErrorData,
    JSONRPCError,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResponse,
    RequestId,
    jsonrpc_message_adapter,
)
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..web.guard import answer
from .results import text_result_wire
from .server import ToolCalls

# the SDK's dispatcher logs a handler's unexpected exception under its own name
_DISPATCHER_LOG = logging.getLogger("mcp.shared.jsonrpc_dispatcher")
_METHODS = frozenset({"tools/call", "tools/list", "initialize"})
_INITIALIZED = "notifications/initialized"
# what is answered the same to the same params: its result kept, serialised
_KEPT_METHODS = frozenset({"tools/list", "initialize"})
_HINTED = "tools/call"  # a cache hint on calls: the runner adds it to each result
_TRANSPORT = TransportContext(kind="streamable-http", can_send_request=False)
# bytes of listings kept (distinct revisions and params); more are served, not kept
_KEPT = 16 * 1024 * 1024
# the headers the SDK's checks read, and how many passing sets of them are remembered
_CHECKED_NAMES = (b"content-type", b"host", b"origin", b"accept")
_ADMITTED = 256


@dataclass
class _Exchange:
    """The dispatch context the SDK's stateless JSON transport gives a request: no
    back-channel (a server request raises), notifications dropped (JSON mode has no wire
    for them), no progress token (calls with one never take the lane)."""

    request_id: RequestId
    message_metadata: MessageMetadata
    transport: TransportContext = _TRANSPORT  # with the request's headers in 2026-07-28
    cancel_requested: anyio.Event = field(default_factory=anyio.Event)
    can_send_request: bool = False

    async def send_raw_request(
        self, method: str, params: Mapping[str, Any] | None, opts: Any = None
    ) -> dict[str, Any]:
        raise NoBackChannelError(method)

    async def notify(self, method: str, params: Mapping[str, Any] | None, opts: Any = None) -> None:
        return None

    async def progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        return None


class Lane:
    """Answers what it can exactly as the SDK would (`answer` returns True), or nothing."""

    def __init__(
        self,
        server: Server[Any],
        security: TransportSecuritySettings,
        lifespan_state: Callable[[], Any],
        calls: ToolCalls | None = None,
    ) -> None:
        self.server, self.lifespan_state, self.calls = server, lifespan_state, calls
        # shapes a handler's result for the wire (the only part of a runner a call uses)
        self.shaper = ServerRunner(
            server, Connection.from_envelope(DEFAULT_NEGOTIATED_VERSION, None, None), None
        )
        self.security = TransportSecurityMiddleware(security)
        self.pages: dict[tuple[str, str, bytes], bytes] = {}  # kept results, serialised
        self.admitted: set[tuple[str | None, ...]] = set()  # header sets that pass the checks
        self.kept = 0

    async def answer(self, scope: Scope, receive: Receive, send: Send, body: bytes) -> bool:
        """Serve the request if it is one the lane takes; False (nothing sent) otherwise."""
        read = _version(scope)
        if read is None:
            return False
        version, checked = read
        request = Request(scope, receive)
        if not await self._admitted(request, checked):
            return False  # the SDK answers it (and logs why)
        if version in MODERN_PROTOCOL_VERSIONS:
            return await self._modern(request, body, send)
        try:
            decoded = pydantic_core.from_json(body)  # as the SDK's transport reads it
        except ValueError:
            return False  # not JSON: the SDK answers it
        call = _plain_call(decoded)
        if call is not None and self.calls is not None and not self.server.middleware:
            await _send_json(send, await self._call(version, *call))
            return True
        if self._acknowledged(decoded):
            await _send_json(send, b"", 202)
            return True
        message = _request(decoded)
        if message is None:
            return False
        key = self._key(message, version)
        listed = self.pages.get(key) if key is not None else None
        content: bytes | str
        if listed is not None:
            content = _framed(message.id, listed)
        else:
            reply = await self._serve(message, request, version)
            content = reply.model_dump_json(by_alias=True, exclude_unset=True)
            if key is not None and isinstance(reply, JSONRPCResponse):
                self._keep(key, pydantic_core.to_json(reply.result))
        await _send_json(send, content if isinstance(content, bytes) else content.encode())
        return True

    async def _admitted(self, request: Request, key: tuple[str | None, ...]) -> bool:
        """The SDK's header checks pass (its DNS-rebinding and Content-Type check, an Accept
        that takes JSON): functions of four headers (`key`, the first of each), so a passing
        set is remembered."""
        if key in self.admitted:
            return True
        if await self.security.validate_request(request, is_post=True) is not None:
            return False
        if not check_accept_headers(request)[0]:
            return False
        if len(self.admitted) < _ADMITTED:
            self.admitted.add(key)
        return True

    def _acknowledged(self, decoded: Any) -> bool:
        """A valid `notifications/initialized` that nothing would see (no handler for it, no
        middleware): the SDK answers 202 and its per-request session, gone with the request,
        only marks itself initialized."""
        if not isinstance(decoded, dict) or decoded.get("method") != _INITIALIZED:
            return False
        if self.server.middleware or self.server.get_notification_handler(_INITIALIZED):
            return False
        try:
            message = jsonrpc_message_adapter.validate_python(decoded, by_name=False)
        except ValidationError:
            return False
        return isinstance(message, JSONRPCNotification)

    async def _call(
        self, version: str, request_id: RequestId, name: str, arguments: Mapping[str, Any]
    ) -> bytes:
        """A plain call, as the SDK's kernel runs it (its params surely valid, no middleware,
        no progress token: the handler is called straight) and its dispatcher frames it."""
        assert self.calls is not None
        try:
            result = await self.calls.invoke(name, arguments)
            wire = None if _HINTED in self.server.cache_hints else text_result_wire(result, version)
            shaped = self.shaper._serialize("tools/call", version, result) if wire is None else None
        except Exception as exc:
            failed = _error(request_id, exc, "tools/call")
            return failed.model_dump_json(by_alias=True, exclude_unset=True).encode()
        return _framed(request_id, pydantic_core.to_json(shaped) if wire is None else wire)

    async def _modern(self, request: Request, body: bytes, send: Send) -> bool:
        """A 2026-07-28 `tools/list` that passes the SDK's checks, from the kept pages (its
        first answer is kept by running the SDK's kernel; an error is left to the SDK)."""
        message, route = _modern_listing(request, body)
        if message is None or route is None:
            return False
        key = self._key(message, route.protocol_version)
        listed = self.pages.get(key) if key is not None else None
        if key is not None and listed is None:
            connection = Connection.from_envelope(
                route.protocol_version, route.client_info, route.client_capabilities
            )
            transport = TransportContext(
                kind="streamable-http", can_send_request=False, headers=request.headers
            )
            metadata = ServerMessageMetadata(request_context=request)
            exchange = _Exchange(message.id, metadata, transport)
            try:
                result = await self._kernel(message, exchange, connection)
            except Exception:
                return False  # the SDK runs it again and answers (and logs) its error
            wire = JSONRPCResponse(jsonrpc="2.0", id=message.id, result=result)
            dumped = wire.model_dump(mode="json", by_alias=True, exclude_none=True)["result"]
            listed = self._keep(key, json.dumps(dumped, separators=(",", ":")).encode())
        if listed is None:
            return False
        framed = f'{{"jsonrpc":"2.0","id":{json.dumps(message.id)},"result":'.encode()
        response = Response(framed + listed + b"}", media_type="application/json")
        await response(request.scope, request.receive, send)
        return True

    async def _kernel(
        self, message: JSONRPCRequest, exchange: _Exchange, connection: Connection
    ) -> dict[str, Any]:
        """The SDK's kernel (`serve_one`) on one request, with the manager's lifespan state."""
        return await serve_one(
            self.server,
            exchange,
            message.method,
            message.params,
            connection=connection,
            lifespan_state=self.lifespan_state(),
        )

    def _key(self, message: JSONRPCRequest, version: str) -> tuple[str, str, bytes] | None:
        """A listing's (or a handshake's) key among the kept results; None for a call, or
        while the server has middleware."""
        if message.method not in _KEPT_METHODS or self.server.middleware:
            return None
        return version, message.method, pydantic_core.to_json(message.params)

    def _keep(self, key: tuple[str, str, bytes], listed: bytes) -> bytes:
        if self.kept + len(listed) <= _KEPT:
            self.pages[key] = listed
            self.kept += len(listed)
        return listed

    async def _serve(
        self, message: JSONRPCRequest, request: Request, version: str
    ) -> JSONRPCResponse | JSONRPCError:
        """The SDK's kernel on the request, its outcome as the SDK's dispatcher frames it."""
        metadata = ServerMessageMetadata(request_context=request, can_send_request=False)
        exchange = _Exchange(request_id=message.id, message_metadata=metadata)
        connection = Connection.from_envelope(version, None, None)
        try:
            result = await self._kernel(message, exchange, connection)
        except Exception as exc:
            return _error(message.id, exc, message.method)
        return JSONRPCResponse(jsonrpc="2.0", id=message.id, result=result)


def _error(request_id: RequestId, exc: Exception, method: str) -> JSONRPCError:
    """A handler's exception as the SDK's dispatcher answers it."""
    error = handler_exception_to_error_data(exc)
    if error is None:  # v1 compatibility: code 0, logged under the dispatcher's name
        _DISPATCHER_LOG.exception("handler for %r raised", method)
        error = ErrorData(code=0, message=str(exc))
    return JSONRPCError(jsonrpc="2.0", id=request_id, error=error)


async def _send_json(send: Send, body: bytes, status: int = 200) -> None:
    """What `Response(body, headers={"Content-Type": "application/json"})` sends, as the SDK's
    JSON answers are sent: its headers in its order."""
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await answer(send, status, headers, body)


def _version(scope: Scope) -> tuple[str, tuple[str | None, ...]] | None:
    """The protocol revision of a request the lane may take, from its headers: a JSON body
    (the SDK's Content-Type checks pass it), a version the SDK serves (none is the default)
    given once, a plain Content-Length; None for anything else. With it, the first value of
    each header the SDK's checks read (`_CHECKED_NAMES`), as Starlette's `Headers.get` gives it."""
    version: str | None = None
    seen = set()
    checked: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in seen and name in (b"mcp-protocol-version", b"content-type"):
            return None
        seen.add(name)
        if name in _CHECKED_NAMES and name not in checked:
            checked[name] = value.decode("latin-1")
        if name == b"mcp-protocol-version":
            version = value.decode("latin-1")
            if version not in HANDSHAKE_PROTOCOL_VERSIONS + MODERN_PROTOCOL_VERSIONS:
                return None
        elif name == b"content-type":
            if value.split(b";", 1)[0].strip() != b"application/json":
                return None
        elif name == b"content-length" and not value.isdigit():
            return None
    if b"content-type" not in seen:
        return None
    key = tuple(checked.get(name) for name in _CHECKED_NAMES)
    return version or DEFAULT_NEGOTIATED_VERSION, key


_ENVELOPE = frozenset({"jsonrpc", "id", "method", "params"})
_CALL_PARAMS = frozenset({"name", "arguments"})


def _plain_call(decoded: Any) -> tuple[RequestId, str, dict[str, Any]] | None:
    """(id, tool, arguments) of a `tools/call` in the plainest shape, which the SDK's
    message and params validation can only accept as it is (an envelope of exactly its
    members, a string or integer id, params of a tool name and arguments, no `_meta`);
    None for anything else, which the SDK's parsers read."""
    if not isinstance(decoded, dict) or decoded.keys() != _ENVELOPE:
        return None
    request_id, params = decoded["id"], decoded["params"]
    if (
        decoded["jsonrpc"] != "2.0"
        or decoded["method"] != "tools/call"
        or not (type(request_id) is str or type(request_id) is int)
        or type(params) is not dict
        or not params.keys() <= _CALL_PARAMS
    ):
        return None
    name, arguments = params.get("name"), params.get("arguments", {})
    if type(name) is not str or type(arguments) is not dict:
        return None
    return request_id, name, arguments


def _request(decoded: Any) -> JSONRPCRequest | None:
    """The decoded body as the SDK's transport validates it, if it is a call without a
    progress token, a listing of tools or a handshake."""
    try:
        message = jsonrpc_message_adapter.validate_python(decoded, by_name=False)
    except ValidationError:
        return None
    if not isinstance(message, JSONRPCRequest) or message.method not in _METHODS:
        return None
    meta = (message.params or {}).get("_meta")
    if isinstance(meta, Mapping) and "progressToken" in meta:
        return None  # answered as an event stream
    return message


def _modern_listing(
    request: Request, body: bytes
) -> tuple[JSONRPCRequest | None, InboundModernRoute | None]:
    """A 2026-07-28 `tools/list` as the SDK's single-exchange entry reads it (one request,
    routing headers given once, an envelope that agrees with them), else (None, None)."""
    try:
        decoded = json.loads(body)
        message = JSONRPCRequest.model_validate(decoded)
    except (ValueError, RecursionError, ValidationError):
        return None, None
    if not isinstance(decoded, dict) or "id" not in decoded or message.method != "tools/list":
        return None, None
    if find_duplicated_routing_header(request.headers.items()) is not None:
        return None, None
    route = classify_inbound_request(decoded, headers=dict(request.headers))
    if not isinstance(route, InboundModernRoute):
        return None, None
    return message, route


def _framed(request_id: RequestId, result: bytes) -> bytes:
    """`JSONRPCResponse(id, result).model_dump_json()` around an already serialised result."""
    return (
        b'{"jsonrpc":"2.0","id":'
        + pydantic_core.to_json(request_id)
        + b',"result":'
        + result
        + b"}"
    )
