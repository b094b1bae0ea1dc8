"""Upstream faults: slow, dropped, throttled, failing, malformed and huge answers.

Every case gets a clear status (REST) or an `isError` result (MCP), within a bounded time.
Idempotent requests are retried (honouring Retry-After); non-idempotent ones never are.
"""

from __future__ import annotations

import email.utils
import time

import anyio
import pytest

from tests.support.fake_upstream import DROP, TRUNCATE, Answer, FakeUpstream
from tests.support.packages import Built, codes

SPEC = """
naftiko: 1.0.0-alpha2
info: {label: Faults, description: fault injection}
capability:
  consumes:
  - type: http
    namespace: api
    baseUri: https://api.example.com
    resources:
    - name: items
      path: /items
      operations:
      - {name: list, method: GET, outputParameters: [{name: r, type: object, value: $.}]}
      - {name: create, method: POST}
  exposes:
  - type: rest
    namespace: r
    port: 8080
    resources:
    - path: /items
      operations:
      - {method: GET, call: api.list, outputParameters: [{type: object, mapping: $.}]}
      - {method: POST, call: api.create}
  - type: mcp
    namespace: m
    port: 9090
    tools:
    - {name: list, call: api.list, outputParameters: [{type: object, mapping: $.}]}
"""

FAST = {"FAULTS_TIMEOUT": "0.5", "FAULTS_CONNECT_TIMEOUT": "0.5", "FAULTS_TOTAL_TIMEOUT": "3"}


@pytest.fixture
def built(make) -> Built:  # type: ignore[no-untyped-def]
    return make(SPEC.replace("label: Faults", "label: Faults"), env=FAST)


def _env(built: Built) -> dict[str, str]:
    prefix = built.package.env_prefix
    return {f"{prefix}_{k.split('_', 1)[1]}": v for k, v in FAST.items()}


def get(built: Built, method: str = "GET") -> tuple[int, dict[str, str], str, float]:
    started = time.perf_counter()
    with built.rest(**_env(built)) as client:
        response = client.request(method, "/items")
    return (
        response.status_code,
        dict(response.headers),
        response.text,
        time.perf_counter() - started,
    )


def test_slow_upstream_times_out_with_504(built: Built, upstream: FakeUpstream) -> None:
    upstream.answer(Answer(200, {"ok": True}, delay=2.0, repeat=3))
    status, _, text, elapsed = get(built, "POST")
    assert status == 504 and "did not answer in time" in text
    assert elapsed < 3
    assert len(upstream.requests) == 1


def test_total_deadline_bounds_retried_slow_answers(built: Built, upstream: FakeUpstream) -> None:
    upstream.answer(Answer(200, {"ok": True}, delay=2.0, repeat=10))
    status, _, _, elapsed = get(built)
    assert status == 504 and elapsed < 5


def test_dropped_connections_give_502_after_idempotent_retries(
    built: Built, upstream: FakeUpstream
) -> None:
    upstream.answer(Answer(action=DROP, repeat=10))
    status, _, text, _ = get(built)
    assert status == 502 and "could not be reached" in text
    # the first attempt and two retries; the connection pool resends each idempotent request
    # whose connection closed without an answer once, at once (RFC 9112 §9.3.1)
    assert len(upstream.requests) == 3 * 2


def test_a_drop_then_success_recovers(built: Built, upstream: FakeUpstream) -> None:
    upstream.answer(Answer(action=DROP), Answer(200, {"ok": True}))
    status, _, text, _ = get(built)
    assert status == 200 and text == '{"ok":true}'


def test_post_is_never_retried_after_a_broken_transfer(
    built: Built, upstream: FakeUpstream
) -> None:
    upstream.answer(Answer(action=DROP, repeat=10))
    status, _, _, _ = get(built, "POST")
    assert status == 502 and len(upstream.requests) == 1


def test_429_with_retry_after_is_honoured_then_succeeds(
    built: Built, upstream: FakeUpstream
) -> None:
    upstream.answer(
        Answer(429, {"errors": [{"code": 3040}]}, {"Retry-After": "1"}), Answer(200, {"ok": True})
    )
    status, _, _, elapsed = get(built)
    assert status == 200 and len(upstream.requests) == 2 and elapsed >= 1


def test_persistent_429_is_a_503_with_retry_after(built: Built, upstream: FakeUpstream) -> None:
    upstream.answer(Answer(429, {"errors": [{"code": 3036}]}, {"Retry-After": "0"}, repeat=10))
    status, headers, _, _ = get(built)
    assert status == 503 and headers["retry-after"] == "0" and headers["x-upstream-status"] == "429"
    assert len(upstream.requests) == 3


def test_a_long_retry_after_is_not_waited_for(built: Built, upstream: FakeUpstream) -> None:
    upstream.answer(Answer(429, {}, {"Retry-After": "3600"}, repeat=10))
    status, headers, _, elapsed = get(built)
    assert status == 503 and headers["retry-after"] == "3600" and elapsed < 2
    assert len(upstream.requests) == 1


@pytest.mark.parametrize(
    ("given", "passed_on"),
    [
        ("100000", "3600"),  # capped: an hour at most
        ("Wed, 21 Oct 2015 07:28:00 GMT", "0"),  # a date past is no wait
        ("soon", None),  # what does not parse is not passed on
        ("9" * 400, "3600"),
    ],
)
def test_retry_after_is_passed_on_normalised_and_capped(
    built: Built, upstream: FakeUpstream, given: str, passed_on: str | None
) -> None:
    upstream.answer(Answer(503, {}, {"Retry-After": given}, repeat=10))
    status, headers, _, _ = get(built, "POST")
    assert status == 503 and headers.get("retry-after") == passed_on


def test_a_future_retry_after_date_becomes_seconds(built: Built, upstream: FakeUpstream) -> None:
    when = email.utils.formatdate(time.time() + 120, usegmt=True)
    upstream.answer(Answer(429, {}, {"Retry-After": when}, repeat=10))
    status, headers, _, _ = get(built, "POST")
    assert status == 503 and 100 <= int(headers["retry-after"]) <= 121


def test_post_429_is_not_retried(built: Built, upstream: FakeUpstream) -> None:
    upstream.answer(Answer(429, {}, {"Retry-After": "0"}, repeat=10))
    status, _, _, _ = get(built, "POST")
    assert status == 503 and len(upstream.requests) == 1


def test_500_is_retried_for_get_then_a_502_with_the_body(
    built: Built, upstream: FakeUpstream
) -> None:
    upstream.answer(Answer(503, {"e": 1}, repeat=1), Answer(500, {"e": 2}, repeat=10))
    status, headers, text, _ = get(built)
    # DEV-25: the upstream's own body, byte for byte (never decoded nor mapped)
    assert status == 502 and headers["x-upstream-status"] == "500" and text == '{"e": 2}'


def test_a_whole_body_that_is_not_json_passes_as_sent(built: Built, upstream: FakeUpstream) -> None:
    """The outputs map `$.`: the body is the product, whatever format the spec declares (mapped
    outputs of such a body are a 502: tests/integration/test_seed_binary.py)."""
    upstream.answer(Answer(200, b"<html>not json</html>", {"content-type": "text/html"}))
    status, _, text, _ = get(built)
    assert status == 200 and text == "<html>not json</html>"


def test_a_huge_body_is_refused(built: Built, upstream: FakeUpstream) -> None:
    prefix = built.package.env_prefix
    upstream.answer(Answer(200, b'{"x": "' + b"a" * 300_000 + b'"}'))
    with built.rest(**_env(built), **{f"{prefix}_MAX_RESPONSE_BYTES": "100000"}) as client:
        response = client.get("/items")
    assert response.status_code == 502 and "over 100000 bytes" in response.text


def test_a_truncated_body_is_a_502(built: Built, upstream: FakeUpstream) -> None:
    upstream.answer(Answer(200, {"ok": "x" * 1000}, action=TRUNCATE, repeat=10))
    status, _, _, _ = get(built, "POST")
    assert status == 502


def test_a_request_body_over_the_limit_is_413(built: Built, upstream: FakeUpstream) -> None:
    prefix = built.package.env_prefix
    with built.rest(**_env(built), **{f"{prefix}_MAX_REQUEST_BYTES": "1000"}) as client:
        response = client.post("/items", content=b"x" * 5000)
    assert response.status_code == 413
    assert upstream.requests == []


def test_mcp_turns_faults_into_error_results(built: Built, upstream: FakeUpstream) -> None:
    upstream.answer(
        Answer(action=DROP, repeat=3 * 2),  # each attempt resent once by the pool (RFC 9112)
        Answer(200, {"ok": 1}, delay=2, repeat=3),
        Answer(500, {"e": 1}, repeat=3),
    )

    async def run() -> list[tuple[bool, str]]:
        results = []
        async with built.mcp(**_env(built)) as client:
            for _ in range(3):
                result = await client.call_tool("list", {})
                results.append((result.is_error, result.content[0].text))
        return results

    results = anyio.run(run)
    assert [error for error, _ in results] == [True, True, True]
    assert "could not be reached" in results[0][1] and "did not answer in time" in results[1][1]
    assert results[2][1] == '{"e": 1}'  # DEV-25: the upstream's own body as text


def _with_header(make, header: str) -> Built:  # type: ignore[no-untyped-def]
    list_op = "{name: list, method: GET,"
    return make(SPEC.replace(list_op, f"{list_op} inputParameters: [{header}],"), env=FAST)


def test_a_request_http_cannot_carry_is_refused_once_and_leaks_nothing(make) -> None:  # type: ignore[no-untyped-def]
    built = _with_header(make, "{name: 'X Bad Name', in: header, value: s3cr3t-value}")
    assert "W123" in codes(built)
    status, _, text, _ = get(built)
    assert status == 400 and "cannot be written as HTTP" in text and "s3cr3t" not in text
    assert built.upstream.requests == []


def test_header_values_lose_surrounding_spaces(make) -> None:  # type: ignore[no-untyped-def]
    built = _with_header(make, "{name: X-Tag, in: header}")

    async def call() -> None:
        async with built.mcp(**_env(built)) as client:
            assert not (await client.call_tool("list", {"X-Tag": "  a b\t"})).is_error

    anyio.run(call)
    (request,) = built.upstream.requests
    assert request.headers["x-tag"] == "a b"
