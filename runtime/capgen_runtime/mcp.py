"""MCP adapters: the descriptors the generated `mcp_server` module declares.

The SDK-bound implementation lives in `mcp_sdk.py` (its HTTP side in `mcp_http.py`) and is imported on first use, so a
service can answer REST requests while the MCP SDK (the heaviest import) is still loading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .model import McpAdapter

if TYPE_CHECKING:
    from mcp.server import Server
    from starlette.applications import Starlette

    from .engine import Service


def build_server(adapter: McpAdapter, service: Service) -> Server[Any]:
    """A low-level MCP server whose handlers run the adapter's endpoints."""
    from . import mcp_sdk

    return mcp_sdk.build_server(adapter, service)


def build_app(adapter: McpAdapter, service: Service, host: str = "127.0.0.1") -> Starlette:
    """Streamable HTTP at /mcp (stateless, JSON responses), plus health and metrics routes."""
    from . import mcp_http

    return mcp_http.create_app(adapter, service, host)


async def run_stdio(adapter: McpAdapter, service: Service) -> None:
    from . import mcp_stdio

    await mcp_stdio.run_stdio(adapter, service)
