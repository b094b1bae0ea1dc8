"""httpx's client over aiohttp's connection pool, through httpx's public transport interface.

The generated client stays httpx-shaped (requests, responses, auth flows, timeouts, errors are
httpx's); only the wire is aiohttp's, whose pool and HTTP parser cost about a quarter of
httpcore's per request. This is the design the OpenAI and Anthropic SDKs offer for the same
reason (`httpx-aiohttp`); it is written here to map aiohttp's errors onto httpx's precisely,
since the retry rules depend on it: only an error raised before anything was sent
(`ConnectError`, `ConnectTimeout`, `PoolTimeout`) may be retried for any method.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp
import httpx
from multidict import CIMultiDict
from yarl import URL

# checked in this order: the first class an aiohttp error is an instance of decides
_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),  # before any byte was sent
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),  # refused, DNS, TLS handshake
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.ReadError),  # a truncated or malformed body
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # not HTTP
    (aiohttp.InvalidURL, httpx.LocalProtocolError),
    (aiohttp.ClientOSError, httpx.ReadError),  # reset while sending or reading
    (aiohttp.ClientError, httpx.NetworkError),
    (TimeoutError, httpx.PoolTimeout),  # waited for a free connection
)


@contextmanager
def _mapped(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except httpx.HTTPError:
        raise
    except (TimeoutError, aiohttp.ClientError) as exc:
        for source, target in _ERRORS:
            if isinstance(exc, source):
                # the type says what happened; aiohttp's message may quote the URL
                raise target(target.__name__, request=request) from None
        raise


_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 §5.6.2
_FIELD_VALUE = re.compile(rb"^[^\x00\r\n]*$")


def _writable(request: httpx.Request) -> None:
    """What h11 refuses to write, refused here too (aiohttp would send it): a header name that
    is not a token, a value with a line break or NUL."""
    for name, value in request.headers.raw:
        if not _TOKEN.match(name) or not _FIELD_VALUE.match(value):
            raise httpx.LocalProtocolError("a header cannot be written as HTTP", request=request)


class _Body(httpx.AsyncByteStream):
    """The upstream body, each chunk as it arrives (events of a stream are not held back)."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped(self._request):
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        self._response.release()  # a fully read body keeps its connection for the next request


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose connections are an aiohttp pool (opened on first use, in the
    running event loop).

    httpx's timeouts map onto aiohttp's: `connect` for the TCP (and TLS) connect, `read`
    between two reads, `pool` for the wait for a connection slot."""

    def __init__(self, *, ssl_context: ssl.SSLContext, limits: httpx.Limits) -> None:
        self._ssl = ssl_context
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            ssl=self._ssl,
            limit=self._limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=self._limits.keepalive_expiry or 0,
            enable_cleanup_closed=False,
        )
        # no cookie jar, no default headers, no environment proxies: httpx decides them all
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,  # httpx decodes, so the size limit counts decoded bytes
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            trust_env=False,
        )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _writable(request)
        session = self._session or self._open()
        timeout = request.extensions.get("timeout", {})
        headers = CIMultiDict(
            (k, v) for k, v in request.headers.multi_items() if k.lower() != "transfer-encoding"
        )
        data: bytes | AsyncIterator[bytes] | None
        try:
            data = request.content or None
        except httpx.RequestNotRead:  # a streamed body: aiohttp chunks it
            data = request.stream.__aiter__()  # type: ignore[union-attr]
        with _mapped(request):
            response = await session.request(
                request.method,
                URL(str(request.url), encoded=True),  # sent exactly as the request builder wrote it
                headers=headers,
                data=data,
                allow_redirects=False,
                compress=None,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            )
        extensions = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("latin-1", "replace")
        return httpx.Response(
            response.status,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers],
            stream=_Body(response, request),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
