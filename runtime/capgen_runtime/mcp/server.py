"""An MCP adapter as one low-level SDK `Server`: its tools answer through the service, with
arguments checked against each tool's `inputSchema` and results against its `outputSchema`
(SEMANTICS §6). The SDK's transports (streamable HTTP in `http.py`, stdio) serve it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mcp.types as types
from mcp import MCPError
from mcp.server import CacheHint, Server, ServerRequestContext

from ..engine import Exchange, Service, json_answer
from ..errors import CapabilityError, NoHandler
from ..model import McpAdapter
from .caching import CACHED_METHODS, cache_hint, hinted
from .catalog import Catalog, cursor_position
from .resources import completion_handler, prompt_handlers, resource_handlers
from .results import text_result, tool_result
from .stream import with_progress


def build_server(
    adapter: McpAdapter,
    service: Service,
    catalog: Catalog | None = None,
    calls: ToolCalls | None = None,
) -> Server[Any]:
    """A low-level MCP server whose handlers answer through the service (its calls through
    `calls` when given)."""
    catalog = catalog or Catalog(adapter, service.settings)
    hint = cache_hint(adapter)
    handlers: dict[str, Any] = {
        "on_list_tools": _list_tools(catalog, service.settings.mcp_page_size, hint),
        "on_call_tool": calls or ToolCalls(catalog, service),
    }
    # resources and prompts only when declared (SEMANTICS §6.3): otherwise the capability is
    # not advertised and its methods are -32601, as server-stateless requires
    if adapter.resources:
        handlers.update(resource_handlers(adapter, service, hint))
    if adapter.prompts:
        handlers.update(prompt_handlers(adapter.prompts, service, hint))
    handlers.update(completion_handler(adapter))
    server: Server[Any] = Server(
        adapter.namespace,
        version=adapter.version,
        instructions=adapter.description,
        cache_hints={method: hint for method in CACHED_METHODS},
        # the schemas `Mcp-Param-*` headers are checked against (2026-07-28): those listed,
        # looked up, rather than a whole `tools/list` run by the SDK on every call
        get_tool_input_schema={tool.name: tool.input_schema for tool in catalog.listed}.get,
        **handlers,
    )
    # The SDK wraps every request in an OpenTelemetry span by default; with no exporter it only
    # costs time. Services that want spans can put `OpenTelemetryMiddleware` back.
    server.middleware = [
        m for m in server.middleware if type(m).__name__ != "OpenTelemetryMiddleware"
    ]
    return server


def _list_tools(catalog: Catalog, size: int, hint: CacheHint) -> Any:
    listed = catalog.listed
    cached = hinted(hint)

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        start = cursor_position(params.cursor if params else None, len(listed))
        if size <= 0:
            return types.ListToolsResult(tools=listed, **cached)
        more = start + size < len(listed)
        return types.ListToolsResult(
            tools=listed[start : start + size],
            next_cursor=str(start + size) if more else None,
            **cached,
        )

    return list_tools


class ToolCalls:
    """The `tools/call` handler: arguments checked against the tool's contract, the answer
    through the service, the result checked against its `outputSchema`. `invoke` is the same
    call without the SDK's request context (none asked for progress), as the fast lane makes
    it."""

    def __init__(self, catalog: Catalog, service: Service) -> None:
        self.catalog, self.service = catalog, service

    async def __call__(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        return await self.invoke(params.name, params.arguments or {}, ctx)

    async def invoke(
        self, name: str, given: Mapping[str, Any], ctx: ServerRequestContext[Any] | None = None
    ) -> types.CallToolResult:
        discovery = self.catalog.discovery
        if discovery is not None and name in discovery.names:
            invoked = discovery.invoked(name, given)
            if isinstance(invoked, types.CallToolResult):
                return invoked  # a search or a description
            name, given = invoked
        return await self._run(ctx, name, given)

    async def _run(
        self, ctx: ServerRequestContext[Any] | None, name: str, given: Mapping[str, Any]
    ) -> types.CallToolResult:
        catalog, service = self.catalog, self.service
        tool = catalog.tools.get(name)
        if tool is None:
            raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool: {name}")
        contract = catalog.contracts[tool.name]
        arguments = {k: v for k, v in given.items() if k in contract.declared}
        problems = contract.check_arguments(arguments)
        if problems:  # a tool error the model can correct (protocol 2025-11-25)
            return text_result(f"Invalid arguments: {'; '.join(problems)}", is_error=True)
        token = ctx.meta.get("progress_token") if ctx is not None and ctx.meta else None
        redactor = service.redactor
        try:
            answer = await service.answer(tool, arguments, Exchange(stream=token is not None))
            if answer.stream is not None:
                assert ctx is not None and token is not None
                answer = await with_progress(answer, answer.stream, ctx, token, redactor)
        except NoHandler:  # §6.5: neither call nor steps nor mock values: the mock `{}`
            answer = json_answer(200, {})
        except CapabilityError as exc:
            return text_result(redactor.text(exc.message), is_error=True)
        return contract.result(tool_result(answer, redactor, contract.binary), answer, redactor)
