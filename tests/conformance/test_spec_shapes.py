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


def test_a_path_with_a_query_and_query_parameters_makes_one_query(
    make, upstream: FakeUpstream
) -> None:  # type: ignore[no-untyped-def]
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


def test_a_tool_with_only_with_answers_the_mock_object(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    """§6.5: neither call nor steps is mock mode; without mock values the result is `{}`."""
    import anyio

    tools = "    tools:\n    - {name: echo, with: {x: '1'}}\n    - {name: '  ', call: api.list}\n"
    built = make(_consumed("/items").replace("    tools: [{name: list, call: api.list}]\n", tools))

    async def run() -> tuple[list[str], object]:
        async with built.mcp() as client:
            names = [t.name for t in (await client.list_tools()).tools]
            return names, await client.call_tool("echo", {})

    names, result = anyio.run(run)
    assert names == ["echo"]  # a blank name is skipped like a missing one
    assert result.is_error is False and result.content[0].text == "{}"  # type: ignore[attr-defined]
    assert upstream.requests == []


TWICE = """    resources:
    - name: users
      path: /users
      operations: [{name: list, method: GET}]
    - name: groups
      path: /groups/{{group}}/members
      operations: [{name: list, method: GET}]
"""


def test_a_name_declared_twice_is_resolved_by_the_calling_resource(
    make, upstream: FakeUpstream
) -> None:  # type: ignore[no-untyped-def]
    rest = """  - type: rest
    namespace: r
    port: 8080
    resources:
    - path: /v1/users
      operations: [{method: GET, call: api.list}]
    - path: /v1/groups/{id}/members
      operations: [{method: GET, call: api.list, with: {group: rest.id}}]
"""
    built = make(spec(TWICE, rest))
    with built.rest() as client:
        assert client.get("/v1/users").status_code == 200
        assert client.get("/v1/groups/g-1/members").status_code == 200
    assert [r.path for r in upstream.requests[-2:]] == ["/api/users", "/api/groups/g-1/members"]
    assert "W131" in codes(built)


def test_a_name_declared_twice_that_no_context_resolves_is_an_error(make) -> None:  # type: ignore[no-untyped-def]
    built = make(spec(TWICE, MCP), expect_ok=False)
    (error,) = [d for d in built.result.diagnostics if d.code == "E032"]
    assert "GET /users and GET /groups/{group}/members" in error.message


PAGE = (
    b'<html><body><div id="nav"><table><tr><th>Menu</th></tr><tr><td>Home</td></tr></table>'
    b'</div><div class="content"><table class="prices"><tr><th>Name</th><th>Price</th></tr>'
    b"<tr><td>Tea</td><td>$4</td></tr></table></div></body></html>"
)


def test_case_37_the_css_selector_chooses_the_html_table(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    import anyio

    from tests.support.fake_upstream import Answer

    consumed = (
        _consumed("/menu")
        .replace(
            "{name: list, method: POST}",
            "{name: list, method: GET, outputRawFormat: html, outputSchema: 'div.content table.prices'}",
        )
        .replace(
            "tools: [{name: list, call: api.list}]",
            "tools: [{name: list, call: api.list, outputParameters: [{type: object, mapping: $.}]}]",
        )
    )
    built = make(consumed)
    upstream.answer(Answer(200, PAGE, {"content-type": "text/html"}))

    async def run() -> str:
        async with built.mcp() as client:
            result = await client.call_tool("list", {})
            return str(result.content[0].text)  # type: ignore[union-attr]

    assert anyio.run(run) == '{"tables":[[{"Name":"Tea","Price":"$4"}]]}'
