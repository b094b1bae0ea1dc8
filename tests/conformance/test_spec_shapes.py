"""Spec shapes people write that capgen once misread (issue 14): each case states, from the
spec text and HTTP, the request the upstream must receive."""

from __future__ import annotations

from tests.conformance.test_consumed import _call_list, last, spec
from tests.support.fake_upstream import FakeUpstream
from tests.support.packages import codes

MCP = """  - type: mcp
    namespace: m
    port: 9090
    tools: [{name: list, call: api.list}]
"""


def _consumed(path: str, params: str = "") -> str:
    return spec(
        f"""    resources:
    - name: items
      path: '{path}'
      operations: [{{name: list, method: POST{params}}}]
""",
        MCP,
    )


def test_a_path_with_a_query_and_query_parameters_makes_one_query(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    params = ", inputParameters: [{name: limit, in: query, value: '10'}]"
    _call_list(make(_consumed("/items?kind=x", params)))
    seen = last(upstream)
    assert (seen.path, seen.query) == ("/api/items", "kind=x&limit=10")


def test_the_aws_json_target_fragment_is_sent_as_its_header(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    built = make(_consumed("/#X-Amz-Target=DynamoDB_20120810.ListTables"))
    _call_list(built)
    seen = last(upstream)
    assert seen.path == "/api/" and seen.headers["x-amz-target"] == "DynamoDB_20120810.ListTables"
    assert "W122" in codes(built)


def test_another_fragment_is_dropped_with_a_warning(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    built = make(_consumed("/items#section"))
    _call_list(built)
    assert last(upstream).path == "/api/items" and "#" not in last(upstream).raw_path
    assert any("never sent" in d.message for d in built.result.diagnostics)


def test_an_mcp_adapter_over_http_without_a_port_gets_one(make) -> None:  # type: ignore[no-untyped-def]
    built = make(_consumed("/items").replace("    port: 9090\n", ""))
    (adapter,) = built.package.mcp
    assert adapter.port == 9090
    assert any("has no `port`; it listens on 9090" in d.message for d in built.result.diagnostics)
    _call_list(built)


def test_a_path_input_the_route_lacks_is_read_from_the_query(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    rest = """  - type: rest
    namespace: r
    port: 8080
    resources:
    - path: /items
      operations:
      - method: GET
        call: api.get
        inputParameters: [{name: id, in: path, type: string, required: true}]
"""
    built = make(
        spec(
            """    resources:
    - name: item
      path: /items/{{id}}
      operations: [{name: get, method: GET}]
""",
            rest,
        )
    )
    with built.rest() as client:
        response = client.get("/items", params={"id": "i-7"})
    assert response.status_code == 200, response.text
    assert last(upstream).path == "/api/items/i-7"
    assert any("it is read from the query" in d.message for d in built.result.diagnostics)
