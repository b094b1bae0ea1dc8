"""The seed's non-JSON answers reach callers as the upstream sent them (the whole body is the
product when the outputs map `$.`): a PNG, 10 MiB of octet-stream and a server-sent-event
stream over REST, and the PNG as MCP ImageContent through the SDK's own client.

The bytes are made here (an independent PNG encoder in the test, random bytes), never taken
from capgen's mock.
"""

from __future__ import annotations

import base64
import os
import struct
import zlib

import anyio
import mcp.types as types
import pytest

from tests.conftest import SEED_SPEC
from tests.support.fake_upstream import Answer, FakeUpstream
from tests.support.packages import Built

PATH = "/v1/accounts/acct/ai/run/@cf/black-forest-labs/flux-1-schnell"


def _png(width: int = 3, height: int = 2) -> bytes:
    """A valid RGB PNG, encoded here from the format's definition (signature, IHDR, IDAT, IEND)."""
    rows = b"".join(
        b"\x00" + bytes(c for x in range(width) for c in (x * 80, y * 120, 200))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    parts = [chunk(b"IHDR", ihdr), chunk(b"IDAT", zlib.compress(rows)), chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(parts)


PNG = _png()


@pytest.fixture
def seed(make, upstream: FakeUpstream) -> Built:
    return make(SEED_SPEC.read_text(), env={"CLOUDFLARE_API_KEY": "k-123456"})


@pytest.mark.parametrize(
    "body,media",
    [
        (PNG, "image/png"),
        (b"ID3\x03\x00" + os.urandom(4096), "audio/mpeg"),
        (os.urandom(10 * 1024 * 1024), "application/octet-stream"),
        (
            b'data: {"response":"Hel"}\n\ndata: {"response":"lo"}\n\ndata: [DONE]\n\n',
            "text/event-stream",
        ),
    ],
    ids=["png", "mp3", "10MiB", "sse"],
)
def test_rest_passes_a_whole_non_json_body_through(
    seed: Built, upstream: FakeUpstream, body: bytes, media: str
) -> None:
    upstream.responder = lambda request: Answer(200, body, {"content-type": media})
    with seed.rest() as client:
        response = client.post(PATH, json={"prompt": "a cat"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    if media != "text/event-stream":  # a stream is relayed as it comes, without a length
        assert int(response.headers["content-length"]) == len(body)
    assert response.content == body


def test_mcp_answers_an_image_as_image_content(seed: Built, upstream: FakeUpstream) -> None:
    upstream.responder = lambda request: Answer(200, PNG, {"content-type": "image/png"})

    async def call() -> types.CallToolResult:
        async with seed.mcp() as client:
            arguments = {
                "account_id": "acct",
                "model": "@cf/black-forest-labs/flux-1-schnell",
                "body": {"prompt": "a cat"},
            }
            return await client.call_tool("cloudflare-execute-ai-model", arguments)

    result = anyio.run(call)
    assert not result.is_error
    (image,) = result.content
    assert isinstance(image, types.ImageContent) and image.mime_type == "image/png"
    assert base64.b64decode(image.data) == PNG


def test_mcp_answers_an_event_stream_with_its_text(seed: Built, upstream: FakeUpstream) -> None:
    stream = b'data: {"response":"Hel"}\n\ndata: {"response":"lo"}\n\ndata: [DONE]\n\n'
    upstream.responder = lambda request: Answer(200, stream, {"content-type": "text/event-stream"})

    async def call() -> types.CallToolResult:
        async with seed.mcp() as client:
            arguments = {"account_id": "a", "model": "@cf/meta/llama", "body": {"stream": True}}
            return await client.call_tool("cloudflare-execute-ai-model", arguments)

    result = anyio.run(call)
    (text,) = result.content
    assert isinstance(text, types.TextContent) and text.text == "Hello"
    assert result.structured_content == {"events": [{"response": "Hel"}, {"response": "lo"}]}


def test_mapped_outputs_of_a_binary_body_are_still_a_502(make, upstream: FakeUpstream) -> None:
    spec = SEED_SPEC.read_text().replace("mapping: $.", "mapping: $.result", 1)
    built = make(spec, env={"CLOUDFLARE_API_KEY": "k-123456"})
    upstream.responder = lambda request: Answer(200, PNG, {"content-type": "image/png"})
    with built.rest() as client:
        response = client.post(PATH, json={"prompt": "a cat"})
    assert response.status_code == 502


@pytest.mark.parametrize("media", ["audio/wav", "image/png", "application/octet-stream"])
def test_a_raw_request_body_reaches_the_upstream_unchanged(
    seed: Built, upstream: FakeUpstream, media: str
) -> None:
    """Speech recognition and image classification take the bytes themselves as the body."""
    sent = b"RIFF" + os.urandom(64 * 1024)
    upstream.responder = lambda request: Answer(200, {"result": {"text": "ok"}})
    with seed.rest() as client:
        response = client.post(
            "/v1/accounts/acct/ai/run/@cf/openai/whisper",
            content=sent,
            headers={"content-type": media},
        )
    assert response.status_code == 200, response.text
    (seen,) = upstream.requests
    assert seen.body == sent and seen.headers["content-type"] == media


def test_a_raw_request_body_over_the_limit_is_a_413(seed: Built, upstream: FakeUpstream) -> None:
    limit = {f"{seed.package.env_prefix}_MAX_REQUEST_BYTES": "1000"}
    with seed.rest(**limit) as client:
        response = client.post(
            "/v1/accounts/acct/ai/run/@cf/openai/whisper",
            content=os.urandom(2000),
            headers={"content-type": "audio/wav"},
        )
    assert response.status_code == 413
    assert upstream.requests == []
