"""Bounds on what a client can make the server hold, enforced where the bytes arrive.

Every port `serve` opens (REST, MCP, metrics, the mock upstream) runs uvicorn's httptools
protocol, which bounds none of this: llhttp keeps a header value whole however long it is, any
number of headers is accepted, a connection that never completes its first request head is
kept forever, the keep-alive timeout is armed only once a response is complete (and cancelled
by the first byte that follows, so one byte every few seconds holds a connection open), and a
body that stops arriving is waited for as long as the application waits. `HttpProtocol`
subclasses it and adds, per connection:

- a request head (request line and header fields) of at most `MAX_HEAD_BYTES` and
  `MAX_HEADERS` fields, counted as the bytes arrive: `431` and the connection closes;
- a complete request head within `head_timeout` seconds of the connection (or of the previous
  response): otherwise `408` (or a silent close when nothing was sent) and the connection closes;
- at most `body_timeout` seconds between two pieces of a request body the application reads:
  otherwise `408`, the application sees the caller disconnect, and the connection closes;
- its own error answers (`400` for bytes that are not HTTP) as RFC 9457 problems;
- the writes of one turn of the event loop sent as one (`Coalescing`): a response's head and
  body leave in one system call, not two.

`serve` uses it on every port; an ASGI server started by hand takes it with
`uvicorn --http capgen_runtime.serve.wire:HttpProtocol` (see the package README).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import httptools
from starlette.types import Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ..web.problem import MEDIA_TYPE, phrase, problem_body

MAX_HEAD_BYTES = 64 * 1024  # request line and header fields together
MAX_HEADERS = 100
HEAD_TIMEOUT = 5.0  # seconds for a whole request head
BODY_TIMEOUT = 10.0  # seconds between two pieces of a request body
_EARLY = 0.001  # the event loop's clock counts milliseconds: a timer may fire this early


class _Refused(Exception):
    """Raised from a parser callback: the head is over a bound (httptools re-raises it wrapped)."""


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounded request heads and timed-out idle reads."""

    head_timeout = HEAD_TIMEOUT
    body_timeout = BODY_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # waiting for (the rest of) a request head
        self._head_bytes = 0  # bytes received while in a head
        self._head_size = 0  # request target and fields of the head being parsed
        self._header_count = 0
        self._refusal = 0  # the status a bound calls for, once one is crossed
        # what each wait must end by (event-loop time), all kept by one timer (`_wake`)
        self._head_deadline: float | None = None
        self._body_deadline: float | None = None
        self._idle_deadline: float | None = None  # uvicorn's keep-alive wait
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    # -- connection events

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(Coalescing(transport, self.loop))  # type: ignore[arg-type]
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def _unset_keepalive_if_required(self) -> None:
        self._idle_deadline = None
        super()._unset_keepalive_if_required()

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._in_head:
            self._head_bytes += len(data)
        elif self._body_deadline is not None:
            self._arm_body_timer()  # a piece of the body arrived: the wait starts again
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError:
            if self._refusal:
                self._refuse(self._refusal, "the request head is too large")
            else:
                self.logger.warning("Invalid HTTP request received.")
                self._refuse(400, "the request is not valid HTTP/1.1")
            return
        if self._in_head and self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(431, "the request head is too large")

    # -- parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_size = self._header_count = 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self._head_size += len(url)
        if self._head_size > MAX_HEAD_BYTES:
            self._refusal = 431
            raise _Refused

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._head_size += len(name) + len(value) + 4
        if self._header_count > MAX_HEADERS or self._head_size > MAX_HEAD_BYTES:
            self._refusal = 431
            raise _Refused
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._cancel_head_timer()
        super().on_headers_complete()
        self._arm_body_timer()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._cancel_body_timer()

    def on_response_complete(self) -> None:
        if self.pipeline or self.transport.is_closing():
            super().on_response_complete()
        else:  # uvicorn's steps, its keep-alive wait kept by this connection's timer
            self.server_state.total_requests += 1
            self._unset_keepalive_if_required()
            self.flow.resume_reading()
            self._idle_deadline = self._wake(self.timeout_keep_alive)
        if self._in_head and not self.pipeline and not self.transport.is_closing():
            self._arm_head_timer()  # the next request's head, from now

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, "the request is not valid HTTP/1.1")

    # -- timers: one per connection, armed for the earliest wait and moved only when it
    # fires early (each timer of uvloop is a libuv handle: one per wait per request cost
    # more than all of these checks)

    def _arm_head_timer(self) -> None:
        self._head_deadline = self._wake(self.head_timeout)

    def _arm_body_timer(self) -> None:
        self._body_deadline = self._wake(self.body_timeout)

    def _cancel_head_timer(self) -> None:
        self._head_deadline = None

    def _cancel_body_timer(self) -> None:
        self._body_deadline = None

    def _cancel_timers(self) -> None:
        self._head_deadline = self._body_deadline = self._idle_deadline = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _wake(self, delay: float) -> float:
        """The deadline `delay` seconds from now, with the timer set to fire by then."""
        at = self.loop.time() + delay
        if self._timer is None or at < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_at(at, self._tick)
            self._timer_at = at
        return at

    def _tick(self) -> None:
        """Each wait whose deadline passed ends; the timer is set again for the next one."""
        self._timer = None
        now = self.loop.time() + _EARLY
        if self._idle_deadline is not None and now >= self._idle_deadline:
            self._idle_deadline = None
            self.timeout_keep_alive_handler()
        if self._head_deadline is not None and now >= self._head_deadline:
            self._head_deadline = None
            self._head_timed_out()
        if self._body_deadline is not None and now >= self._body_deadline:
            self._body_deadline = None
            self._body_timed_out()
        waits = [
            d
            for d in (self._idle_deadline, self._head_deadline, self._body_deadline)
            if d is not None
        ]
        if waits and not self.transport.is_closing():
            self._wake(min(waits) - self.loop.time())

    def _head_timed_out(self) -> None:
        if self.transport.is_closing():
            return
        if self._head_bytes:  # half a head: say why before closing
            self._refuse(408, "the request head did not arrive in time")
        else:  # an idle connection
            self.transport.close()

    def _body_timed_out(self) -> None:
        if self.transport.is_closing():
            return
        if self.flow.read_paused:  # the application is not reading: not the caller's stall
            self._arm_body_timer()
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            self._write_problem(408, "the request body stopped arriving")
        if cycle is not None:
            cycle.disconnected = True  # the application sees the caller go away
            cycle.message_event.set()
        self.transport.close()

    # -- answers written by the protocol itself

    def _refuse(self, status: int, detail: str) -> None:
        """Answer `status` and close, unless a response is under way on this connection (a
        pipelined request): then only close."""
        self._cancel_timers()
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            self._write_problem(status, detail)
        self.transport.close()

    def _write_problem(self, status: int, detail: str) -> None:
        body = problem_body(status, detail)
        head = (
            f"HTTP/1.1 {status} {phrase(status)}\r\n"
            f"content-type: {MEDIA_TYPE}\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        )
        self.transport.write(head.encode("latin-1") + body)


class Coalescing:
    """A transport whose writes made in one turn of the event loop go out together, at the
    end of that turn; closing sends what is waiting first. Everything else is the transport's."""

    __slots__ = ("loop", "pending", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.loop = loop
        self.pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self.pending:
            self.loop.call_soon(self.send)
        self.pending.append(data)

    def writelines(self, chunks: Iterable[bytes]) -> None:  # in turn with `write`, never ahead
        for chunk in chunks:
            self.write(chunk)

    def send(self) -> None:
        if self.pending:
            data = b"".join(self.pending)
            self.pending.clear()
            if not self.transport.is_closing():
                self.transport.write(data)

    def close(self) -> None:
        self.send()
        self.transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


async def refuse_large_head(scope: Scope, send: Send) -> bool:
    """For ASGI servers run without `HttpProtocol`: answer 431 when a request's head (as the
    server parsed it) is over the bounds, and say so. The server held it in memory already;
    this keeps it from going further."""
    headers = scope.get("headers", ())
    if len(headers) <= MAX_HEADERS:
        size = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
        size += sum(len(name) + len(value) + 4 for name, value in headers)
        if size <= MAX_HEAD_BYTES:
            return False
    body = problem_body(431, "the request head is too large")
    await send(
        {
            "type": "http.response.start",
            "status": 431,
            "headers": [(b"content-type", MEDIA_TYPE.encode()), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})
    return True


def raise_descriptor_limit(most: int = 65536) -> None:
    """Let the process hold as many connections as its hard limit allows (up to `most`): idle
    ones are closed after the head timeout, but until then each holds a descriptor, and the
    usual soft limit of 1,024 is soon reached."""
    try:
        import resource
    except ImportError:  # not on this platform
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = most if hard == resource.RLIM_INFINITY else min(hard, most)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
