"""One ASGI application serving every exposed adapter of a package on one port.

REST operations keep their paths, the (first) MCP adapter answers at `/mcp` and any further
one at `/<namespace>/mcp`; `/healthz`, `/readyz` and `/metrics` are shared, since every adapter
reads the same service. This is what single-port platforms run, through `serve` (one-port
mode) or an ASGI server (`uvicorn --factory <package>.app:create_app --http
capgen_runtime.wire:HttpProtocol`, whose protocol bounds request heads and idle reads where the
bytes arrive; a server without it still gets 431 for a head over the bounds, once parsed).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from .binds import BindError
from .engine import Service
from .model import MCP_PATH, mcp_paths
from .observability import configure_logging
from .routing import OperationRoutes
from .security import METADATA_PATH, AuthConfigError
from .settings import SettingsError, conventional, load_settings
from .wire import refuse_large_head

if TYPE_CHECKING:
    from .serve import Capability


class OnePortApp:
    """Dispatches each request by its path to the adapter that serves it; runs the lifespan
    of every adapter (their pools and MCP session managers) as its own."""

    def __init__(self, rest: Sequence[Starlette], mcp: Mapping[str, Starlette]) -> None:
        """`mcp` maps each adapter's path (`/mcp`, `/<namespace>/mcp`) to its application."""
        if not rest and not mcp:
            raise ValueError("one-port mode needs at least one adapter")
        self.rest = [(app, _operation_routes(app)) for app in rest]
        self.mcp = dict(mcp)
        self.apps: list[Starlette] = [*rest, *mcp.values()]
        self.default: Starlette = rest[0] if rest else next(iter(mcp.values()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] == "http" and await refuse_large_head(scope, send):
            return
        app, path = self._route(scope.get("path", "/"))
        if path != scope.get("path"):
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await app(scope, receive, send)

    def _route(self, path: str) -> tuple[ASGIApp, str]:
        if path in self.mcp:
            return self.mcp[path], MCP_PATH
        if path.startswith(METADATA_PATH + "/") and path[len(METADATA_PATH) :] in self.mcp:
            return self.mcp[path[len(METADATA_PATH) :]], METADATA_PATH + MCP_PATH
        for app, routes in self.rest:
            if routes is not None and routes.allowed(path):
                return app, path
        return self.default, path

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        async with contextlib.AsyncExitStack() as stack:
            try:
                for app in self.apps:
                    await stack.enter_async_context(app.router.lifespan_context(app))
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
        await send({"type": "lifespan.shutdown.complete"})


def _operation_routes(app: Starlette) -> OperationRoutes | None:
    return next((r for r in app.router.routes if isinstance(r, OperationRoutes)), None)


def one_port_app(capability: Capability, service: Service, host: str | None) -> OnePortApp:
    """Every adapter of `capability` over HTTP, sharing `service`; `host` is the interface it
    is bound to (loopback keeps MCP's Host check on without a setting)."""
    from .mcp import build_app as build_mcp_app  # the MCP SDK loads only where MCP is served
    from .rest import build_app as build_rest_app

    rest = [build_rest_app(adapter, service, host) for adapter in capability.rest]
    paths = mcp_paths(capability.mcp)
    mcp = {
        paths[adapter.namespace]: build_mcp_app(adapter, service, host or "127.0.0.1")
        for adapter in capability.mcp
        if adapter.namespace in paths
    }
    return OnePortApp(rest, mcp)


def factory(capability: Capability, environ: Mapping[str, str] | None = None) -> OnePortApp:
    """The one-port application configured from the environment, as a zero-argument factory
    of the package calls it; a setting that is missing or bad ends the process with its
    message (exit status 2), never a traceback."""
    env = os.environ if environ is None else environ
    try:
        prefix = capability.env_prefix
        settings = load_settings(prefix, capability.upstreams, capability.binds, env)
        configure_logging(
            settings.secret_values(), conventional(env, f"{prefix}_LOG_LEVEL", "LOG_LEVEL", "info")
        )
        host = conventional(env, f"{prefix}_HOST", "HOST", "127.0.0.1")
        return one_port_app(capability, Service(settings, capability.upstreams), host)
    except (BindError, SettingsError, AuthConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
