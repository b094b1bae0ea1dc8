"""Consumed requests (SEMANTICS §11 cases 9-19), through generated packages and a real upstream."""

from __future__ import annotations

import base64

from tests.support.fake_upstream import Answer, FakeUpstream
from tests.support.packages import Built
from tests.support.problems import problem_detail

HEAD = """
naftiko: 1.0.0-alpha2
info: {label: Conformance, description: consumed requests}
capability:
  consumes:
  - type: http
    namespace: api
    baseUri: https://api.example.com/v1
"""


def spec(consumes: str, exposes: str, binds: str = "") -> str:
    return HEAD.replace("info:", binds + "info:") + consumes + "  exposes:\n" + exposes


def last(upstream: FakeUpstream):  # type: ignore[no-untyped-def]
    assert upstream.requests, "the upstream received nothing"
    return upstream.requests[-1]


def test_case_09_missing_path_value_is_a_400_and_missing_body_values_render_empty(
    make, upstream: FakeUpstream
) -> None:
    built: Built = make(
        spec(
            """    resources:
    - name: orders
      path: /orders/{{orderId}}
      operations:
      - {name: get-order, method: POST, body: '{{missingBody}}'}
""",
            """  - type: rest
    namespace: r
    port: 8080
    resources:
    - path: /orders
      operations: [{method: POST, name: no-id, call: api.get-order}]
    - path: /orders/{orderId}
      operations: [{method: POST, name: with-id, call: api.get-order}]
""",
        )
    )
    with built.rest() as client:
        missing = client.post("/orders")
        ok = client.post("/orders/o-1")
    # DEV-21: the placeholder nobody feeds is a required input of /orders, checked first (422)
    assert problem_detail(missing, 422) == "invalid input: orderId: is required"
    assert ok.status_code == 200
    assert last(upstream).raw_path == "/api/orders/o-1" and last(upstream).body == b""


def test_case_10_structured_bodies_get_their_content_types(make, upstream: FakeUpstream) -> None:
    built = make(
        spec(
            """    resources:
    - name: r
      path: /r
      operations:
      - {name: xml, method: POST, body: {type: xml, data: '<a>{{v}}</a>'}}
      - {name: form, method: PUT, body: {type: formUrlEncoded, data: {grant_type: client_credentials, v: '{{v}}'}}}
      - {name: sparql, method: PATCH, body: {type: sparql, data: 'SELECT {{v}}'}}
""",
            """  - type: mcp
    namespace: m
    port: 9090
    tools:
    - {name: xml, call: api.xml}
    - {name: form, call: api.form}
    - {name: sparql, call: api.sparql}
""",
        )
    )

    async def run() -> list[tuple[str, bytes]]:
        async with built.mcp() as client:
            for tool in ("xml", "form", "sparql"):
                assert not (await client.call_tool(tool, {"v": "x y"})).is_error
        return [(r.headers["content-type"], r.body) for r in upstream.requests]

    import anyio

    assert anyio.run(run) == [
        ("application/xml", b"<a>x y</a>"),
        ("application/x-www-form-urlencoded", b"grant_type=client_credentials&v=x+y"),
        ("application/sparql-query", b"SELECT x y"),
    ]


def test_case_11_body_jsonpath_inputs_fill_a_body_template(make, upstream: FakeUpstream) -> None:
    built = make(
        spec(
            """    resources:
    - name: users
      path: /users
      operations:
      - name: create-user
        method: POST
        body: '{"id":"{{userId}}","name":"{{userName}}"}'
""",
            """  - type: rest
    namespace: r
    port: 8080
    resources:
    - path: /users
      operations:
      - method: POST
        name: create
        call: api.create-user
        inputParameters:
        - {name: userId, in: body, type: string, description: id, value: $.user.id}
        - {name: userName, in: body, type: string, description: name, value: $.user.name}
""",
        )
    )
    with built.rest() as client:
        assert (
            client.post("/users", json={"user": {"id": "123", "name": "Alice"}}).status_code == 200
        )
    assert last(upstream).body == b'{"id":"123","name":"Alice"}'


def test_case_12_query_from_a_body_input_and_a_static_adapter_header(
    make, upstream: FakeUpstream
) -> None:
    built = make(
        spec(
            """    inputParameters:
    - {name: X-API-Key, in: header, value: ABC123}
    resources:
    - name: search
      path: /search
      operations:
      - name: search
        method: POST
        inputParameters:
        - {name: q, in: query, value: '{{userId}}'}
""",
            """  - type: rest
    namespace: r
    port: 8080
    resources:
    - path: /search
      operations:
      - method: POST
        call: api.search
        inputParameters:
        - {name: userId, in: body, type: string, description: id, value: $.user.id}
""",
        )
    )
    with built.rest() as client:
        assert client.post("/search", json={"user": {"id": "999"}}).status_code == 200
    request = last(upstream)
    assert request.query == "q=999"
    assert request.headers["x-api-key"] == "ABC123"


def test_cases_13_14_form_encoded_query_templated_and_static_headers(
    make, upstream: FakeUpstream
) -> None:
    built = make(
        spec(
            """    resources:
    - name: ships
      path: /ships
      operations:
      - name: search
        method: GET
        inputParameters:
        - {name: search, in: query}
        - {name: X-Trace, in: header, value: 'trace-{{requestId}}'}
        - {name: Notion-Version, in: header, value: '2025-09-03'}
""",
            """  - type: rest
    namespace: r
    port: 8080
    resources:
    - path: /ships
      operations: [{method: GET, call: api.search}]
""",
        )
    )
    with built.rest() as client:
        assert (
            client.get("/ships", params={"search": "ice class", "requestId": "abc"}).status_code
            == 200
        )
    request = last(upstream)
    assert request.query == "search=ice+class"
    assert request.headers["x-trace"] == "trace-abc"
    assert request.headers["notion-version"] == "2025-09-03"


def _auth_spec(auth: str, binds: str = "") -> str:
    return spec(
        f"""    authentication: {auth}
    resources:
    - name: items
      path: /items
      operations: [{{name: list, method: GET}}]
""",
        """  - type: mcp
    namespace: m
    port: 9090
    tools: [{name: list, call: api.list}]
""",
        binds,
    )


def _call_list(built: Built) -> None:
    import anyio

    async def run() -> None:
        async with built.mcp() as client:
            result = await client.call_tool("list", {})
            assert not result.is_error, result.content

    anyio.run(run)


def test_case_15_bearer_from_a_bound_variable(make, upstream: FakeUpstream) -> None:
    binds = "binds:\n- namespace: env\n  keys: {NOTION_KEY: NOTION_KEY}\n"
    _call_list(
        make(
            _auth_spec("{type: bearer, token: '{{env.NOTION_KEY}}'}", binds),
            env={"NOTION_KEY": "ntn_test_abc123"},
        )
    )
    assert last(upstream).headers["authorization"] == "Bearer ntn_test_abc123"


def test_cases_16_17_apikey_in_query_and_header_by_default(make, upstream: FakeUpstream) -> None:
    binds = "binds:\n- namespace: env\n  keys: {TOKEN: TOKEN}\n"
    _call_list(
        make(
            _auth_spec("{type: apikey, key: api_key, value: '{{TOKEN}}', placement: query}", binds),
            env={"TOKEN": "abc123"},
        )
    )
    assert last(upstream).query == "api_key=abc123"
    _call_list(
        make(
            _auth_spec("{type: apikey, key: X-Key, value: '{{TOKEN}}'}", binds),
            env={"TOKEN": "abc123"},
        )
    )
    assert last(upstream).headers["x-key"] == "abc123"


def test_case_18_basic_and_digest(make, upstream: FakeUpstream) -> None:
    binds = "binds:\n- namespace: env\n  keys: {U: U, P: P}\n"
    _call_list(
        make(
            _auth_spec("{type: basic, username: '{{U}}', password: '{{P}}'}", binds),
            env={"U": "alice", "P": "secret"},
        )
    )
    assert last(upstream).headers["authorization"] == "Basic YWxpY2U6c2VjcmV0"
    challenge = 'Digest realm="api", nonce="abc", qop="auth", algorithm=MD5'
    upstream.answer(Answer(401, "", {"WWW-Authenticate": challenge}))
    _call_list(
        make(
            _auth_spec("{type: digest, username: '{{U}}', password: '{{P}}'}", binds),
            env={"U": "alice", "P": "secret"},
        )
    )
    first, second = upstream.requests[-2:]
    assert "authorization" not in first.headers
    assert second.headers["authorization"].startswith(
        'Digest username="alice", realm="api", nonce="abc"'
    )


def test_case_19_inbound_credentials_pass_through_when_consumes_has_no_auth(
    make, upstream: FakeUpstream
) -> None:
    built = make(
        spec(
            """    resources:
    - name: items
      path: /items
      operations: [{name: list, method: GET}]
""",
            """  - type: rest
    namespace: r
    port: 8080
    resources:
    - path: /items
      operations: [{method: GET, call: api.list}]
""",
        )
    )
    forwarded = "Basic " + base64.b64encode(b"bob:forwarded-secret").decode()
    with built.rest(token=None, **{f"{built.package.env_prefix}_AUTH_DISABLED": "1"}) as client:
        assert client.get("/items", headers={"Authorization": forwarded}).status_code == 200
    assert last(upstream).headers["authorization"] == forwarded
    with built.rest() as client:  # with inbound auth on, the caller's token is never forwarded
        assert client.get("/items").status_code == 200
    assert "authorization" not in last(upstream).headers


def test_each_missing_argument_is_named_once_over_rest_and_mcp(
    make, upstream: FakeUpstream
) -> None:
    """Agent frameworks hand this text back to the model: it must name every missing input."""
    import anyio

    built: Built = make(
        spec(
            """    resources:
    - name: runs
      path: /runs/{{model}}
      operations:
      - name: run
        method: POST
        inputParameters:
        - {name: model, in: path, type: string, required: true}
        - {name: region, in: query, type: string, required: true}
        - {name: body, in: body, type: object, required: true}
""",
            """  - type: rest
    namespace: r
    port: 8080
    resources:
    - path: /runs
      operations: [{method: POST, name: run, call: api.run}]
  - type: mcp
    namespace: m
    port: 9090
    tools: [{name: run, description: Run a model, call: api.run}]
""",
        )
    )
    with built.rest() as client:
        rest = client.post("/runs", json={})

    async def call() -> str:
        async with built.mcp() as client:
            result = await client.call_tool("run", {})
        assert result.is_error
        return str(result.content[0].text)

    mcp = anyio.run(call)
    expected = ["body: is required", "model: is required", "region: is required"]
    assert rest.status_code == 422 and rest.json()["errors"] == expected[1:]  # body: {} sent
    assert problem_detail(rest, 422) == "invalid input: model: is required; region: is required"
    assert mcp.startswith("Invalid arguments: ")
    assert sorted(mcp.removeprefix("Invalid arguments: ").split("; ")) == expected
    assert upstream.requests == []
