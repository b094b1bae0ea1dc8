"""Request ids, one structured log line and metrics per request (logs.py writes it), health
probes and `/metrics`."""

from __future__ import annotations

import hmac
import itertools
import logging
import os
import re
import secrets
import time
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..metrics import MEDIA_TYPE, Metrics
from ..settings import Settings
from .logs import sole_sink
from .problem import install_problem_handlers, problem, request_id

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIds:
    """Ids for requests that came without one: 32 hex digits, a random half drawn once per
    process (again in a forked child) and a counter, so no two are alike across replicas and
    none costs a read of the system's randomness. An id is for correlation, not a secret."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._count = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._count):016x}"


new_request_id = RequestIds()


class RequestLogMiddleware:
    """Request id (X-Request-ID in and out), one structured log line and metrics per request."""

    def __init__(self, app: ASGIApp, metrics: Metrics, adapter: str) -> None:
        self.app = app
        self.metrics = metrics
        self.adapter = adapter
        self.log = logging.getLogger(f"capgen.{adapter}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")  # the last given, as a dict of them keeps
        rid = incoming if incoming and _VALID_ID.match(incoming) else new_request_id()
        token = request_id.set(rid)
        started = time.perf_counter()
        status, size = 500, 0

        async def send_with_id(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, size, time.perf_counter() - started)
            request_id.reset(token)

    def _record(self, scope: Scope, status: int, size: int, elapsed: float) -> None:
        route = scope.get("route")
        path = getattr(getattr(route, "descriptor", route), "path", None) or "unmatched"
        method = scope["method"]
        self.metrics.answered(self.adapter, method, path, status, elapsed)
        if not self.log.isEnabledFor(logging.INFO):
            return
        ms = round(elapsed * 1000, 2)  # to the last byte, streams too
        sink = sole_sink(self.log)
        if sink is not None:  # the same line, without a LogRecord
            sink.access(self.log, method, path, status, ms, size)
        else:
            fields = {"status": status, "duration_ms": ms, "bytes": size, "route": path}
            self.log.info("%s %s %s", method, path, status, extra={"fields": fields})


class Observed(Protocol):
    """What health and metrics routes read of a service (the engine's `Service`)."""

    @property
    def metrics(self) -> Metrics: ...

    @property
    def ready(self) -> bool: ...

    @property
    def draining(self) -> bool: ...

    @property
    def settings(self) -> Settings: ...


def health_routes(service: Observed, *, with_metrics: bool = True) -> list[Route]:
    """`/healthz` (the process answers), `/readyz` (503 while starting and once draining has
    begun) and, unless they are served on their own port, `/metrics`."""

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        if service.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
        ready = service.ready
        return JSONResponse(
            {"status": "ready" if ready else "starting"}, status_code=200 if ready else 503
        )

    token = service.settings.metrics_token

    async def metrics(request: Request) -> Response:
        if token and not _bearer_is(request.headers.get("authorization", ""), token):
            challenge = {"WWW-Authenticate": 'Bearer realm="metrics"'}
            return problem(401, "/metrics needs its own bearer token", challenge)
        return _exposition(service)

    routes = [_get("/healthz", healthz), _get("/readyz", readyz)]
    return [*routes, _get("/metrics", metrics)] if with_metrics else routes


def _get(path: str, endpoint: Any) -> Route:
    return Route(path, endpoint, methods=["GET"], include_in_schema=False)


def _bearer_is(authorization: str, token: str) -> bool:
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def install_observability(app: Starlette, service: Observed, adapter: str) -> None:
    """Health and metrics routes first (before any catch-all mount), request logging outermost.
    With `<PREFIX>_METRICS_PORT`, `/metrics` is served on that port instead (`metrics_app`)."""
    app.router.routes[0:0] = health_routes(service, with_metrics=not service.settings.metrics_port)
    app.add_middleware(RequestLogMiddleware, metrics=service.metrics, adapter=adapter)


def metrics_app(service: Observed) -> Starlette:
    """`/metrics` alone, open, for a port that only the scraper reaches."""

    async def metrics(_: Request) -> Response:
        return _exposition(service)

    app = Starlette(routes=[_get("/metrics", metrics)])
    install_problem_handlers(app)
    return app


def _exposition(service: Observed) -> Response:
    return Response(service.metrics.exposition(), media_type=MEDIA_TYPE)
