"""Workers AI in capgen's mock upstream: the run endpoint (`…/ai/run/{model}`) answers each
model family as Cloudflare does, and fails in Cloudflare's envelope with its codes.

- text generation: JSON `{"result": {"response", "usage"}}`; with `"stream": true` a
  server-sent-event stream of `{"response": …}` frames ending in `data: [DONE]`;
- Stable Diffusion and DreamShaper: the PNG itself (`image/png`);
- FLUX: JSON with the image in base64 (`{"result": {"image": …}}`);
- MeloTTS: JSON with the audio in base64; Deepgram Aura: the MP3 itself (`audio/mpeg`);
- Whisper: JSON `{"text": …}`; BGE embeddings: JSON `{"shape", "data"}`.

Errors (`{"success": false, "errors": [{"code", "message"}], "messages": [], "result": null}`):
10000 (401) without a bearer token, 5007 (400) for an `@cf/`/`@hf/` id that names no
`author/model`, 3042 (404) for an id that is not a model id at all, 5006 (400) for a body
the model cannot take, and 3040 (429, with `Retry-After`) past the task's per-minute limit
(Workers AI's defaults: 300 text generation, 720 image/speech, 3000 embeddings).
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import re
import struct
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

RUN_PATH = re.compile(r"/ai/run/\{(\w+)\}$")  # the run endpoint's path, its model variable
_MODEL_ID = re.compile(r"@(?:cf|hf)/[\w.-]+/[\w.-]+")
_WINDOW_S = 60.0


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


def mock_mp3(frames: int = 4) -> bytes:
    """Silent MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz, mono): what a TTS model answers."""
    header = bytes([0xFF, 0xFB, 0x90, 0xC0])
    size = 144 * 128_000 // 44_100  # 417 bytes a frame, no padding
    return (header + bytes(size - len(header))) * frames


def envelope(result: Any) -> dict[str, Any]:
    return {"result": result, "success": True, "errors": [], "messages": []}


def failure(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    """Cloudflare's error envelope."""
    body = {"success": False, "errors": [{"code": code, "message": message}], "messages": []}
    return JSONResponse({**body, "result": None}, status_code=status, headers=headers)


@dataclass(frozen=True)
class Family:
    """Models whose id matches `pattern`: their task's rate limit, the body fields of which
    one is needed, and how they answer."""

    task: str
    pattern: re.Pattern[str]
    per_minute: int
    needs: tuple[str, ...]
    answer: Callable[[dict[str, Any], Any], Response]


WORDS = ("This ", "is ", "a ", "mock ", "answer ", "from ", "capgen's ", "embedded ", "upstream.")
TOKEN_GAP_S = 0.15  # like a model generating: one token event at a time


def _words(body: dict[str, Any]) -> list[str]:
    words = list(WORDS)
    asked = body.get("prompt")
    if asked is None and isinstance(body.get("messages"), list) and body["messages"]:
        last = body["messages"][-1]
        asked = last.get("content") if isinstance(last, dict) else None
    return words + ([f" You said: {asked}"] if isinstance(asked, str) and asked else [])


def _usage(words: list[str]) -> dict[str, int]:
    return {"prompt_tokens": 1, "completion_tokens": len(words), "total_tokens": len(words) + 1}


async def events(words: list[str]) -> AsyncIterator[bytes]:
    """A server-sent-event stream of `words`, then the usage and `[DONE]`."""
    for word in words:
        yield f"data: {json.dumps({'response': word})}\n\n".encode()
        await asyncio.sleep(TOKEN_GAP_S)
    yield f"data: {json.dumps({'response': '', 'usage': _usage(words)})}\n\n".encode()
    yield b"data: [DONE]\n\n"


def _text(body: dict[str, Any], shape: Any) -> Response:
    words = _words(body)
    if body.get("stream") is True:
        return StreamingResponse(events(words), media_type="text/event-stream")
    return JSONResponse(shape(envelope({"response": "".join(words), "usage": _usage(words)})))


def _png(body: dict[str, Any], shape: Any) -> Response:
    return Response(mock_png(), media_type="image/png")


def _base64_image(body: dict[str, Any], shape: Any) -> Response:
    return JSONResponse(shape(envelope({"image": base64.b64encode(mock_png()).decode()})))


def _base64_audio(body: dict[str, Any], shape: Any) -> Response:
    return JSONResponse(shape(envelope({"audio": base64.b64encode(mock_mp3()).decode()})))


def _mp3(body: dict[str, Any], shape: Any) -> Response:
    return Response(mock_mp3(), media_type="audio/mpeg")


def _transcript(body: dict[str, Any], shape: Any) -> Response:
    result = {"text": "mock transcript", "word_count": 2, "words": []}
    return JSONResponse(shape(envelope(result)))


def _embeddings(body: dict[str, Any], shape: Any) -> Response:
    texts = body.get("text")
    count = len(texts) if isinstance(texts, list) else 1
    vectors = [[round(0.01 * (i + j), 2) for j in range(8)] for i in range(count)]
    return JSONResponse(shape(envelope({"shape": [count, 8], "data": vectors})))


FAMILIES = (
    Family("text-to-image", re.compile(r"flux", re.I), 720, ("prompt",), _base64_image),
    Family(
        "text-to-image", re.compile(r"stable-diffusion|dreamshaper", re.I), 720, ("prompt",), _png
    ),
    Family("text-to-speech", re.compile(r"melotts", re.I), 720, ("prompt",), _base64_audio),
    Family("text-to-speech", re.compile(r"/aura", re.I), 720, ("text",), _mp3),
    Family("speech-recognition", re.compile(r"whisper", re.I), 720, ("audio",), _transcript),
    Family("text-embeddings", re.compile(r"/bge-", re.I), 3000, ("text",), _embeddings),
    Family("text-generation", re.compile(r""), 300, ("prompt", "messages"), _text),
)


class WorkersAi:
    """The run endpoint of one mock upstream, with its per-model request counts."""

    def __init__(self) -> None:
        self.recent: dict[str, deque[float]] = {}

    def answer(self, model: str, request: Request, body: Any, shape: Any) -> Response:
        """`shape` adds to a JSON envelope what the spec's outputs map."""
        if not request.headers.get("authorization", "").removeprefix("Bearer ").strip():
            return failure(401, 10000, "Authentication error")
        if not model.startswith(("@cf/", "@hf/")):
            return failure(404, 3042, f"AiError: Invalid model ID: {model}")
        if not _MODEL_ID.fullmatch(model):
            return failure(400, 5007, f"No such model {model} or task")
        family = next(f for f in FAMILIES if f.pattern.search(model))
        raw = request.headers.get("content-type", "").startswith("application/json")
        if raw and (not isinstance(body, dict) or not any(k in body for k in family.needs)):
            wanted = " or ".join(f"'{k}'" for k in family.needs)
            return failure(
                400, 5006, f"AiError: AiError: Error: required properties at '/' are {wanted}"
            )
        wait = self._throttled(model, family.per_minute)
        if wait is not None:
            message = "Capacity temporarily exceeded, please try again."
            return failure(429, 3040, message, {"Retry-After": str(wait)})
        return family.answer(body if isinstance(body, dict) else {}, shape)

    def _throttled(self, model: str, per_minute: int) -> int | None:
        """Seconds to wait when `model` had `per_minute` requests in the last minute."""
        now = time.monotonic()
        recent = self.recent.setdefault(model, deque())
        while recent and recent[0] <= now - _WINDOW_S:
            recent.popleft()
        if len(recent) >= per_minute:
            return max(1, math.ceil(recent[0] + _WINDOW_S - now))
        recent.append(now)
        return None
