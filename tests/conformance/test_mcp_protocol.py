"""MCP adapters (SEMANTICS §11 cases 55-67, 34-35).

The transport is the official SDK's streamable HTTP: where the engine's own HTTP answers
differ (SEMANTICS §6.1, ECOSYSTEM §1.9), these tests check the JSON-RPC outcome the engine
case is about (the error code, the result), not the engine's exact HTTP bytes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import anyio
import pytest
from mcp import MCPError
from starlette.testclient import TestClient

from tests.support.fake_upstream import Answer, FakeUpstream
from tests.support.packages import TOKEN, Built

SPEC = """
naftiko: 1.0.0-alpha2
info: {label: Shipyard, description: MCP conformance}
capability:
  consumes:
  - type: http
    namespace: fleet
    baseUri: https://fleet.example.com
    resources:
    - name: vessels
      path: /vessels
      operations: [{name: list-vessels, method: GET, outputRawFormat: xml}]
    - name: users
      path: /users/{{userId}}
      operations: [{name: get-user, method: GET}]
  exposes:
  - type: mcp
    namespace: shipyard-tools
    port: 9090
    description: Tools for the shipyard.
    tools:
    - name: read-data
      label: Read Data
      description: Read.
      hints: {readOnly: true, openWorld: true}
      call: fleet.list-vessels
      outputParameters:
      - type: array
        mapping: $.vessel
        items: {type: object, properties: {code: {type: string, mapping: $.vesselCode}, name: {type: string, mapping: $.vesselName}}}
    - name: delete-record
      hints: {readOnly: false, destructive: true, idempotent: true, openWorld: false}
      call: fleet.list-vessels
    - name: no-hints-tool
      call: fleet.list-vessels
    - name: list-ships
      call: fleet.list-vessels
      inputParameters:
      - {name: status, type: string, description: filter, required: false}
      - {name: fleet, type: string, description: which fleet}
    - name: get-ship
      description: A mock ship.
      inputParameters: [{name: imo_number, type: string, description: IMO}]
      outputParameters:
      - {name: imo, type: string, value: '{{imo_number}}'}
      - {name: name, type: string, value: Northern Star}
    resources:
    - {name: about, uri: 'data://about', label: About, description: static text, call: fleet.list-vessels}
    - name: profile
      uri: 'data://users/{userId}/profile'
      description: a user profile
      call: fleet.get-user
    prompts:
    - name: participant-outreach
      description: Reach out.
      arguments:
      - {name: participant_name, description: who}
      - {name: product_name, description: what}
      template:
      - {role: user, content: 'Hello {{participant_name}}, meet {{product_name}}.'}
    - name: summary-prompt
      arguments: [{name: topic}, {name: format, required: false}]
      template:
      - {role: user, content: 'Summarise {{topic}}'}
      - {role: assistant, content: 'In which format?'}
      - {role: user, content: 'Use {{format}}'}
"""

VESSELS = (
    b"<vessels><vessel><vesselCode>V001</vesselCode><vesselName>Sea Eagle</vesselName></vessel>"
    b"<vessel><vesselCode>V002</vesselCode><vesselName>Harbor Star</vesselName></vessel></vessels>"
)


INITIALIZE: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
HANDSHAKE = [INITIALIZE, {"jsonrpc": "2.0", "method": "notifications/initialized"}]


def run(built: Built, body: Any) -> Any:
    async def go() -> Any:
        async with built.mcp() as client:
            return await body(client)

    return anyio.run(go)


def test_case_60_capabilities_follow_what_is_declared(make) -> None:
    built = make(SPEC)

    async def caps(client: Any) -> Any:
        return client.server_capabilities

    found = run(built, caps)
    assert found.tools is not None and found.resources is not None and found.prompts is not None
    tools_only = make(SPEC.split("    resources:\n    - {name: about")[0])
    found = run(tools_only, caps)
    assert found.tools is not None and found.resources is None and found.prompts is None


def test_cases_61_62_titles_annotations_and_required(make) -> None:
    async def listed(client: Any) -> Any:
        return {t.name: t for t in (await client.list_tools()).tools}

    tools = run(make(SPEC), listed)
    read = tools["read-data"]
    assert read.title == "Read Data"
    assert read.annotations.model_dump(by_alias=True, exclude_none=True) == {
        "title": "Read Data",
        "readOnlyHint": True,
        "openWorldHint": True,
    }
    delete = tools["delete-record"].annotations.model_dump(by_alias=True, exclude_none=True)
    assert "title" not in delete and delete["destructiveHint"] is True
    assert tools["no-hints-tool"].annotations is None
    schema = tools["list-ships"].input_schema
    assert schema["properties"]["status"]["type"] == "string"
    assert schema["required"] == ["fleet"]


def test_cases_34_35_xml_through_mcp(make, upstream: FakeUpstream) -> None:
    upstream.answer(Answer(200, VESSELS, {"content-type": "application/xml"}))

    async def call(client: Any) -> Any:
        return await client.call_tool("read-data", {})

    result = run(make(SPEC), call)
    assert result.is_error is False
    assert json.loads(result.content[0].text) == [
        {"code": "V001", "name": "Sea Eagle"},
        {"code": "V002", "name": "Harbor Star"},
    ]


def test_case_64_mock_tool(make, upstream: FakeUpstream) -> None:
    async def call(client: Any) -> Any:
        return await client.call_tool("get-ship", {"imo_number": "IMO-1"})

    result = run(make(SPEC), call)
    assert result.is_error is False
    assert result.content[0].text == '{"imo":"IMO-1","name":"Northern Star"}'
    assert upstream.requests == []


def test_case_65_resources_and_templates(make, upstream: FakeUpstream) -> None:
    upstream.answer(Answer(200, b"<a><b>1</b></a>"), Answer(200, {"id": "42", "name": "Ann"}))

    async def go(client: Any) -> Any:
        listed = await client.list_resources()
        templates = await client.list_resource_templates()
        about = await client.read_resource("data://about")
        profile = await client.read_resource("data://users/42/profile")
        with pytest.raises(MCPError) as unknown:
            await client.read_resource("data://users/42/x/profile")
        return listed, templates, about, profile, unknown.value

    listed, templates, about, profile, unknown = run(make(SPEC), go)
    assert [(r.uri, r.title) for r in listed.resources] == [("data://about", "About")]
    assert about.contents[0].text == "<a><b>1</b></a>"  # no output parameters: the raw body
    assert [t.uri_template for t in templates.resource_templates] == [
        "data://users/{userId}/profile"
    ]
    assert json.loads(profile.contents[0].text) == {"id": "42", "name": "Ann"}
    assert upstream.requests[-1].raw_path == "/fleet/users/42"
    assert unknown.error.code == -32602


def test_case_66_prompts(make) -> None:
    async def go(client: Any) -> Any:
        outreach = await client.get_prompt(
            "participant-outreach", {"participant_name": "Alice", "product_name": "Naftiko"}
        )
        summary = await client.get_prompt("summary-prompt", {"topic": "{{format}} $1 \\\\n"})
        return outreach, summary

    outreach, summary = run(make(SPEC), go)
    assert [(m.role, m.content.text) for m in outreach.messages] == [
        ("user", "Hello Alice, meet Naftiko.")
    ]
    assert [m.role for m in summary.messages] == ["user", "assistant", "user"]
    assert (
        summary.messages[0].content.text == "Summarise {{format}} $1 \\\\n"
    )  # not re-expanded, taken literally
    assert (
        summary.messages[2].content.text == "Use {{format}}"
    )  # a missing argument keeps its placeholder


def _post(client: TestClient, payload: Any, raw: bytes | None = None, **headers: str) -> Any:
    base = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    return client.post(
        "/mcp", content=raw if raw is not None else json.dumps(payload), headers={**base, **headers}
    )


def _http(built: Built) -> TestClient:
    app = built.module.mcp_server.create_app(built.service())
    return TestClient(
        app, headers={"Authorization": f"Bearer {TOKEN}"}, base_url="http://127.0.0.1:9090"
    )


def test_cases_55_to_58_json_rpc_outcomes(make) -> None:
    built = make(SPEC)
    init = INITIALIZE
    with _http(built) as client:
        started = _post(client, init)
        assert started.status_code == 200
        assert started.json()["result"]["protocolVersion"] == "2025-11-25"
        assert started.json()["result"]["serverInfo"]["name"] == "shipyard-tools"
        assert started.json()["result"]["instructions"] == "Tools for the shipyard."
        version = {"MCP-Protocol-Version": "2025-11-25"}
        assert (
            _post(
                client, {"jsonrpc": "2.0", "method": "notifications/initialized"}, **version
            ).status_code
            == 202
        )

        def error_code(message: Any, raw: bytes | None = None) -> Any:
            return _post(client, message, raw, **version).json()["error"]["code"]

        assert error_code(None, raw=b"") == -32700
        assert error_code(None, raw=b"{") == -32700
        assert error_code({"jsonrpc": "2.0", "id": 2, "method": "nope/nothing"}) == -32601
        assert error_code({"jsonrpc": "1.0", "id": 3, "method": "ping"}) == -32600
        invalid_params = [
            {"jsonrpc": "2.0", "id": 4, "method": "tools/call"},
            {"jsonrpc": "2.0", "id": 5, "method": "resources/read", "params": {}},
            {"jsonrpc": "2.0", "id": 6, "method": "prompts/get", "params": {}},
            {
                "jsonrpc": "2.0",
                "id": 7,
                "method": "tools/call",
                "params": {"name": "missing", "arguments": {}},
            },
        ]
        for message in invalid_params:
            assert error_code(message) == -32602, message


def test_case_67_inbound_bearer_on_every_method(make) -> None:
    built = make(
        SPEC.replace(
            "    description: Tools for the shipyard.",
            "    description: Tools for the shipyard.\n    authentication: {type: bearer, token: mcp-secret-token-123}",
        )
    )
    app = built.module.mcp_server.create_app(built.service())
    with TestClient(app, base_url="http://127.0.0.1:9090") as client:
        for method in ("POST", "GET", "DELETE"):
            assert client.request(method, "/mcp").status_code == 401
            assert (
                client.request(
                    method, "/mcp", headers={"Authorization": "Bearer wrong"}
                ).status_code
                == 401
            )
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        ok = _post(
            client,
            ping,
            Authorization="Bearer mcp-secret-token-123",
            **{"MCP-Protocol-Version": "2025-11-25"},
        )
        assert ok.status_code == 200


def _stdio(built: Built, lines: list[dict[str, Any]]) -> subprocess.Popen[str]:
    env = {**os.environ, **built.env, "PYTHONPATH": str(built.project)}
    process = subprocess.Popen(
        [sys.executable, "-m", built.module.__name__, "stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("\n".join(json.dumps(line) for line in lines) + "\n")
    process.stdin.flush()
    return process


def test_case_63_stdio(make) -> None:
    built = make(SPEC.replace("    port: 9090\n", "    transport: stdio\n"))
    lines = [
        *HANDSHAKE,
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "ping"},
    ]
    process = _stdio(built, lines)
    assert process.stdin is not None and process.stdout is not None
    replies = [
        json.loads(process.stdout.readline()) for _ in range(3)
    ]  # the notification gets none
    process.stdin.close()
    assert process.wait(timeout=30) == 0
    assert [r["id"] for r in replies] == [1, 2, 3]
    assert replies[0]["result"]["serverInfo"]["name"] == "shipyard-tools"
    assert len(replies[1]["result"]["tools"]) == 5
    assert replies[2]["result"] == {}


def test_stdio_answers_what_it_read_before_its_input_ended(make, upstream: FakeUpstream) -> None:
    built = make(SPEC.replace("    port: 9090\n", "    transport: stdio\n"))
    vessels = "<v><vessel><vesselCode>V1</vesselCode></vessel><vessel><vesselCode>V2</vesselCode></vessel></v>"
    upstream.answer(Answer(200, vessels, delay=0.5))
    call = {"name": "read-data", "arguments": {}}
    process = _stdio(
        built, [*HANDSHAKE, {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": call}]
    )
    output, _ = process.communicate(timeout=30)  # closes stdin while the upstream is slow
    (reply,) = [r for r in map(json.loads, output.splitlines()) if r.get("id") == 7]
    assert reply["id"] == 7 and reply["result"]["isError"] is False
    assert json.loads(reply["result"]["content"][0]["text"]) == [
        {"code": "V1", "name": None},
        {"code": "V2", "name": None},
    ]
