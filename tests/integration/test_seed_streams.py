"""Server-sent-event streams through the served seed: relayed as they arrive, not buffered.

A real streaming upstream (Starlette under uvicorn, in a thread) sends events with pauses and
logs each one it has written; the generated service runs as its own process. Order, not wall
clock, is the evidence: the caller holds the first event while the upstream has not yet sent
its last, and a caller who goes away makes the upstream see its stream closed early.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator

import anyio
import httpx
import mcp.types as types
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from tests.conftest import INBOUND_TOKEN, SEED_MODULE, SEED_PROJECT, SEED_SPEC
from tests.integration.mcp_client import mcp_client
from tests.support.packages import Built
from tests.support.service import RunningService, ThreadedServer

pytestmark = pytest.mark.integration
EVENTS = [f'data: {{"response":"w{i} "}}\n\n'.encode() for i in range(6)] + [b"data: [DONE]\n\n"]
SECRET = "upstream-key-9f8e7d6c"


class StreamingUpstream:
    def __init__(self, pause: float, script: list[bytes] = EVENTS) -> None:
        self.pause = pause
        self.sent: list[int] = []
        self.finished = threading.Event()
        self.closed_early = threading.Event()

        async def run(request: Request) -> StreamingResponse:
            self.sent.clear()
            await request.body()

            async def events() -> AsyncIterator[bytes]:
                try:
                    for index, event in enumerate(script):
                        yield event
                        self.sent.append(index)
                        await asyncio.sleep(self.pause)
                    self.finished.set()
                except BaseException:
                    self.closed_early.set()
                    raise

            return StreamingResponse(events(), media_type="text/event-stream")

        routes = [Route("/client/v4/accounts/{rest:path}", run, methods=["POST"])]
        self.server = ThreadedServer(Starlette(routes=routes))
        self.port = self.server.port

    def __enter__(self) -> StreamingUpstream:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


def _serve(upstream: StreamingUpstream, **extra: str) -> RunningService:
    env = {
        "CLOUDFLARE_API_KEY": SECRET,
        "WORKERS_AI_AI_INFERENCE_BASE_URL": f"http://127.0.0.1:{upstream.port}/client/v4",
        "WORKERS_AI_AI_INFERENCE_API_TOKEN": INBOUND_TOKEN,
        "WORKERS_AI_AI_INFERENCE_TIMEOUT": "2",
        **extra,
    }
    service = RunningService(SEED_PROJECT, SEED_MODULE, env, [])
    service.wait_ready()
    return service


@pytest.fixture
def stream_call() -> Iterator[tuple[str, dict[str, str]]]:
    path = "/v1/accounts/acct/ai/run/@cf/meta/llama-3.1-8b-instruct"
    yield path, {"Authorization": f"Bearer {INBOUND_TOKEN}"}


def test_events_arrive_one_by_one_and_byte_identical(
    stream_call: tuple[str, dict[str, str]],
) -> None:
    path, headers = stream_call
    with StreamingUpstream(pause=0.3) as upstream:
        service = _serve(upstream)
        try:
            received = b""
            seen_at_first: list[int] | None = None
            body = {"messages": [{"role": "user", "content": "hi"}], "stream": True}
            with httpx.stream(
                "POST", service.rest_url + path, json=body, headers=headers, timeout=10
            ) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                for chunk in response.iter_raw():
                    if seen_at_first is None and chunk:
                        seen_at_first = list(upstream.sent)
                    received += chunk
            assert seen_at_first is not None and len(seen_at_first) < len(EVENTS) - 1
            assert received == b"".join(EVENTS)
        finally:
            service.stop()


def test_a_stream_longer_than_the_total_deadline_completes(
    stream_call: tuple[str, dict[str, str]],
) -> None:
    path, headers = stream_call
    with StreamingUpstream(pause=0.25) as upstream:  # 7 events: about 1.75 s against 1 s
        service = _serve(upstream, WORKERS_AI_AI_INFERENCE_TOTAL_TIMEOUT="1")
        try:
            response = httpx.post(
                service.rest_url + path, json={"stream": True}, headers=headers, timeout=10
            )
            assert response.status_code == 200 and response.content == b"".join(EVENTS)
        finally:
            service.stop()


def test_a_stalled_stream_ends_and_is_logged(stream_call: tuple[str, dict[str, str]]) -> None:
    path, headers = stream_call
    with StreamingUpstream(pause=3.0) as upstream:  # longer than the 2 s read timeout
        service = _serve(upstream)
        try:
            response = httpx.post(
                service.rest_url + path, json={"stream": True}, headers=headers, timeout=20
            )
            # the 200 went out with the first event: the stall is said in the stream itself
            assert response.status_code == 200 and response.content.startswith(EVENTS[0])
            marker = response.content[len(EVENTS[0]) :].strip().split(b"\n")
            assert marker[0] == b"event: error" and marker[1].startswith(b"data: ")
            problem = json.loads(marker[1][len(b"data: ") :])
            assert problem["status"] == 504 and problem["detail"] == "the upstream stream stalled"
            assert "upstream stream ended early: ReadTimeout" in service.output()
        finally:
            service.stop()


def test_a_caller_who_goes_away_closes_the_upstream_stream(
    stream_call: tuple[str, dict[str, str]],
) -> None:
    path, headers = stream_call
    with StreamingUpstream(pause=0.4) as upstream:
        service = _serve(upstream)
        try:
            with httpx.stream(
                "POST", service.rest_url + path, json={"stream": True}, headers=headers, timeout=10
            ) as response:
                next(response.iter_raw())
            assert upstream.closed_early.wait(10), "the upstream stream was not closed"
            assert not upstream.finished.is_set()
        finally:
            service.stop()


def test_a_secret_split_across_two_chunks_is_still_redacted(
    stream_call: tuple[str, dict[str, str]],
) -> None:
    path, headers = stream_call
    split = [
        b'data: {"response":"the key is ' + SECRET[:8].encode(),
        SECRET[8:].encode() + b'"}\n\n',
        b"data: [DONE]\n\n",
    ]
    with StreamingUpstream(pause=0.2, script=split) as upstream:
        service = _serve(upstream)
        try:
            response = httpx.post(
                service.rest_url + path, json={"stream": True}, headers=headers, timeout=10
            )
            assert response.status_code == 200
            assert SECRET.encode() not in response.content
            assert SECRET[:8].encode() not in response.content
            assert response.content == b'data: {"response":"the key is ***"}\n\ndata: [DONE]\n\n'
        finally:
            service.stop()


def _mcp_seed(make, upstream: StreamingUpstream) -> Built:  # type: ignore[no-untyped-def]
    return make(
        SEED_SPEC.read_text(),
        env={
            "CLOUDFLARE_API_KEY": SECRET,
            "WORKERS_AI_AI_INFERENCE_BASE_URL": f"http://127.0.0.1:{upstream.port}/client/v4",
        },
    )


ARGUMENTS = {"account_id": "a", "model": "@cf/meta/llama", "body": {"stream": True}}


def test_mcp_sends_each_increment_as_progress_before_the_result(make) -> None:  # type: ignore[no-untyped-def]
    with StreamingUpstream(pause=0.1) as upstream:
        built = _mcp_seed(make, upstream)
        seen: list[tuple[float, str | None]] = []

        async def progress(value: float, total: float | None, message: str | None) -> None:
            seen.append((value, message))

        async def call() -> types.CallToolResult:
            async with built.mcp() as client:
                return await client.call_tool(
                    "cloudflare-execute-ai-model", ARGUMENTS, progress_callback=progress
                )

        result = anyio.run(call)
    words = "".join(f"w{i} " for i in range(6))
    assert not result.is_error and result.content[0].text == words  # type: ignore[union-attr]
    assert len(seen) >= 3, seen
    assert [value for value, _ in seen] == sorted(value for value, _ in seen)
    messages = [message or "" for _, message in seen]
    assert "".join(messages) == words and all(messages)  # each one says only what is new


def test_mcp_without_a_progress_token_sends_only_the_result(make) -> None:  # type: ignore[no-untyped-def]
    with StreamingUpstream(pause=0.05) as upstream:
        built = _mcp_seed(make, upstream)
        seen: list[object] = []

        async def call() -> types.CallToolResult:
            async with built.mcp() as client:
                return await client.call_tool("cloudflare-execute-ai-model", ARGUMENTS)

        result = anyio.run(call)
    assert result.content[0].text == "".join(f"w{i} " for i in range(6))  # type: ignore[union-attr]
    assert seen == []


def test_mcp_over_http_streams_progress_for_callers_who_ask(
    stream_call: tuple[str, dict[str, str]],
) -> None:
    """Over streamable HTTP a call with a progress token is answered as SSE (notifications,
    then the result); one without stays a plain JSON response."""
    with StreamingUpstream(pause=0.1) as upstream:
        service = _serve(upstream)
        try:
            seen: list[str | None] = []

            async def progress(value: float, total: float | None, message: str | None) -> None:
                seen.append(message)

            async def call(with_progress: bool) -> types.CallToolResult:
                async with mcp_client(service.mcp_url, INBOUND_TOKEN) as client:
                    return await client.call_tool(
                        "cloudflare-execute-ai-model",
                        ARGUMENTS,
                        progress_callback=progress if with_progress else None,
                    )

            words = "".join(f"w{i} " for i in range(6))
            result = anyio.run(call, True)
            assert result.content[0].text == words  # type: ignore[union-attr]
            assert len(seen) >= 3 and "".join(m or "" for m in seen) == words
            plain = httpx.post(
                service.mcp_url,
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "tools/call",
                    "params": {"name": "cloudflare-execute-ai-model", "arguments": ARGUMENTS},
                },
                headers={
                    "Authorization": f"Bearer {INBOUND_TOKEN}",
                    "Accept": "application/json, text/event-stream",
                    "MCP-Protocol-Version": "2025-11-25",
                },
                timeout=10,
            )
            assert plain.headers["content-type"].startswith("application/json"), plain.text
            assert plain.json()["result"]["content"][0]["text"] == words
        finally:
            service.stop()


def test_the_generated_client_streams_like_httpx() -> None:
    from workers_ai_ai_inference.client import WorkersAiAiInferenceClient
    from workers_ai_ai_inference.settings import load

    with StreamingUpstream(pause=0.2) as upstream:
        env = {
            "CLOUDFLARE_API_KEY": SECRET,
            "WORKERS_AI_AI_INFERENCE_BASE_URL": f"http://127.0.0.1:{upstream.port}/client/v4",
        }

        async def read() -> tuple[list[int], bytes]:
            async with (
                WorkersAiAiInferenceClient(load(env)) as client,
                client.stream(
                    client.executeaimodel, account_id="a", model="@cf/m", body={"stream": True}
                ) as response,
            ):
                assert response.headers["content-type"].startswith("text/event-stream")
                chunks = response.aiter_raw()
                first = await chunks.__anext__()
                sent_then = list(upstream.sent)
                rest = b"".join([chunk async for chunk in chunks])
            return sent_then, first + rest

        sent_then, received = anyio.run(read)
    assert len(sent_then) < len(EVENTS) - 1 and received == b"".join(EVENTS)


def test_an_mcp_stream_over_the_size_limit_is_an_error_result(make) -> None:  # type: ignore[no-untyped-def]
    with StreamingUpstream(pause=0.02) as upstream:
        built = _mcp_seed(make, upstream)
        limit = {f"{built.package.env_prefix}_MAX_RESPONSE_BYTES": "60"}

        async def progress(value: float, total: float | None, message: str | None) -> None:
            pass

        async def call() -> types.CallToolResult:
            async with built.mcp(**limit) as client:
                return await client.call_tool(
                    "cloudflare-execute-ai-model", ARGUMENTS, progress_callback=progress
                )

        result = anyio.run(call)
    assert result.is_error
    assert "larger than 60 bytes" in result.content[0].text  # type: ignore[union-attr]


def test_mcp_progress_sends_increments_not_the_text_so_far(
    stream_call: tuple[str, dict[str, str]],
) -> None:
    """Issue 21 finding 8: a 98 KiB stream with progress was 38 MiB on the wire, every
    notification resending the whole text; now each carries what is new and the result the
    whole text, so the answer is a small multiple of the text."""
    piece = "x" * 97
    script = [f'data: {{"response":"{piece}{i:03d}"}}\n\n'.encode() for i in range(1000)]
    text = "".join(f"{piece}{i:03d}" for i in range(1000))
    assert len(text) == 100_000  # 98 KiB
    with StreamingUpstream(pause=0.003, script=[*script, b"data: [DONE]\n\n"]) as upstream:
        service = _serve(upstream)
        try:
            call = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {
                    "name": "cloudflare-execute-ai-model",
                    "arguments": ARGUMENTS,
                    "_meta": {"progressToken": "p"},
                },
            }
            headers = {
                "Authorization": f"Bearer {INBOUND_TOKEN}",
                "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": "2025-11-25",
            }
            with httpx.stream(
                "POST", service.mcp_url, json=call, headers=headers, timeout=60
            ) as response:
                sent = b"".join(response.iter_raw())
        finally:
            service.stop()
    messages = [json.loads(line[6:]) for line in sent.split(b"\n") if line.startswith(b"data: ")]
    increments = [m["params"]["message"] for m in messages if m.get("method")]
    (result,) = [m["result"] for m in messages if "result" in m]
    assert "".join(increments) == text and result["content"][0]["text"] == text
    assert len(increments) > 100
    # 1,000 notifications of ~150 bytes around their increment, then the text and its events
    # again in the result: about 450 KB (before: 50 MB, every notification the text so far)
    assert len(sent) < 1024 * 1024, len(sent)
