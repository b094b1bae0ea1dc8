"""Building upstream requests (SEMANTICS §3; conformance cases 9-18, 68-69)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from capgen_runtime.errors import InvalidRequest
from capgen_runtime.model import Body, Operation, Parameter, Upstream
from capgen_runtime.upstream.request import encode_path_value, prepare, prepare_forward

BASE = "https://api.example.com/v1"
NONE = Upstream("api", BASE, "API_BASE_URL")


def build(
    operation: Operation,
    params: dict[str, Any],
    upstream: Upstream = NONE,
    binds: dict[str, Any] | None = None,
):  # type: ignore[no-untyped-def]
    return prepare(upstream, operation, params, BASE, binds or {})


def test_seed_model_keeps_its_slashes_and_the_body_is_passed_through() -> None:
    op = Operation(
        "w",
        "run",
        "POST",
        "/accounts/{account_id}/ai/run/{model}",
        parameters=(
            Parameter("model", "path", required=True),
            Parameter("body", "body", type="object"),
        ),
    )
    request = build(
        op,
        {
            "account-id": "abc123",
            "model": "@cf/meta/llama-3.1-8b-instruct",
            "body": {"messages": []},
        },
    )
    assert request.url == f"{BASE}/accounts/abc123/ai/run/@cf/meta/llama-3.1-8b-instruct"
    assert json.loads(request.content or b"") == {"messages": []}
    assert request.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "value", ["..", "a/../b", "./x", "a//b", "/abs", "x\r\nHost: evil", "back\\slash", ""]
)
def test_path_values_cannot_change_the_url_structure(value: str) -> None:
    op = Operation("w", "run", "GET", "/things/{id}")
    with pytest.raises(InvalidRequest):
        build(op, {"id": value})


def test_reserved_characters_are_encoded_and_slashes_only_kept_at_the_end() -> None:
    op = Operation("w", "get", "GET", "/a/{first}/b/{last}")
    request = build(op, {"first": "x/y?z#w", "last": "p/q r"})
    assert request.url == f"{BASE}/a/x%2Fy%3Fz%23w/b/p/q%20r"
    assert encode_path_value("v", "%2e%2e") == "%252e%252e"


def test_missing_placeholder_is_an_error_before_any_call() -> None:
    with pytest.raises(InvalidRequest, match="orderId"):
        build(Operation("w", "get", "GET", "/orders/{orderId}"), {"other": 1})


def test_query_form_encoding_arrays_and_booleans() -> None:
    op = Operation(
        "w",
        "list",
        "GET",
        "/items",
        parameters=(
            Parameter("search", "query"),
            Parameter("ids", "query", type="array"),
            Parameter("on", "query"),
        ),
    )
    request = build(op, {"search": "ice class", "ids": ["a", "b"], "on": True})
    assert request.url == f"{BASE}/items?search=ice+class&ids=a&ids=b&on=true"


def test_templated_query_and_header_values_are_written_back() -> None:
    op = Operation(
        "w",
        "get",
        "GET",
        "/ships",
        parameters=(
            Parameter("q", "query", value="{{userId}}"),
            Parameter("X-Trace", "header", value="trace-{{requestId}}"),
        ),
    )
    upstream = Upstream(
        "api", BASE, "E", parameters=(Parameter("X-API-Key", "header", value="ABC123"),)
    )
    request = build(op, {"userId": "999", "requestId": "abc"}, upstream)
    assert request.url.endswith("?q=999")
    assert request.headers == {"X-API-Key": "ABC123", "X-Trace": "trace-abc"}


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: x=1", "José", "\u202e"])
def test_header_values_cannot_inject_lines_or_carry_other_than_ascii(value: str) -> None:
    op = Operation("w", "get", "GET", "/x", parameters=(Parameter("X-Name", "header"),))
    with pytest.raises(InvalidRequest):
        build(op, {"X-Name": value})


def test_body_templates_keep_types_and_render_strings() -> None:
    op = Operation(
        "w",
        "create",
        "POST",
        "/users",
        body=Body(
            "json",
            "application/json",
            {"id": "{{userId}}", "tags": "{{tags}}", "n": "user {{userName}}"},
        ),
    )
    request = build(op, {"userId": "123", "tags": ["a"], "userName": "Alice"})
    assert json.loads(request.content or b"") == {"id": "123", "tags": ["a"], "n": "user Alice"}


def test_raw_text_form_and_multipart_bodies() -> None:
    raw = Operation(
        "w", "v", "POST", "/v", body=Body("raw", "application/json", '{"shipImo": "{{shipImo}}"}\n')
    )
    assert build(raw, {"shipImo": "IMO-1"}).content == b'{"shipImo": "IMO-1"}\n'
    text = Operation("w", "t", "POST", "/t", body=Body("text", "text/plain", "hi {{who}}"))
    request = build(text, {"who": "you"})
    assert (request.content, request.headers["Content-Type"]) == (b"hi you", "text/plain")
    form = Operation(
        "w",
        "f",
        "POST",
        "/f",
        body=Body(
            "form",
            "application/x-www-form-urlencoded",
            {"grant_type": "client_credentials", "scope": "{{s}}"},
        ),
    )
    assert build(form, {"s": "a b"}).content == b"grant_type=client_credentials&scope=a+b"
    parts = Operation(
        "w",
        "m",
        "POST",
        "/m",
        body=Body(
            "multipart",
            "multipart/form-data",
            [
                {
                    "name": "file",
                    "value": "{{data}}",
                    "filename": "a.txt",
                    "contentType": "text/plain",
                },
                {"name": "note", "value": "x"},
            ],
        ),
    )
    request = build(parts, {"data": "hello"})
    assert request.files == [
        ("file", ("a.txt", b"hello", "text/plain")),
        ("note", (None, b"x", None)),
    ]
    # a part without a filename is still a part of the multipart form, not a urlencoded body
    encoded = httpx.Request("POST", "http://x/m", files=request.files, data=request.form)
    assert encoded.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'Content-Disposition: form-data; name="note"\r\n\r\nx\r\n' in encoded.read()


def test_implicit_json_body_from_body_parameters() -> None:  # DEV-12
    op = Operation(
        "w", "c", "POST", "/c", parameters=(Parameter("name", "body"), Parameter("size", "body"))
    )
    assert json.loads(build(op, {"name": "db", "size": "S"}).content or b"") == {
        "name": "db",
        "size": "S",
    }
    single = Operation("w", "c", "POST", "/c", parameters=(Parameter("body", "body"),))
    assert json.loads(build(single, {"body": '{"a": 1}'}).content or b"") == {"a": 1}


def test_explicit_content_type_parameter_wins() -> None:
    op = Operation(
        "w",
        "c",
        "POST",
        "/c",
        parameters=(Parameter("Content-Type", "header", value="application/xml"),),
        body=Body("raw", "application/json", "<a/>"),
    )
    assert build(op, {}).headers["Content-Type"] == "application/xml"


def test_names_match_across_styles() -> None:
    op = Operation("w", "g", "GET", "/accounts/{account_id}/zones/{zoneId}")
    assert build(op, {"account-id": "a", "zone_id": "z"}).url == f"{BASE}/accounts/a/zones/z"


def test_bind_values_fill_templates_with_lower_priority() -> None:
    op = Operation(
        "w", "g", "GET", "/x", parameters=(Parameter("key", "query", value="{{env.KEY}}"),)
    )
    assert build(op, {}, binds={"env": {"KEY": "secret"}}).url.endswith("?key=secret")


def test_forward_drops_query_and_keeps_static_parameters() -> None:
    upstream = Upstream(
        "notion", BASE, "E", parameters=(Parameter("Notion-Version", "header", value="2025-09-03"),)
    )
    request = prepare_forward(upstream, "GET", "pages/p1", {"X-Trace": "abc"}, b"", BASE, {})
    assert request.url == f"{BASE}/pages/p1"
    assert request.headers == {"X-Trace": "abc", "Notion-Version": "2025-09-03"}
    with pytest.raises(InvalidRequest):
        prepare_forward(upstream, "GET", "../admin", {}, b"", BASE, {})
