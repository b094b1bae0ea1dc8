"""Tool results: an answer as MCP content (text, an image, audio, an embedded resource, the
text of an event stream)."""

from __future__ import annotations

import base64

import mcp.types as types

from ..engine import Answer
from ..engine.redaction import Redactor
from ..expr.mapping import NOT_MAPPED
from ..formats import media_type
from .stream import stream_result


def text_result(text: str, *, is_error: bool) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], is_error=is_error
    )


def tool_result(outcome: Answer, redactor: Redactor) -> types.CallToolResult:
    media = media_type(outcome.media_type)
    if (
        outcome.content
        and not outcome.is_error
        and outcome.value is NOT_MAPPED
        and not is_text(media)
    ):
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
    if outcome.is_error:  # DEV-25: the upstream's error body, whatever its type, as text
        status = outcome.headers.get("X-Upstream-Status", str(outcome.status))
        text = outcome.text or f"No response entity received (HTTP {status})"
        return text_result(redactor.text(text), is_error=True)
    if media == "text/event-stream":
        return stream_result(outcome, redactor)
    return text_result(redactor.text(outcome.text), is_error=outcome.is_error)


def is_text(media: str) -> bool:
    return (
        not media
        or media.startswith("text/")
        or media.endswith(("json", "+xml", "/xml", "yaml", "ndjson"))
        or media in ("application/x-www-form-urlencoded", "application/javascript")
    )
