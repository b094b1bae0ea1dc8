"""Requests sent without httpx's request objects (upstream/direct.py) go out byte for byte as
httpx would have written them: each case is sent both ways to a raw socket that records what
arrives, and httpx's own bytes are the oracle. What the direct form cannot write exactly falls
back to httpx."""

from __future__ import annotations

import asyncio

import anyio
import httpx
import pytest
from capgen_runtime.upstream.decoding import ACCEPT_ENCODING
from capgen_runtime.upstream.direct import DirectWriter
from capgen_runtime.upstream.request import PreparedRequest
from capgen_runtime.upstream.transport import AiohttpTransport

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
JSON = {"Content-Type": "application/json"}

SAME_BYTES = [
    ("GET", "/a/b?x=1&y=two", {}, None),
    ("POST", "/accounts/acc/ai/run/@cf/meta/llama-3", {**JSON, "Authorization": "Bearer t"}, b"{}"),
    ("POST", "/empty", {}, None),
    ("PUT", "/empty", {}, b""),
    ("PATCH", "/items/1", JSON, b'{"a": 1}'),
    ("DELETE", "/items/1", {}, None),
    ("GET", "/x", {"Accept": "application/json", "accept-encoding": "identity"}, None),
    ("GET", "/x", {"X-Key": "v", "x-key": "w"}, None),
    ("GET", "/a%2Fb/~c/'d'/(e)/f!*,;=:@$&+?q=a%20b&r=/?", {}, None),
]
FALLBACKS = [
    PreparedRequest("GET", "/with space"),
    PreparedRequest("GET", "/q?filter[a]=1"),
    PreparedRequest("GET", "/caf\u00e9"),
    PreparedRequest("GET", "/bad%zz"),
    PreparedRequest("GET", "/x#fragment"),
    PreparedRequest("GET", "/x", headers={"X-Name": "caf\u00e9"}),
    PreparedRequest("GET", "/x", headers={"Host": "elsewhere"}),
    PreparedRequest("GET", "/x", headers={"Bad Name": "v"}),
    PreparedRequest("GET", "/x", cookies={"a": "b"}),
    PreparedRequest("POST", "/x", form={"a": "b"}),
    PreparedRequest("POST", "/x", files=[("f", ("a.txt", b"a", "text/plain"))]),
]


class Recorder:
    """A raw HTTP/1.1 server that keeps the bytes of each request (head and body)."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def __aenter__(self) -> Recorder:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.base = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                self.received.append(head + await reader.readexactly(length))
                writer.write(OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


def _client(transport: AiohttpTransport) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(5, connect=2),
        trust_env=False,
        headers={"Accept-Encoding": ACCEPT_ENCODING},
    )


def _transport() -> AiohttpTransport:
    context = httpx.create_ssl_context(trust_env=False)
    return AiohttpTransport(ssl_context=context, limits=httpx.Limits(max_connections=4))


@pytest.mark.parametrize(("method", "tail", "headers", "content"), SAME_BYTES)
def test_a_direct_request_is_written_as_httpx_writes_it(
    method: str, tail: str, headers: dict[str, str], content: bytes | None
) -> None:
    async def main() -> None:
        transport = _transport()
        async with Recorder() as server, _client(transport) as http:
            prepared = PreparedRequest(method, server.base + tail, dict(headers), content=content)

            def build() -> httpx.Request:
                return http.build_request(method, prepared.url, headers=headers, content=content)

            direct = DirectWriter(http, server.base).direct(prepared, build)
            assert direct is not None
            through_httpx = await transport.handle_async_request(build())
            await through_httpx.aread()
            sent_directly = await transport.send(direct)
            assert await sent_directly.aread() == b"ok"
            assert server.received[1] == server.received[0]
            # the httpx request is still there for whoever reads it
            assert sent_directly.request.url == httpx.URL(prepared.url)
            assert sent_directly.request.method == method

    anyio.run(main)


@pytest.mark.parametrize("prepared", FALLBACKS, ids=lambda p: repr(p)[:60])
def test_what_httpx_would_rewrite_or_refuse_goes_through_httpx(prepared: PreparedRequest) -> None:
    async def main() -> None:
        base = "http://127.0.0.1:9"
        async with _client(_transport()) as http:
            url = base + prepared.url
            request = PreparedRequest(
                prepared.method,
                url,
                prepared.headers,
                prepared.cookies,
                prepared.content,
                prepared.files,
                prepared.form,
            )
            assert (
                DirectWriter(http, base).direct(request, lambda: http.build_request("GET", url))
                is None
            )

    anyio.run(main)


def test_a_base_url_httpx_would_rewrite_never_takes_the_direct_form() -> None:
    async def main() -> None:
        async with _client(_transport()) as http:
            writer = DirectWriter(http, "HTTP://Example.COM:80/v1")
            prepared = PreparedRequest("GET", "HTTP://Example.COM:80/v1/x")
            assert writer.direct(prepared, lambda: http.build_request("GET", prepared.url)) is None

    anyio.run(main)
