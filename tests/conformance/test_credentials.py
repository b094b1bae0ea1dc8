"""Every credential a spec declares reaches the upstream where it says, however it is written
(issue 14, classes 1 and 2): the expectations come from the spec text of each case."""

from __future__ import annotations

import base64
import json

import pytest
from capgen_runtime.binds import BindError

from tests.conformance.test_consumed import _auth_spec, _call_list, last
from tests.support.fake_upstream import FakeUpstream
from tests.support.packages import codes

BINDS = "binds:\n- namespace: env\n  keys: {TOKEN: TOKEN}\n"
ENV = {"TOKEN": "tok-9f2"}


def test_an_apikey_written_with_token_is_sent(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    built = make(_auth_spec("{type: apikey, key: X-Key, token: '{{TOKEN}}'}", BINDS), env=ENV)
    _call_list(built)
    assert last(upstream).headers["x-key"] == "tok-9f2"
    assert "W120" in codes(built)


@pytest.mark.parametrize("headers", ["{X-Key: '{{TOKEN}}'}", "[{name: X-Key, value: '{{TOKEN}}'}]"])
def test_an_apikey_written_as_a_headers_map_or_list_is_sent(
    make, upstream: FakeUpstream, headers: str
) -> None:  # type: ignore[no-untyped-def]
    _call_list(make(_auth_spec(f"{{type: apikey, headers: {headers}}}", BINDS), env=ENV))
    assert last(upstream).headers["x-key"] == "tok-9f2"


def test_an_apikey_without_a_value_is_an_error_not_a_dropped_credential(make) -> None:  # type: ignore[no-untyped-def]
    built = make(_auth_spec("{type: apikey, key: X-Key}", BINDS), expect_ok=False)
    assert "E012" in codes(built)


def test_an_undeclared_variable_is_read_from_the_environment_and_required(
    make, upstream: FakeUpstream
) -> None:  # type: ignore[no-untyped-def]
    spec = _auth_spec("{type: basic, username: '{{env.USER}}', password: '{{env.PASS}}'}")
    built = make(spec, env={"USER": "alice", "PASS": "s3cret"})
    assert codes(built).count("W133") == 2
    _call_list(built)
    expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()
    assert last(upstream).headers["authorization"] == expected
    without = {k: v for k, v in built.env.items() if k != "PASS"}
    with pytest.raises(BindError, match="PASS"):
        built.module.settings.load(without)


def test_an_apikey_in_a_json_body_field(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    spec = _auth_spec("{type: apikey, key: api_key, value: '{{TOKEN}}', placement: body}", BINDS)
    spec = spec.replace(
        "operations: [{name: list, method: GET}]",
        "operations: [{name: list, method: POST, body: {type: json, data: {kind: all}}}]",
    )
    built = make(spec, env=ENV)
    _call_list(built)
    assert json.loads(last(upstream).body) == {"kind": "all", "api_key": "tok-9f2"}
    assert "W122" in codes(built)


def test_an_apikey_in_a_form_body_when_there_is_no_body(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    spec = _auth_spec("{type: apikey, key: token, value: '{{TOKEN}}', placement: body}", BINDS)
    _call_list(make(spec.replace("method: GET", "method: POST"), env=ENV))
    seen = last(upstream)
    assert seen.body == b"token=tok-9f2"
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"


def test_an_apikey_as_a_path_segment(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    spec = _auth_spec("{type: apikey, key: bot_token, value: '{{TOKEN}}', placement: path}", BINDS)
    spec = spec.replace("path: /items", "path: /bot{{bot_token}}/getMe")
    _call_list(make(spec, env=ENV))
    assert last(upstream).path == "/api/bottok-9f2/getMe"


def test_an_apikey_placed_in_the_base_url_serves_with_its_bound_token(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    """`https://api.telegram.org/bot{token}` with the key placed in the path (issue 21): the
    service starts, sends the bound token in that segment (encoded as a path segment), and
    says nothing of reading `token` from the environment."""
    import anyio

    spec = _auth_spec("{type: apikey, key: token, value: '{{TOKEN}}', placement: path}", BINDS)
    spec = spec.replace("baseUri: https://api.example.com", f"baseUri: {upstream.url}/bot{{token}}")
    built = make(spec, env={"TOKEN": "123456:AAE-x/y"})
    assert not [d for d in built.result.diagnostics if "baseUri placeholder" in d.message]
    no_override = {built.result.package.upstreams[0].base_url_env: ""}

    async def run() -> None:
        async with built.mcp(**no_override) as client:
            result = await client.call_tool("list", {})
            assert not result.is_error, result.content

    anyio.run(run)
    assert last(upstream).raw_path == "/bot123456:AAE-x%2Fy/v1/items"
