"""Binds, start-up failures, OAuth2 client credentials (SEMANTICS §11 cases 5-7, 34, 72)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from capgen_runtime.binds import BindError, resolve_binds
from capgen_runtime.model import Bind

from tests.conftest import SEED_MODULE, SEED_PROJECT
from tests.support.fake_upstream import Answer, FakeUpstream
from tests.support.packages import codes


def test_case_05_env_binds() -> None:
    binds = [Bind("env", (("API_KEY", "API_KEY"),))]
    context = resolve_binds(binds, {"API_KEY": "value"})
    assert context.values == {"API_KEY": "value"}
    assert context.scope["env"] == {"API_KEY": "value"}
    assert resolve_binds(binds, {"API_KEY": ""}).values == {"API_KEY": ""}  # empty counts as set
    with pytest.raises(BindError, match="Invalid bind: context variable 'API_KEY' not found"):
        resolve_binds(binds, {})


@pytest.mark.parametrize(
    "name,text", [("secrets.yaml", "SRC: from-yaml\n"), ("secrets.json", '{"SRC": "from-json"}')]
)
def test_case_06_file_binds(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / name).write_text(text)
    binds = [Bind("vault", (("TOKEN", "SRC"),), location=f"file:///./dir/{name}")]
    assert resolve_binds(binds, {}, cwd=tmp_path).values["TOKEN"].startswith("from-")
    missing = [Bind("vault", (("TOKEN", "OTHER"),), location=f"file:///./dir/{name}")]
    with pytest.raises(BindError, match="Invalid bind: key 'OTHER' not found"):
        resolve_binds(missing, {}, cwd=tmp_path)


def test_case_07_an_empty_exposes_builds_with_a_warning(make) -> None:
    built = make("""
naftiko: 1.0.0-alpha2
info: {label: Nothing, description: exposes nothing}
capability:
  consumes:
  - {type: http, namespace: api, baseUri: 'https://api.example.com', resources: [{name: a, path: /a, operations: [{name: a, method: GET}]}]}
  exposes: []
""")
    assert "W112" in codes(built)
    assert built.package.rest == () and built.package.mcp == ()


def test_case_72_startup_without_the_key_names_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CLOUDFLARE_API_KEY"}
    env["PYTHONPATH"] = str(SEED_PROJECT)
    process = subprocess.run(
        [sys.executable, "-m", SEED_MODULE, "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert process.returncode != 0
    assert "CLOUDFLARE_API_KEY" in process.stderr
    assert "Traceback" not in process.stderr


def test_case_34_xml_through_rest(make, upstream: FakeUpstream) -> None:
    built = make("""
naftiko: 1.0.0-alpha2
info: {label: Vessels, description: xml}
capability:
  consumes:
  - type: http
    namespace: fleet
    baseUri: https://fleet.example.com
    resources: [{name: v, path: /vessels, operations: [{name: list, method: GET, outputRawFormat: xml}]}]
  exposes:
  - type: rest
    namespace: r
    port: 8080
    resources:
    - path: /vessels
      operations:
      - method: GET
        call: fleet.list
        outputParameters:
        - type: array
          mapping: $.vessel
          items: {type: object, properties: {code: {type: string, mapping: $.vesselCode}}}
""")
    upstream.answer(
        Answer(
            200,
            b"<vessels><vessel><vesselCode>V001</vesselCode></vessel><vessel><vesselCode>V002</vesselCode></vessel></vessels>",
        )
    )
    with built.rest() as client:
        response = client.get("/vessels")
    assert response.status_code == 200 and response.json() == [{"code": "V001"}, {"code": "V002"}]


@pytest.mark.parametrize("lifetime", [{"expires_in": 3600}, {}, {"expires_in": "soon"}])
def test_oauth2_client_credentials_token_is_fetched_once_and_cached(
    make, upstream: FakeUpstream, lifetime: dict[str, object]
) -> None:
    token_url = f"{upstream.url}/oauth/token"
    built = make(
        f"""
naftiko: 1.0.0-alpha2
info: {{label: OAuth, description: client credentials}}
binds:
- namespace: env
  keys: {{CLIENT_ID: CLIENT_ID, CLIENT_SECRET: CLIENT_SECRET}}
capability:
  consumes:
  - type: http
    namespace: api
    baseUri: https://api.example.com
    authentication:
      type: oauth2
      tokenEndpoint: {token_url}
      clientId: '{{{{CLIENT_ID}}}}'
      clientSecret: '{{{{CLIENT_SECRET}}}}'
      scopes: [read]
    resources: [{{name: a, path: /a, operations: [{{name: a, method: GET}}]}}]
  exposes:
  - type: mcp
    namespace: m
    port: 9090
    tools: [{{name: a, call: api.a}}]
""",
        env={"CLIENT_ID": "cid", "CLIENT_SECRET": "csecret"},
    )
    upstream.answer(Answer(200, {"access_token": "at-1", **lifetime}))

    async def go() -> None:
        async with built.mcp() as client:
            for _ in range(2):
                assert not (await client.call_tool("a", {})).is_error

    anyio.run(go)
    token, first, second = upstream.requests
    assert (
        token.raw_path == "/oauth/token"
        and b"grant_type=client_credentials" in token.body
        and b"scope=read" in token.body
    )
    assert token.headers["authorization"] == "Basic Y2lkOmNzZWNyZXQ="
    assert first.headers["authorization"] == second.headers["authorization"] == "Bearer at-1"


def test_unsupported_outbound_auth_is_a_build_warning(make) -> None:
    built = make("""
naftiko: 1.0.0-alpha2
info: {label: Signed, description: oauth1}
capability:
  consumes:
  - type: http
    namespace: api
    baseUri: https://api.example.com
    authentication: {type: oauth1, consumerKey: k, signingKey: s}
    resources: [{name: a, path: /a, operations: [{name: a, method: GET}]}]
  exposes:
  - {type: mcp, namespace: m, port: 9090, tools: [{name: a, call: api.a}]}
""")
    assert "W121" in codes(built)


def test_unknown_expose_types_are_skipped_with_a_warning(make) -> None:
    built = make("""
naftiko: 1.0.0-alpha2
info: {label: Skills, description: unknown expose types}
capability:
  exposes:
  - {type: agent-skill, namespace: skills, port: 7070}
  - {type: control, port: 9091}
  - type: mcp
    namespace: m
    port: 9090
    tools: [{name: a, outputParameters: [{name: v, type: string, value: ok}]}]
""")
    skipped = [d for d in built.result.diagnostics if d.code == "W110"]
    assert ["agent-skill" in skipped[0].message, "control" in skipped[1].message] == [True, True]
    assert "/healthz" in (skipped[1].hint or "")
    assert [t.name for t in built.package.mcp[0].tools] == ["a"]
