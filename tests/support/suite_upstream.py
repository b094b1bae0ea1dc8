"""The upstream of the conformance fixture (tests/conformance/fixture/everything.yaml): a real
HTTP server on loopback whose answers are what the official suite's fixture tools and
resources return, as an API would serve them (a PNG, a WAV, a PDF, a failing call, a
server-sent-event stream with pauses, a JSON document per id).

The bytes are made here, with the standard library, and kept for the tests' own checks: an
oracle that knows what the upstream sent, not what capgen made of it.
"""

from __future__ import annotations

import asyncio
import io
import json
import struct
import wave
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.support.service import ThreadedServer

Endpoint = Callable[[Request], Awaitable[Response]]

SIMPLE_TEXT = "This is a simple text response for testing."
STATIC_TEXT = "This is the content of the static text resource."
ERROR_TEXT = "This tool intentionally returns an error for testing"
PROGRESS_STEPS = ("started ", "halfway ", "done")


def png_pixel(red: int = 255, green: int = 0, blue: int = 0) -> bytes:
    """A 1x1 RGB PNG (signature, IHDR, IDAT, IEND), each chunk with its CRC."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8 bits, truecolour
    pixels = zlib.compress(bytes([0, red, green, blue]))  # filter byte 0, then RGB
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def wav_beep(samples: int = 800) -> bytes:
    """A tenth of a second of 8 kHz mono 16-bit PCM (a square wave)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(
            b"".join(struct.pack("<h", 8000 if (i // 10) % 2 else -8000) for i in range(samples))
        )
    return buffer.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
IMAGE, AUDIO = png_pixel(), wav_beep()
STATIC_BINARY = png_pixel(0, 0, 255)


MIXED_TEXT = "Multiple content types test:"
MIXED_JSON = '{"test":"data","value":123}'
MIXED_URI = "test://mixed-content-resource"
BOUNDARY = "capgen-suite-boundary"


def mixed() -> bytes:
    """A multipart/mixed answer (RFC 2046): a text part, a PNG, and a JSON part that names
    its resource with Content-Location."""
    parts = [
        ("Content-Type: text/plain; charset=utf-8\r\n", MIXED_TEXT.encode()),
        ("Content-Type: image/png\r\n", IMAGE),
        (
            f"Content-Type: application/json\r\nContent-Location: {MIXED_URI}\r\n",
            MIXED_JSON.encode(),
        ),
    ]
    body = b"".join(f"--{BOUNDARY}\r\n{head}\r\n".encode() + data + b"\r\n" for head, data in parts)
    return body + f"--{BOUNDARY}--\r\n".encode()


def template_data(item: str) -> dict[str, object]:
    return {"id": item, "templateTest": True, "data": f"Data for ID: {item}"}


class SuiteUpstream(ThreadedServer):
    """Starlette under uvicorn on a free loopback port, in a thread."""

    def __init__(self, pause: float = 0.05) -> None:
        def fixed(body: bytes, media: str, status: int = 200) -> Endpoint:
            async def answer(request: Request) -> Response:
                return Response(body, status, media_type=media)

            return answer

        async def progress(request: Request) -> StreamingResponse:
            async def events() -> AsyncIterator[bytes]:
                for step in PROGRESS_STEPS:
                    yield f"data: {json.dumps({'text': step})}\n\n".encode()
                    await asyncio.sleep(pause)  # one event per read: one notification each
                yield b"data: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")

        async def region(request: Request) -> Response:  # what X-Region said, as text
            return Response(request.headers.get("x-region", ""), media_type="text/plain")

        async def template(request: Request) -> Response:
            body = json.dumps(template_data(request.path_params["item"]))
            return Response(body, media_type="application/json")

        routes = [
            Route("/text", fixed(SIMPLE_TEXT.encode(), "text/plain")),
            Route("/image.png", fixed(IMAGE, "image/png")),
            Route("/audio.wav", fixed(AUDIO, "audio/wav")),
            Route("/document.pdf", fixed(PDF, "application/pdf")),
            Route("/failure", fixed(ERROR_TEXT.encode(), "text/plain", 500)),
            Route("/progress", progress),
            Route("/static-text", fixed(STATIC_TEXT.encode(), "text/plain")),
            Route("/static-binary.png", fixed(STATIC_BINARY, "image/png")),
            Route("/template/{item}/data", template),
            Route("/region", region),
            Route("/mixed", fixed(mixed(), f"multipart/mixed; boundary={BOUNDARY}")),
        ]
        super().__init__(Starlette(routes=routes))
