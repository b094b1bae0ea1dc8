"""httpx's transport over a connection pool whose idle-connection check costs one poll().

Whenever a request joins or leaves the pool, httpcore asks every idle keep-alive connection
whether its socket became readable (the server closed it). Through anyio each question rebuilds
the socket's attribute table, a getpeername() call included, so with a few dozen pooled
connections the check took a tenth of a busy service's CPU. The streams below register their
socket once with a poll object of their own and answer with a single non-blocking poll.
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class _Readiness:
    """Whether a read on one socket would not block: data arrived or the peer closed it.

    A closed descriptor counts as readable (poll reports POLLNVAL), so the connection is
    dropped from the pool either way.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._socket = sock
        self._poller: Any = None
        if hasattr(select, "poll") and sock.fileno() >= 0:
            self._poller = select.poll()
            self._poller.register(sock.fileno(), select.POLLIN)

    def __call__(self) -> bool:
        if self._poller is not None:
            return bool(self._poller.poll(0))
        fd = self._socket.fileno()
        return fd < 0 or bool(select.select([fd], [], [], 0)[0])  # Windows


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        sock: socket.socket | None = stream.get_extra_info("socket")
        self._readable = _Readiness(sock) if sock is not None else None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._readable is not None:
            return self._readable()  # TLS too: httpcore asks the raw socket as well
        return self._stream.get_extra_info(info)


class _Backend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _Stream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_unix_socket(path, timeout, socket_options)
        return _Stream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class PooledTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (error mapping, streaming) over the pool built here.

    httpx (pinned below 0.29) keeps its pool in `_pool` and offers no way to choose the
    network backend, so the pool is set directly instead of building httpx's default first.
    """

    def __init__(self, *, verify: ssl.SSLContext | bool, limits: httpx.Limits) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(),
        )
