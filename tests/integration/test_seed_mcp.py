"""The generated seed service over MCP (the SDK's client, streamable HTTP)."""

from __future__ import annotations

import json

import httpx
import pytest
from mcp import MCPError

from tests.conftest import INBOUND_TOKEN, UPSTREAM_KEY
from tests.integration.mcp_client import mcp_client
from tests.support.fake_upstream import DROP, Answer, FakeUpstream
from tests.support.service import RunningService

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

TOOL = "cloudflare-execute-ai-model"
MODEL = "@cf/meta/llama-3.1-8b-instruct"
ARGS = {"account_id": "abc123", "model": MODEL, "body": {"prompt": "Tell me a joke"}}


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_initialize_and_list_tools(seed_service: RunningService, mode: str) -> None:
    async with mcp_client(seed_service.mcp_url, INBOUND_TOKEN, mode) as client:
        listed = await client.list_tools()
    (tool,) = listed.tools
    assert tool.name == TOOL
    assert tool.description == "Cloudflare Execute Ai Model"
    schema = tool.input_schema
    assert schema["type"] == "object"
    assert {k: v["type"] for k, v in schema["properties"].items()} == {
        "account_id": "string",
        "model": "string",
        "body": "object",
    }
    assert sorted(schema["required"]) == ["account_id", "body", "model"]
    annotations = tool.annotations.model_dump(by_alias=True, exclude_none=True)
    assert annotations == {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": False}


async def test_call_sends_the_spec_request_and_returns_the_whole_body(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    async with mcp_client(seed_service.mcp_url, INBOUND_TOKEN) as client:
        result = await client.call_tool(TOOL, ARGS)
    assert result.is_error is False
    assert json.loads(result.content[0].text) == {
        "result": {"response": "Hello from the fake Workers AI."},
        "success": True,
        "errors": [],
        "messages": [],
    }
    (seen,) = upstream.requests
    assert (seen.method, seen.raw_path) == ("POST", f"/client/v4/accounts/abc123/ai/run/{MODEL}")
    assert seen.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert seen.json() == {"prompt": "Tell me a joke"}


async def test_upstream_400_is_an_error_result_with_the_body(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    error = {"success": False, "errors": [{"code": 5006, "message": "AiError: bad input"}]}
    upstream.answer(Answer(400, error))
    async with mcp_client(seed_service.mcp_url, INBOUND_TOKEN) as client:
        result = await client.call_tool(TOOL, ARGS)
    assert result.is_error is True
    assert json.loads(result.content[0].text) == error


async def test_upstream_500_is_an_error_result(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    upstream.answer(Answer(500, {"success": False}))
    async with mcp_client(seed_service.mcp_url, INBOUND_TOKEN) as client:
        result = await client.call_tool(TOOL, ARGS)
    assert result.is_error is True


async def test_upstream_down_is_an_error_result_without_secrets(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    upstream.answer(Answer(action=DROP, repeat=5))
    async with mcp_client(seed_service.mcp_url, INBOUND_TOKEN) as client:
        result = await client.call_tool(TOOL, ARGS)
    assert result.is_error is True
    assert "could not be reached" in result.content[0].text
    assert UPSTREAM_KEY not in result.content[0].text


async def test_arguments_outside_the_input_schema_are_tool_errors_naming_each(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    """Protocol 2025-11-25: input validation errors are tool results the model can correct."""
    async with mcp_client(seed_service.mcp_url, INBOUND_TOKEN) as client:
        missing = await client.call_tool(TOOL, {"model": MODEL, "body": {}})
        typed = await client.call_tool(TOOL, {"account_id": 123, "model": MODEL, "body": [1, 2]})
        text = await client.call_tool(TOOL, {**ARGS, "body": "not-an-object"})
    assert (
        missing.is_error and missing.content[0].text == "Invalid arguments: account_id: is required"
    )
    assert typed.is_error and typed.content[0].text == (
        "Invalid arguments: account_id: must be of type string, not integer; "
        "body: must be of type object, not array"
    )
    assert text.is_error and "body: must be of type object, not string" in text.content[0].text
    assert upstream.requests == []


async def test_dot_dot_in_model_is_a_tool_error(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    async with mcp_client(seed_service.mcp_url, INBOUND_TOKEN) as client:
        result = await client.call_tool(TOOL, {**ARGS, "model": "@cf/../../zones"})
    assert result.is_error and "model" in result.content[0].text
    assert upstream.requests == []


async def test_unknown_tool_is_invalid_params(seed_service: RunningService) -> None:
    async with mcp_client(seed_service.mcp_url, INBOUND_TOKEN) as client:
        with pytest.raises(MCPError) as caught:
            await client.call_tool("no-such-tool", {})
    assert caught.value.error.code == -32602


async def test_the_mcp_endpoint_requires_the_inbound_token(seed_service: RunningService) -> None:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    async with httpx.AsyncClient() as http:
        response = await http.post(seed_service.mcp_url, json=initialize)
        wrong = await http.post(
            seed_service.mcp_url, json=initialize, headers={"Authorization": "Bearer nope"}
        )
    assert response.status_code == wrong.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
