"""The upstream connection pool: idle connections closed by the server are noticed, over
plain TCP and TLS, and kept-alive ones are reused."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import anyio
import httpx
from capgen_runtime.transport import PooledTransport

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


def client(verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=PooledTransport(verify=verify, limits=httpx.Limits(max_connections=4)),
        timeout=5,
    )


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
