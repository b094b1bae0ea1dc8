"""httpx's client over aiohttp's connection pool, through httpx's public transport interface.

The generated client stays httpx-shaped (requests, responses, auth flows, timeouts, errors are
httpx's); only the wire is aiohttp's, whose pool and HTTP parser cost about a quarter of
httpcore's per request. This is the design the OpenAI and Anthropic SDKs offer for the same
reason (`httpx-aiohttp`); it is written here to map aiohttp's errors onto httpx's precisely,
since the retry rules depend on it: only an error raised before anything was sent
(`ConnectError`, `ConnectTimeout`, `PoolTimeout`) may be retried for any method.
"""

from __future__ import annotations

import functools
import re
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .answers import LazyRequestResponse, Received
from .deadline import Deadlines, Expired, Watch

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


class _Mapped:
    """aiohttp's errors raised in the block as httpx's (`_translated`), httpx's own as they are
    (a class: a `@contextmanager` generator costs a proxied request more)."""

    __slots__ = ("request",)

    def __init__(self, request: httpx.Request | None) -> None:
        self.request = request

    def __enter__(self) -> None:
        pass

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        if isinstance(error, (TimeoutError, aiohttp.ClientError)) and not isinstance(
            error, httpx.HTTPError
        ):
            raise _translated(error, self.request) from None


def _translated(exc: BaseException, request: httpx.Request | None) -> BaseException:
    """httpx's error for aiohttp's: the type says what happened (aiohttp's message may quote
    the URL, so it is not passed on)."""
    for source, target in _ERRORS:
        if isinstance(exc, source):
            return target(target.__name__, request=request)
    return exc


@functools.lru_cache(maxsize=64)
def _client_timeout(
    pool: float | None, connect: float | None, read: float | None
) -> aiohttp.ClientTimeout:
    """httpx's timeouts as aiohttp's (see `AiohttpTransport`); a client has a few, kept."""
    return aiohttp.ClientTimeout(total=None, connect=pool, sock_connect=connect, sock_read=read)


def direct_timeout(timeout: Mapping[str, float | None]) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for a direct request (`Direct`): httpx's connect timeout alone. The
    read timeout is the transport's (`AiohttpTransport.send`), and the wait for a free
    connection is bounded by the sending client's overall deadline: aiohttp would arm and
    cancel a timer of its own for each, on every request (`deadline.py`)."""
    return _client_timeout(None, timeout.get("connect"), None)


# the headers aiohttp would write of its own accord, which httpx decides: never added
_AUTOMATIC = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 §5.6.2
_FIELD_VALUE = re.compile(rb"[^\x00\r\n]*")


def writable_header(name: bytes, value: bytes) -> bool:
    """What h11 writes (aiohttp would send more): a name that is a token, a value without a
    line break or NUL."""
    return bool(_TOKEN.fullmatch(name) and _FIELD_VALUE.fullmatch(value))


def _writable(request: httpx.Request) -> None:
    for name, value in request.headers.raw:
        if not writable_header(name, value):
            raise httpx.LocalProtocolError("a header cannot be written as HTTP", request=request)


class _Body(httpx.AsyncByteStream):
    """The upstream body, each chunk as it arrives (events of a stream are not held back)."""

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        request: httpx.Request | None,
        reads: Deadlines | None = None,
    ) -> None:
        self._response = response
        self._request = request
        self._reads = reads  # each piece within the read timeout, when aiohttp does not time it

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _Mapped(self._request):
            if self._reads is None:
                async for chunk in self._response.content.iter_any():
                    yield chunk
                return
            while True:
                try:
                    with self._reads.watch():
                        chunk = await self._response.content.readany()
                except Expired:
                    raise httpx.ReadTimeout("ReadTimeout", request=self._request) from None
                if not chunk:
                    return
                yield chunk

    async def aclose(self) -> None:
        self._response.release()  # a fully read body keeps its connection for the next request


async def _whole(response: aiohttp.ClientResponse, watch: Watch) -> bytes:
    """The body as it arrives, each piece within the read timeout of the last; the connection
    goes back to the pool once the request is written whole (as aiohttp's `read` does)."""
    chunks = []
    try:
        with _Mapped(None):
            while chunk := await response.content.readany():
                chunks.append(chunk)
                watch.renew()
            await response.wait_for_close()
    except BaseException:
        response.close()  # half read: the connection is not used again
        raise
    return b"".join(chunks)


@dataclass(slots=True)  # not frozen: a frozen dataclass sets each field through object.__setattr__
class _Answer:
    response: aiohttp.ClientResponse
    status: int
    headers: list[tuple[bytes, bytes]]  # as received: httpx decodes a value when it is read
    extensions: dict[str, Any]


@dataclass(slots=True)  # made per request: not frozen, whose fields are slower to set
class Direct:
    """A request as httpx would write it (`direct.py` decides when that is exact), and how to
    build the httpx request itself should anyone ask for it."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    content: bytes | None
    timeout: aiohttp.ClientTimeout  # `direct_timeout`
    read_timeout: float | None  # kept by the transport (`Deadlines`), not by aiohttp
    request: Callable[[], httpx.Request]


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose connections are an aiohttp pool (opened on first use, in the
    running event loop).

    httpx's timeouts map onto aiohttp's: `connect` for the TCP (and TLS) connect, `read`
    between two reads, `pool` for the wait for a connection slot."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | Callable[[], ssl.SSLContext],
        limits: httpx.Limits,
    ) -> None:
        self._ssl = ssl_context  # or how to make it, when a first https request needs it
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None
        self._reads: dict[float | None, Deadlines] = {}  # direct requests' read timeouts

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
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
            trust_env=False,
        )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _writable(request)
        headers = CIMultiDict(
            (k, v) for k, v in request.headers.multi_items() if k.lower() != "transfer-encoding"
        )
        data: bytes | AsyncIterator[bytes] | None
        try:
            data = request.content or None
        except httpx.RequestNotRead:  # a streamed body: aiohttp chunks it
            data = request.stream.__aiter__()  # type: ignore[union-attr]
        given = request.extensions.get("timeout", {})
        timeout = _client_timeout(given.get("pool"), given.get("connect"), given.get("read"))
        answer = await self._exchange(
            request.method, str(request.url), headers, data, timeout, request
        )
        return httpx.Response(
            answer.status,
            headers=answer.headers,
            stream=_Body(answer.response, request),
            request=request,
            extensions=answer.extensions,
        )

    async def send(
        self, direct: Direct, read: Callable[[int, CIMultiDictProxy[str]], bool] | None = None
    ) -> httpx.Response:
        """A request that needs none of httpx's request machinery (`Direct`): written as httpx
        would write it, answered as an httpx response whose request is built if it is read.

        When `read(status, headers)` says so, the body is read here, in one piece, and the
        response comes back already read (what `aread()` would give, without its chunking).

        The read timeout runs from the request to its answer's head, then between two pieces
        of its body, as aiohttp's own would (`direct_timeout`), kept by one timer for all."""
        headers = CIMultiDict(direct.headers)
        reads = self._reads.get(direct.read_timeout) or self._reads.setdefault(
            direct.read_timeout, Deadlines(direct.read_timeout)
        )
        try:
            with reads.watch() as watch:
                answer = await self._exchange(
                    direct.method, direct.url, headers, direct.content, direct.timeout, None
                )
                if read is not None and read(answer.status, answer.response.headers):
                    content = await _whole(answer.response, watch)
                    return Received(
                        answer.status,
                        answer.headers,
                        content,
                        answer.extensions,
                        direct.request,
                        answer.response.headers,
                    )
        except Expired:
            raise httpx.ReadTimeout("ReadTimeout") from None
        return LazyRequestResponse(
            answer.status,
            headers=answer.headers,
            stream=_Body(answer.response, None, reads),
            extensions=answer.extensions,
            request_factory=direct.request,
        )

    async def _exchange(
        self,
        method: str,
        url: str,
        headers: CIMultiDict[str],
        data: bytes | AsyncIterator[bytes] | None,
        timeout: aiohttp.ClientTimeout,
        request: httpx.Request | None,
    ) -> _Answer:
        session = self._session or self._open()
        # aiohttp adds none of these when the request has it; when it has not, none is added
        skip = [name for name in _AUTOMATIC if name not in headers] or None
        try:
            response = await session.request(
                method,
                _url(url),  # sent exactly as the request builder wrote it
                headers=headers,
                skip_auto_headers=skip,
                data=data,
                allow_redirects=False,
                compress=None,
                ssl=self._tls(url),
                timeout=timeout,
            )
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _translated(exc, request) from None
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("latin-1", "replace")
        return _Answer(response, response.status, list(response.raw_headers), extensions)

    def _tls(self, url: str) -> ssl.SSLContext | bool:
        """The TLS context of an https request (made when the first one is sent: loading the
        trust store is a noticeable part of start-up); a plain HTTP request has none."""
        if url[:6].lower() != "https:":
            return True  # aiohttp's default, which a plain connection never reads
        if not isinstance(self._ssl, ssl.SSLContext):
            self._ssl = self._ssl()
        return self._ssl

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _url(text: str) -> URL:
    """The URL as written (`encoded`). The same URLs recur (an operation's path with the same
    values), and yarl keeps what aiohttp asks of a URL (host, port, origin) on the object: a
    recurring one is parsed and taken apart once."""
    return _remembered_url(text) if len(text) <= _REMEMBERED_URL else URL(text, encoded=True)


_REMEMBERED_URL = 2048


@functools.lru_cache(maxsize=1024)
def _remembered_url(text: str) -> URL:
    return URL(text, encoded=True)
