"""Credentials: inbound auth on both adapters, and no secret in any response or log line."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest

from tests.conftest import SEED_MODULE, SEED_PROJECT
from tests.integration.mcp_client import mcp_client
from tests.support.fake_upstream import DROP, Answer, FakeUpstream
from tests.support.problems import problem_detail
from tests.support.service import RunningService, raw_request

pytestmark = pytest.mark.integration

UPSTREAM_SECRET = "sk-live-LEAKCHECK-1234567890"
INBOUND_TOKEN = "inbound-LEAKCHECK-abcdef0123"
INBOUND_KEY = "apikey-LEAKCHECK-987654321"
MODEL = "@cf/meta/llama-3.1-8b-instruct"
TOOL = "cloudflare-execute-ai-model"


@pytest.fixture(scope="module")
def guarded(fake_upstream_server: FakeUpstream):  # type: ignore[no-untyped-def]
    env = {
        "CLOUDFLARE_API_KEY": UPSTREAM_SECRET,
        "WORKERS_AI_AI_INFERENCE_BASE_URL": f"{fake_upstream_server.url}/client/v4",
        "WORKERS_AI_AI_INFERENCE_API_TOKEN": INBOUND_TOKEN,
        "WORKERS_AI_AI_INFERENCE_API_KEY": INBOUND_KEY,
        "WORKERS_AI_AI_INFERENCE_TIMEOUT": "0.5",
        "WORKERS_AI_AI_INFERENCE_TOTAL_TIMEOUT": "2",
    }
    service = RunningService(SEED_PROJECT, SEED_MODULE, env, ["--log-level", "debug"])
    try:
        service.wait_ready()
        yield service
    finally:
        service.stop()


BEARER = {"Authorization": f"Bearer {INBOUND_TOKEN}"}


def test_both_adapters_refuse_missing_and_wrong_credentials(guarded: RunningService) -> None:
    urls = [guarded.rest_url + f"/v1/accounts/a/ai/run/{MODEL}", guarded.mcp_url]
    for url in urls:
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": f"Basic {INBOUND_TOKEN}"},
            {"X-API-Key": "wrong"},
        ):
            response = httpx.post(url, json={}, headers=headers)
            assert response.status_code == 401, (url, headers)
            schemes = [c.split()[0] for c in response.headers.get_list("www-authenticate")]
            assert schemes == ["Bearer", "ApiKey"]
            assert problem_detail(response, 401) == "missing or wrong credentials"


def test_bearer_or_api_key_is_accepted_on_both_adapters(
    guarded: RunningService, upstream: FakeUpstream
) -> None:
    upstream.responder = lambda request: Answer(200, {"result": {"ok": True}, "success": True})
    for headers in (BEARER, {"X-API-Key": INBOUND_KEY}):
        response = httpx.post(
            guarded.rest_url + f"/v1/accounts/a/ai/run/{MODEL}", json={}, headers=headers
        )
        assert response.status_code == 200

    async def mcp() -> bool:
        async with mcp_client(guarded.mcp_url, INBOUND_TOKEN) as client:
            return (
                await client.call_tool(TOOL, {"account_id": "a", "model": MODEL, "body": {}})
            ).is_error

    assert anyio.run(mcp) is False
    assert all(
        "authorization" not in r.headers or UPSTREAM_SECRET in r.headers["authorization"]
        for r in upstream.requests
    )


def test_health_is_open_but_metrics_and_docs_need_credentials(guarded: RunningService) -> None:
    for port in (guarded.rest_port, guarded.mcp_port):
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 401
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=BEARER)
        assert metrics.status_code == 200 and "capgen_requests_total" in metrics.text


def test_no_secret_appears_in_responses_or_logs(
    guarded: RunningService, upstream: FakeUpstream
) -> None:
    seen: list[str] = []

    def record(response: httpx.Response) -> None:
        seen.append(f"{response.status_code} {dict(response.headers)} {response.text}")

    url = guarded.rest_url + f"/v1/accounts/a/ai/run/{MODEL}"
    # an upstream that echoes everything it received, the credential included
    upstream.responder = lambda request: Answer(
        401, {"received_headers": request.headers, "path": request.raw_path}
    )
    record(httpx.post(url, json={"prompt": "x"}, headers=BEARER))
    upstream.responder = lambda request: Answer(200, {"echo": request.headers.get("authorization")})
    record(httpx.post(url, json={"prompt": "x"}, headers=BEARER))
    upstream.responder = None
    upstream.answer(
        Answer(action=DROP, repeat=3),
        Answer(200, {}, delay=3),
        Answer(500, {"token": UPSTREAM_SECRET}),
    )
    for _ in range(3):
        record(httpx.post(url, json={}, headers=BEARER, timeout=10))
    for path in (
        "/v1/accounts/a/ai/run/..",
        "/v1/accounts/a/ai/run/x%00y",
        "/nope",
        "/openapi.json",
        "/metrics",
    ):
        record(httpx.post(guarded.rest_url + path, json={}, headers=BEARER))
        record(httpx.get(guarded.rest_url + path, headers=BEARER))
    record(
        httpx.post(url, content=b"{" * 10, headers={**BEARER, "content-type": "application/json"})
    )
    record(httpx.post(url, json={}, headers={"Authorization": f"Bearer {INBOUND_TOKEN}x"}))
    status, text = raw_request(
        guarded.rest_port,
        "POST",
        f"/v1/accounts/a/ai/run/{MODEL}",
        b"{}",
        {"Authorization": f"Bearer {INBOUND_TOKEN}"},
    )
    seen.append(f"{status} {text}")

    async def mcp() -> None:
        async with mcp_client(guarded.mcp_url, INBOUND_TOKEN) as client:
            upstream.responder = lambda request: Answer(400, {"received_headers": request.headers})
            result = await client.call_tool(TOOL, {"account_id": "a", "model": MODEL, "body": {}})
            seen.append(result.model_dump_json())
            upstream.responder = None

    anyio.run(mcp)
    log = guarded.output()
    everything = "\n".join(seen) + "\n" + log
    assert UPSTREAM_SECRET not in everything
    assert INBOUND_TOKEN not in everything
    assert INBOUND_KEY not in everything
    assert "***" in "\n".join(seen)  # the echoed credential was redacted, not dropped silently
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("status")]
    assert requests and all(len(line["request_id"]) >= 16 for line in requests)


def test_the_service_binds_loopback_by_default(guarded: RunningService) -> None:
    assert f"http://127.0.0.1:{guarded.rest_port}" in guarded.output()
