"""Tool results: an answer as MCP content (text, an image, audio, an embedded resource, the
text of an event stream)."""

from __future__ import annotations

import base64

import mcp.types as types
import pydantic_core
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from ..engine import Answer
from ..engine.redaction import Redactor
from ..formats import media_type
from .binary import BinaryRule
from .multipart import multipart_blocks
from .stream import stream_result


def text_result(text: str, *, is_error: bool) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], is_error=is_error
    )


def tool_result(outcome: Answer, redactor: Redactor, rule: BinaryRule) -> types.CallToolResult:
    """The answer as content: raw bytes as an image, audio or an embedded resource (of the
    advertised media type, refused whole over the size limit), anything else as text."""
    media = media_type(outcome.media_type)
    if rule.is_binary(outcome):
        refused = rule.refusal(len(outcome.content))
        if refused is not None:
            return text_result(refused, is_error=True)
        media = rule.advertised(outcome)
        if media.startswith("multipart/") and outcome.media_type:  # one block per part
            blocks = multipart_blocks(outcome.content, outcome.media_type, redactor)
            if blocks:
                return types.CallToolResult(content=blocks, is_error=False)
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


def text_result_wire(result: types.CallToolResult, version: str) -> bytes | None:
    """What the SDK's runner makes of a handshake-era call result of one plain text block (no
    `_meta`, no annotations) and its structured content, serialised: the fields the revision's
    result schema keeps, in its order (`_meta`, `content`, `isError`, `structuredContent`; a
    text block's `text`, `type`), each value as `pydantic_core.to_json` writes it; None for
    any other result, which the runner shapes (tests/unit/test_lane_results.py compares the
    two)."""
    if version in MODERN_PROTOCOL_VERSIONS or type(result) is not types.CallToolResult:
        return None
    content = result.content
    if result.meta is not None or len(content) != 1 or type(content[0]) is not types.TextContent:
        return None
    block = content[0]
    if block.meta is not None or block.annotations is not None:
        return None
    try:  # text the runner cannot write either (a lone surrogate) is left to it, to fail there
        text = pydantic_core.to_json(block.text)
        structured = result.structured_content
        written = (
            None if structured is None else pydantic_core.to_json(structured, inf_nan_mode="null")
        )
    except pydantic_core.PydanticSerializationError:
        return None
    parts = [b'{"content":[{"text":', text, b',"type":"text"}]']
    if result.is_error is not None:
        parts.append(b',"isError":true' if result.is_error else b',"isError":false')
    if written is not None:
        parts += (b',"structuredContent":', written)
    parts.append(b"}")
    return b"".join(parts)
