"""The checks in front of every adapter: credentials (`GuardMiddleware`, 401 with the
challenges of the schemes in force), and CORS when origins are configured."""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from ..auth.inbound import METADATA_PATH, Guard
from ..settings import Settings
from .problem import MEDIA_TYPE, problem_body

OPEN_PATHS = frozenset({"/healthz", "/readyz"})


class GuardMiddleware:
    """ASGI middleware answering 401 with WWW-Authenticate challenges."""

    def __init__(
        self,
        app: ASGIApp,
        guard: Guard | None,
        open_paths: frozenset[str] = OPEN_PATHS,
        open_prefix: str | None = None,
    ) -> None:
        self.app = app
        self.guard = guard
        self.open_paths = open_paths  # answered without credentials (health, the API docs)
        self.open_prefix = open_prefix  # and what is under it (the docs' scripts)
        self.metadata = guard.metadata() if guard is not None else None  # RFC 9728, oauth2

    def _open(self, path: str) -> bool:
        return path in self.open_paths or (
            self.open_prefix is not None and path.startswith(self.open_prefix)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guard = self.guard
        if scope["type"] != "http" or guard is None or self._open(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        metadata = self.metadata
        if metadata is not None and (path == METADATA_PATH or path.startswith(METADATA_PATH + "/")):
            # RFC 9728 §3.1: also at the well-known path of the resource (`.../mcp`)
            await answer(send, 200, [(b"content-type", b"application/json")], metadata)
            return
        found = _credential_headers(scope, guard)
        if found is None:
            body = problem_body(400, "credentials given more than once")
            await answer(send, 400, [_PROBLEM], body)
            return
        status, challenges = await guard.verdict(scope, found)
        if status == 200:
            await self.app(scope, receive, send)
            return
        headers = [(b"www-authenticate", c.encode("latin-1")) for c in challenges]
        detail = (
            "the credentials do not grant this" if status == 403 else "missing or wrong credentials"
        )
        await answer(send, status, [_PROBLEM, *headers], problem_body(status, detail))


_PROBLEM = (b"content-type", MEDIA_TYPE.encode())


def _credential_headers(scope: Scope, guard: Guard) -> dict[str, str | None] | None:
    """The headers credentials travel in (lower-case names; None for one not given), read in
    one pass; None when one is given twice (two Authorization headers: which one counts would
    be a guess)."""
    names = guard.hidden_headers
    found: dict[str, str | None] = dict.fromkeys(names.values())
    for name, value in scope.get("headers", ()):
        key = names.get(name.lower())
        if key is not None:
            if found[key] is not None:
                return None
            found[key] = value.decode("latin-1")
    return found


async def answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: Any) -> None:
    """A whole ASGI response: `body` is bytes, or a value sent as JSON."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def open_paths(settings: Settings) -> frozenset[str]:
    """What callers reach without the adapter's credentials: the probes, and `/metrics` when
    it has a token of its own (`<PREFIX>_METRICS_TOKEN`, checked by its route)."""
    return OPEN_PATHS | {"/metrics"} if settings.metrics_token else OPEN_PATHS


def install_cors(app: Starlette, settings: Settings) -> None:
    """CORS stays off unless `<PREFIX>_CORS_ORIGINS` lists origins (comma-separated)."""
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "X-Upstream-Status", "Retry-After"],
        )
