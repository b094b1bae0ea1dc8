"""SEP-2243 (MCP 2026-07-28): a tool argument that is, as it is, the whole value of a
consumed header is announced as `x-mcp-header: <that header>`, so a client mirrors it as
`Mcp-Param-<header>` and the SDK checks the two agree. Not for a header the argument fills
only part of, one that carries a credential, or a type SEP-2243 does not allow (number,
object, array). Expected schemas and headers are read from the spec text and SEP-2243."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import anyio
from mcp import Client
from starlette.testclient import TestClient

from tests.support.fake_upstream import FakeUpstream
from tests.support.packages import TOKEN, Built

SPEC = """
naftiko: 1.0.0-alpha2
info: {label: Regions, description: Region-routed reads}
capability:
  consumes:
  - type: http
    namespace: geo
    baseUri: https://geo.example.com
    resources:
    - name: places
      path: /places
      operations:
      - name: list-places
        method: GET
        inputParameters:
        - {name: X-Region, in: header}
        - {name: X-Trace, in: header}
        - {name: X-Api-Key, in: header}
        - {name: X-Zoom, in: header}
        - {name: X-Tenant, in: header}
  exposes:
  - type: mcp
    namespace: regions-mcp
    port: 9095
    tools:
    - name: places
      description: Places of a region.
      inputParameters:
      - {name: region, type: string, description: region}
      - {name: trace, type: string, description: trace id, required: false}
      - {name: key, type: string, description: an API key, required: false}
      - {name: zoom, type: number, description: zoom level, required: false}
      - {name: tenant, type: integer, description: tenant number, required: false}
      call: geo.list-places
      with:
        X-Region: tools.region
        X-Trace: 'trace-{{trace}}'
        X-Api-Key: tools.key
        X-Zoom: tools.zoom
        X-Tenant: '{{tenant}}'
"""


def test_arguments_that_are_a_headers_value_are_announced(
    make: Callable[..., Built], upstream: FakeUpstream
) -> None:
    built = make(SPEC)

    async def go() -> Any:
        service = built.service()
        server = importlib.import_module(f"{built.module.__name__}.mcp_server").create_server(
            service
        )
        async with service.running(), Client(server, mode="2026-07-28") as client:
            listed = (await client.list_tools()).tools
            called = await client.call_tool("places", {"region": "eu-west", "tenant": 7})
            return listed, called

    listed, called = anyio.run(go)
    properties = listed[0].input_schema["properties"]
    announced = {k: v.get("x-mcp-header") for k, v in properties.items()}
    # only the whole-value, non-credential headers of allowed types
    assert announced == {
        "region": "X-Region",
        "trace": None,
        "key": None,
        "zoom": None,
        "tenant": "X-Tenant",
    }
    assert called.is_error is False
    sent = upstream.requests[-1].headers
    assert sent["x-region"] == "eu-west" and sent["x-tenant"] == "7"


def test_a_mirrored_header_that_disagrees_is_refused(
    make: Callable[..., Built], upstream: FakeUpstream
) -> None:
    built = make(SPEC)
    app = importlib.import_module(f"{built.module.__name__}.mcp_server").create_app(built.service())
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "places", "arguments": {"region": "eu-west"}, "_meta": meta},
    }
    headers = {
        "accept": "application/json, text/event-stream",
        "authorization": f"Bearer {TOKEN}",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": "places",
    }
    with TestClient(app, base_url="http://127.0.0.1:9095") as client:
        agreeing = client.post(
            "/mcp", json=body, headers={**headers, "mcp-param-x-region": "eu-west"}
        )
        wrong = client.post("/mcp", json=body, headers={**headers, "mcp-param-x-region": "us-east"})
        missing = client.post("/mcp", json=body, headers=headers)
    assert agreeing.status_code == 200 and agreeing.json()["result"]["isError"] is False
    for refused in (wrong, missing):
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == -32020
    assert len(upstream.requests) == 1  # only the agreeing call reached the upstream
