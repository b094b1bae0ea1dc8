"""Typed contracts (issue 13): each exposed input and output has one JSON Schema, which MCP
publishes (inputSchema, outputSchema) and enforces, and which the REST adapter's OpenAPI
document publishes and the adapter enforces. The expectations are written from the spec text
and the protocols (MCP 2025-11-25, OpenAPI 3.1, RFC 9457), not read back from capgen."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from typing import Any

import anyio
import httpx
import pytest
from mcp import MCPError
from starlette.testclient import TestClient

from tests.conftest import INBOUND_TOKEN, SEED_MODULE, SEED_PROJECT
from tests.integration.mcp_client import mcp_client
from tests.support.fake_upstream import Answer, FakeUpstream
from tests.support.packages import TOKEN, Built
from tests.support.problems import problem_detail
from tests.support.service import RunningService

pytestmark = pytest.mark.integration
TOOL = "cloudflare-execute-ai-model"
ARGS = {"account_id": "acct", "model": "@cf/meta/llama-3.1-8b-instruct", "body": {"prompt": "hi"}}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24

CATALOG = """
naftiko: 1.0.0-alpha2
info: {label: Catalog, description: typed contracts}
capability:
  consumes:
  - type: http
    namespace: shop
    baseUri: https://shop.example.com
    resources:
    - name: items
      path: /items
      operations:
      - name: list-items
        method: GET
        inputParameters:
        - {name: kind, in: query}
        - {name: limit, in: query, type: integer}
    - name: item
      path: /items/{{id}}
      operations: [{name: get-item, method: GET}, {name: update-item, method: PUT}]
  exposes:
  - type: rest
    namespace: catalog-rest
    port: 8080
    resources:
    - path: /items
      name: items
      description: The catalog
      operations:
      - method: GET
        name: list
        call: shop.list-items
        inputParameters:
        - {name: kind, in: query, type: string, enum: [book, film], description: what kind}
        - {name: limit, in: query, type: integer, minimum: 1, maximum: 50}
        outputParameters:
        - type: array
          mapping: $.items
          items:
            type: object
            properties:
              id: {type: string, mapping: $.id}
              price: {type: number, mapping: $.price}
    - path: /items/{id}
      name: item
      operations:
      - {method: GET, name: get, call: shop.get-item}
      - {method: PUT, name: update, call: shop.update-item}
  - type: mcp
    namespace: catalog-mcp
    port: 9090
    tools:
    - name: list-items
      label: List the catalog
      description: Items of one kind.
      call: shop.list-items
      inputParameters:
      - {name: kind, type: string, enum: [book, film], description: what kind}
      - {name: limit, type: integer, required: false}
      outputParameters:
      - type: array
        mapping: $.items
        items:
          type: object
          properties:
            id: {type: string, mapping: $.id}
    prompts:
    - name: describe
      description: Describe an item.
      arguments: [{name: item, description: which item}]
      template: [{role: user, content: 'Describe {{item}}'}]
"""


# -- MCP --------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_seed_tool_publishes_its_schemas_and_answers_structured_content(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    answer = {"result": {"response": "hello"}, "success": True, "errors": [], "messages": []}
    upstream.answer(Answer(200, answer))
    upstream.answer(Answer(200, PNG, {"content-type": "image/png"}))
    async with mcp_client(seed_service.mcp_url, INBOUND_TOKEN) as client:
        (tool,) = (await client.list_tools()).tools
        as_json = await client.call_tool(TOOL, ARGS)
        as_image = await client.call_tool(TOOL, ARGS)
    # the spec's outputs: `{type: object, mapping: $.}`, the whole body, which may be anything
    # (an image, an event stream): no output schema asserts what it cannot know (DEV-26)
    assert tool.output_schema is None
    assert tool.input_schema["required"] == ["account_id", "model", "body"]
    assert tool.input_schema["properties"]["body"]["type"] == "object"
    assert as_json.is_error is False and as_json.structured_content == answer
    assert json.loads(as_json.content[0].text) == answer  # the JSON as text, for older clients
    assert as_image.content[0].type == "image"
    assert base64.b64decode(as_image.content[0].data) == PNG
    assert as_image.structured_content == {"mimeType": "image/png", "size": len(PNG)}


def test_a_typed_array_output_is_wrapped_as_its_schema_says(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    built: Built = make(CATALOG)
    upstream.answer(Answer(200, {"items": [{"id": "b-1", "price": 3}, {"id": "f-2"}]}))

    async def run() -> tuple[Any, Any]:
        async with built.mcp() as client:
            tool = next(t for t in (await client.list_tools()).tools if t.name == "list-items")
            return tool, await client.call_tool("list-items", {"kind": "book"})

    tool, result = anyio.run(run)
    assert tool.title == "List the catalog"
    assert tool.input_schema["properties"]["kind"] == {
        "type": "string",
        "enum": ["book", "film"],
        "description": "what kind",
    }
    assert tool.output_schema == {  # an array is not an object: it is the `result` property
        "type": "object",
        "properties": {
            "result": {
                "type": "array",
                "items": {
                    "type": ["object", "null"],
                    "properties": {"id": {"type": ["string", "null"]}},
                },
            }
        },
        "required": ["result"],
    }
    assert result.is_error is False
    assert result.structured_content == {"result": [{"id": "b-1"}, {"id": "f-2"}]}
    assert (upstream.requests[-1].path, upstream.requests[-1].query) == ("/shop/items", "kind=book")


def test_arguments_are_checked_against_the_input_schema_first(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    built: Built = make(CATALOG)

    async def run() -> list[Any]:
        async with built.mcp() as client:
            return [
                await client.call_tool("list-items", {"kind": "music"}),
                await client.call_tool("list-items", {"kind": "book", "limit": "ten"}),
                await client.call_tool("list-items", {}),
            ]

    enum, typed, missing = anyio.run(run)
    assert enum.is_error and enum.content[0].text == (
        "Invalid arguments: kind: must be one of 'book', 'film'"
    )
    assert typed.is_error and "limit: must be of type integer, not string" in typed.content[0].text
    assert missing.is_error and missing.content[0].text == "Invalid arguments: kind: is required"
    assert upstream.requests == []


def test_a_prompt_without_a_required_argument_is_invalid_params(make) -> None:  # type: ignore[no-untyped-def]
    built: Built = make(CATALOG)

    async def run() -> tuple[str, str]:
        async with built.mcp() as client:
            filled = await client.get_prompt("describe", {"item": "b-1"})
            with pytest.raises(MCPError) as caught:
                await client.get_prompt("describe", {})
        assert caught.value.error.code == -32602
        return filled.messages[0].content.text, caught.value.error.message  # type: ignore[union-attr]

    text, message = anyio.run(run)
    assert text == "Describe b-1"
    assert "item" in message and "{{" not in message


def _mcp_http(built: Built) -> TestClient:
    app = built.module.mcp_server.create_app(built.service())
    return TestClient(
        app, headers={"Authorization": f"Bearer {TOKEN}"}, base_url="http://127.0.0.1:9090"
    )


def test_the_stateless_endpoint_refuses_get_and_envelopes_that_are_not_json_rpc(make) -> None:  # type: ignore[no-untyped-def]
    built: Built = make(CATALOG)
    with _mcp_http(built) as client:
        get = client.get("/mcp", headers={"Accept": "text/event-stream"})
        resumed = client.get("/mcp", headers={"Accept": "text/event-stream", "Last-Event-ID": "7"})
        headers = {
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
        }
        bad = [
            client.post("/mcp", content=body, headers=headers)
            for body in (
                b'{"jsonrpc": "1.0", "id": 1, "method": "ping"}',
                b"[1, 2]",
                b'"ping"',
                b"3",
            )
        ]
    assert (get.status_code, get.headers["allow"]) == (405, "POST, DELETE")
    assert resumed.status_code == 405
    for response in bad:
        error = response.json()["error"]
        assert response.status_code == 400 and error["code"] == -32600, response.text
        assert "\n" not in error["message"] and len(error["message"]) < 100


def test_stdio_with_mock_answers_from_the_embedded_upstream() -> None:
    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": TOOL, "arguments": ARGS}},
    ]  # fmt: skip
    stdin = "".join(json.dumps(line) + "\n" for line in lines)
    env = {"PYTHONPATH": str(SEED_PROJECT), "PATH": "/usr/bin:/bin"}  # no credentials at all
    done = subprocess.run(
        [sys.executable, "-m", SEED_MODULE, "stdio", "--mock"],
        input=stdin, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    replies = {r["id"]: r for r in map(json.loads, done.stdout.splitlines())}
    result = replies[2]["result"]
    assert result["isError"] is False, result
    assert "mock answer" in result["structuredContent"]["result"]["response"]
    assert "mock upstream" in done.stderr and "token" not in done.stderr.lower()


# -- REST -------------------------------------------------------------------------------------


def _document(built: Built, **env: str) -> dict[str, Any]:
    with built.rest(**env) as client:
        return dict(client.get("/openapi.json", headers={"Authorization": ""}).json())


def test_the_openapi_document_describes_each_operation(make) -> None:  # type: ignore[no-untyped-def]
    built: Built = make(CATALOG)
    document = _document(built)
    assert document["openapi"] == "3.1.0"
    listing = document["paths"]["/items"]["get"]
    assert listing["tags"] == ["items"] and document["tags"][:2] == [
        {"name": "items"},
        {"name": "item"},
    ]
    kind, limit = listing["parameters"]
    assert kind == {
        "name": "kind", "in": "query", "required": False,
        "schema": {"type": "string", "enum": ["book", "film"]}, "description": "what kind",
    }  # fmt: skip
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 50}
    ok = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["type"] == "array" and set(ok["items"]["properties"]) == {"id", "price"}
    for status in ("400", "401", "404", "422", "502", "503", "504"):
        content = listing["responses"][status]["content"]
        assert content["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }
    assert set(document["components"]["schemas"]["Problem"]["required"]) == {
        "type", "title", "status", "detail",
    }  # fmt: skip
    update = document["paths"]["/items/{id}"]["put"]
    assert update["parameters"][0]["in"] == "path" and update["parameters"][0]["required"] is True
    ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids)) == 3
    assert document["components"]["securitySchemes"] == {
        "bearer": {"type": "http", "scheme": "bearer"}
    }
    assert document["security"] == [{"bearer": []}]


@pytest.mark.parametrize(
    ("auth", "schemes"),
    [
        ("{type: bearer, token: '{{SOME_TOKEN}}'}", {"bearer": {"type": "http", "scheme": "bearer"}}),
        ("{type: apikey, key: X-Shop-Key, value: '{{SOME_TOKEN}}', placement: header}",
         {"apiKey": {"type": "apiKey", "in": "header", "name": "X-Shop-Key"}}),
        ("{type: apikey, key: key, value: '{{SOME_TOKEN}}', placement: query}",
         {"apiKey": {"type": "apiKey", "in": "query", "name": "key"}}),
        ("{type: basic, username: admin, password: '{{SOME_TOKEN}}'}",
         {"basic": {"type": "http", "scheme": "basic"}}),
        ("{type: digest, username: admin, password: '{{SOME_TOKEN}}'}",
         {"digest": {"type": "http", "scheme": "digest"}}),
    ],
)  # fmt: skip
def test_security_schemes_are_the_inbound_auth_in_force(
    make, auth: str, schemes: dict[str, Any]
) -> None:  # type: ignore[no-untyped-def]
    spec = (
        CATALOG.replace("binds:", "binds:")
        .replace(
            "capability:\n",
            "binds:\n- namespace: env\n  keys: {SOME_TOKEN: SOME_TOKEN}\ncapability:\n",
            1,
        )
        .replace(
            "    namespace: catalog-rest\n",
            f"    namespace: catalog-rest\n    authentication: {auth}\n",
        )
    )
    built: Built = make(spec, env={"SOME_TOKEN": "secret-token-1"})
    document = _document(built)
    assert document["components"]["securitySchemes"] == schemes
    assert document["security"] == [{name: []} for name in schemes]
    assert "secret-token-1" not in json.dumps(document)


def test_requests_are_checked_against_the_same_contract(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    built: Built = make(CATALOG)
    upstream.answer(Answer(409, b"id,state\nb-1,locked\n", {"content-type": "text/csv"}))
    with built.rest() as client:
        enum = client.get("/items", params={"kind": "music"})
        number = client.get("/items", params={"limit": "ten"})
        bounds = client.get("/items", params={"limit": "99"})
        wrong_method = client.delete("/items/b-1")
        upstream_error = client.put("/items/b-1")
    assert problem_detail(enum, 422) == "invalid input: kind: must be one of 'book', 'film'"
    assert number.json()["errors"] == ["limit: must be of type integer, not string"]
    assert bounds.json()["errors"] == ["limit: must satisfy maximum 50"]
    assert problem_detail(wrong_method, 405) == "DELETE is not allowed here; use GET, PUT"
    assert wrong_method.headers["allow"] == "GET, PUT"
    # the upstream's own 4xx keeps its status, body and type (only the PUT reached it)
    assert (upstream_error.status_code, upstream_error.headers["content-type"]) == (409, "text/csv")
    assert upstream_error.content == b"id,state\nb-1,locked\n"
    assert [r.method for r in upstream.requests] == ["PUT"]


def test_the_problem_carries_the_request_id(make) -> None:  # type: ignore[no-untyped-def]
    built: Built = make(CATALOG)
    with built.rest() as client:
        response = client.get("/items", params={"kind": "x"}, headers={"X-Request-ID": "req-42"})
    problem_detail(response, 422)
    assert response.json()["request_id"] == "req-42" == response.headers["x-request-id"]


def test_the_seed_document_serves_real_clients(seed_service: RunningService) -> None:
    document = httpx.get(seed_service.rest_url + "/openapi.json").json()
    operation = document["paths"]["/v1/accounts/{account_id}/ai/run/{model}"]["post"]
    assert set(operation["requestBody"]["content"]) == {
        "application/json",
        "application/octet-stream",
    }
    # the seed maps the whole body: JSON, an event stream when asked (`"stream": true`), an
    # image or audio from such models, all passed on as sent (issue 26)
    answers = operation["responses"]["200"]["content"]
    assert {"application/json", "text/event-stream", "image/*", "audio/*", "*/*"} <= set(answers)
    model = next(p for p in operation["parameters"] if p["name"] == "model")
    assert model["description"].startswith("The model identifier to execute")  # the spec's


FEED = """
naftiko: 1.0.0-alpha2
info: {label: Feed, description: an XML feed passed on}
capability:
  consumes:
  - {type: http, namespace: news, baseUri: "https://news.example.com", resources: [{name: feed,
     path: "/feed/{{section}}", operations: [{name: get-feed, method: GET, outputRawFormat: xml}]}]}
  exposes:
  - {type: rest, namespace: feed-rest, port: 8080, resources: [{path: "/feed/{section}", name: feed,
     operations: [{method: GET, name: feed, call: news.get-feed, with: {section: rest.section}}]}]}
"""


def test_a_passed_on_answer_lists_its_format_media_type(make) -> None:  # type: ignore[no-untyped-def]
    """No outputs: the upstream's XML goes to the caller as it is, and the document says so."""
    built: Built = make(FEED)
    with built.rest() as client:
        document = client.get("/openapi.json").json()
    answers = document["paths"]["/feed/{section}"]["get"]["responses"]["200"]["content"]
    assert "application/xml" in answers and "*/*" in answers
