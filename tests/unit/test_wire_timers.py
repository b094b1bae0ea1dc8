"""The waits of one connection of `serve.wire.HttpProtocol` (the head, the body and uvicorn's
own keep-alive), kept by one timer: each still ends the connection when it runs out.

uvicorn on loopback with the protocol given as `--http` would give it; raw sockets."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from capgen_runtime.serve.wire import HttpProtocol

from tests.support.service import free_port


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


class _Quick(HttpProtocol):
    head_timeout = 3.0


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    number = free_port()
    config = uvicorn.Config(
        _app, port=number, http=_Quick, timeout_keep_alive=0.5, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield number
    server.should_exit = True
    thread.join(5)


def _closed_after(sock: socket.socket) -> float:
    started = time.monotonic()
    while sock.recv(65536):
        pass
    return time.monotonic() - started


def test_uvicorns_keep_alive_still_closes_an_idle_connection(port: int) -> None:
    """Keep-alive (0.5 s) is shorter than the head timeout here (3 s): it governs."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        assert 0.3 <= _closed_after(sock) < 2.0


def test_each_request_on_a_connection_gets_a_fresh_keep_alive(port: int) -> None:
    """Requests closer together than the keep-alive keep the connection however long it
    lasts in all: a wait is counted from the last answer, not from the first."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for _ in range(5):  # 1.5 s in all, 0.3 s apart
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            time.sleep(0.3)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_a_head_that_stops_halfway_is_408_at_the_head_timeout(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHost")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert 2.5 <= time.monotonic() - started < 5
