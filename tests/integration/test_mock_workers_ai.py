"""capgen's mock upstream answers the seed's run endpoint as Workers AI does (ECOSYSTEM §5, the
Workers AI docs): each model family in its own form, errors in Cloudflare's envelope.

The mock runs under uvicorn on loopback; the checks read the bytes with independent decoders
(PNG signature and IHDR, MPEG audio frame header, base64, SSE framing), never capgen's code.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Iterator

import httpx
import pytest

from generator.mock import create_mock_upstream
from tests.conftest import SEED_MODULE
from tests.support.service import ThreadedServer

TOKEN = {"Authorization": "Bearer mock-key"}
RUN = "/workers-ai-ai-inference/accounts/acct/ai/run/"


@pytest.fixture(scope="module")
def mock() -> Iterator[httpx.Client]:
    capability = __import__(f"{SEED_MODULE}.capability", fromlist=["CAPABILITY"]).CAPABILITY
    with (
        ThreadedServer(create_mock_upstream(capability.operations)) as server,
        httpx.Client(base_url=server.url, headers=TOKEN, timeout=10) as client,
    ):
        yield client


def _is_png(data: bytes) -> bool:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return False
    (length,) = struct.unpack(">I", data[8:12])
    crc = struct.unpack(">I", data[16 + length : 20 + length])[0]
    return crc == zlib.crc32(data[12 : 16 + length]) and data.endswith(b"IEND\xaeB`\x82")


def _is_mp3(data: bytes) -> bool:
    """An MPEG-1 Layer III frame header (ISO 11172-3): sync, version, layer, bitrate, rate."""
    sync, version, layer = data[0] == 0xFF, (data[1] >> 3) & 3, (data[1] >> 1) & 3
    return sync and data[1] >> 5 == 7 and version == 3 and layer == 1 and data[2] >> 4 != 15


def _envelope_error(response: httpx.Response, status: int, code: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"success", "errors", "messages", "result"}
    assert body["success"] is False and body["result"] is None and body["messages"] == []
    (error,) = body["errors"]
    assert error["code"] == code and isinstance(error["message"], str)
    return str(error["message"])


def test_text_generation_answers_json(mock: httpx.Client) -> None:
    messages = [{"role": "user", "content": "Hello"}]
    response = mock.post(RUN + "@cf/meta/llama-3.1-8b-instruct", json={"messages": messages})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["success"] is True and body["errors"] == [] and body["messages"] == []
    assert isinstance(body["result"]["response"], str) and "Hello" in body["result"]["response"]


def test_text_generation_streams_server_sent_events(mock: httpx.Client) -> None:
    body = {"prompt": "Hi", "stream": True}
    response = mock.post(RUN + "@cf/meta/llama-3.1-8b-instruct", json=body)
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = [f for f in response.text.split("\n\n") if f]
    assert all(f.startswith("data: ") for f in frames) and frames[-1] == "data: [DONE]"
    text = "".join(json.loads(f[6:])["response"] for f in frames[:-1])
    assert text.startswith("This is a mock answer")


def test_stable_diffusion_answers_a_raw_png(mock: httpx.Client) -> None:
    model = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
    response = mock.post(RUN + model, json={"prompt": "a lighthouse"})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert _is_png(response.content)


def test_flux_answers_json_with_a_base64_image(mock: httpx.Client) -> None:
    response = mock.post(RUN + "@cf/black-forest-labs/flux-1-schnell", json={"prompt": "a cat"})
    assert response.headers["content-type"].startswith("application/json")
    result = response.json()["result"]
    assert set(result) == {"image"} and _is_png(base64.b64decode(result["image"]))


def test_text_to_speech_answers_audio(mock: httpx.Client) -> None:
    aura = mock.post(RUN + "@cf/deepgram/aura-1", json={"text": "hello"})
    assert aura.headers["content-type"] == "audio/mpeg" and _is_mp3(aura.content)
    melo = mock.post(RUN + "@cf/myshell-ai/melotts", json={"prompt": "hello"})
    assert _is_mp3(base64.b64decode(melo.json()["result"]["audio"]))


def test_errors_use_cloudflare_codes(mock: httpx.Client) -> None:
    unknown = mock.post(RUN + "@cf/no-such-model", json={"prompt": "x"})
    assert "@cf/no-such-model" in _envelope_error(unknown, 400, 5007)
    bad = mock.post(RUN + "@cf/meta/llama-3.1-8b-instruct", json={"promt": "typo"})
    assert "prompt" in _envelope_error(bad, 400, 5006)
    anonymous = httpx.post(mock.base_url.join(RUN + "@cf/meta/llama-3-8b"), json={"prompt": "x"})
    _envelope_error(anonymous, 401, 10000)


def test_past_the_per_minute_limit_is_3040_with_retry_after(mock: httpx.Client) -> None:
    """Workers AI's default text-generation limit is 300 requests a minute per model."""
    model = RUN + "@cf/qwen/qwen1.5-0.5b-chat"
    statuses = [mock.post(model, json={"prompt": "x"}).status_code for _ in range(300)]
    assert statuses == [200] * 300
    throttled = mock.post(model, json={"prompt": "x"})
    _envelope_error(throttled, 429, 3040)
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    other = mock.post(RUN + "@cf/meta/llama-3.1-8b-instruct", json={"prompt": "x"})
    assert other.status_code == 200  # the limit is per model
