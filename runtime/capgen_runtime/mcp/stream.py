"""MCP tool results of streamed upstream answers (server-sent events).

A call that carries a `progressToken` is told each increment of text as the events arrive
(`notifications/progress`, `message` holding only what is new), then gets the whole text in
its result. Secrets are redacted in the text as it is joined, never event by event: a secret
split across two events is held back until it is whole, so neither the increments nor the
result (nor its structured events) carry it.
"""

from __future__ import annotations

from typing import Any

import httpx
import mcp.types as types
from mcp.server import ServerRequestContext

from ..engine import Answer
from ..engine.redaction import Redactor
from ..errors import UpstreamUnavailable
from ..upstream.stream import OpenStream
from ..web.streams import NOT_JSON, sse_data, sse_piece, sse_text, stream_failure


async def with_progress(
    outcome: Answer,
    stream: OpenStream,
    ctx: ServerRequestContext[Any],
    token: str | int,
    redactor: Redactor,
) -> Answer:
    """Read a streamed answer whole, telling the caller each new piece of text as it comes."""
    received, pending, count = bytearray(), b"", 0
    held = redactor.held_text()
    request_id = None if ctx.request_id is None else str(ctx.request_id)
    try:
        async for chunk in stream.chunks():
            received += chunk
            pending += chunk
            end = pending.rfind(b"\n\n")
            if end < 0:  # no event completed since the last notification
                continue
            events, pending = pending[: end + 2], pending[end + 2 :]
            increment = held.feed(sse_text(events))
            if not increment:  # events that add no text ([DONE], a keep-alive), or held back
                continue
            count += 1
            await ctx.session.send_progress_notification(
                token, count, message=increment, related_request_id=request_id
            )
    except httpx.HTTPError as exc:
        raise UpstreamUnavailable(stream_failure(exc)[1]) from None
    if stream.truncated:
        raise UpstreamUnavailable(f"the upstream stream is larger than {stream.limit} bytes")
    last = held.feed(sse_text(pending)) + held.end()  # an unterminated last event, what was held
    if last:
        await ctx.session.send_progress_notification(
            token, count + 1, message=last, related_request_id=request_id
        )
    return Answer(outcome.status, bytes(received), outcome.media_type, headers=outcome.headers)


def stream_result(outcome: Answer, redactor: Redactor) -> types.CallToolResult:
    """The text of the stream, and its events as structured content when each is JSON; both
    redacted as the joined text is."""
    parsed = [sse_piece(data) for data in sse_data(outcome.content)]
    pieces = redactor.pieces([piece for _, piece in parsed])
    result = types.CallToolResult(
        content=[types.TextContent(type="text", text="".join(pieces))], is_error=outcome.is_error
    )
    if any(event is NOT_JSON for event, _ in parsed):
        return result
    events = [
        _with_piece(event, old, new) for (event, old), new in zip(parsed, pieces, strict=True)
    ]
    result.structured_content = {"events": redactor.value(events)}
    return result


def _with_piece(event: object, old: str, new: str) -> object:
    """A JSON event whose text field is replaced by its redacted piece."""
    if old == new or not isinstance(event, dict):
        return event
    field = "response" if isinstance(event.get("response"), str) else "text"
    return {**event, field: new}


__all__ = ["sse_text", "stream_result", "with_progress"]
