"""Upstream streams as both adapters read them: the events of a server-sent-event stream, the
text they carry, and the marker that ends a relayed stream the upstream did not finish.

A relayed stream has already answered 200 when the upstream stalls or breaks, so the failure
is said in the stream itself, in its own syntax: an `error` event for server-sent events, a
`{"error": ...}` line for NDJSON, each holding the RFC 9457 problem the service would have
answered (the blank line before it ends any half-sent event or line).
"""

from __future__ import annotations

import json

import httpx

from ..formats import media_type
from .problem import problem_body


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


NOT_JSON = object()  # what `sse_piece` gives for the event of a data line that is not JSON


def sse_piece(data: str) -> tuple[object, str]:
    """One event's data parsed as JSON (else `NOT_JSON`), and the text it carries: the
    `response` (or `text`) field of a JSON event, the data of another."""
    try:
        event = json.loads(data)
    except (ValueError, RecursionError):
        return NOT_JSON, data
    piece = event.get("response", event.get("text")) if isinstance(event, dict) else None
    return event, piece if isinstance(piece, str) else data


def sse_text(content: bytes) -> str:
    """The text a stream carries, its events' pieces in order."""
    return "".join(sse_piece(data)[1] for data in sse_data(content))


def stream_failure(exc: httpx.HTTPError) -> tuple[int, str]:
    """The status and detail of a stream the upstream did not finish."""
    if isinstance(exc, httpx.TimeoutException):
        return 504, "the upstream stream stalled"
    return 502, f"the upstream stream broke off ({type(exc).__name__})"


def error_marker(content_type: str | None, status: int, detail: str) -> bytes:
    """What ends a relayed stream that failed, in the stream's own syntax."""
    problem = problem_body(status, detail)
    media = media_type(content_type)
    if media == "text/event-stream":
        return b"\n\nevent: error\ndata: " + problem + b"\n\n"
    if media in ("application/x-ndjson", "application/jsonl"):
        return b'\n{"error":' + problem + b"}\n"
    return b""
