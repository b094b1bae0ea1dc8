"""Requests a hostile caller or a hostile web page sends to the served seed (issue 21, findings
9, 10 and 11): JSON nested past what a parser follows, JSON-RPC ids of the wrong type, bytes
that are not UTF-8 in a path, and, with `--no-auth`, a cross-site post or a rebound Host.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import INBOUND_TOKEN, SEED_MODULE, SEED_PROJECT, seed_env
from tests.support.fake_upstream import FakeUpstream
from tests.support.service import RunningService, raw_request

pytestmark = pytest.mark.integration

MODEL = "@cf/meta/llama-3.1-8b-instruct"
MCP_HEADERS = {
    "Authorization": f"Bearer {INBOUND_TOKEN}",
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": "2025-11-25",
}
DEEP = 100_000


@pytest.mark.parametrize(
    "body",
    [
        b"[" * DEEP + b"]" * DEEP,
        b'{"a":' * DEEP + b"1" + b"}" * DEEP,
        b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":'
        + b"[" * DEEP
        + b"]" * DEEP
        + b"}}",
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":1},'
        b'"x":' + b"[" * DEEP + b"]" * DEEP + b"}}",
    ],
)
def test_deeply_nested_json_is_a_400_on_mcp_as_on_rest(
    seed_service: RunningService, upstream: FakeUpstream, body: bytes
) -> None:
    mcp = httpx.post(seed_service.mcp_url, content=body, headers=MCP_HEADERS)
    rest = httpx.post(
        f"{seed_service.rest_url}/v1/accounts/a/ai/run/{MODEL}", content=body, headers=MCP_HEADERS
    )
    assert mcp.status_code == 400 and mcp.json()["error"]["code"] in (-32600, -32700), mcp.text
    assert rest.status_code in (400, 422), rest.text
    assert upstream.requests == []


@pytest.mark.parametrize("request_id", [{"a": 1}, [1], True, False, 1.5, None, 1e3])
def test_a_request_id_that_is_not_a_string_or_an_integer_is_32600(
    seed_service: RunningService, request_id: object
) -> None:
    for method in ("tools/list", "tools/call"):
        message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": {}}
        response = httpx.post(seed_service.mcp_url, json=message, headers=MCP_HEADERS)
        assert response.status_code == 400, (request_id, response.status_code, response.text)
        assert response.json()["error"]["code"] == -32600


def test_ids_that_are_strings_or_integers_are_served(seed_service: RunningService) -> None:
    for request_id in ("7", 7, -7, 0):
        message = {"jsonrpc": "2.0", "id": request_id, "method": "tools/list"}
        response = httpx.post(seed_service.mcp_url, json=message, headers=MCP_HEADERS)
        assert response.status_code == 200 and response.json()["id"] == request_id
    # an argument named `id` holding an object is no request id
    call = {
        "jsonrpc": "2.0",
        "id": 8,
        "method": "tools/call",
        "params": {"name": "nope", "arguments": {"id": {"a": [1.5, True]}}},
    }
    assert httpx.post(seed_service.mcp_url, json=call, headers=MCP_HEADERS).status_code == 200


@pytest.mark.parametrize("value", ["%ff", "caf%e9", "%c3%28", "a%80b", "%ed%a0%80"])
def test_a_path_value_that_is_not_utf8_is_refused(
    seed_service: RunningService, upstream: FakeUpstream, value: str
) -> None:
    status, text = raw_request(
        seed_service.rest_port, "POST", f"/v1/accounts/{value}/ai/run/m", b"{}"
    )
    assert status == 400 and "not UTF-8" in text
    status, text = raw_request(
        seed_service.rest_port, "POST", f"/v1/accounts/a/ai/run/@cf/{value}", b"{}"
    )
    assert status == 400 and "not UTF-8" in text
    assert upstream.requests == []


def test_a_real_replacement_character_is_still_sent(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    status, _ = raw_request(
        seed_service.rest_port, "POST", "/v1/accounts/%EF%BF%BD/ai/run/m", b"{}"
    )
    assert status == 200
    assert upstream.requests[-1].raw_path == "/client/v4/accounts/%EF%BF%BD/ai/run/m"


@pytest.fixture(scope="module")
def open_service(fake_upstream_server: FakeUpstream) -> Iterator[RunningService]:
    """The seed with `--no-auth`, on loopback: a browser on the same machine can reach it."""
    service = RunningService(
        SEED_PROJECT, SEED_MODULE, seed_env(fake_upstream_server.url), ["--no-auth"]
    )
    try:
        service.wait_ready()
        yield service
    finally:
        service.stop()


def test_no_auth_rest_refuses_a_cross_site_text_post(
    open_service: RunningService, upstream: FakeUpstream
) -> None:
    """What a web page can send without asking (a CORS "simple" request): text/plain, with
    its own Origin; and through DNS rebinding, with its own Host."""
    url = f"{open_service.rest_url}/v1/accounts/a/ai/run/{MODEL}"
    body = b'{"prompt": "spend the owner\'s credits"}'
    cases = [
        ({"Content-Type": "text/plain", "Origin": "https://evil.example"}, 403),
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "application/json", "Host": "evil.example"}, 421),
        ({"Content-Type": "application/json", "Origin": "https://evil.example"}, 403),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({}, 415),
    ]
    for headers, status in cases:
        response = httpx.post(url, content=body, headers=headers)
        assert response.status_code == status, (headers, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert upstream.requests == []
    good = httpx.post(url, content=body, headers={"Content-Type": "application/json"})
    assert good.status_code == 200 and len(upstream.requests) == 1
    same_site = {"Content-Type": "application/json", "Origin": open_service.rest_url}
    assert httpx.post(url, content=body, headers=same_site).status_code == 200
