"""A bounded load on loopback: 200 concurrent REST requests and 50 concurrent MCP sessions,
against the served seed package and a slightly slow upstream; zero errors allowed."""

from __future__ import annotations

import asyncio
import time

import anyio
import httpx
import pytest

from tests.conftest import INBOUND_TOKEN
from tests.integration.mcp_client import mcp_client
from tests.support.fake_upstream import Answer, FakeUpstream
from tests.support.service import RunningService

pytestmark = pytest.mark.integration

MODEL = "@cf/meta/llama-3.1-8b-instruct"


def test_200_concurrent_rest_requests(seed_service: RunningService, upstream: FakeUpstream) -> None:
    upstream.responder = lambda request: Answer(
        200, {"result": {"response": request.raw_path}, "success": True}, delay=0.05
    )

    async def run() -> list[int]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(
            limits=limits, timeout=60, headers={"Authorization": f"Bearer {INBOUND_TOKEN}"}
        ) as client:

            async def one(i: int) -> int:
                response = await client.post(
                    f"{seed_service.rest_url}/v1/accounts/acc-{i}/ai/run/{MODEL}",
                    json={"prompt": str(i)},
                )
                assert response.json()["result"]["response"].endswith(MODEL)
                return response.status_code

            return await asyncio.gather(*(one(i) for i in range(200)))

    started = time.perf_counter()
    statuses = asyncio.run(run())
    assert statuses == [200] * 200
    assert len({r.raw_path for r in upstream.requests}) == 200
    assert time.perf_counter() - started < 60


def test_50_concurrent_mcp_sessions(seed_service: RunningService, upstream: FakeUpstream) -> None:
    upstream.responder = lambda request: Answer(
        200, {"result": {"ok": True}, "success": True}, delay=0.05
    )
    failures: list[str] = []

    async def session(i: int) -> None:
        async with mcp_client(seed_service.mcp_url, INBOUND_TOKEN) as client:
            tools = await client.list_tools()
            assert tools.tools[0].name == "cloudflare-execute-ai-model"
            for j in range(2):
                result = await client.call_tool(
                    "cloudflare-execute-ai-model",
                    {"account_id": f"a{i}", "model": MODEL, "body": {"n": j}},
                )
                if result.is_error:
                    failures.append(result.content[0].text)

    async def run() -> None:
        async with anyio.create_task_group() as group:
            for i in range(50):
                group.start_soon(session, i)

    anyio.run(run)
    assert failures == []
    assert len(upstream.requests) == 100
