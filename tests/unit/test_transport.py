"""The upstream transport (httpx over aiohttp's pool): idle connections closed by the server
are noticed, over plain TCP and TLS, kept-alive ones are reused; requests go out exactly as
built; and each failure is the httpx error that says whether anything was sent."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import anyio
import httpx
import pytest
from capgen_runtime.upstream.answers import Received, answer_header
from capgen_runtime.upstream.transport import AiohttpTransport
from multidict import CIMultiDict, CIMultiDictProxy

from tests.support.certificates import write_certificate

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class Server:
    """Answers every request on a connection with RESPONSE; closes after `per_connection`."""

    def __init__(self, per_connection: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self.per_connection = per_connection
        self.ssl_context = ssl_context
        self.connections = 0
        self.requests = 0
        self.handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Server:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        for handler in self.handlers:
            handler.cancel()
        await asyncio.gather(*self.handlers, return_exceptions=True)
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            for _ in range(self.per_connection):
                await reader.readuntil(b"\r\n\r\n")
                self.requests += 1
                writer.write(RESPONSE)
                await writer.drain()
            await asyncio.sleep(0.01)  # then close the idle connection, as keep-alive timeouts do
            writer.close()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()


def client(context: ssl.SSLContext | None = None, timeout: float = 5) -> httpx.AsyncClient:
    transport = AiohttpTransport(
        ssl_context=context or httpx.create_ssl_context(trust_env=False),
        limits=httpx.Limits(max_connections=4),
    )
    return httpx.AsyncClient(transport=transport, timeout=timeout)


def test_keep_alive_connections_are_reused() -> None:
    async def main() -> None:
        async with Server(per_connection=100) as server, client() as http:
            for _ in range(5):
                response = await http.get(f"http://127.0.0.1:{server.port}/")
                assert response.text == "ok"
            assert (server.connections, server.requests) == (1, 5)

    anyio.run(main)


def test_an_idle_connection_the_server_closed_is_replaced() -> None:
    async def main() -> None:
        async with Server(per_connection=1) as server, client() as http:
            for _ in range(3):
                response = await http.get(f"http://127.0.0.1:{server.port}/")
                assert response.text == "ok"
                await asyncio.sleep(0.1)  # the server closes the kept-alive connection
            assert (server.connections, server.requests) == (3, 3)

    anyio.run(main)


def _contexts(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    pem = directory / "localhost.pem"
    write_certificate(pem)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(pem)
    return server, ssl.create_default_context(cafile=str(pem))


def test_tls_connections_are_reused_and_replaced(tmp_path: Path) -> None:
    server_context, client_context = _contexts(tmp_path)

    async def main() -> None:
        async with Server(per_connection=2, ssl_context=server_context) as server:
            async with client(client_context) as http:
                for _ in range(4):
                    response = await http.get(f"https://localhost:{server.port}/")
                    assert response.text == "ok"
                    await asyncio.sleep(0.1)
            assert (server.connections, server.requests) == (2, 4)

    anyio.run(main)


class Scripted:
    """One connection at a time; `answer(head)` gives the bytes to send (None: close)."""

    def __init__(self, answer: object, pause: float = 0.0) -> None:
        self.answer = answer
        self.pause = pause
        self.heads: list[bytes] = []

    async def __aenter__(self) -> Scripted:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.heads.append(head)
            data = self.answer(head)  # type: ignore[operator]
            await asyncio.sleep(self.pause)
            if data:
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()


def _fails_with(answer: object, error: type[Exception], pause: float = 0.0) -> None:
    async def main() -> None:
        async with Scripted(answer, pause) as server, client(timeout=0.5) as http:
            with pytest.raises(error) as raised:
                await http.post(f"http://127.0.0.1:{server.port}/run", content=b"{}")
            assert "127.0.0.1" not in str(raised.value)  # no address or URL in the message

    anyio.run(main)


def test_a_refused_connection_is_a_connect_error_nothing_was_sent() -> None:
    with socket_closed() as port:

        async def main() -> None:
            async with client() as http:
                with pytest.raises(httpx.ConnectError):
                    await http.post(f"http://127.0.0.1:{port}/run", content=b"{}")

        anyio.run(main)


def test_a_connection_closed_after_the_request_is_not_a_connect_error() -> None:
    """The request reached the upstream: a POST must not be retried on this one."""
    _fails_with(lambda head: None, httpx.RemoteProtocolError)


def test_a_truncated_body_is_a_read_error() -> None:
    _fails_with(lambda head: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", httpx.ReadError)


def test_a_silent_upstream_is_a_read_timeout() -> None:
    _fails_with(
        lambda head: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", httpx.ReadTimeout, 2
    )


def test_not_http_is_a_protocol_error() -> None:
    _fails_with(lambda head: b"SSH-2.0-OpenSSH_9.6\r\n\r\n", httpx.RemoteProtocolError)


def test_the_request_goes_out_as_httpx_built_it() -> None:
    """Percent-encoding kept (`%2F` is not a `/`), repeated headers kept, no header added."""

    async def main() -> None:
        ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        async with Scripted(lambda head: ok) as server, client() as http:
            request = http.build_request(
                "POST",
                f"http://127.0.0.1:{server.port}/a%2Fb/c%20d?q=x%26y",
                headers=[("X-Many", "1"), ("X-Many", "2")],
                content=b"abc",
            )
            response = await http.send(request)
            assert response.text == "ok"
        (head,) = server.heads
        lines = head.decode().split("\r\n")
        assert lines[0] == "POST /a%2Fb/c%20d?q=x%26y HTTP/1.1"
        names = [line.split(":", 1)[0].lower() for line in lines[1:] if line]
        assert names.count("x-many") == 2
        assert "content-type" not in names  # none was given: none is invented
        assert f"host: 127.0.0.1:{server.port}" in head.decode().lower()

    anyio.run(main)


class socket_closed:
    """A loopback port nothing listens on."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_body_read_whole_leaves_the_response_as_httpx_leaves_one_built_with_it() -> None:
    headers = [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", "13")]
    content = '{"a": "ü"}\n'.encode()
    built = httpx.Response(200, headers=headers, content=content, extensions={"x": 1})
    read = Received(
        200, headers, content, {"x": 1}, lambda: httpx.Request("GET", "http://upstream/")
    )

    async def chunks(response: httpx.Response) -> list[bytes]:
        return [chunk async for chunk in response.aiter_bytes()]

    for name in ("status_code", "content", "text", "encoding", "extensions", "is_closed"):
        assert getattr(read, name) == getattr(built, name), name
    assert read.is_stream_consumed and read.num_bytes_downloaded == len(content)
    assert read.headers.multi_items() == built.headers.multi_items()
    assert read.json() == built.json() == {"a": "ü"}
    assert read.read() == anyio.run(read.aread) == content
    assert anyio.run(chunks, read) == anyio.run(chunks, built) == [content]
    assert list(read.iter_lines()) == list(built.iter_lines())
    assert read.request.url == httpx.URL("http://upstream/")  # built when read


def test_a_header_read_from_aiohttps_parse_is_the_one_httpx_would_give() -> None:
    raw = [
        (b"Content-Type", b"application/json"),
        (b"Retry-After", b"1"),
        (b"retry-after", b"2"),
        (b"X-Name", "caf\u00e9".encode()),
    ]
    parsed = CIMultiDictProxy(
        CIMultiDict((k.decode(), v.decode("utf-8", "surrogateescape")) for k, v in raw)
    )
    fast = Received(200, raw, b"", {}, lambda: httpx.Request("GET", "http://upstream/"), parsed)
    built = httpx.Response(200, headers=raw)
    for name in ("content-type", "Content-Type", "retry-after", "x-name", "missing"):
        assert answer_header(fast, name) == built.headers.get(name), name
    assert fast.headers.multi_items() == built.headers.multi_items()
