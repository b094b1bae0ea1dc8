"""Inbound authentication for both adapters (SEMANTICS §7.10, §6.7).

The spec's exposes `authentication` wins; otherwise capgen requires a bearer token from
`<PREFIX>_API_TOKEN`. Only an explicit `--no-auth` (or `<PREFIX>_AUTH_DISABLED=1`) turns it off.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from .settings import Settings
from .templating import render

OPEN_PATHS = frozenset({"/healthz", "/readyz"})


class AuthConfigError(RuntimeError):
    """Inbound authentication is on but has nothing to compare against."""


@dataclass(frozen=True, slots=True)
class InboundAuth:
    """An exposes-level `authentication` block; string fields are templates over binds."""

    kind: str  # bearer | apikey | basic
    token: str | None = None
    key: str | None = None
    value: str | None = None
    placement: str = "header"
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class Guard:
    """A resolved inbound check: what to compare and where to find it."""

    kind: str
    secret: str
    key: str = "Authorization"
    placement: str = "header"
    realm: str = "capgen"

    def allows(self, headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
        if self.kind == "apikey":
            given = (
                query.get(self.key) if self.placement == "query" else headers.get(self.key.lower())
            )
            return given is not None and _same(given, self.secret)
        header = headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        expected_scheme = "basic" if self.kind == "basic" else "bearer"
        if scheme.lower() != expected_scheme or not credentials:
            return False
        if self.kind == "basic":
            try:
                credentials = base64.b64decode(credentials.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return False
        return _same(credentials.strip(), self.secret)

    @property
    def challenge(self) -> str:
        if self.kind == "basic":
            return f'Basic realm="{self.realm}", charset="UTF-8"'
        if self.kind == "apikey":
            return f'ApiKey realm="{self.realm}", in="{self.placement}", name="{self.key}"'
        return f'Bearer realm="{self.realm}"'

    @property
    def credential_header(self) -> str | None:
        """The request header holding the inbound credential; it is never forwarded upstream."""
        if self.placement != "header":
            return None
        return self.key if self.kind == "apikey" else "Authorization"


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def resolve_guard(auth: InboundAuth | None, settings: Settings, realm: str) -> Guard | None:
    """The guard of one adapter, or None when authentication is explicitly disabled."""
    if settings.auth_disabled:
        return None
    scope: dict[str, Any] = settings.binds.scope
    if auth is not None:
        if auth.kind == "basic":
            secret = f"{render(auth.username or '', scope)}:{render(auth.password or '', scope)}"
            return _checked(Guard("basic", secret, realm=realm), realm)
        if auth.kind == "apikey":
            key = render(auth.key or "X-API-Key", scope)
            return _checked(
                Guard("apikey", render(auth.value or "", scope), key, auth.placement, realm), realm
            )
        return _checked(Guard("bearer", render(auth.token or "", scope), realm=realm), realm)
    token = settings.inbound_tokens.get(realm) or settings.inbound_tokens.get("*", "")
    if not token:
        raise AuthConfigError(
            f"inbound authentication is on: set {settings.env_prefix}_API_TOKEN, or start with --no-auth"
        )
    return Guard("bearer", token, realm=realm)


def _checked(guard: Guard, realm: str) -> Guard:
    if not guard.secret or "{{" in guard.secret or guard.secret == ":":
        raise AuthConfigError(
            f"the authentication of adapter {realm} resolves to an empty credential"
        )
    return guard


class GuardMiddleware:
    """ASGI middleware answering 401 with a WWW-Authenticate challenge."""

    def __init__(self, app: ASGIApp, guard: Guard | None) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.guard is None or scope.get("path") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        query = _query(scope.get("query_string", b""))
        if self.guard.allows(headers, query):
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"www-authenticate", self.guard.challenge.encode("latin-1")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b"Unauthorized"})


def _query(raw: bytes) -> dict[str, str]:
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
