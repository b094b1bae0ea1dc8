"""The ASGI applications a process serves: every adapter on one port (`OnePortApp`, what
single-port platforms and `uvicorn --factory <package>.app:create_app` run), or each on its own
port (`PortApp`, dispatching by the port a request arrived on). Both run the lifespans of the
applications they hold, and the drain that SIGTERM starts (`drain.py`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ..adapters import AdapterKind, App
from ..auth.inbound import METADATA_PATH, AuthConfigError
from ..binds import BindError
from ..collector import settle_collector
from ..engine import Service
from ..settings import SettingsError, load_settings
from ..web.logs import configure_logging
from .capability import Capability
from .drain import Drain
from .wire import refuse_large_head

Route = tuple[AdapterKind[Any, Any], App, str | None]  # an adapter's kind, application, mount
GRACE = 0.25  # s after listening that a deferred application waits for the first answer


class Lifespans:
    """Runs the lifespans of `apps` as one, and the drain of the process around them."""

    def __init__(self, apps: Sequence[App], drain: Drain | None) -> None:
        self.apps = list(apps)
        self.drain = drain

    async def __call__(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        async with contextlib.AsyncExitStack() as stack:
            try:
                for app in self.apps:
                    await stack.enter_async_context(app.router.lifespan_context(app))
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            if self.drain is not None:
                self.drain.install()
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
        await send({"type": "lifespan.shutdown.complete"})


class OnePortApp:
    """Dispatches each request by its path to the adapter that serves it: one mounted at that
    path (MCP: `/mcp`, `/<namespace>/mcp`; its RFC 9728 metadata beside it), else the first
    whose application claims it (REST: the paths of its operations), else (health, metrics,
    docs, 404s) the first adapter. `routes`: each adapter's kind, application and mount."""

    def __init__(self, routes: Sequence[Route], drain: Drain | None = None) -> None:
        if not routes:
            raise ValueError("one-port mode needs at least one adapter")
        self.mounted: dict[str, tuple[App, str]] = {}
        for kind, app, mount in routes:
            if mount is not None:
                self.mounted[mount] = (app, kind.path)
                self.mounted[METADATA_PATH + mount] = (app, METADATA_PATH + kind.path)
        self.claims = [(app, kind.claims(app)) for kind, app, _ in routes if kind.claims]
        self.default: App = routes[0][1]
        self.lifespans = Lifespans([app for _, app, _ in routes], drain)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespans(receive, send)
            return
        if scope["type"] == "http" and await refuse_large_head(scope, send):
            return  # an ASGI server run without serve/wire.py's protocol held it already
        app, path = self._route(scope.get("path", "/"))
        if path != scope.get("path"):
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await app(scope, receive, send)

    def _route(self, path: str) -> tuple[ASGIApp, str]:
        found = self.mounted.get(path)
        if found is not None:
            return found
        for app, claims in self.claims:
            if claims(path):
                return app, path
        return self.default, path


class PortApp:
    """Each adapter on its own port: a request goes to the application of the port it arrived
    on. An application still being built is waited for: a deferred one (the MCP SDK, a slow
    import) is built in a thread once the process has answered its first request, or `grace`
    seconds after listening, or at once when a request for it arrives, so that its imports do
    not hold the interpreter while the first answer is made. The collector, held by
    `process_app` through start-up, is settled once the deferred applications are built."""

    def __init__(
        self,
        apps: Mapping[int, ASGIApp],
        later: Mapping[int, Callable[[], App]],
        lifespans: Sequence[App],
        drain: Drain | None,
        grace: float = GRACE,
    ) -> None:
        self.apps = dict(apps)
        self.later = dict(later)
        self.lifespans = list(lifespans)  # the applications whose lifespans it runs
        self.drain = drain
        self.grace = grace
        self.ready: dict[int, asyncio.Future[App]] = {}
        self.answered = asyncio.Event()  # the first request was answered: build what waits
        self.stack = contextlib.AsyncExitStack()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        port = scope["server"][1] if scope.get("server") else 0
        app = self.apps.get(port)
        if app is None:
            self.answered.set()  # asked for: built now
            await (await self.ready[port])(scope, receive, send)
            return
        await app(scope, receive, send)
        self.answered.set()  # (again: setting a set event does nothing)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        for port, build in self.later.items():
            self.ready[port] = asyncio.ensure_future(self._start_later(loop, build))
        builds = list(self.ready.values())
        settled = [asyncio.ensure_future(_settle_after(builds))] if builds else []
        await Lifespans(self.lifespans, self.drain)(receive, send)
        for future in [*builds, *settled]:
            future.cancel()
        await self.stack.aclose()

    async def _start_later(self, loop: asyncio.AbstractEventLoop, build: Callable[[], App]) -> App:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.answered.wait(), self.grace)
        app = await loop.run_in_executor(None, build)
        await self.stack.enter_async_context(app.router.lifespan_context(app))
        return app


async def _settle_after(builds: Sequence[asyncio.Future[App]]) -> None:
    """Settles the collector once `builds` are done, however they end."""
    try:
        await asyncio.gather(*builds, return_exceptions=True)
    finally:
        settle_collector()


def one_port_app(
    capability: Capability, service: Service, host: str, drain: Drain | None = None
) -> OnePortApp:
    """Every adapter of `capability` over HTTP, sharing `service`; `host` is the interface it
    is bound to."""
    mounts = capability.mounts()
    routes: list[Route] = [
        (kind, kind.build(adapter, service, host), mounts.get(adapter.namespace))
        for kind, adapter in capability.served()
        if kind.over_http(adapter)
    ]
    return OnePortApp(routes, drain)


def factory(capability: Capability, environ: Mapping[str, str] | None = None) -> OnePortApp:
    """The one-port application configured from the environment, as a zero-argument factory
    of the package calls it; a setting that is missing or bad ends the process with its
    message (exit status 2), never a traceback."""
    env = os.environ if environ is None else environ
    try:
        settings = load_settings(capability.env_prefix, capability.upstreams, capability.binds, env)
        capability.check_certificates(settings)
        configure_logging(settings.secret_values(), settings.log_level)
        service = capability.create_service(settings)
        return one_port_app(capability, service, settings.host)
    except (BindError, SettingsError, AuthConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
