"""The MCP adapter's fast lane answers exactly as the SDK does (issue 23): the same requests,
sent as raw HTTP to an adapter with the lane and to one without it (every request through
the SDK's streamable-HTTP transport), get the same status, headers and bytes.

The shapes cover what the lane takes (calls and listings of the handshake era, every id
type, pages, invalid arguments, unknown tools, upstream failures) and what it must leave to
the SDK (progress tokens, the 2026-07-28 revision with its envelope and headers, other
methods, notifications, odd envelopes, wrong Accept or Content-Type). The expected answers
are the SDK's own, from the adapter without the lane: nothing here is read from the lane.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from tests.support.fake_upstream import Answer, FakeUpstream, Recorded
from tests.support.packages import TOKEN, Built
from tests.support.service import ThreadedServer

pytestmark = pytest.mark.integration

SPEC = """
naftiko: 1.0.0-alpha2
info: {label: Catalog, description: the MCP lane}
capability:
  consumes:
  - type: http
    namespace: shop
    baseUri: https://shop.example.com
    resources:
    - name: items
      path: /items
      operations:
      - name: list-items
        method: GET
        inputParameters:
        - {name: kind, in: query}
        - {name: limit, in: query, type: integer}
    - name: item
      path: /items/{{id}}
      operations: [{name: get-item, method: GET}]
  exposes:
  - type: mcp
    namespace: catalog-mcp
    port: 9090
    tools:
    - name: list-items
      label: List the catalog
      description: Items of one kind.
      call: shop.list-items
      inputParameters:
      - {name: kind, type: string, enum: [book, film], description: what kind}
      - {name: limit, type: integer, required: false}
      outputParameters:
      - type: array
        mapping: $.items
        items:
          type: object
          properties:
            id: {type: string, mapping: $.id}
    - name: get-item
      description: One item « as is ».
      call: shop.get-item
      inputParameters:
      - {name: id, type: string}
    - {name: third, description: a third tool, call: shop.get-item}
    - {name: fourth, description: a fourth tool, call: shop.get-item}
"""

OLD, NEW = "2025-11-25", "2026-07-28"
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": NEW,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "lane-test", "version": "1"},
}
# headers that differ between any two answers whoever gives them
VOLATILE = {"date", "x-request-id"}


def _upstream(request: Recorded) -> Answer:
    path = request.raw_path.split("?")[0]
    if path.endswith("/missing"):
        return Answer(404, {"error": "no such item", "secret": "not here"})
    if path.endswith("/broken"):
        return Answer(500, "upstream failed")
    if path.endswith("/image"):
        return Answer(200, b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, {"content-type": "image/png"})
    if "kind=film" in request.raw_path:  # not the shape the output schema promises
        return Answer(200, {"items": "none"})
    if path.endswith("/items"):
        return Answer(200, {"items": [{"id": "b-1", "price": 3}, {"id": "é✓"}]})
    return Answer(200, {"id": path.rsplit("/", 1)[-1], "deep": {"a": [1, 2.5, None, True]}})


def _rpc(method: str, params: Any = None, id: Any = 1, **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": id, "method": method, **extra}
    if params is not None:
        message["params"] = params
    return message


def _call(name: Any, arguments: Any = None, id: Any = 1, **params: Any) -> dict[str, Any]:
    given = {"name": name, **params}
    if arguments is not None:
        given["arguments"] = arguments
    return _rpc("tools/call", given, id)


def _initialize(version: str) -> dict[str, Any]:
    client = {"name": "t", "version": "1"}
    return _rpc(
        "initialize", {"protocolVersion": version, "capabilities": {}, "clientInfo": client}, id=3
    )


def _modern(method: str, params: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    headers = {"MCP-Protocol-Version": NEW, "Mcp-Method": method}
    if name is not None:
        headers["Mcp-Name"] = name
    return {"body": _rpc(method, {"_meta": ENVELOPE, **params}), "headers": headers}


GOOD = {"kind": "book"}
ACCEPT_BOTH = "application/json, text/event-stream"
SHAPES: dict[str, dict[str, Any]] = {
    # listings
    "list, integer id": {"body": _rpc("tools/list", id=7)},
    "list, text id": {"body": _rpc("tools/list", id="req-1")},
    "list, empty params": {"body": _rpc("tools/list", {}, id=2)},
    "list, second page": {"body": _rpc("tools/list", {"cursor": "2"})},
    "list, last page": {"body": _rpc("tools/list", {"cursor": "2"}, id="again")},
    "list, a cursor never given": {"body": _rpc("tools/list", {"cursor": "nonsense"})},
    "list, an integer cursor": {"body": _rpc("tools/list", {"cursor": 2})},
    "list, a null cursor": {"body": _rpc("tools/list", {"cursor": None})},
    "list, with _meta": {"body": _rpc("tools/list", {"_meta": {"trace": "x"}})},
    "list, no version header": {
        "body": _rpc("tools/list"),
        "headers": {"MCP-Protocol-Version": None},
    },
    "list, 2025-06-18": {
        "body": _rpc("tools/list"),
        "headers": {"MCP-Protocol-Version": "2025-06-18"},
    },
    "list, 2024-11-05": {
        "body": _rpc("tools/list"),
        "headers": {"MCP-Protocol-Version": "2024-11-05"},
    },
    "list, 2026-07-28": _modern("tools/list", {}),
    "list, 2026-07-28 second page": _modern("tools/list", {"cursor": "2"}),
    "list, 2026-07-28 a cursor never given": _modern("tools/list", {"cursor": "x"}),
    "list, 2026-07-28 odd client info": _modern(
        "tools/list", {"_meta": {**ENVELOPE, "io.modelcontextprotocol/clientInfo": 5}}
    ),
    "list, 2026-07-28 with a log level": _modern(
        "tools/list", {"_meta": {**ENVELOPE, "io.modelcontextprotocol/logLevel": "loud"}}
    ),
    "list, 2026-07-28 without its headers": {
        "body": _rpc("tools/list", {"_meta": ENVELOPE}),
        "headers": {"MCP-Protocol-Version": NEW},
    },
    "list, 2026 envelope on a 2025 request": {"body": _rpc("tools/list", {"_meta": ENVELOPE})},
    # calls
    "call": {"body": _call("list-items", GOOD)},
    "call, text id": {"body": _call("list-items", GOOD, id="a-1")},
    "call, id 0": {"body": _call("list-items", GOOD, id=0)},
    "call, negative id": {"body": _call("list-items", GOOD, id=-5)},
    "call, huge id": {"body": _call("list-items", GOOD, id=2**63 + 1)},
    "call, empty text id": {"body": _call("list-items", GOOD, id="")},
    "call, unicode id": {"body": _call("list-items", GOOD, id="é✓\u2028")},
    "call, a path input": {"body": _call("get-item", {"id": "x-9"})},
    "call, arguments undeclared": {"body": _call("get-item", {"id": "x", "extra": 1})},
    "call, no arguments": {"body": _call("third")},
    "call, null arguments": {"body": _rpc("tools/call", {"name": "third", "arguments": None})},
    "call, an empty name": {"body": _call("", {})},
    "call, members out of order": {
        "body": {
            "params": {"arguments": GOOD, "name": "list-items"},
            "method": "tools/call",
            "id": 4,
            "jsonrpc": "2.0",
        }
    },
    "call, arguments not an object": {"body": _call("get-item", [1, 2])},
    "call, an argument off its enum": {"body": _call("list-items", {"kind": "toy"})},
    "call, a wrong argument type": {"body": _call("list-items", {"kind": "book", "limit": "x"})},
    "call, an answer off its schema": {"body": _call("list-items", {"kind": "film"})},
    "call, upstream 404": {"body": _call("get-item", {"id": "missing"})},
    "call, upstream 500": {"body": _call("get-item", {"id": "broken"})},
    "call, a binary answer": {"body": _call("get-item", {"id": "image"})},
    "call, unknown tool": {"body": _call("no-such-tool", {})},
    "call, no name": {"body": _rpc("tools/call", {"arguments": {}})},
    "call, a numeric name": {"body": _rpc("tools/call", {"name": 5})},
    "call, no params": {"body": _rpc("tools/call")},
    "call, unknown params member": {"body": _call("get-item", {"id": "x"}, task=1)},
    "call, unknown envelope member": {"body": {**_call("get-item", {"id": "x"}), "extra": True}},
    "call, other _meta": {"body": _call("get-item", {"id": "x"}, _meta={"k": [1]})},
    "call, progress token": {"body": _call("get-item", {"id": "x"}, _meta={"progressToken": 3})},
    "call, text progress token": {
        "body": _call("get-item", {"id": "x"}, _meta={"progressToken": "p"})
    },
    "call, null progress token": {
        "body": _call("get-item", {"id": "x"}, _meta={"progressToken": None})
    },
    "call, bool progress token": {
        "body": _call("get-item", {"id": "x"}, _meta={"progressToken": True})
    },
    "call, 2026-07-28": _modern(
        "tools/call", {"name": "get-item", "arguments": {"id": "x"}}, "get-item"
    ),
    "call, 2026-07-28 with a wrong Mcp-Name": {
        **_modern("tools/call", {"name": "get-item", "arguments": {"id": "x"}}, "third"),
    },
    "call, 2026-07-28 with an Mcp-Param header": {
        "body": _modern("tools/call", {"name": "get-item", "arguments": {"id": "x"}})["body"],
        "headers": {
            **_modern("tools/call", {}, "get-item")["headers"],
            "Mcp-Param-Id": "y",
        },
    },
    "call, an unknown version header": {
        "body": _call("get-item", {"id": "x"}),
        "headers": {"MCP-Protocol-Version": "1999-01-01"},
    },
    "call, a session id": {
        "body": _call("get-item", {"id": "x"}),
        "headers": {"Mcp-Session-Id": "abc"},
    },
    "call, unicode arguments": {"body": _call("get-item", {"id": "日本\u0000"})},
    # envelopes and methods the lane leaves alone
    "float id": {"body": _call("get-item", {"id": "x"}, id=1.5)},
    "null id": {"body": _call("get-item", {"id": "x"}, id=None)},
    "bool id": {"body": _call("get-item", {"id": "x"}, id=True)},
    "jsonrpc 1.0": {"body": {**_call("get-item", {"id": "x"}), "jsonrpc": "1.0"}},
    "a batch": {"body": [_rpc("tools/list"), _rpc("tools/list", id=2)]},
    "not JSON": {"body": b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list"'},
    "empty body": {"body": b""},
    "a JSON string": {"body": "tools/list"},
    "a numeric method": {"body": {"jsonrpc": "2.0", "id": 1, "method": 7}},
    "a posted response": {"body": {"jsonrpc": "2.0", "id": 1, "result": {}}},
    "a list notification": {"body": {"jsonrpc": "2.0", "method": "tools/list"}},
    "initialized": {"body": {"jsonrpc": "2.0", "method": "notifications/initialized"}},
    "initialized, with params": {
        "body": {"jsonrpc": "2.0", "method": "notifications/initialized", "params": {}}
    },
    "initialized, with _meta": {
        "body": {
            "jsonrpc": "2.0",
            "method": "notifications/initialized",
            "params": {"_meta": {"progressToken": 1}},
        }
    },
    "initialized, no version header": {
        "body": {"jsonrpc": "2.0", "method": "notifications/initialized"},
        "headers": {"MCP-Protocol-Version": None},
    },
    "initialized, Accept JSON only": {
        "body": {"jsonrpc": "2.0", "method": "notifications/initialized"},
        "headers": {"Accept": "application/json"},
    },
    "initialized, jsonrpc 1.0": {"body": {"jsonrpc": "1.0", "method": "notifications/initialized"}},
    "initialized, params a list": {
        "body": {"jsonrpc": "2.0", "method": "notifications/initialized", "params": [1]}
    },
    "initialized, with an id": {
        "body": {"jsonrpc": "2.0", "id": 9, "method": "notifications/initialized"}
    },
    "initialized, 2026-07-28": {
        "body": {"jsonrpc": "2.0", "method": "notifications/initialized"},
        "headers": {"MCP-Protocol-Version": NEW},
    },
    "initialize": {
        "body": _rpc(
            "initialize",
            {
                "protocolVersion": OLD,
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        )
    },
    "initialize, text id": {"body": {**_initialize(OLD), "id": "hello"}},
    "initialize, an older revision": {
        "body": _initialize("2025-06-18"),
        "headers": {"MCP-Protocol-Version": None},
    },
    "initialize, a revision never published": {"body": _initialize("2099-01-01")},
    "initialize, no client info": {
        "body": _rpc("initialize", {"protocolVersion": OLD, "capabilities": {}})
    },
    "ping": {"body": _rpc("ping")},
    "an unknown method": {"body": _rpc("shop/open")},
    "resources/list": {"body": _rpc("resources/list")},
    "server/discover": _modern("server/discover", {}),
    # headers
    "Accept JSON only": {
        "body": _call("get-item", {"id": "x"}),
        "headers": {"Accept": "application/json"},
    },
    "Accept any": {"body": _rpc("tools/list"), "headers": {"Accept": "*/*"}},
    "Accept application/*": {
        "body": _rpc("tools/list"),
        "headers": {"Accept": "application/*;q=0.5"},
    },
    "Accept SSE only": {"body": _rpc("tools/list"), "headers": {"Accept": "text/event-stream"}},
    "no Accept": {"body": _rpc("tools/list"), "headers": {"Accept": None}},
    "Content-Type text/plain": {
        "body": _rpc("tools/list"),
        "headers": {"Content-Type": "text/plain"},
    },
    "Content-Type with charset": {
        "body": _call("get-item", {"id": "x"}),
        "headers": {"Content-Type": "application/json; charset=utf-8"},
    },
    "Content-Type upper case": {
        "body": _rpc("tools/list"),
        "headers": {"Content-Type": "APPLICATION/JSON"},
    },
    "Content-Type json-seq": {
        "body": _rpc("tools/list"),
        "headers": {"Content-Type": "application/json-seq"},
    },
    "no Content-Type": {"body": _rpc("tools/list"), "headers": {"Content-Type": None}},
    "an Origin": {"body": _rpc("tools/list"), "headers": {"Origin": "http://127.0.0.1"}},
}


# what the lane takes, by its rule: a POST of JSON (`application/json`, parameters allowed)
# accepting JSON, and either of the handshake era (a version of it, or none), one JSON-RPC
# request `tools/list`, `tools/call` or `initialize` with no progress token in its `_meta`
# (a listing's or a handshake's answer is kept for the same params), or a 2026-07-28
# `tools/list` whose envelope and routing headers agree, and which succeeds (an error, such
# as a cursor never given or an envelope the SDK's validation refuses, is the SDK's to answer)
TAKEN = (
    {
        name
        for name in SHAPES
        if name.split(",")[0] in ("list", "call", "initialize")
        and "2026-07-28" not in name
        and "progress token" not in name
        and name != "call, an unknown version header"
    }
    | {
        # a valid `notifications/initialized` of the handshake era, which the server has no
        # handler for (the SDK answers 202 and drops it)
        "initialized",
        "initialized, with params",
        "initialized, with _meta",
        "initialized, no version header",
        "initialized, Accept JSON only",
    }
    | {
        "Accept JSON only",
        "Accept any",
        "Accept application/*",
        "Content-Type with charset",
        "an Origin",
        "list, 2026-07-28",
        "list, 2026-07-28 second page",
    }
)
SEEN: dict[str, list[bool]] = {}  # shape -> whether the lane answered it, each time


@pytest.fixture(scope="module")
def adapters(
    tmp_path_factory: pytest.TempPathFactory, fake_upstream_server: FakeUpstream
) -> Iterator[tuple[str, str]]:
    """(with the lane, without it): two adapters of one built package, each its own service."""
    from capgen_runtime.mcp.http import create_app
    from capgen_runtime.mcp.lane import Lane

    from tests.support.packages import make_fixture

    fake_upstream_server.reset()
    built: Built = make_fixture(tmp_path_factory.mktemp("lane"), fake_upstream_server)(SPEC)
    fake_upstream_server.responder = _upstream
    adapter = importlib.import_module(f"{built.module.__name__}.mcp_server").ADAPTER
    page = {f"{built.package.env_prefix}_MCP_PAGE_SIZE": "2"}
    lane = create_app(adapter, built.service(**page))
    sdk = create_app(adapter, built.service(**page), lane=False)
    answer = Lane.answer

    async def watched(self: Lane, scope: Scope, receive: Receive, send: Send, body: bytes) -> bool:
        taken = await answer(self, scope, receive, send, body)
        shape = dict(scope["headers"]).get(b"x-shape", b"").decode()
        SEEN.setdefault(shape, []).append(taken)
        return taken

    with (
        pytest.MonkeyPatch.context() as patch,
        ThreadedServer(lane) as with_lane,
        ThreadedServer(sdk) as without,
    ):
        patch.setattr(Lane, "answer", watched)
        yield f"{with_lane.url}/mcp", f"{without.url}/mcp"
    fake_upstream_server.reset()


def _send(client: httpx.Client, url: str, name: str) -> httpx.Response:
    shape = SHAPES[name]
    body = shape["body"]
    content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    headers: dict[str, str | None] = {
        "Authorization": f"Bearer {TOKEN}",
        "Content-Type": "application/json",
        "Accept": ACCEPT_BOTH,
        "MCP-Protocol-Version": OLD,
        "X-Shape": name,
        **shape.get("headers", {}),
    }
    sent = httpx.Headers({k: v for k, v in headers.items() if v is not None})
    request = client.build_request("POST", url, content=content, headers=sent)
    for name in [k for k, v in headers.items() if v is None]:
        request.headers.pop(name, None)
    return client.send(request)


def _comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in VOLATILE]
    return response.status_code, headers, response.content


def test_there_are_enough_shapes() -> None:
    assert len(SHAPES) >= 40


@pytest.mark.parametrize("name", list(SHAPES))
def test_the_lane_answers_as_the_sdk(adapters: tuple[str, str], name: str) -> None:
    with_lane, without = adapters
    with httpx.Client(timeout=10) as client:
        expected = _comparable(_send(client, without, name))
        for _ in range(2):  # a listing's second answer comes from the lane's cache
            assert _comparable(_send(client, with_lane, name)) == expected
    # the lane answered what its rule takes, and left the rest to the SDK
    taken = name in TAKEN
    assert SEEN.get(name, [False, False]) == [taken, taken]


def test_a_duplicated_version_header_is_left_to_the_sdk(adapters: tuple[str, str]) -> None:
    with_lane, without = adapters
    raw = [
        ("Authorization", f"Bearer {TOKEN}"),
        ("Content-Type", "application/json"),
        ("Accept", ACCEPT_BOTH),
        ("MCP-Protocol-Version", OLD),
        ("MCP-Protocol-Version", NEW),
    ]
    body = json.dumps(_rpc("tools/list")).encode()
    with httpx.Client(timeout=10) as client:
        answers = [
            _comparable(client.post(url, content=body, headers=httpx.Headers(raw)))
            for url in (without, with_lane)
        ]
    assert answers[0] == answers[1]
