"""A REST adapter as a FastAPI application (SEMANTICS §5.1, §7): one route per operation,
its OpenAPI document, its docs pages, and the checks in front of it."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.params import Depends
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp

from ..auth.inbound import resolve_guard
from ..engine import Service
from ..errors import NoHandler
from ..model import RestAdapter
from ..web.hosts import install_checks
from ..web.observability import install_observability
from ..web.problem import internal_error, phrase, problem
from ..web.shortcut import install_shortcut
from .docs import ASSETS, DOCS_PATHS, install_docs
from .openapi import openapi_document, security_schemes
from .routes import OperationDispatch, OperationHandler, OperationRoute

try:  # FastAPI 0.16x's outer layers; earlier releases have neither
    from fastapi._body_limit import AppBodyLimitMiddleware
    from fastapi.telemetry._asgi import ExceptionTelemetryMiddleware

    _PASS_THROUGH: tuple[type, ...] = (AppBodyLimitMiddleware, ExceptionTelemetryMiddleware)
except ImportError:  # pragma: no cover
    _PASS_THROUGH = ()

# FastAPI's own OpenTelemetry hooks, off: the service logs and counts every request itself
TELEMETRY_OFF: dict[str, Any] = {"tracing": False, "metrics": False, "logs": False}


def build_app(
    adapter: RestAdapter,
    service: Service,
    host: str | None = None,
    *,
    dependencies: Sequence[Depends] = (),
) -> FastAPI:
    """The FastAPI application of `adapter`, served on `host`; `dependencies` run before every
    operation, as FastAPI runs them. Raises AuthConfigError when auth has no credential."""
    guard = resolve_guard(adapter.auth, service.settings, adapter.namespace)
    app = _app(adapter, service)
    hidden = guard.hidden if guard is not None else frozenset()
    routes = [
        OperationRoute(
            route,
            OperationHandler(route, service, hidden, passthrough=guard is None),
            operation_id=operation_id,
            dependencies=list(dependencies) or None,
        )
        for route, operation_id in zip(adapter.routes, _unique_ids(adapter), strict=True)
    ]
    app.router.routes.extend(routes)
    dispatch = OperationDispatch(app.router.app, routes)
    app.state.operations = app.router.middleware_stack = dispatch
    install_shortcut(app, dispatch.claimed)
    # built on first request: a 740-operation adapter answers before it has written its docs
    app.openapi = functools.cache(  # type: ignore[method-assign]
        lambda: openapi_document(app, adapter, security_schemes(guard))
    )
    app.add_exception_handler(HTTPException, _no_handler)
    app.add_exception_handler(Exception, internal_error)
    docs = service.settings.docs
    if docs:
        install_docs(app, adapter.title, app.openapi)
    install_checks(  # the docs hold no secret: open without credentials
        app,
        service.settings,
        guard,
        host,
        loopback_default=True,
        also_open=DOCS_PATHS if docs else frozenset(),
        open_prefix=ASSETS + "/" if docs else None,
    )
    install_observability(app, service, adapter.namespace)  # outermost: 401s are logged too
    return app


def _app(adapter: RestAdapter, service: Service) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with service.running():
            yield

    return _FastAPI(
        title=adapter.title,
        description=adapter.description or "",
        version=adapter.version,
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url=None,  # docs.py serves them, with their scripts, when they are on
        redoc_url=None,
        openapi_url=None,
        telemetry=TELEMETRY_OFF,  # type: ignore[arg-type]
    )


class _FastAPI(FastAPI):
    """FastAPI without the two outer layers that do nothing for this app: the telemetry
    exception hook (telemetry is off) and the app-wide body limit (none is set; each operation
    enforces `<PREFIX>_MAX_REQUEST_BYTES` itself). Every other layer, a user's middleware
    included, stays where FastAPI puts it."""

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if getattr(self, "max_body_size", None) is not None:
            return stack
        inner = getattr(stack, "app", None)
        while isinstance(inner, _PASS_THROUGH):
            inner = getattr(inner, "app", None)
        if inner is not None:
            stack.app = inner  # type: ignore[attr-defined]
        return stack


def _unique_ids(adapter: RestAdapter) -> list[str]:
    taken: set[str] = set()
    found = []
    for route in adapter.routes:
        candidate, count = route.name, 1
        while candidate in taken:
            count += 1
            candidate = f"{route.name}_{count}"
        taken.add(candidate)
        found.append(candidate)
    return found


async def _no_handler(request: Request, exc: Exception) -> Response:
    """An unknown path is the engine's 404 (SEMANTICS §7.2); a known path with a method it
    lacks is a 405 naming the methods it has (DEV-20)."""
    status = getattr(exc, "status_code", 500)
    if status == 405:
        headers = getattr(exc, "headers", None) or {}
        allowed = headers.get("Allow", "")
        return problem(405, f"{request.method} is not allowed here; use {allowed}", headers)
    if status == 404:
        return problem(404, NoHandler().message)
    return problem(status, phrase(status))
