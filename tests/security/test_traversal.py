"""Path and header values can never change the upstream request's structure."""

from __future__ import annotations

from urllib.parse import unquote

import anyio
import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.packages import Built
from tests.support.service import RunningService, raw_request

PREFIX = "/client/v4/accounts/abc/ai/run/"
NASTY = [
    "..",
    "../..",
    "@cf/../../zones",
    "%2e%2e",
    "%2E%2E/x",
    ".%2e/x",
    "x/%2e%2e/y",
    "x/./y",
    "a//b",
    "x%2F..%2F..%2Fzones",
    "x%5C..%5Czones",
    "x%00y",
    "x%0d%0aHost:%20evil",
    "x%09y",
    "%2F",
    # Tomcat, Jetty and Spring read `..;x` as `..` (matrix parameters removed): issue 21
    "..;",
    "..;x",
    ".;",
    ".;/x",
    "%2e%2e;",
    "%2E%2E;jsessionid=1/x",
    "@cf/..;/..;/zones",
    "x/..;/y",
    "x/.;x/y",
]
ENCODED_OK = {
    "x%3Fq=1": "x%3Fq=1",
    "x%23frag": "x%23frag",
    "x y": "x%20y",
    "a;b": "a%3Bb",  # never a matrix parameter the upstream would strip
    "...;x": "...%3Bx",
    "@cf/meta/llama-3.1-8b-instruct": "@cf/meta/llama-3.1-8b-instruct",
}


@pytest.mark.integration
@pytest.mark.parametrize("value", NASTY)
def test_nasty_path_values_are_refused_before_the_upstream(
    seed_service: RunningService, upstream: FakeUpstream, value: str
) -> None:
    status, _ = raw_request(
        seed_service.rest_port, "POST", f"/v1/accounts/abc/ai/run/{value}", b"{}"
    )
    assert status in (400, 404)
    assert upstream.requests == []


@pytest.mark.integration
@pytest.mark.parametrize(("value", "sent"), sorted(ENCODED_OK.items()))
def test_reserved_characters_stay_inside_their_segment(
    seed_service: RunningService, upstream: FakeUpstream, value: str, sent: str
) -> None:
    status, _ = raw_request(
        seed_service.rest_port,
        "POST",
        f"/v1/accounts/abc/ai/run/{value.replace(' ', '%20')}",
        b"{}",
    )
    assert status in (200, 401)  # 401 is the fake upstream refusing the key of another test run
    (request,) = upstream.requests
    assert request.raw_path == PREFIX + sent and request.query == ""
    assert ".." not in unquote(request.raw_path).split("/")


SPEC = """
naftiko: 1.0.0-alpha2
info: {label: Headers, description: header injection}
capability:
  consumes:
  - type: http
    namespace: api
    baseUri: https://api.example.com
    resources:
    - name: things
      path: /things/{{id}}/parts
      operations:
      - name: get
        method: GET
        inputParameters: [{name: X-Tag, in: header}]
  exposes:
  - {type: mcp, namespace: m, port: 9090, tools: [{name: get, call: api.get}]}
"""


@pytest.mark.parametrize(
    "arguments",
    [
        {"id": "a/../../admin", "X-Tag": "t"},
        {"id": "..", "X-Tag": "t"},
        {"id": "..;", "X-Tag": "t"},
        {"id": ".;x", "X-Tag": "t"},
        {"id": "..;x/../admin", "X-Tag": "t"},
        {"id": "ok", "X-Tag": "x\r\nX-Injected: 1"},
        {"id": "ok", "X-Tag": "x\nSet-Cookie: a=b"},
        {"id": "ok\u0000", "X-Tag": "t"},
        {"id": {"nested": "object"}, "X-Tag": "t"},
    ],
)
def test_mcp_arguments_cannot_inject_paths_or_headers(
    make, upstream: FakeUpstream, arguments: dict[str, object]
) -> None:  # type: ignore[no-untyped-def]
    built: Built = make(SPEC)

    async def call() -> bool | None:
        async with built.mcp() as client:
            return (await client.call_tool("get", arguments)).is_error

    assert anyio.run(call) is True
    assert upstream.requests == []


def test_a_slash_in_a_middle_segment_is_encoded(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    built: Built = make(SPEC)

    async def call() -> bool:
        async with built.mcp() as client:
            return (await client.call_tool("get", {"id": "a/b", "X-Tag": "t"})).is_error

    assert anyio.run(call) is False
    assert upstream.requests[-1].raw_path == "/api/things/a%2Fb/parts"
