"""Host and Origin checks against DNS rebinding, one middleware for REST and MCP alike.

`<PREFIX>_ALLOWED_HOSTS` lists the names a service answers to, as patterns (`mcp.example.com`,
`*.example.com`, `10.0.0.7:8080`); a pattern without a port allows any port. A browser's
`Origin`, when sent, must name an allowed host too, or match `<PREFIX>_ALLOWED_ORIGINS`
(`https://app.example.com`). Without the setting, an MCP adapter bound to loopback answers
only to loopback names; anything else is unchecked, and `serve` says so when it starts.
Health probes (`/healthz`, `/readyz`) are never checked: orchestrators send the pod's address.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from ..auth.inbound import Guard
from ..settings import Settings
from ..web.problem import MEDIA_TYPE, problem_body
from .guard import GuardMiddleware, answer, install_cors, open_paths

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
LOOPBACK_ADDRESSES = ("127.0.0.1", "localhost", "::1")
PROBES = frozenset({"/healthz", "/readyz"})

_REMEMBERED = 256


@dataclass(frozen=True)
class HostPolicy:
    """The Host names and Origins a service accepts (patterns, lower case)."""

    hosts: tuple[str, ...]
    origins: tuple[str, ...] = ()
    # Host values already judged: a service hears the same few, so most cost a lookup
    seen: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def host_allowed(self, host: str) -> bool:
        allowed = self.seen.get(host)
        if allowed is None:
            allowed = _host_matches(host.lower(), self.hosts)
            if len(self.seen) < _REMEMBERED:  # a flood of made-up names is judged, not kept
                self.seen[host] = allowed
        return allowed

    def origin_allowed(self, origin: str) -> bool:
        origin = origin.lower()
        if any(_wildcard(pattern).fullmatch(origin) for pattern in self.origins):
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and _host_matches(parts.netloc, self.hosts)


def _host_matches(host: str, patterns: Sequence[str]) -> bool:
    name = host.rsplit(":", 1)[0] if host.rfind(":") > host.rfind("]") else host
    return any(_wildcard(p).fullmatch(host if ":" in _port_part(p) else name) for p in patterns)


def _port_part(pattern: str) -> str:
    """What follows an IPv6 literal's bracket: `:8080` in `[::1]:8080`, the pattern otherwise."""
    return pattern.rsplit("]", 1)[-1]


@functools.cache
def _wildcard(pattern: str) -> re.Pattern[str]:
    """`*` matches anything (dots included); every other character is itself (`[::1]`)."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def host_policy(
    settings: Settings, bound_host: str | None, *, loopback_default: bool
) -> HostPolicy | None:
    """The policy of one adapter: the setting's, else loopback names for an adapter that
    protects itself on loopback (MCP), else None (unchecked)."""
    # the origins CORS lets in are allowed here too
    origins = tuple(
        o.lower().rstrip("/") for o in (*settings.allowed_origins, *settings.cors_origins)
    )
    if settings.allowed_hosts:
        if "*" in settings.allowed_hosts:
            return None
        return HostPolicy(tuple(p.lower() for p in settings.allowed_hosts), origins)
    if loopback_default and bound_host in LOOPBACK_ADDRESSES:
        return HostPolicy(LOOPBACK_HOSTS, origins)
    return None


def install_checks(
    app: Starlette,
    settings: Settings,
    guard: Guard | None,
    host: str | None,
    *,
    loopback_default: bool,
    also_open: frozenset[str] = frozenset(),
    open_prefix: str | None = None,
) -> None:
    """The request checks in front of an adapter, REST and MCP alike, innermost first: the
    credential check (the probes, `also_open` and what is under `open_prefix` need none), the
    Host/Origin check, then CORS."""
    app.add_middleware(
        GuardMiddleware,
        guard=guard,
        open_paths=open_paths(settings) | also_open,
        open_prefix=open_prefix,
    )
    policy = host_policy(settings, host, loopback_default=loopback_default)
    app.add_middleware(HostCheckMiddleware, policy=policy)
    install_cors(app, settings)


class HostCheckMiddleware:
    """421 for a Host the service does not answer to, 403 for a foreign Origin."""

    def __init__(self, app: ASGIApp, policy: HostPolicy | None) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = self.policy
        if policy is None or scope["type"] != "http" or scope.get("path") in PROBES:
            await self.app(scope, receive, send)
            return
        host = origin = ""
        for name, value in scope.get("headers", ()):
            if name == b"host":
                host = value.decode("latin-1")
            elif name == b"origin":
                origin = value.decode("latin-1")
        if not policy.host_allowed(host):
            await _refuse(send, 421, "this service does not answer to that Host")
        elif origin and not policy.origin_allowed(origin):
            await _refuse(send, 403, "requests from that Origin are not allowed")
        else:
            await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, detail: str) -> None:
    await answer(
        send, status, [(b"content-type", MEDIA_TYPE.encode())], problem_body(status, detail)
    )
