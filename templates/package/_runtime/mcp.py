"""MCP adapters: the descriptors the generated `mcp_server` module declares.

The SDK-bound implementation lives in `mcp_sdk.py` and is imported on first use, so a
service can answer REST requests while the MCP SDK (the heaviest import) is still loading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .model import Endpoint, Input
from .security import InboundAuth

if TYPE_CHECKING:
    from mcp.server import Server
    from starlette.applications import Starlette

    from .engine import Service


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    endpoint: Endpoint
    inputs: tuple[Input, ...] = ()  # the tool's arguments; its inputSchema is built from them
    title: str | None = None
    description: str | None = None
    annotations: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Resource:
    name: str
    uri: str
    endpoint: Endpoint | None = None
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None
    location: str | None = None  # a file:// directory served as static resources


@dataclass(frozen=True, slots=True)
class PromptArgument:
    name: str
    title: str | None = None
    description: str | None = None
    required: bool = True


@dataclass(frozen=True, slots=True)
class Prompt:
    name: str
    title: str | None = None
    description: str | None = None
    arguments: tuple[PromptArgument, ...] = ()
    messages: tuple[tuple[str, str], ...] = ()  # (role, template)
    location: str | None = None


@dataclass(frozen=True, slots=True)
class McpAdapter:
    namespace: str
    port: int | None
    tools: tuple[Tool, ...]
    resources: tuple[Resource, ...] = ()
    prompts: tuple[Prompt, ...] = ()
    description: str | None = None
    address: str | None = None
    transport: str = "http"
    auth: InboundAuth | None = None
    version: str = "1.0.0"


def build_server(adapter: McpAdapter, service: Service) -> Server[Any]:
    """A low-level MCP server whose handlers run the adapter's endpoints."""
    from . import mcp_sdk

    return mcp_sdk.build_server(adapter, service)


def create_app(adapter: McpAdapter, service: Service, host: str = "127.0.0.1") -> Starlette:
    """Streamable HTTP at /mcp (stateless, JSON responses), plus health and metrics routes."""
    from . import mcp_sdk

    return mcp_sdk.create_app(adapter, service, host)


async def run_stdio(adapter: McpAdapter, service: Service) -> None:
    from . import mcp_stdio

    await mcp_stdio.run_stdio(adapter, service)
