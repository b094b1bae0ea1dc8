"""A `multipart/*` answer (RFC 2046) as several MCP content blocks, one per part, in order:
a part with a `Content-Location` is an embedded resource at that URI (text or blob by its
type), an image or audio part is image or audio content, a text part is text, anything else
an embedded blob. One upstream answer can so give a tool result of mixed content."""

from __future__ import annotations

import base64
from email import policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser

import mcp.types as types

from ..engine.redaction import Redactor
from .binary import is_text

_PARSER = BytesParser(policy=policy.HTTP)


def multipart_blocks(
    content: bytes, content_type: str, redactor: Redactor
) -> list[types.ContentBlock] | None:
    """The parts as content blocks; None when the body is not a readable multipart (no
    boundary, no part, a nested multipart), which is then sent whole as before."""
    if "\r" in content_type or "\n" in content_type:
        return None
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = _PARSER.parsebytes(head + content)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        return None
    parts = list(message.iter_parts())
    if not parts or any(part.is_multipart() for part in parts):
        return None
    return [_block(part, index, redactor) for index, part in enumerate(parts)]


def _block(part: MIMEPart, index: int, redactor: Redactor) -> types.ContentBlock:
    media = part.get_content_type()
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    location = part.get("content-location")
    text = is_text(media)
    decoded = redactor.text(_decoded(data, part.get_content_charset())) if text else ""
    encoded = base64.b64encode(redactor.binary(data)).decode()
    if location:
        uri = str(location).strip()
        resource: types.TextResourceContents | types.BlobResourceContents
        if text:
            resource = types.TextResourceContents(uri=uri, mime_type=media, text=decoded)
        else:
            resource = types.BlobResourceContents(uri=uri, mime_type=media, blob=encoded)
        return types.EmbeddedResource(type="resource", resource=resource)
    if media.startswith("image/"):
        return types.ImageContent(type="image", data=encoded, mime_type=media)
    if media.startswith("audio/"):
        return types.AudioContent(type="audio", data=encoded, mime_type=media)
    if text:
        return types.TextContent(type="text", text=decoded)
    blob = types.BlobResourceContents(uri=f"capgen://result/{index}", mime_type=media, blob=encoded)
    return types.EmbeddedResource(type="resource", resource=blob)


def _decoded(data: bytes, charset: str | None) -> str:
    try:
        return data.decode(charset or "utf-8", "replace")
    except LookupError:  # a charset Python does not know
        return data.decode("utf-8", "replace")
