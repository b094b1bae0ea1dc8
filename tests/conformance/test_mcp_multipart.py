"""A `multipart/*` upstream answer (RFC 2046) is one MCP content block per part, in order:
a part with `Content-Location` an embedded resource at that URI, image and audio parts as
such, text as text. Expected blocks are worked out here from the bytes the upstream sends."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from tests.conformance.test_mcp_protocol import run
from tests.support.fake_upstream import Answer, FakeUpstream
from tests.support.packages import Built

SPEC = """
naftiko: 1.0.0-alpha2
info: {label: Parts, description: Multipart answers}
capability:
  consumes:
  - type: http
    namespace: parts
    baseUri: https://parts.example.com
    resources:
    - name: bundle
      path: /bundle
      operations: [{name: get-bundle, method: GET}]
  exposes:
  - type: mcp
    namespace: parts-mcp
    port: 9096
    tools:
    - {name: bundle, description: The bundle., call: parts.get-bundle}
"""

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt "


def _call(built: Built) -> list[dict[str, Any]]:
    async def go(client: Any) -> Any:
        result = await client.call_tool("bundle", {})
        assert result.is_error is False
        return [c.model_dump(mode="json", by_alias=True, exclude_none=True) for c in result.content]

    blocks: list[dict[str, Any]] = run(built, go)
    return blocks


def test_each_part_is_a_block(make: Callable[..., Built], upstream: FakeUpstream) -> None:
    body = (
        b"preamble\r\n--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\ncaf\xe9\r\n"
        b"--b1\r\nContent-Type: audio/wav\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(WAV)
        + b"\r\n--b1\r\nContent-Type: text/csv\r\nContent-Location: parts://table\r\n\r\n"
        b"a,b\r\n1,2\r\n--b1--\r\n"
    )
    upstream.answer(Answer(200, body, {"content-type": 'multipart/mixed; boundary="b1"'}))
    assert _call(make(SPEC)) == [
        {"type": "text", "text": "café"},
        {"type": "audio", "mimeType": "audio/wav", "data": base64.b64encode(WAV).decode()},
        {
            "type": "resource",
            "resource": {"uri": "parts://table", "mimeType": "text/csv", "text": "a,b\r\n1,2"},
        },
    ]


def test_a_multipart_without_parts_is_sent_whole(
    make: Callable[..., Built], upstream: FakeUpstream
) -> None:
    body = b"no boundary here"
    upstream.answer(Answer(200, body, {"content-type": "multipart/mixed"}))
    [block] = _call(make(SPEC))
    assert block["type"] == "resource"
    assert block["resource"]["blob"] == base64.b64encode(body).decode()
    assert block["resource"]["mimeType"] == "multipart/mixed"
