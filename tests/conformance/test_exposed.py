"""Exposed parameters, `with`, and REST behaviour (SEMANTICS §11 cases 20-26, 38-47)."""

from __future__ import annotations

import json

import anyio
import httpx2
import pytest

from tests.support.fake_upstream import Answer, FakeUpstream
from tests.support.packages import Built, codes
from tests.support.problems import problem_detail

SHIPS = """
naftiko: 1.0.0-alpha2
info: {label: Shipyard, description: exposed parameters}
binds:
- namespace: env
  keys: {SOME_TOKEN: SOME_TOKEN}
capability:
  consumes:
  - type: http
    namespace: fleet
    baseUri: https://fleet.example.com/v1
    resources:
    - name: ship
      path: /ships/{{imo_number}}
      operations: [{name: get-ship, method: GET}]
    - name: voyages
      path: /voyages
      operations:
      - name: create-voyage
        method: POST
        body: |
          {"shipImo": "{{shipImo}}"}
    - name: models
      path: /models/{model}
      operations: [{name: run, method: POST}]
  exposes:
"""


def ships(exposes: str, env: dict[str, str] | None = None, make=None) -> Built:  # type: ignore[no-untyped-def]
    return make(SHIPS + exposes, env={"SOME_TOKEN": "t", **(env or {})})


def test_case_20_path_input_renamed_by_a_with_template(make, upstream: FakeUpstream) -> None:
    built = ships(
        """  - type: rest
    namespace: shipyard-api
    port: 8080
    resources:
    - path: /ships/{{imo}}
      operations:
      - method: GET
        call: fleet.get-ship
        inputParameters: [{name: imo, in: path, type: string, description: IMO}]
        with: {imo_number: '{{imo}}'}
""",
        make=make,
    )
    with built.rest() as client:
        assert client.get("/ships/IMO-9321483").status_code == 200
    assert upstream.requests[-1].raw_path == "/fleet/ships/IMO-9321483"


def test_case_21_namespace_reference_and_upstream_status_kept(make, upstream: FakeUpstream) -> None:
    built = ships(
        """  - type: rest
    namespace: shipyard-api
    port: 8080
    resources:
    - path: /voyages
      operations:
      - method: POST
        call: fleet.create-voyage
        inputParameters: [{name: shipImo, in: body, type: string, description: IMO}]
        with: {shipImo: shipyard-api.shipImo}
""",
        make=make,
    )
    upstream.answer(Answer(201, {"id": "v-1"}))
    with built.rest() as client:
        response = client.post("/voyages", json={"shipImo": "IMO-9321483"})
    assert response.status_code == 201
    assert upstream.requests[-1].body == b'{"shipImo": "IMO-9321483"}\n'


EXTRACT = """  - type: rest
    namespace: shipyard-api
    port: 8080
    inputParameters: [{name: X-Tenant, in: header, type: string, description: tenant}]
    resources:
    - path: /ships/{shipId}
      inputParameters: [{name: q, in: query, type: string, description: query}]
      operations:
      - method: POST
        inputParameters:
        - {name: name, in: body, type: string, description: n, value: $.name}
        - {name: meta, in: body, type: object, description: m, value: $.meta}
        - {name: fixed, in: query, type: string, description: f, value: fixed}
        - {name: nothing, in: body, type: string, description: x, value: $.does.not.exist}
        outputParameters:
        - {name: shipId, type: string, value: '{{shipId}}'}
        - {name: q, type: string, value: '{{q}}'}
        - {name: tenant, type: string, value: '{{X-Tenant}}'}
        - {name: name, type: string, value: '{{name}}'}
        - {name: meta, type: string, value: '{{meta}}'}
        - {name: fixed, type: string, value: '{{fixed}}'}
        - {name: nothing, type: string, value: '[{{nothing}}]'}
"""


def test_case_22_extraction_from_path_query_header_and_body(make) -> None:
    built = ships(EXTRACT, make=make)
    with built.rest() as client:
        response = client.post(
            "/ships/IMO-1",
            params={"q": "ships", "fixed": "override"},
            headers={"X-Tenant": "acme"},
            json={"name": "Boaty", "meta": {"rank": 1}},
        )
    assert response.status_code == 200
    assert response.json() == {
        "shipId": "IMO-1",
        "q": "ships",
        "tenant": "acme",
        "name": "Boaty",
        "meta": '{"rank":1}',
        "fixed": "fixed",
        "nothing": "[]",
    }


def test_case_23_a_body_that_is_not_json_is_refused_under_dev_21(make) -> None:
    """The engine collects the other inputs and goes on (case 23); with the request checked
    against its contract first (DEV-21), a body that was sent and is not JSON is a 400."""
    built = ships(EXTRACT, make=make)
    with built.rest() as client:
        response = client.post(
            "/ships/IMO-1?q=ships",
            headers={"X-Tenant": "acme", "content-type": "application/json"},
            content=b"{",
        )
        without = client.post("/ships/IMO-1?q=ships", headers={"X-Tenant": "acme"})
    assert problem_detail(response, 400) == "request body is not valid JSON"
    assert (
        without.json()["shipId"] == "IMO-1"
        and without.json()["tenant"] == "acme"
        and without.json()["q"] == "ships"
    )


def test_case_24_mcp_mustache_rename(make, upstream: FakeUpstream) -> None:
    built = ships(
        """  - type: mcp
    namespace: shipyard-tools
    port: 9090
    tools:
    - name: get-ship
      description: a ship
      call: fleet.get-ship
      inputParameters: [{name: imo, type: string, description: IMO}]
      with: {imo_number: '{{imo}}'}
""",
        make=make,
    )

    async def run() -> None:
        async with built.mcp() as client:
            assert not (await client.call_tool("get-ship", {"imo": "IMO-9321483"})).is_error

    anyio.run(run)
    assert upstream.requests[-1].raw_path == "/fleet/ships/IMO-9321483"


def test_case_26_rest_reference_takes_the_callers_value(
    make, upstream: FakeUpstream
) -> None:  # DEV-5
    built = ships(
        """  - type: rest
    namespace: other-namespace
    port: 8080
    resources:
    - path: /run/{model}
      operations: [{method: POST, call: fleet.run, with: {model: rest.model}}]
""",
        make=make,
    )
    with built.rest() as client:
        assert client.post("/run/llama").status_code == 200
    assert upstream.requests[-1].raw_path == "/fleet/models/llama"


def test_case_38_wrong_method_is_the_engine_404(make) -> None:
    built = ships(
        """  - type: rest
    namespace: r
    port: 8080
    resources:
    - path: /ships/{imo}
      operations: [{method: GET, call: fleet.get-ship}]
""",
        make=make,
    )
    with built.rest() as client:
        response = client.post("/ships/x")
    # DEV-20: a known path with a method it lacks is a 405 with Allow (the engine answers 404)
    problem_detail(response, 405)
    assert response.headers["allow"] == "GET"


def test_case_39_an_invalid_call_builds_with_a_warning_and_answers_501(
    make, upstream: FakeUpstream
) -> None:
    built = ships(
        """  - type: rest
    namespace: r
    port: 8080
    resources:
    - path: /x
      operations: [{method: GET, call: invalidCallFormat}]
""",
        make=make,
    )
    assert "W134" in codes(built)
    with built.rest() as client:
        response = client.get("/x")
    assert response.status_code == 501 and "invalidCallFormat" in response.text
    assert upstream.requests == []


def test_cases_40_42_mock_operations(make) -> None:
    built = ships(
        """  - type: rest
    namespace: r
    port: 8080
    resources:
    - path: /status
      operations:
      - method: GET
        outputParameters:
        - {name: status, type: string, value: ready}
        - name: payload
          type: object
          properties:
            id: {type: string, value: '42'}
            tags: {type: array, items: {type: string, value: active}}
        - {name: dropped, type: string}
    - path: /hello
      operations:
      - method: GET
        inputParameters: [{name: name, in: query, type: string, description: who}]
        outputParameters: [{name: message, type: string, value: 'Hello, {{name}}!'}]
    - path: /ok
      operations:
      - method: GET
        outputParameters: [{type: string, value: ok}]
    - path: /empty
      operations:
      - method: GET
        outputParameters: [{type: object, properties: {a: {type: string}}, value: null}]
""",
        make=make,
    )
    with built.rest() as client:
        status = client.get("/status")
        hello = client.get("/hello", params={"name": "Alice"})
        ok = client.get("/ok")
    assert status.status_code == 200
    assert status.json() == {"status": "ready", "payload": {"id": "42", "tags": ["active"]}}
    assert "\n" in status.text  # REST mock bodies are pretty-printed
    assert hello.json() == {"message": "Hello, Alice!"}
    assert ok.json() == {"value": "ok"} and ok.headers["content-type"] == "application/json"


def test_case_41_raw_passthrough_and_an_unsupported_format(make, upstream: FakeUpstream) -> None:
    spec = SHIPS.replace(
        "operations: [{name: get-ship, method: GET}]",
        "operations: [{name: get-ship, method: GET}, {name: get-ini, method: POST, outputRawFormat: INI}]",
    )
    built = make(
        spec + """  - type: rest
    namespace: r
    port: 8080
    resources:
    - path: /ships/{imo_number}
      operations:
      - {method: GET, call: fleet.get-ship}
      - {method: POST, call: fleet.get-ini, outputParameters: [{type: string, mapping: $.id}]}
""",
        env={"SOME_TOKEN": "t"},
    )
    upstream.answer(Answer(200, b'{"id":"u-1"}', {"content-type": "application/vnd.custom+json"}))
    upstream.answer(Answer(200, b"[a]\nid=1\n"))
    with built.rest() as client:
        raw = client.get("/ships/x")
        bad = client.post("/ships/x")
    assert (raw.text, raw.headers["content-type"]) == (
        '{"id":"u-1"}',
        "application/vnd.custom+json",
    )
    assert 'Unsupported "INI" format specified' in problem_detail(bad, 500)


def _inbound(make, auth: str) -> Built:  # type: ignore[no-untyped-def]
    return ships(
        f"""  - type: rest
    namespace: r
    port: 8080
    authentication: {auth}
    resources:
    - path: /ok
      operations: [{{method: GET, outputParameters: [{{type: string, value: ok}}]}}]
""",
        env={"SOME_TOKEN": "token-123"},
        make=make,
    )


def test_case_42_inbound_bearer(make) -> None:
    built = _inbound(make, "{type: bearer, token: '{{SOME_TOKEN}}'}")
    with built.rest(token=None) as client:
        assert client.get("/ok").status_code == 401
        assert client.get("/ok", headers={"Authorization": "Bearer token-123"}).status_code == 200


def test_case_43_inbound_api_key_in_header_and_query(make) -> None:
    built = _inbound(make, "{type: apikey, key: X-API-Key, value: abc123, placement: header}")
    with built.rest(token=None) as client:
        assert client.get("/ok").status_code == 401
        assert client.get("/ok", headers={"X-API-Key": "abc123"}).status_code == 200
    built = _inbound(make, "{type: apikey, key: api_key, value: abc123, placement: query}")
    with built.rest(token=None) as client:
        assert client.get("/ok?api_key=wrong").status_code == 401
        assert client.get("/ok?api_key=abc123").status_code == 200


def test_case_44_an_unresolvable_inbound_token_refuses_to_start(make) -> None:
    from capgen_runtime.auth.inbound import AuthConfigError

    built = _inbound(make, "{type: bearer, token: '{{UNDECLARED_VAR}}'}")
    with pytest.raises(AuthConfigError, match="empty credential"), built.rest(token=None):
        pass


def test_case_47_basic_inbound_answers_with_a_challenge(make) -> None:
    built = _inbound(make, "{type: basic, username: admin, password: '{{SOME_TOKEN}}'}")
    with built.rest(token=None) as client:
        denied = client.get("/ok")
        allowed = client.get("/ok", auth=("admin", "token-123"))
    assert denied.status_code == 401 and denied.headers["www-authenticate"].startswith(
        "Basic realm="
    )
    assert allowed.status_code == 200


def test_case_47_digest_inbound_checks_the_response_for_this_request(make) -> None:
    built = _inbound(make, "{type: digest, username: admin, password: '{{SOME_TOKEN}}'}")
    with built.rest(token=None) as client:
        denied = client.get("/ok")
        allowed = client.get("/ok?x=1", auth=httpx2.DigestAuth("admin", "token-123"))
        wrong = client.get("/ok", auth=httpx2.DigestAuth("admin", "nope"))
        replayed = client.get(
            "/ok?x=2", headers={"Authorization": allowed.request.headers["authorization"]}
        )
    challenge = denied.headers["www-authenticate"]
    assert denied.status_code == 401 and challenge.startswith('Digest realm="r", qop="auth"')
    assert allowed.status_code == 200 and allowed.json() == {"value": "ok"}
    assert wrong.status_code == 401
    assert replayed.status_code == 401  # signed for another target


FORWARD = """
naftiko: 1.0.0-alpha2
info: {label: Forward, description: forwarding}
capability:
  consumes:
  - type: http
    namespace: notion
    baseUri: http://h/v1
    inputParameters: [{name: Notion-Version, in: header, value: '2025-09-03'}]
    resources: [{name: none, path: /none, operations: [{name: none, method: GET}]}]
  exposes:
  - type: rest
    namespace: r
    port: 8080
    resources:
    - path: /notion/{{path}}
      forward: {targetNamespace: notion, trustedHeaders: [X-Trace]}
"""


def test_cases_45_46_forward_with_static_headers_and_trusted_headers_only(
    make, upstream: FakeUpstream
) -> None:
    built = make(FORWARD)
    upstream.answer(Answer(200, {"object": "page"}))
    with built.rest() as client:
        response = client.get(
            "/notion/pages/p-1?dropped=1", headers={"X-Trace": "abc-123", "X-Other": "no"}
        )
    assert response.status_code == 200 and response.json() == {"object": "page"}
    request = upstream.requests[-1]
    assert (request.method, request.raw_path, request.query) == ("GET", "/notion/pages/p-1", "")
    assert request.headers["notion-version"] == "2025-09-03"
    assert request.headers["x-trace"] == "abc-123" and "x-other" not in request.headers
    assert json.loads(response.text) == {"object": "page"}


def test_several_adapters_of_a_kind_get_their_own_modules(make, upstream: FakeUpstream) -> None:
    built = make("""
naftiko: 1.0.0-alpha2
info: {label: Several, description: two adapters of each kind}
capability:
  consumes:
  - type: http
    namespace: api
    baseUri: https://api.example.com
    resources: [{name: a, path: /a, operations: [{name: a, method: GET}]}]
  exposes:
  - {type: rest, namespace: rest-public, port: 8080, resources: [{path: /a, operations: [{method: GET, call: api.a}]}]}
  - {type: rest, namespace: admin, port: 8081, resources: [{path: /b, operations: [{method: GET, call: api.a}]}]}
  - {type: mcp, namespace: mcp-public, port: 9090, tools: [{name: a, call: api.a}]}
  - {type: mcp, namespace: ops, port: 9091, tools: [{name: b, call: api.a}]}
""")
    assert [a.module for a in built.package.rest] == ["rest_public", "rest_admin"]
    assert [a.module for a in built.package.mcp] == ["mcp_public", "mcp_ops"]
    with built.rest(adapter="rest_admin") as client:
        assert client.get("/b").status_code == 200
    assert [r.raw_path for r in upstream.requests] == ["/api/a"]
