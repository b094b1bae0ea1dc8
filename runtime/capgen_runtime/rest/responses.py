"""What a REST operation answers: the unit's `Answer` (an upstream stream relayed as it
arrives), or a problem for what went wrong; secrets redacted either way."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import anyio
import httpx
from starlette.responses import Response, StreamingResponse

from ..engine import Answer, Service
from ..engine.redaction import Redactor
from ..errors import CapabilityError, InvalidInput
from ..model import Route
from ..upstream.answers import answer_header
from ..upstream.stream import OpenStream
from ..web.problem import problem
from ..web.streams import error_marker, stream_failure
from .body import check_encoding
from .inputs import Incoming, read_body

logger = logging.getLogger(__name__)


def error_response(exc: CapabilityError, redactor: Redactor) -> Response:
    """What capgen itself answers for a failure: a problem, with the headers it calls for."""
    errors = exc.errors if isinstance(exc, InvalidInput) else None
    headers = {"Retry-After": "1"} if exc.status == 503 else None
    return problem(exc.status, redactor.text(exc.message), headers, errors)


def to_response(answer: Answer, redactor: Redactor) -> Response:
    if answer.stream is not None:
        return StreamingResponse(
            relay(answer.stream, redactor),
            answer.status,
            headers=answer.headers,
            media_type=answer.media_type,
        )
    if answer.status == 204:
        return Response(status_code=204, headers=answer.headers)
    content = redactor.binary(answer.content)
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()]
    if answer.media_type:  # as the upstream wrote it (Response would add a charset to text/*)
        raw.append((b"content-type", answer.media_type.encode("latin-1")))
    if not any(name == b"content-length" for name, _ in raw):
        raw.append((b"content-length", str(len(content)).encode()))
    return Whole(content, answer.status, raw)


class Whole(Response):
    """A whole body with its header fields as they go on the wire: what `Response(content,
    status, headers=...)` sends for them, without working its headers out per request."""

    def __init__(self, content: bytes, status: int, raw: list[tuple[bytes, bytes]]) -> None:
        self.status_code = status
        self.body = content
        self.raw_headers = raw
        self.background = None


async def relay(stream: OpenStream, redactor: Redactor) -> AsyncIterator[bytes]:
    """The upstream's chunks as they arrive, secrets redacted even when one is split across two
    chunks (the end of a chunk that could begin a secret waits for the next). A stall longer
    than the read timeout, a broken upstream or a stream over the size limit ends the stream
    with an error marker (web/streams.py) and is logged; a caller who goes away closes the
    upstream stream."""
    held = redactor.held_bytes()
    failure: tuple[int, str] | None = None
    try:
        async for chunk in stream.chunks():
            data = held.feed(chunk)
            if data:
                yield data
        if stream.truncated:
            failure = 502, f"the upstream stream is larger than {stream.limit} bytes"
    except httpx.HTTPError as exc:
        logger.warning("upstream stream ended early: %s", type(exc).__name__)
        failure = stream_failure(exc)
    finally:
        with anyio.CancelScope(shield=True):  # also when the caller went away (cancelled)
            await stream.aclose()
    rest = held.end()
    if rest:
        yield rest
    if failure is not None:
        yield error_marker(stream.media_type, *failure)


async def forward(incoming: Incoming, route: Route, service: Service) -> Response:
    """SEMANTICS §7.9: the request relayed to the upstream, trusted headers and body only."""
    target = route.endpoint.forward
    assert target is not None
    request = incoming.request()
    try:
        rest = ""
        if target.path_variable:
            identifiers = {name: identifier for identifier, name in route.variables}
            variable = identifiers.get(target.path_variable, target.path_variable)
            rest = str(request.path_params.get(variable, ""))
        check_encoding(request.scope)
        trusted = {h.lower() for h in target.trusted_headers}
        headers = {k: v for k, v in request.headers.items() if k.lower() in trusted}
        body = await read_body(incoming, service.settings.max_request_bytes)
        response = await service.client(target.upstream).forward(
            request.method, rest, headers, body
        )
    except CapabilityError as exc:
        return error_response(exc, service.redactor)
    return Response(
        service.redactor.binary(response.content),
        response.status_code,
        media_type=answer_header(response, "content-type"),
    )
