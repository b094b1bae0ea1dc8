"""Tool results: an answer as MCP content (text, an image, audio, an embedded resource, the
text of an event stream), and a streamed answer read with progress notifications."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import mcp.types as types
from mcp.server import ServerRequestContext

from ..engine import Answer
from ..engine.redaction import Redactor
from ..errors import UpstreamUnavailable
from ..expr.mapping import NOT_MAPPED
from ..formats import media_type
from ..upstream.client import OpenStream


def text_result(text: str, *, is_error: bool) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], is_error=is_error
    )


def tool_result(outcome: Answer, redactor: Redactor) -> types.CallToolResult:
    media = media_type(outcome.media_type)
    if outcome.content and outcome.value is NOT_MAPPED and not is_text(media):
        data = base64.b64encode(outcome.content).decode()
        content: types.ContentBlock
        if media.startswith("image/"):
            content = types.ImageContent(type="image", data=data, mime_type=media)
        elif media.startswith("audio/"):
            content = types.AudioContent(type="audio", data=data, mime_type=media)
        else:  # a PDF, an archive, octet-stream: an embedded resource with its type
            blob = types.BlobResourceContents(
                uri="capgen://result", blob=data, mime_type=media or "application/octet-stream"
            )
            content = types.EmbeddedResource(type="resource", resource=blob)
        return types.CallToolResult(content=[content], is_error=outcome.is_error)
    if media == "text/event-stream":
        return _stream_result(outcome, redactor)
    return text_result(redactor.text(outcome.text), is_error=outcome.is_error)


async def with_progress(
    outcome: Answer,
    stream: OpenStream,
    ctx: ServerRequestContext[Any],
    token: str | int,
    redactor: Redactor,
) -> Answer:
    """Read a streamed answer whole, telling the caller the text so far at each event."""
    received, pending, text, count = b"", b"", "", 0
    try:
        async for chunk in stream.chunks():
            received += chunk
            pending += chunk
            end = pending.rfind(b"\n\n")
            if end < 0:  # no event completed since the last notification
                continue
            events, pending = pending[: end + 2], pending[end + 2 :]
            piece = sse_text(events)
            if not piece:  # events that add no text ([DONE], a keep-alive)
                continue
            text, count = text + piece, count + 1
            await ctx.session.send_progress_notification(
                token, count, message=redactor.text(text), related_request_id=_request_id(ctx)
            )
    except httpx.HTTPError as exc:
        raise UpstreamUnavailable(f"the upstream stream broke off ({type(exc).__name__})") from None
    if stream.truncated:
        raise UpstreamUnavailable(f"the upstream stream is larger than {stream.limit} bytes")
    return Answer(outcome.status, received, outcome.media_type, headers=outcome.headers)


def _request_id(ctx: ServerRequestContext[Any]) -> str | None:
    return None if ctx.request_id is None else str(ctx.request_id)


def is_text(media: str) -> bool:
    return (
        not media
        or media.startswith("text/")
        or media.endswith(("json", "+xml", "/xml", "yaml", "ndjson"))
        or media in ("application/x-www-form-urlencoded", "application/javascript")
    )


def sse_data(content: bytes) -> list[str]:
    """The data of each event of a server-sent-event stream, in order (`[DONE]` left out)."""
    found = []
    for block in content.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(
            line[5:].removeprefix(" ") for line in block.split("\n") if line.startswith("data:")
        )
        if data and data.strip() != "[DONE]":
            found.append(data)
    return found


def sse_text(content: bytes) -> str:
    """The text a stream carries: the `response` (or `text`) field of JSON events, the data of
    others, in order."""
    parts: list[str] = []
    for data in sse_data(content):
        try:
            event = json.loads(data)
        except ValueError:
            parts.append(data)
            continue
        piece = event.get("response", event.get("text")) if isinstance(event, dict) else None
        parts.append(piece if isinstance(piece, str) else data)
    return "".join(parts)


def _stream_result(outcome: Answer, redactor: Redactor) -> types.CallToolResult:
    """The text of the stream, and its events as structured content when each is JSON."""
    redacted = redactor.bytes(outcome.content)
    result = text_result(sse_text(redacted), is_error=outcome.is_error)
    try:
        events = [json.loads(data) for data in sse_data(redacted)]
    except ValueError:
        return result
    result.structured_content = {"events": events}
    return result
