"""MCP adapters (the `mcp` SDK, imported by `..mcp` on first use): streamable HTTP at `/mcp`, on
a shared port at `/mcp` or `/<namespace>/mcp` (`model.mcp_paths`), or standard input/output."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, Literal

from ..mcp import build_app, run_stdio
from ..model import MCP_PATH, Endpoint, McpAdapter, mcp_paths
from .kind import AdapterKind


def _endpoints(adapter: McpAdapter) -> Iterator[Endpoint]:
    yield from (tool.endpoint for tool in adapter.tools)
    yield from (r.endpoint for r in adapter.resources if r.endpoint is not None)


def _over_http(adapter: McpAdapter) -> bool:
    return adapter.transport == "http"


KIND: Final[AdapterKind[Literal["mcp"], McpAdapter]] = AdapterKind(
    "mcp",
    McpAdapter,
    "MCP",
    build_app,
    _endpoints,
    over_http=_over_http,
    mounts=mcp_paths,
    path=MCP_PATH,
    stdio=run_stdio,
    deferred=True,
)
