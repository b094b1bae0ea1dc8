"""What the ikanos eras added to MCP adapters, served: the caching hints of MCP 2026-07-28
(`ttlMs`, `cacheScope`, beta4) on every list and read result, binary answers (beta1:
`outputRawFormat: binary`, `outputMediaType`, `maxBinarySize`, `binary` resources) and tool
`tags`. The service runs under the SDK's streamable HTTP and is asked in raw JSON-RPC, so what
is checked is what goes on the wire (a client library would fill absent hints with defaults).
Expected values come from the spec text below and the protocol, sizes worked out here."""

from __future__ import annotations

import base64
import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.fake_upstream import Answer, FakeUpstream, Recorded
from tests.support.packages import TOKEN, Built

MODERN, LEGACY = "2026-07-28", "2025-11-25"

SPEC = """
ikanos: 1.0.0-beta5
info: {display: Media Desk, description: Photos, reports and archives.}
capability:
  consumes:
    - type: http
      namespace: media-api
      baseUri: https://media.example.com
      resources:
        photos:
          path: /photos/{{photo-id}}
          operations:
            get-photo:
              method: GET
              outputRawFormat: binary
              outputMediaType: image/webp
              maxBinarySize: 64B
              inputParameters:
                photo-id: {in: path}
        report:
          path: /report
          operations:
            get-report: {method: GET, outputRawFormat: binary}
        archive:
          path: /archive
          operations:
            get-archive: {method: GET, outputRawFormat: binary}
  exposes:
    - type: mcp
      namespace: media-mcp
      port: 9093
      maxBinarySize: 1KiB
      ttlMs: 30000
      cacheScope: public
      tools:
        photo:
          description: One photo.
          tags: [media, images]
          inputParameters:
            photo-id: {type: string, description: Photo identifier}
          call: media-api.get-photo
        archive:
          description: The archive.
          call: media-api.get-archive
      resources:
        report:
          display: Report
          description: The report, a PDF.
          uri: media://report
          mimeType: application/pdf
          binary: true
          call: media-api.get-report
        archive:
          display: Archive
          description: The archive.
          uri: media://archive
          call: media-api.get-archive
      prompts:
        caption:
          display: Caption
          description: Caption a photo.
          template:
            - {role: user, content: Write a caption.}
"""

# what the spec says nothing about: no hints, and neither resources nor prompts
PLAIN = """
ikanos: 1.0.0-beta5
info: {display: Plain, description: One tool.}
capability:
  consumes:
    - type: http
      namespace: plain-api
      baseUri: https://plain.example.com
      resources:
        items:
          path: /items
          operations:
            list-items: {method: GET}
  exposes:
    - type: mcp
      namespace: plain-mcp
      port: 9094
      tools:
        list-items:
          description: The items.
          call: plain-api.list-items
"""

LISTS = ("tools/list", "prompts/list", "resources/list", "resources/templates/list")


@contextmanager
def served(built: Built) -> Iterator[TestClient]:
    module = importlib.import_module(f"{built.module.__name__}.mcp_server")
    app = module.create_app(built.service())
    with TestClient(app, base_url="http://127.0.0.1:9093") as client:
        yield client


def rpc(client: TestClient, method: str, params: dict[str, Any], version: str) -> Any:
    """One JSON-RPC request; 2026-07-28 with its `_meta` and headers, 2025-11-25 as a
    stateless server takes it (no session, the version header)."""
    headers = {
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": version,
        "authorization": f"Bearer {TOKEN}",
    }
    if version == MODERN:
        headers["mcp-method"] = method
        name = params.get("name", params.get("uri"))
        if name is not None:
            headers["mcp-name"] = name
        params = {
            **params,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        }
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    response = client.post("/mcp", json=body, headers=headers)
    answer = response.json()
    # a JSON-RPC error on the 2026-07-28 wire may come with a 4xx status, a result never does
    assert response.status_code == 200 or "error" in answer, response.text
    return answer


def _upstream(photo: bytes, report: bytes, archive: bytes) -> Callable[[Recorded], Answer]:
    def answer(request: Recorded) -> Answer:
        if request.path.startswith("/media-api/photos/"):
            return Answer(200, photo, {"content-type": "image/png"})
        if request.path == "/media-api/report":
            return Answer(200, report, {"content-type": "text/plain"})
        return Answer(200, archive, {"content-type": "application/zip"})

    return answer


def test_the_adapters_hints_on_every_list_and_read_result(
    make: Callable[..., Built], upstream: FakeUpstream
) -> None:
    built = make(SPEC)
    upstream.responder = _upstream(b"\x89PNG", b"%PDF-1.7", b"PK\x03\x04")
    with served(built) as client:
        for method in LISTS:
            result = rpc(client, method, {}, MODERN)["result"]
            assert (result["ttlMs"], result["cacheScope"]) == (30000, "public"), method
            legacy = rpc(client, method, {}, LEGACY)["result"]
            assert "ttlMs" not in legacy and "cacheScope" not in legacy, method
        read = rpc(client, "resources/read", {"uri": "media://report"}, MODERN)["result"]
        assert (read["ttlMs"], read["cacheScope"]) == (30000, "public")


def test_defaults_where_the_spec_says_nothing_and_undeclared_lists(
    make: Callable[..., Built], upstream: FakeUpstream
) -> None:
    with served(make(PLAIN)) as client:
        tools = rpc(client, "tools/list", {}, MODERN)["result"]
        undeclared = {m: rpc(client, m, {}, MODERN) for m in LISTS[1:]}
    # README: 0 (ask again every time) and private (never shared between callers)
    assert (tools["ttlMs"], tools["cacheScope"]) == (0, "private")
    for method, answer in undeclared.items():  # SEMANTICS §6.3: not advertised, not served
        assert answer["error"]["code"] == -32601, method


def test_binary_answers_carry_the_advertised_type(
    make: Callable[..., Built], upstream: FakeUpstream
) -> None:
    photo, report, archive = b"\x89PNG\r\n\x1a\n" + bytes(range(40)), b"plain text", bytes(1024)
    upstream.responder = _upstream(photo, report, archive)
    with served(make(SPEC)) as client:
        listed = rpc(client, "tools/list", {}, MODERN)["result"]["tools"]
        called = rpc(
            client, "tools/call", {"name": "photo", "arguments": {"photo-id": "p1"}}, MODERN
        )
        read = rpc(client, "resources/read", {"uri": "media://report"}, LEGACY)["result"]
        whole = rpc(client, "resources/read", {"uri": "media://archive"}, LEGACY)["result"]
    assert {t["name"]: t.get("_meta") for t in listed} == {
        "photo": {"tags": ["media", "images"]},
        "archive": None,
    }
    # outputMediaType (image/webp) is what is advertised, whatever the upstream said
    assert called["result"]["content"] == [
        {"type": "image", "mimeType": "image/webp", "data": base64.b64encode(photo).decode()}
    ]
    assert upstream.requests[0].path == "/media-api/photos/p1"
    # `binary: true`: a blob, of the resource's mimeType, though the upstream said text/plain
    assert read["contents"] == [
        {
            "uri": "media://report",
            "mimeType": "application/pdf",
            "blob": base64.b64encode(report).decode(),
        }
    ]
    # exactly the adapter's 1KiB: still sent, whole
    assert whole["contents"][0]["blob"] == base64.b64encode(archive).decode()


@pytest.mark.parametrize("version", [LEGACY, MODERN])
def test_a_binary_answer_over_its_limit_is_an_error_never_a_cut_blob(
    make: Callable[..., Built], upstream: FakeUpstream, version: str
) -> None:
    # the photo operation's own 64B, the adapter's 1KiB for the rest
    upstream.responder = _upstream(bytes(65), b"%PDF", bytes(1025))
    with served(make(SPEC)) as client:
        photo = rpc(
            client, "tools/call", {"name": "photo", "arguments": {"photo-id": "p"}}, version
        )
        archive = rpc(client, "tools/call", {"name": "archive", "arguments": {}}, version)
        resource = rpc(client, "resources/read", {"uri": "media://archive"}, version)
    for result, size, limit in ((photo, 65, 64), (archive, 1025, 1024)):
        assert result["result"]["isError"] is True
        [content] = result["result"]["content"]
        assert content["type"] == "text"
        assert f"{size} bytes" in content["text"] and f"{limit} bytes" in content["text"]
    error = resource["error"]
    assert error["code"] == -32603 and error["data"] == {"uri": "media://archive"}
    assert "1025 bytes" in error["message"] and "1024 bytes" in error["message"]
    assert "blob" not in str(resource)


def test_discovery_finds_a_tool_by_its_tags(
    make: Callable[..., Built], upstream: FakeUpstream
) -> None:
    built = make(SPEC)
    module = importlib.import_module(f"{built.module.__name__}.mcp_server")
    app = module.create_app(
        built.service(**{f"{built.result.package.env_prefix}_MCP_DISCOVERY": "true"})
    )
    with TestClient(app, base_url="http://127.0.0.1:9093") as client:
        # "images" is only in the photo tool's tags, not in its name or description
        found = rpc(
            client, "tools/call", {"name": "search_tools", "arguments": {"query": "images"}}, LEGACY
        )
    assert found["result"]["structuredContent"] == {
        "tools": [{"name": "photo", "description": "One photo."}]
    }
