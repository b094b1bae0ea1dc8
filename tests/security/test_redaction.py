"""A bound secret never reaches a caller, in any form the service itself gives it (issue 21,
finding 7): URL-encoded as it goes in a query, as the base64 of the basic credential the
service builds, JSON-escaped, split across two events of a stream (joined by the MCP adapter,
or split across two chunks of a REST relay), and at the same length for logs and answers.

The oracle is the secret's own encodings computed here (urllib, base64, json), not capgen's
list of forms.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from typing import Any
from urllib.parse import quote, quote_plus, unquote

import anyio
import mcp.types as types
import pytest
from capgen_runtime.engine.redaction import Redactor
from capgen_runtime.web.logs import RedactingFilter
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.fake_upstream import Answer, FakeUpstream, Recorded
from tests.support.packages import Built

SECRET = 'sk/live+Key="z&y%7"'  # a key with characters every encoding changes
SHORT = "Zq9x"  # four characters: redacted in answers as in logs


def encodings(secret: str) -> set[str]:
    """What an upstream echoing the service's request may show of `secret`."""
    escaped = json.dumps(secret)[1:-1]
    found = {secret, escaped, escaped.replace("/", "\\/")}
    found |= {quote(secret, safe=""), quote_plus(secret), quote(secret)}
    return found | {re.sub("%[0-9A-F]{2}", lambda m: m[0].lower(), f) for f in found}


def leaks(text: str, secret: str) -> list[str]:
    return [form for form in encodings(secret) if form in text]


SPEC = """
naftiko: 1.0.0-alpha2
info: {label: Echo, description: an upstream that echoes what it got}
binds:
- namespace: env
  keys: {KEY: ECHO_KEY, USER: ECHO_USER, PASS: ECHO_PASS}
capability:
  consumes:
  - type: http
    namespace: api
    baseUri: https://api.example.com
    authentication: AUTH
    resources:
    - name: echo
      path: /echo
      operations: [{name: get, method: GET}]
  exposes:
  - type: rest
    namespace: rest
    port: 8080
    resources: [{path: /echo, operations: [{method: GET, call: api.get}]}]
  - type: mcp
    namespace: mcp
    port: 9090
    tools: [{name: get, call: api.get}]
"""
ENV = {"ECHO_KEY": SECRET, "ECHO_USER": "operator", "ECHO_PASS": "pass-Word-77"}


def _echo(request: Recorded) -> Answer:
    return Answer(200, {"url": f"{request.raw_path}?{request.query}", "headers": request.headers})


def _answers(built: Built) -> str:
    with built.rest() as client:
        rest = client.get("/echo").text

    async def call() -> str:
        async with built.mcp() as client:
            return (await client.call_tool("get", {})).model_dump_json()

    return rest + anyio.run(call)


def test_a_key_in_the_query_echoed_url_encoded_is_redacted(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    auth = "{type: apikey, key: api_key, value: '{{KEY}}', placement: query}"
    built: Built = make(SPEC.replace("AUTH", auth), env=ENV)
    upstream.responder = _echo
    seen = _answers(built)
    assert quote_plus(SECRET) in upstream.requests[-1].query  # what the service sent
    assert leaks(seen, SECRET) == [] and "***" in seen


def test_the_basic_credential_the_service_builds_is_redacted(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    auth = "{type: basic, username: '{{USER}}', password: '{{PASS}}'}"
    built: Built = make(SPEC.replace("AUTH", auth), env=ENV)
    upstream.responder = _echo
    seen = _answers(built)
    built_credential = base64.b64encode(b"operator:pass-Word-77").decode()
    assert upstream.requests[-1].headers["authorization"] == f"Basic {built_credential}"
    assert built_credential not in seen and leaks(seen, ENV["ECHO_PASS"]) == []
    assert "Basic ***" in seen


def test_a_short_secret_is_redacted_from_answers_as_from_logs(make, upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    auth = "{type: bearer, token: '{{KEY}}'}"
    built: Built = make(SPEC.replace("AUTH", auth), env={**ENV, "ECHO_KEY": SHORT})
    upstream.responder = _echo
    seen = _answers(built)
    assert SHORT not in seen and "Bearer ***" in seen
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent Bearer %s", (SHORT,), None)
    RedactingFilter([SHORT]).filter(record)
    assert record.getMessage() == "sent Bearer ***"


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(st.sampled_from([*'ab /+=%"\\k&yz7\n', *sorted(encodings(SECRET))])).map("".join)
)
def test_logs_and_answers_follow_one_rule(text: str) -> None:
    redactor = Redactor([SECRET, SHORT])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", (text,), None)
    RedactingFilter([SECRET, SHORT]).filter(record)
    assert record.getMessage() == redactor.text(text)
    assert leaks(redactor.text(text), SECRET) == []


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(
        st.sampled_from(["x", "sk/", "ey=", SECRET, quote_plus(SECRET), "\n"]), max_size=8
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=6),
)
def test_a_stream_is_redacted_as_its_whole_is_whatever_its_chunks(
    parts: list[str], cuts: list[int]
) -> None:
    whole = "".join(parts)
    points = sorted({min(c, len(whole)) for c in cuts})
    pieces = [whole[a:b] for a, b in zip([0, *points], [*points, len(whole)], strict=True)]
    redactor = Redactor([SECRET])
    held = redactor.held_bytes()
    sent = b"".join(held.feed(piece.encode()) for piece in pieces) + held.end()
    assert sent == redactor.binary(whole.encode())
    joined = redactor.pieces(pieces)
    assert "".join(joined) == redactor.text(whole) and len(joined) == len(pieces)


STREAM_SPEC = """
naftiko: 1.0.0-alpha2
info: {label: Events, description: an upstream that streams}
binds:
- namespace: env
  keys: {KEY: ECHO_KEY}
capability:
  consumes:
  - type: http
    namespace: api
    baseUri: https://api.example.com
    authentication: {type: bearer, token: '{{KEY}}'}
    resources:
    - name: chat
      path: /chat
      operations: [{name: run, method: POST, outputParameters: [{type: object, value: $.}]}]
  exposes:
  - type: mcp
    namespace: mcp
    port: 9090
    tools:
    - {name: run, call: api.run, outputParameters: [{type: object, mapping: $.}]}
"""
KEY = "sk-live-LEAKCHECK-1234567890"


def _split_events() -> bytes:
    halves = (KEY[:12], KEY[12:])
    return (
        f'data: {{"response":"the key is {halves[0]}"}}\n\n'
        f'data: {{"response":"{halves[1]} and more"}}\n\n'
        "data: [DONE]\n\n"
    ).encode()


@pytest.mark.parametrize("with_progress", [False, True])
def test_a_secret_split_across_two_events_is_redacted_once_joined(
    make, upstream: FakeUpstream, with_progress: bool
) -> None:  # type: ignore[no-untyped-def]
    built: Built = make(STREAM_SPEC, env={"ECHO_KEY": KEY})
    upstream.responder = lambda request: Answer(
        200, _split_events(), {"content-type": "text/event-stream"}
    )
    notes: list[str] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        notes.append(message or "")

    async def call() -> types.CallToolResult:
        async with built.mcp() as client:
            return await client.call_tool(
                "run", {}, progress_callback=progress if with_progress else None
            )

    result = anyio.run(call)
    shown: Any = [result.model_dump(mode="json"), notes]
    text = json.dumps(shown)
    assert KEY not in unquote(text) and KEY[:12] not in text and KEY[12:] not in text
    assert result.content[0].text == "the key is *** and more"  # type: ignore[union-attr]
    events = result.structured_content["events"]  # type: ignore[index]
    assert "".join(e["response"] for e in events) == "the key is *** and more"
    if with_progress:
        assert "".join(notes) == "the key is *** and more"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(
    value=JSON_VALUES,
    secrets=st.lists(st.text(min_size=4, max_size=8), min_size=1, max_size=3),
    plant=st.booleans(),
)
def test_a_value_judged_by_its_json_text_is_redacted_as_string_by_string(
    value: Any, secrets: list[str], plant: bool
) -> None:
    """`written_value` (the text read once) redacts what `value` (each string) redacts, for
    secrets of any characters, planted in the value or not."""
    redactor = Redactor(secrets)
    if plant:
        value = {"planted": f"a{secrets[0]}b", "k" + secrets[-1]: [value]}
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )
    assert redactor.written_value(value, text) == redactor.value(value)
