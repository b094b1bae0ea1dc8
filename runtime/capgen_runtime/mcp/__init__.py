"""MCP adapters: an SDK server per adapter, over streamable HTTP or stdio.

The SDK-bound modules are imported on first use, so a service can answer REST requests while
the MCP SDK (the heaviest import) is still loading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import McpAdapter

if TYPE_CHECKING:
    from mcp.server import Server
    from starlette.applications import Starlette

    from ..engine import Service


def build_server(adapter: McpAdapter, service: Service) -> Server[Any]:
    """A low-level MCP server whose handlers run the adapter's endpoints."""
    from . import server

    return server.build_server(adapter, service)


def build_app(adapter: McpAdapter, service: Service, host: str = "127.0.0.1") -> Starlette:
    """Streamable HTTP at /mcp (stateless, JSON responses), plus health and metrics routes."""
    from . import http

    return http.create_app(adapter, service, host)


async def run_stdio(adapter: McpAdapter, service: Service) -> None:
    from . import stdio

    await stdio.run_stdio(adapter, service)
