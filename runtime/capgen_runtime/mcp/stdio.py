"""Serve an MCP adapter over standard input and output (SEMANTICS §6.1), with the SDK's
stdio transport.

When standard input ends, requests already read are still answered before the server stops:
`printf '...requests...' | python -m <package> stdio` gets every reply, as it would from a
server that handles one line at a time. Imported lazily by `mcp.py`.
"""

from __future__ import annotations

from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.stdio import stdio_server

from ..engine import Service
from ..model import McpAdapter
from .server import build_server


async def run_stdio(adapter: McpAdapter, service: Service) -> None:
    server = build_server(adapter, service)
    to_server, server_input = anyio.create_memory_object_stream[Any](0)
    server_output, from_server = anyio.create_memory_object_stream[Any](0)
    async with service.running(), stdio_server() as (stdin, stdout):
        drain = _Drain(service.settings.total_timeout)
        async with anyio.create_task_group() as group:
            group.start_soon(drain.relay_requests, stdin, to_server)
            group.start_soon(drain.relay_replies, from_server, stdout)
            async with server_output:
                await server.run(
                    server_input, server_output, server.create_initialization_options()
                )


class _Drain:
    """Counts the requests the server has not answered yet; standard input's end is passed on
    once there are none left (or after `deadline` seconds, should a handler hang)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.pending: set[Any] = set()
        self.idle = anyio.Event()
        self.idle.set()

    async def relay_requests(self, stdin: Any, to_server: MemoryObjectSendStream[Any]) -> None:
        async with to_server:
            async for item in stdin:
                request_id = _request_id(item)
                if request_id is not None:
                    self.pending.add(request_id)
                    self.idle = anyio.Event()
                await to_server.send(item)
            with anyio.move_on_after(self.deadline):
                await self.idle.wait()

    async def relay_replies(self, from_server: MemoryObjectReceiveStream[Any], stdout: Any) -> None:
        async with from_server, stdout:  # closing stdout ends the SDK's writer
            async for item in from_server:
                await stdout.send(item)
                message = getattr(item, "message", None)
                if getattr(message, "method", None) is None:  # a result or an error
                    self.pending.discard(getattr(message, "id", None))
                    if not self.pending:
                        self.idle.set()


def _request_id(item: Any) -> Any:
    message = getattr(item, "message", None)
    if getattr(message, "method", None) is None:
        return None
    return getattr(message, "id", None)
