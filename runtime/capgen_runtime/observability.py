"""Health endpoints, Prometheus metrics, request ids and structured logs with secrets redacted."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import re
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING, Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .redaction import Redactor

if TYPE_CHECKING:
    from .settings import Settings

request_id: ContextVar[str] = ContextVar("request_id", default="-")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


Key = tuple[str, tuple[tuple[str, str], ...]]


class Metrics:
    """Counters and latency histograms in Prometheus' text format, without a dependency.

    With a `directory` (several workers of one server), each process writes what it counted
    there (`flush`, at most every `FLUSH_EVERY` seconds while it counts, and when it stops), and
    a scrape of any worker sums every file with its own live figures: the totals are the
    server's, whichever worker answers, and a finished worker's counts are kept."""

    FLUSH_EVERY = 0.5

    def __init__(self, directory: str = "") -> None:
        self._lock = Lock()
        self.counters: dict[Key, float] = defaultdict(float)
        self.histograms: dict[Key, list[float]] = {}
        self.directory = Path(directory) if directory else None
        self._file = f"{os.getpid()}-{time.time_ns()}.json"
        self.changed = False

    def inc(self, name: str, **labels: str) -> None:
        with self._lock:
            self.counters[(name, tuple(sorted(labels.items())))] += 1
            self.changed = True

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            slots = self.histograms.setdefault(key, [0.0] * (len(_BUCKETS) + 2))
            for i, bound in enumerate(_BUCKETS):
                if seconds <= bound:
                    slots[i] += 1
            slots[-2] += 1
            slots[-1] += seconds
            self.changed = True

    def flush(self) -> None:
        """Write this process's figures to the shared directory (atomically)."""
        if self.directory is None:
            return
        with self._lock:
            data = {
                "counters": [[n, list(map(list, ls)), v] for (n, ls), v in self.counters.items()],
                "histograms": [
                    [n, list(map(list, ls)), v] for (n, ls), v in self.histograms.items()
                ],
            }
            self.changed = False
        path = self.directory / self._file
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(data), encoding="utf-8")
        os.replace(partial, path)

    def _totals(self) -> tuple[dict[Key, float], dict[Key, list[float]]]:
        with self._lock:
            counters = defaultdict(float, self.counters)
            histograms = {key: list(slots) for key, slots in self.histograms.items()}
        for data in self._others():
            for name, labels, value in data.get("counters", ()):
                counters[(name, tuple(tuple(p) for p in labels))] += value
            for name, labels, slots in data.get("histograms", ()):
                key = (name, tuple(tuple(p) for p in labels))
                mine = histograms.setdefault(key, [0.0] * len(slots))
                histograms[key] = [a + b for a, b in zip(mine, slots, strict=False)]
        return counters, histograms

    def _others(self) -> Iterator[dict[str, Any]]:
        if self.directory is None:
            return
        for path in sorted(self.directory.glob("*.json")):
            if path.name == self._file:
                continue
            try:
                yield json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # a worker's file being replaced: its next scrape counts it

    def render(self) -> str:
        counters, histograms = self._totals()
        lines: list[str] = []
        for name in sorted({n for n, _ in counters}):
            lines.append(f"# TYPE {name} counter")
            for (metric, labels), value in sorted(counters.items()):
                if metric == name:
                    lines.append(f"{name}{_labels(labels)} {value:g}")
        for name in sorted({n for n, _ in histograms}):
            lines.append(f"# TYPE {name} histogram")
            for (metric, labels), slots in sorted(histograms.items()):
                if metric != name:
                    continue
                for bound, count in zip(_BUCKETS, slots, strict=False):
                    lines.append(
                        f"{name}_bucket{_labels((*labels, ('le', f'{bound:g}')))} {count:g}"
                    )
                lines.append(f"{name}_bucket{_labels((*labels, ('le', '+Inf')))} {slots[-2]:g}")
                lines.append(f"{name}_count{_labels(labels)} {slots[-2]:g}")
                lines.append(f"{name}_sum{_labels(labels)} {slots[-1]:.6f}")
        return "\n".join(lines) + "\n"

    async def flushing(self) -> None:
        """Flush while counting, until cancelled; then a last time."""
        try:
            while True:
                await asyncio.sleep(self.FLUSH_EVERY)
                if self.changed:
                    self.flush()
        finally:
            self.flush()


def _labels(labels: Iterable[tuple[str, str]]) -> str:
    parts = [f'{k}="{_escape(v)}"' for k, v in labels]
    return "{" + ",".join(parts) + "}" if parts else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class RedactingFilter(logging.Filter):
    """Replaces every known secret by `***` in formatted log messages, by the rule answers
    follow (redaction.py)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.redactor = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redactor.text(record.getMessage()), None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[
                0
            ].__name__  # the type only: tracebacks can hold secrets
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(secrets: Iterable[str], level: str = "INFO") -> None:
    """Structured JSON logs on stderr; every handler redacts the secrets."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs each request once
    logging.getLogger("uvicorn.error").setLevel(max(root.level, logging.WARNING))
    logging.getLogger("mcp").setLevel(max(root.level, logging.WARNING))
    logging.getLogger("httpx").setLevel(logging.WARNING)


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
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status, size = 500, 0

        async def send_with_id(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            labels = {"adapter": self.adapter, "method": scope["method"], "route": route}
            self.metrics.inc("capgen_requests_total", status=str(status), **labels)
            self.metrics.observe("capgen_request_duration_seconds", elapsed, **labels)
            self.log.info(
                "%s %s %s",
                scope["method"],
                route,
                status,
                extra={
                    "fields": {
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),  # to the last byte, streams too
                        "bytes": size,
                        "route": route,
                    }
                },
            )
            request_id.reset(token)


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


def health_routes(service: Observed, *, with_metrics: bool = True) -> dict[str, Any]:
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
            from .problem import problem  # problem.py reads this module's request id

            challenge = {"WWW-Authenticate": 'Bearer realm="metrics"'}
            return problem(401, "/metrics needs its own bearer token", challenge)
        return _exposition(service)

    routes: dict[str, Any] = {"/healthz": healthz, "/readyz": readyz}
    if with_metrics:
        routes["/metrics"] = metrics
    return routes


def _bearer_is(authorization: str, token: str) -> bool:
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def install_observability(app: Starlette, service: Observed, adapter: str) -> None:
    """Health and metrics routes first (before any catch-all mount), request logging outermost.
    With `<PREFIX>_METRICS_PORT`, `/metrics` is served on that port instead (`metrics_app`)."""
    routes = health_routes(service, with_metrics=not service.settings.metrics_port)
    for path, endpoint in reversed(list(routes.items())):
        app.router.routes.insert(0, Route(path, endpoint, methods=["GET"], include_in_schema=False))
    app.add_middleware(RequestLogMiddleware, metrics=service.metrics, adapter=adapter)


def metrics_app(service: Observed) -> Starlette:
    """`/metrics` alone, open, for a port that only the scraper reaches."""

    async def metrics(_: Request) -> Response:
        return _exposition(service)

    from .problem import install_problem_handlers  # problem.py reads this module's request id

    app = Starlette(routes=[Route("/metrics", metrics, methods=["GET"])])
    install_problem_handlers(app)
    return app


def _exposition(service: Observed) -> Response:
    """The metrics in Prometheus' text exposition format."""
    return PlainTextResponse(service.metrics.render(), media_type="text/plain; version=0.0.4")
