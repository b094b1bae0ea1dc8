"""An embedded stand-in for the consumed APIs, so a service can run without credentials.

Each consumed namespace is served under `/<namespace>` and answers every declared operation
with a Cloudflare-style envelope `{result, success, errors, messages}` (or the operation's
declared raw format). Requests with `prompt` or `messages` get a `response` text, as an
inference API would.
"""

from __future__ import annotations

import asyncio
import json
import re
import struct
import zlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .model import Operation

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_IMAGE_MODELS = re.compile(r"stable-diffusion|flux|dreamshaper|lucid-origin|phoenix|image", re.I)


def mock_png(size: int = 8) -> bytes:
    """A small, valid PNG (an RGB gradient), made here: what a text-to-image model answers."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(size) for v in (x * 32 % 256, y * 32 % 256, 160))
        for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(rows)),
            chunk(b"IEND", b""),
        ]
    )


_PNG = mock_png()
_TOKEN_GAP_S = 0.15
_WORDS = ("This ", "is ", "a ", "mock ", "answer ", "from ", "capgen's ", "embedded ", "upstream.")


def _pattern(namespace: str, path: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(path)
    regex = "".join(
        (
            re.escape(part)
            if i % 2 == 0
            else ("(?P<v%d>.+)" if i == len(parts) - 2 else "(?P<v%d>[^/]+)") % i
        )
        for i, part in enumerate(parts)
    )
    return re.compile(f"^/{re.escape(namespace)}/?{regex.lstrip('/')}$")


def create_mock_upstream(operations: Sequence[Operation]) -> Starlette:
    table = [(op, _pattern(op.namespace, op.path)) for op in operations]

    async def answer(request: Request) -> Response:
        path = request.url.path
        for operation, pattern in table:
            if operation.method == request.method and pattern.match(path):
                return await _respond(
                    operation, request, _PLACEHOLDER.findall(operation.path), pattern.match(path)
                )
        return JSONResponse(
            {
                "result": None,
                "success": False,
                "errors": [{"code": 7003, "message": "No route for that URI"}],
                "messages": [],
            },
            status_code=404,
        )

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return Starlette(routes=[Route("/{rest:path}", answer, methods=methods)])


async def _events() -> AsyncIterator[bytes]:
    """Like a model generating: one token event at a time, then `[DONE]`."""
    for word in _WORDS:
        yield f"data: {json.dumps({'response': word})}\n\n".encode()
        await asyncio.sleep(_TOKEN_GAP_S)
    yield b"data: [DONE]\n\n"


async def _respond(
    operation: Operation, request: Request, names: list[str], match: Any
) -> Response:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode("utf-8", errors="replace")
    groups = [v for _, v in sorted(match.groupdict().items(), key=lambda kv: int(kv[0][1:]))]
    result: dict[str, Any] = {
        "operation": operation.name,
        "path": dict(zip(names, groups, strict=False)),
        "query": dict(request.query_params),
        "echo": body,
    }
    if _IMAGE_MODELS.search("/".join(groups)) and isinstance(body, dict):
        return Response(_PNG, media_type="image/png")  # like Workers AI's text-to-image models
    if isinstance(body, dict) and body.get("stream") is True:
        return StreamingResponse(_events(), media_type="text/event-stream")
    if isinstance(body, dict) and ("prompt" in body or "messages" in body):
        result["response"] = "".join(_WORDS)
    fmt = operation.output_format.lower()
    if fmt == "xml":
        return Response(
            f"<response><operation>{operation.name}</operation><success>true</success></response>",
            media_type="application/xml",
        )
    if fmt in ("csv", "tsv", "psv"):
        sep = {"csv": ",", "tsv": "\t", "psv": "|"}[fmt]
        return Response(
            f"operation{sep}success\n{operation.name}{sep}true\n", media_type="text/csv"
        )
    if fmt in ("yaml", "yml"):
        return Response(
            f"operation: {operation.name}\nsuccess: true\n", media_type="application/yaml"
        )
    if fmt in ("text", "plain", "markdown", "html"):
        return Response(f"mock response from {operation.name}\n", media_type="text/plain")
    if fmt in ("binary", "octet-stream"):
        return Response(_PNG, media_type="image/png")
    return JSONResponse({"result": result, "success": True, "errors": [], "messages": []})
