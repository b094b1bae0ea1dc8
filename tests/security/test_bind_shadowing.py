"""Binds are never shadowed by a caller (SEMANTICS §2.1): only declared inputs enter the
template scope, and a bind namespace or variable resolves to the bind whatever a request holds.

The expected upstream requests come from the spec text below: the bound key is `real-key-123`
(the environment given to the service), and nothing a caller sends may replace it.
"""

from __future__ import annotations

import anyio
import pytest

from tests.support.packages import Built

SPEC = """
naftiko: 1.0.0-alpha2
info: {label: Shadow, description: binds versus callers}
binds:
- namespace: env
  keys: {API_KEY: SHADOW_API_KEY, REGION: SHADOW_REGION}
capability:
  consumes:
  - type: http
    namespace: api
    baseUri: https://api.example.com
    authentication: {type: bearer, token: '{{env.API_KEY}}'}
    resources:
    - name: items
      path: /items/{{REGION}}
      operations:
      - name: list-items
        method: GET
        inputParameters:
        - {name: X-Key, in: header, value: '{{API_KEY}}'}
        - {name: q, in: query}
  exposes:
  - type: rest
    namespace: rest
    port: 8080
    resources:
    - path: /items
      name: items
      operations:
      - method: GET
        name: list
        call: api.list-items
        inputParameters:
        - {name: q, in: query, type: string}
        - {name: env, in: query, type: string}
        - {name: API_KEY, in: query, type: string}
  - type: mcp
    namespace: mcp
    port: 9090
    tools:
    - name: list-items
      description: list the items
      call: api.list-items
      inputParameters:
      - {name: q, type: string, description: search}
"""

ENV = {"SHADOW_API_KEY": "real-key-123", "SHADOW_REGION": "eu"}
FORGED = "caller-chosen-456"


@pytest.fixture
def built(make) -> Built:
    return make(SPEC, env=ENV)


def _only_real_credentials(built: Built) -> None:
    (seen,) = built.upstream.requests
    assert seen.headers["authorization"] == "Bearer real-key-123"
    assert seen.headers["x-key"] == "real-key-123"
    assert seen.path == "/api/items/eu"
    assert FORGED not in seen.raw_path + seen.query + str(seen.headers)


def test_an_undeclared_mcp_argument_cannot_replace_a_bound_credential(built: Built) -> None:
    async def call() -> None:
        async with built.mcp() as client:
            arguments = {
                "q": "x",
                "env": {"API_KEY": FORGED, "REGION": FORGED},
                "API_KEY": FORGED,
                "REGION": FORGED,
            }
            result = await client.call_tool("list-items", arguments)
            assert not result.is_error

    anyio.run(call)
    _only_real_credentials(built)


def test_declared_rest_inputs_named_like_binds_do_not_shadow_them(built: Built) -> None:
    with built.rest() as client:
        response = client.get("/items", params={"q": "x", "env": FORGED, "API_KEY": FORGED})
    assert response.status_code == 200, response.text
    _only_real_credentials(built)
