"""The async httpx client of one consumed API: pooling, timeouts, retries, size limits."""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
import random
import ssl
import time
from collections.abc import Mapping
from typing import Any, Literal, overload

import httpx

from ..auth.outbound import Authenticator, client_certificate
from ..errors import InvalidRequest, UpstreamTimeout, UpstreamUnavailable
from ..formats import media_type
from ..metrics import Metrics
from ..model import Operation, Upstream
from ..settings import MOCK_OPERATION_HEADER, Settings
from ..upstream.answers import LazyRequestResponse, answer_header
from ..upstream.request import PreparedRequest, prepare, prepare_forward
from ..upstream.transport import AiohttpTransport, Direct
from .deadline import Deadlines, Expired
from .decoding import ACCEPT_ENCODING
from .direct import DirectWriter
from .stream import OpenStream, body_pieces

logger = logging.getLogger(__name__)

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
_REBUILT_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
# Media types relayed as they arrive when the caller takes the whole body (`call(stream=True)`)
STREAM_MEDIA = frozenset({"text/event-stream", "application/x-ndjson", "application/jsonl"})


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """The system's trust store without the environment's (made when a pool first opens:
    loading the certificates is a noticeable part of start-up)."""
    return httpx.create_ssl_context(trust_env=False)


class UpstreamClient:
    """Sends the requests of one `consumes` namespace.

    Use as an async context manager, or call `aclose()` when done.
    """

    def __init__(
        self,
        upstream: Upstream,
        settings: Settings,
        *,
        http: httpx.AsyncClient | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.upstream = upstream
        self.metrics = metrics or Metrics()
        self.settings = settings
        self.base_url = settings.base_urls.get(upstream.namespace, upstream.base_url)
        self.bind_scope = settings.binds.scope
        self.authenticator = Authenticator(upstream.auth, self.bind_scope)
        # the proxy path hands requests needing no auth flow to the transport directly: no
        # cookie jar shared between callers, none of httpx's per-send hooks
        self._transport = (
            None
            if http is not None
            else AiohttpTransport(
                ssl_context=client_certificate(upstream.auth, self.bind_scope)
                or default_ssl_context,
                limits=httpx.Limits(
                    max_connections=settings.max_connections,
                    max_keepalive_connections=max(settings.max_connections // 5, 10),
                ),
            )
        )
        self._http = http or httpx.AsyncClient(
            transport=self._transport,
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            follow_redirects=False,
            trust_env=False,
            headers={"Accept-Encoding": ACCEPT_ENCODING},  # the codings decoding.py bounds
        )
        self._direct = DirectWriter(self._http, self.base_url) if self._transport else None
        self._deadlines = Deadlines(settings.total_timeout)
        # what a direct request's answer is read by, for each way of asking for a stream
        self._readers = {
            stream: functools.partial(self._read_whole, stream)
            for stream in (False, True, "always")
        }

    async def __aenter__(self) -> UpstreamClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @overload
    async def call(
        self,
        operation: Operation,
        params: Mapping[str, Any],
        *,
        inbound_authorization: str | None = None,
        stream: Literal[False] = False,
    ) -> httpx.Response: ...

    @overload
    async def call(
        self,
        operation: Operation,
        params: Mapping[str, Any],
        *,
        inbound_authorization: str | None = None,
        stream: bool | Literal["always"],
    ) -> httpx.Response | OpenStream: ...

    async def call(
        self,
        operation: Operation,
        params: Mapping[str, Any],
        *,
        inbound_authorization: str | None = None,
        stream: bool | Literal["always"] = False,
    ) -> httpx.Response | OpenStream:
        """Build, authenticate and send `operation` with `params`. The body is read in full,
        unless `stream` is set and the upstream answers a stream (`STREAM_MEDIA`) successfully,
        or `stream` is "always": then an `OpenStream` the caller must iterate or close."""
        request = prepare(self.upstream, operation, params, self.base_url, self.bind_scope)
        if self.settings.mock:  # two operations may send the same request: say which this is
            request.headers[MOCK_OPERATION_HEADER] = operation.name
        await self.authenticator.apply(request, params, self._http, inbound_authorization)
        return await self.send(request, self.authenticator.httpx_auth(params), stream=stream)

    async def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> httpx.Response:
        """Relay a request to `<base URL>/<path>` (SEMANTICS §7.9): trusted headers and body only."""
        request = prepare_forward(
            self.upstream, method, path, headers, body, self.base_url, self.bind_scope
        )
        await self.authenticator.apply(request, {}, self._http)
        response = await self.send(request, self.authenticator.httpx_auth({}))
        assert isinstance(response, httpx.Response)  # streams only when asked for
        return response

    async def send(
        self,
        prepared: PreparedRequest,
        auth: httpx.Auth | None = None,
        *,
        stream: bool | Literal["always"] = False,
    ) -> httpx.Response | OpenStream:
        """Send with retries, within the overall deadline (`<PREFIX>_TOTAL_TIMEOUT`).

        Connection attempts that failed (nothing was sent) are retried for every method;
        broken transfers and 429/502/503/504 answers only for idempotent methods.
        """
        try:
            with self._deadlines.watch():
                return await self._send_with_retries(prepared, auth, stream)
        except Expired:
            self.metrics.upstream_errors.labels(self.upstream.namespace, "deadline").inc()
            raise UpstreamTimeout(
                f"upstream {self.upstream.namespace} did not answer in time"
            ) from None

    async def _send_with_retries(
        self,
        prepared: PreparedRequest,
        auth: httpx.Auth | None,
        stream: bool | Literal["always"] = False,
    ) -> httpx.Response | OpenStream:
        idempotent = prepared.method in IDEMPOTENT
        attempt = 0
        build = functools.partial(self._build, prepared)
        while True:
            direct = self._direct.direct(prepared, build) if self._direct and not auth else None
            request = direct or build()
            started = time.perf_counter()
            try:
                response = await self._send_once(request, auth, stream)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                self._count_error(exc)
                # nothing reached the upstream: safe to retry whatever the method
                if attempt < self.settings.retries:
                    attempt += 1
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                raise self._fault(exc) from None
            except httpx.LocalProtocolError:
                # httpx refused to write the request (a malformed header or URL): no retry helps,
                # and the message may quote the value, so it is not passed on
                raise InvalidRequest("the upstream request cannot be written as HTTP") from None
            except httpx.TransportError as exc:
                self._count_error(exc)
                if idempotent and attempt < self.settings.retries:
                    attempt += 1
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                raise self._fault(exc) from None
            self._answered(prepared.method, response, time.perf_counter() - started)
            if isinstance(response, OpenStream):
                return response  # a 2xx or 3xx stream: nothing to retry
            delay = self._retry_delay(response, idempotent, attempt)
            if delay is None:
                return response
            attempt += 1
            await asyncio.sleep(delay)

    def _build(self, prepared: PreparedRequest) -> httpx.Request:
        return self._http.build_request(
            prepared.method,
            prepared.url,
            headers=prepared.headers,
            cookies=prepared.cookies or None,
            content=prepared.content,
            data=prepared.form,
            files=prepared.files,
        )

    def _answered(self, method: str, response: httpx.Response | OpenStream, elapsed: float) -> None:
        namespace = self.upstream.namespace
        status = response.status if isinstance(response, OpenStream) else response.status_code
        self.metrics.upstream_answered(namespace, status, elapsed)
        logger.debug("upstream %s %s -> %s in %.1f ms", method, namespace, status, elapsed * 1000)

    async def _send_once(
        self,
        request: httpx.Request | Direct,
        auth: httpx.Auth | None,
        stream: bool | Literal["always"] = False,
    ) -> httpx.Response | OpenStream:
        if isinstance(request, Direct):  # its body is read at once when it is whole as sent
            assert self._transport is not None  # a direct form exists only with it
            response = await self._transport.send(request, self._readers[stream])
        else:
            response = await self._open(request, auth)
        if response.is_closed:  # read whole by the transport (`_read_whole`)
            return response
        if _kept_open(stream, response.status_code, response.headers.get("content-type")):
            return OpenStream(response, self.settings.max_response_bytes, self._streamed)
        return await self._whole(response, request)

    async def _open(self, request: httpx.Request, auth: httpx.Auth | None) -> httpx.Response:
        """The answer, its body still to read: straight from the transport unless an auth
        flow (or a client given by the caller) needs httpx's own sending."""
        if auth is None and self._transport is not None:
            response = await self._transport.handle_async_request(request)
            response.request = request
            return response
        return await self._http.send(request, auth=auth or httpx.USE_CLIENT_DEFAULT, stream=True)

    def _read_whole(
        self, stream: bool | Literal["always"], status: int, headers: Mapping[str, str]
    ) -> bool:
        """The body can be read in one piece: its declared length is within the limit, it has
        no content encoding to inflate, and it is not a stream the caller asked to keep open."""
        return _sized(headers, self.settings.max_response_bytes) and not _kept_open(
            stream, status, headers.get("content-type")
        )

    async def _whole(
        self, response: httpx.Response, request: httpx.Request | Direct
    ) -> httpx.Response:
        """The answer with its body read and decoded, within the size limit."""
        limit = self.settings.max_response_bytes
        too_large = f"upstream {self.upstream.namespace} answered with a body over {limit} bytes"
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise UpstreamUnavailable(too_large)
            if _sized(response.headers, limit):  # the common case: read as it comes
                await response.aread()
                return response
            chunks, size = [], 0
            async for chunk in body_pieces(response):  # decoded piece by piece: bombs stop too
                size += len(chunk)
                if size > limit:
                    raise UpstreamUnavailable(too_large)
                chunks.append(chunk)
        except httpx.DecodingError:
            raise UpstreamUnavailable(
                f"upstream {self.upstream.namespace} answered with a body it did not encode as "
                "it said (or in a content encoding that cannot be read within the size limit)"
            ) from None
        finally:
            await response.aclose()
        headers = [
            (k, v) for k, v in response.headers.multi_items() if k.lower() not in _REBUILT_HEADERS
        ]
        if isinstance(request, Direct):
            return LazyRequestResponse(
                response.status_code,
                headers=headers,
                content=b"".join(chunks),
                request_factory=request.request,
            )
        return httpx.Response(
            response.status_code, headers=headers, content=b"".join(chunks), request=request
        )

    def _retry_delay(
        self, response: httpx.Response, idempotent: bool, attempt: int
    ) -> float | None:
        """Idempotent methods only: a 429/502/503/504 is retried after Retry-After (when it is
        short enough) or an exponential backoff with jitter."""
        if not idempotent or response.status_code not in RETRY_STATUSES:
            return None
        if attempt >= self.settings.retries:
            return None
        retry_after = parse_retry_after(answer_header(response, "retry-after"))
        if retry_after is not None:
            return retry_after if retry_after <= self.settings.max_retry_after else None
        return self._backoff(attempt + 1)

    @staticmethod
    def _backoff(attempt: int) -> float:
        return float(min(0.1 * (2 ** (attempt - 1)), 2.0) * (0.5 + random.random() / 2))

    def _streamed(self, size: int, elapsed: float) -> None:
        namespace = self.upstream.namespace
        self.metrics.upstream_streams.labels(namespace).inc()
        self.metrics.stream_seconds.labels(namespace).observe(elapsed)
        logger.debug(
            "upstream %s stream closed after %d bytes in %.1f ms", namespace, size, elapsed * 1000
        )

    def _count_error(self, exc: Exception) -> None:
        kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection"
        self.metrics.upstream_errors.labels(self.upstream.namespace, kind).inc()

    def _fault(self, exc: httpx.TransportError) -> Exception:
        name = self.upstream.namespace
        if isinstance(exc, httpx.TimeoutException) and not isinstance(
            exc, (httpx.ConnectTimeout, httpx.PoolTimeout)
        ):
            return UpstreamTimeout(f"upstream {name} did not answer in time")
        if isinstance(exc, httpx.ConnectTimeout):
            return UpstreamTimeout(f"upstream {name} did not accept the connection in time")
        return UpstreamUnavailable(f"upstream {name} could not be reached")


def _kept_open(stream: bool | Literal["always"], status: int, content_type: str | None) -> bool:
    """The caller gets the answer as an `OpenStream`: always when it asked for one, else when
    it may take a stream and this is a successful one (`STREAM_MEDIA`)."""
    if stream == "always":
        return True
    return bool(stream) and status < 400 and media_type(content_type) in STREAM_MEDIA


def _sized(headers: Mapping[str, str], limit: int) -> bool:
    """A body of a declared length within `limit`, with no content encoding to inflate."""
    declared = headers.get("content-length", "")
    return (
        declared.isdigit()
        and int(declared) <= limit
        and headers.get("content-encoding", "identity") == "identity"
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)
