"""Which MCP tools a service offers, and in pages (issue 16, first part): the run-time
settings `<PREFIX>_MCP_TOOLS`, `_MCP_EXCLUDE_TOOLS` (name patterns) and `_MCP_PAGE_SIZE`."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import MCPError

from tests.support.fake_upstream import FakeUpstream
from tests.support.packages import Built

pytestmark = pytest.mark.integration
NAMES = ["list-items", "list-orders", "get-item", "delete-item", "create-order"]
SPEC = """
naftiko: 1.0.0-alpha2
info: {label: Shop, description: tool selection}
capability:
  consumes:
  - type: http
    namespace: shop
    baseUri: https://shop.example.com
    resources:
    - name: items
      path: /items
      operations: [{name: op, method: GET}]
  exposes:
  - type: mcp
    namespace: shop-mcp
    port: 9090
    tools:
""" + "".join(f"    - {{name: {name}, description: {name}, call: shop.op}}\n" for name in NAMES)


def _prefix(built: Built) -> str:
    return str(built.package.env_prefix)


def _all_pages(built: Built, **env: str) -> list[list[str]]:
    async def run() -> list[list[str]]:
        pages: list[list[str]] = []
        async with built.mcp(**env) as client:
            cursor = None
            while True:
                page = await client.list_tools(cursor=cursor)
                pages.append([t.name for t in page.tools])
                cursor = page.next_cursor
                if cursor is None:
                    return pages

    return anyio.run(run)


def test_all_tools_in_one_page_by_default(make) -> None:  # type: ignore[no-untyped-def]
    assert _all_pages(make(SPEC)) == [NAMES]


def test_pages_of_the_configured_size_follow_their_cursors(make) -> None:  # type: ignore[no-untyped-def]
    built = make(SPEC)
    pages = _all_pages(built, **{f"{_prefix(built)}_MCP_PAGE_SIZE": "2"})
    assert pages == [NAMES[0:2], NAMES[2:4], NAMES[4:5]]


def test_a_cursor_the_server_never_gave_is_invalid_params(make) -> None:  # type: ignore[no-untyped-def]
    built = make(SPEC)

    async def run() -> int:
        async with built.mcp(**{f"{_prefix(built)}_MCP_PAGE_SIZE": "2"}) as client:
            with pytest.raises(MCPError) as caught:
                await client.list_tools(cursor="nonsense")
            return caught.value.error.code

    assert anyio.run(run) == -32602


def test_selected_tools_are_listed_and_the_others_cannot_be_called(
    make, upstream: FakeUpstream
) -> None:  # type: ignore[no-untyped-def]
    built = make(SPEC)
    env = {
        f"{_prefix(built)}_MCP_TOOLS": "list-*,get-*",
        f"{_prefix(built)}_MCP_EXCLUDE_TOOLS": "*-orders",
    }

    async def run() -> tuple[list[str], Any, int]:
        async with built.mcp(**env) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            allowed = await client.call_tool("get-item", {})
            with pytest.raises(MCPError) as caught:
                await client.call_tool("delete-item", {})
            return names, allowed, caught.value.error.code

    names, allowed, refused = anyio.run(run)
    assert names == ["list-items", "get-item"]
    assert allowed.is_error is False and refused == -32602
    assert len(upstream.requests) == 1  # only the selected tool reached the upstream


def test_discovery_lists_three_meta_tools_and_finds_and_calls_one(
    make, upstream: FakeUpstream
) -> None:  # type: ignore[no-untyped-def]
    built = make(SPEC)
    env = {f"{_prefix(built)}_MCP_DISCOVERY": "true"}

    async def run() -> tuple[list[str], Any, Any, Any, Any]:
        async with built.mcp(**env) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            found = await client.call_tool("search_tools", {"query": "order"})
            described = await client.call_tool("describe_tool", {"name": "get-item"})
            invoked = await client.call_tool("invoke_tool", {"name": "get-item", "arguments": {}})
            missing = await client.call_tool("invoke_tool", {"name": "nope"})
            return names, found, described, invoked, missing

    names, found, described, invoked, missing = anyio.run(run)
    assert names == ["search_tools", "describe_tool", "invoke_tool"]
    assert [t["name"] for t in found.structured_content["tools"]] == ["list-orders", "create-order"]
    assert described.structured_content["name"] == "get-item"
    assert described.structured_content["inputSchema"] == {"type": "object"}
    assert invoked.is_error is False and upstream.requests[-1].path == "/shop/items"
    assert missing.is_error is True and "search_tools" in missing.content[0].text


def test_discovery_keeps_a_740_operation_listing_small(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """What a big spec costs an agent: tools/list of cloudflare-accounts (740 operations) in
    each mode, measured in bytes of the JSON the client receives."""
    import json
    import os
    from pathlib import Path

    from generator import pipeline

    corpus = Path(os.environ.get("CAPGEN_CORPUS", Path(__file__).parents[3] / "shared" / "corpus"))
    spec = corpus / "cloudflare" / "cloudflare-accounts.yaml"
    big = spec.exists()
    if not big:  # without the shared corpus: a small spec, where only the first bound holds
        spec = Path(__file__).parents[1] / "data" / "corpus" / "cloudflare" / "kv-metadata.yaml"
    result, written = pipeline.build(spec, tmp_path, pipeline.Options(module="big_accounts"))
    assert written is not None and result.package is not None
    import importlib
    import sys

    sys.path.insert(0, str(tmp_path / "big_accounts"))
    module = importlib.import_module("big_accounts.capability")
    server_module = importlib.import_module(f"big_accounts.{result.package.mcp[0].module}")
    prefix = result.package.env_prefix

    async def listing(env: dict[str, str]) -> int:
        from mcp import Client

        service = module.create_service({**env, f"{prefix}_API_TOKEN": "t"}, mock=True)
        server = server_module.create_server(service)
        async with service.running(), Client(server, mode="legacy") as client:
            tools = (await client.list_tools()).tools
        return len(json.dumps([t.model_dump(by_alias=True, exclude_none=True) for t in tools]))

    full = anyio.run(listing, {})
    small = anyio.run(listing, {f"{prefix}_MCP_DISCOVERY": "true"})
    print(f"tools/list of {spec.name}: {full} bytes in full, {small} in discovery mode")
    assert small < 5 * 1024, small
    if big:  # the listing of 740 tools is hundreds of KB; the meta-tools' stays 1 KB
        assert full > 200_000 and small * 100 < full, (small, full)


def test_the_build_options_choose_the_generated_tools(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from generator.config import load_config

    hints = SPEC.replace(
        "{name: get-item, description: get-item, call: shop.op}",
        "{name: get-item, description: get-item, call: shop.op, hints: {readOnly: true}}",
    )
    (tmp_path / "shop.yaml").write_text(hints)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.capgen.options."shop.yaml"]\n'
        'tools = ["get-*", "list-*", "delete-*"]\nexclude_tools = ["list-orders"]\n'
    )
    from generator import pipeline

    config = load_config(tmp_path)
    selection = config.for_spec(tmp_path / "shop.yaml").selection
    result = pipeline.validate(tmp_path / "shop.yaml", pipeline.Options(selection=selection))
    assert result.package is not None
    assert [t.name for t in result.package.mcp[0].tools] == [
        "list-items",
        "get-item",
        "delete-item",
    ]
    read_only = pipeline.Options(selection=type(selection)(read_only=True))
    only = pipeline.validate(tmp_path / "shop.yaml", read_only).package
    assert only is not None and [t.name for t in only.mcp[0].tools] == ["get-item"]
