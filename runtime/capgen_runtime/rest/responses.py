"""What a REST operation answers: the unit's `Answer` (an upstream stream relayed as it
arrives), or a problem for what went wrong; secrets redacted either way."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import anyio
import httpx
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ..engine import Answer, Service
from ..engine.redaction import Redactor
from ..errors import CapabilityError, InvalidInput
from ..model import Route
from ..upstream.client import OpenStream
from ..web.problem import problem
from .inputs import read_body

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
    content = redactor.bytes(answer.content)
    headers = dict(answer.headers)
    if answer.media_type:  # as the upstream wrote it (Response would add a charset to text/*)
        headers["content-type"] = answer.media_type
    return Response(content, answer.status, headers=headers)


async def relay(stream: OpenStream, redactor: Redactor) -> AsyncIterator[bytes]:
    """The upstream's chunks as they arrive, secrets redacted even when one is split across two
    chunks (the end of a chunk that could begin a secret waits for the next). A stall longer
    than the read timeout, or a broken upstream, ends the stream and is logged; a caller who
    goes away closes the upstream stream."""
    pending = b""
    try:
        async for chunk in stream.chunks():
            data = redactor.bytes(pending + chunk)
            cut = max(len(data) - redactor.tail, 0)
            if not redactor.spans_lines:  # what ends in a line break holds no secret start
                cut = max(cut, data.rfind(b"\n") + 1)
            pending = data[cut:]
            if cut:
                yield data[:cut]
    except httpx.HTTPError as exc:
        logger.warning("upstream stream ended early: %s", type(exc).__name__)
    finally:
        with anyio.CancelScope(shield=True):  # also when the caller went away (cancelled)
            await stream.aclose()
    if pending:
        yield redactor.bytes(pending)


async def forward(request: Request, route: Route, service: Service) -> Response:
    """SEMANTICS §7.9: the request relayed to the upstream, trusted headers and body only."""
    target = route.endpoint.forward
    assert target is not None
    try:
        rest = ""
        if target.path_variable:
            identifiers = {name: identifier for identifier, name in route.variables}
            variable = identifiers.get(target.path_variable, target.path_variable)
            rest = str(request.path_params.get(variable, ""))
        trusted = {h.lower() for h in target.trusted_headers}
        headers = {k: v for k, v in request.headers.items() if k.lower() in trusted}
        body = await read_body(request, service.settings.max_request_bytes)
        response = await service.client(target.upstream).forward(
            request.method, rest, headers, body
        )
    except CapabilityError as exc:
        return error_response(exc, service.redactor)
    return Response(
        service.redactor.bytes(response.content),
        response.status_code,
        media_type=response.headers.get("content-type"),
    )
