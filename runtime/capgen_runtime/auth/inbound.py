"""Inbound authentication for both adapters (SEMANTICS §7.10, §6.7).

The spec's exposes `authentication` wins. Otherwise callers present capgen's own credentials:
a bearer token from `<PREFIX>_API_TOKEN` and/or an `X-API-Key` from `<PREFIX>_API_KEY`. Only an
explicit `--no-auth` (or `<PREFIX>_AUTH_DISABLED=1`) turns authentication off; with nothing to
compare against, the service refuses to start.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from ..auth import digest
from ..expr.templating import render
from ..model import InboundAuth
from ..settings import Settings
from ..web.problem import MEDIA_TYPE, problem_body

if TYPE_CHECKING:  # PyJWT and cryptography load only for adapters that declare oauth2
    from ..auth.oauth import JwtVerifier

OPEN_PATHS = frozenset({"/healthz", "/readyz"})
METADATA_PATH = "/.well-known/oauth-protected-resource"  # RFC 9728, for oauth2 adapters


class AuthConfigError(RuntimeError):
    """Inbound authentication is on but has nothing to compare against."""


@dataclass(frozen=True)
class Credential:
    """One accepted credential: `Authorization: Bearer`, `Basic` or `Digest`, or an API key.

    For digest, `key` is the user name and `secret` the password.
    """

    kind: str
    secret: str
    key: str = "Authorization"
    placement: str = "header"
    realm: str = ""
    nonce_key: bytes = b""  # digest: what nonces are signed with (digest.nonce_key)

    def matches(
        self, headers: Mapping[str, str], query: Mapping[str, str], method: str, target: str
    ) -> bool:
        if self.kind == "digest":
            return bool(self.secret) and digest.verify(
                headers.get("authorization", ""),
                method,
                target,
                self.realm,
                self.key,
                self.secret,
                self.nonce_key,
            )
        if self.kind == "apikey":
            source = query if self.placement == "query" else headers
            given = source.get(self.key if self.placement == "query" else self.key.lower())
            return given is not None and _same(given, self.secret)
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() != self.kind or not credentials:
            return False
        if self.kind == "basic":
            try:
                credentials = base64.b64decode(credentials.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return False
        return _same(credentials.strip(), self.secret)

    def challenge(self, realm: str) -> str:
        if self.kind == "digest":
            return digest.challenge(realm, self.nonce_key)
        if self.kind == "basic":
            return f'Basic realm="{realm}", charset="UTF-8"'
        if self.kind == "apikey":
            return f'ApiKey realm="{realm}", in="{self.placement}", name="{self.key}"'
        return f'Bearer realm="{realm}"'


@dataclass(frozen=True)
class Guard:
    credentials: tuple[Credential, ...]
    realm: str
    oauth: JwtVerifier | None = None  # exposes `oauth2`: bearer JWTs instead of credentials

    def allows(
        self, headers: Mapping[str, str], query: Mapping[str, str], method: str, target: str
    ) -> bool:
        """`target` is the request target as sent (path and query), which digest signs."""
        return any(c.matches(headers, query, method, target) for c in self.credentials)

    @property
    def challenges(self) -> list[str]:
        return [credential.challenge(self.realm) for credential in self.credentials]

    async def verdict(self, scope: Scope) -> tuple[int, list[str]]:
        """200, or the status and WWW-Authenticate challenges of a refused request."""
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        if self.oauth is not None:
            verdict = await self.oauth.check(headers.get("authorization", ""))
            if verdict.status == 200:
                return 200, []
            host = headers.get("host", "")
            return verdict.status, [self._oauth_challenge(scope, host, verdict.error)]
        query_string = scope.get("query_string", b"")
        query = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
        raw = scope.get("raw_path") or scope.get("path", "").encode()
        target = (raw + b"?" + query_string if query_string else raw).decode("latin-1")
        if self.allows(headers, query, scope.get("method", "GET"), target):
            return 200, []
        return 401, self.challenges

    def _oauth_challenge(self, scope: Scope, host: str, error: str | None) -> str:
        metadata = f"{scope.get('scheme', 'http')}://{host}{METADATA_PATH}"
        parts = [f'realm="{self.realm}"', f'resource_metadata="{metadata}"']
        if error:
            parts.append(f'error="{error}"')
        if error == "insufficient_scope" and self.oauth is not None:
            parts.append(f'scope="{" ".join(self.oauth.scopes)}"')
        return "Bearer " + ", ".join(parts)

    @property
    def hidden(self) -> frozenset[str]:
        """Where inbound credentials travel (lower-case header names, `?name` for query keys):
        never collected as inputs, never forwarded upstream."""
        places = {
            (
                f"?{c.key}"
                if c.placement == "query"
                else (c.key if c.kind == "apikey" else "authorization").lower()
            )
            for c in self.credentials
        }
        return frozenset(places | ({"authorization"} if self.oauth is not None else set()))


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def resolve_guard(auth: InboundAuth | None, settings: Settings, realm: str) -> Guard | None:
    """The guard of one adapter, or None when authentication is explicitly disabled."""
    if settings.auth_disabled:
        return None
    if auth is not None and auth.kind == "oauth2":
        from ..auth.oauth import JwtVerifier

        scope = settings.binds.scope
        verifier = JwtVerifier(
            render(auth.authorization_server or "", scope),
            render(auth.resource or "", scope),
            render(auth.audience, scope) if auth.audience else None,
            auth.scopes,
        )
        return Guard((), realm, verifier)
    if auth is not None:
        return Guard((_from_spec(auth, settings, realm),), realm)
    credentials = []
    if settings.inbound_tokens.get("bearer"):
        credentials.append(Credential("bearer", settings.inbound_tokens["bearer"]))
    if settings.inbound_tokens.get("apikey"):
        credentials.append(Credential("apikey", settings.inbound_tokens["apikey"], "X-API-Key"))
    if not credentials:
        prefix = settings.env_prefix
        raise AuthConfigError(
            f"inbound authentication is on: set {prefix}_API_TOKEN (or {prefix}_API_KEY), "
            "or start with --no-auth"
        )
    return Guard(tuple(credentials), realm)


def _from_spec(auth: InboundAuth, settings: Settings, realm: str) -> Credential:
    scope = settings.binds.scope
    if auth.kind == "basic":
        user, password = render(auth.username or "", scope), render(auth.password or "", scope)
        credential = Credential("basic", f"{user}:{password}" if user and password else "")
    elif auth.kind == "digest":
        user, password = render(auth.username or "", scope), render(auth.password or "", scope)
        signing = digest.nonce_key(settings.digest_secret)
        credential = Credential(
            "digest", password if user else "", user, realm=realm, nonce_key=signing
        )
    elif auth.kind == "apikey":
        key = render(auth.key or "X-API-Key", scope)
        credential = Credential("apikey", render(auth.value or "", scope), key, auth.placement)
    else:
        credential = Credential("bearer", render(auth.token or "", scope))
    if not credential.secret or "{{" in credential.secret:
        raise AuthConfigError(
            f"the authentication of adapter {realm} resolves to an empty credential"
        )
    return credential


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
        if guard.oauth is not None and (
            path == METADATA_PATH or path.startswith(METADATA_PATH + "/")
        ):
            # RFC 9728 §3.1: also at the well-known path of the resource (`.../mcp`)
            await answer(
                send, 200, [(b"content-type", b"application/json")], guard.oauth.metadata()
            )
            return
        if _repeated_credentials(scope, guard):
            body = problem_body(400, "credentials given more than once")
            await answer(send, 400, [_PROBLEM], body)
            return
        status, challenges = await guard.verdict(scope)
        if status == 200:
            await self.app(scope, receive, send)
            return
        headers = [(b"www-authenticate", c.encode("latin-1")) for c in challenges]
        detail = (
            "the credentials do not grant this" if status == 403 else "missing or wrong credentials"
        )
        await answer(send, status, [_PROBLEM, *headers], problem_body(status, detail))


_PROBLEM = (b"content-type", MEDIA_TYPE.encode())


def _repeated_credentials(scope: Scope, guard: Guard) -> bool:
    """Two Authorization (or API-key) headers: which one counts would be a guess."""
    names = {n.encode("latin-1") for n in guard.hidden if not n.startswith("?")}
    seen: set[bytes] = set()
    for name, _ in scope.get("headers", ()):
        if name in names:
            if name in seen:
                return True
            seen.add(name)
    return False


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
