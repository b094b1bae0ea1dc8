"""What every inbound authentication scheme provides: a `Credential` the guard checks each
request against, and an `InboundScheme` descriptor (its registry entry) that builds one from
an adapter's `authentication` block."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import parse_qsl

from ...model import InboundAuth
from ...settings import Settings

K = TypeVar("K", bound=str)
METADATA_PATH = "/.well-known/oauth-protected-resource"  # RFC 9728, for oauth2 adapters


class AuthConfigError(RuntimeError):
    """Inbound authentication is on but has nothing to compare against."""


class Presented:
    """What a request presents: its headers (lower-case names), query, method, and target as
    sent (path and query, which digest signs); each read from the request's scope when a
    scheme first asks for it (a bearer token needs one header, not all of them)."""

    def __init__(
        self, scope: Mapping[str, Any], known: Mapping[str, str | None] | None = None
    ) -> None:
        self.scope = scope
        self.method: str = scope.get("method", "GET")
        self.known = known or {}  # headers read already (lower-case names; None: not given)

    def header(self, name: str) -> str | None:
        """One header's value (`name` in lower case), the last given as in `headers`."""
        if name in self.known:
            return self.known[name]
        if "headers" in self.__dict__:
            return self.headers.get(name)
        wanted, found = name.encode("latin-1"), None
        for key, value in self.scope.get("headers", []):
            if key.lower() == wanted:
                found = value
        return None if found is None else found.decode("latin-1")

    @cached_property
    def headers(self) -> Mapping[str, str]:
        return {
            k.decode("latin-1").lower(): v.decode("latin-1")
            for k, v in self.scope.get("headers", [])
        }

    @cached_property
    def query(self) -> Mapping[str, str]:
        query_string = self.scope.get("query_string", b"")
        return dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))

    @cached_property
    def target(self) -> str:
        query_string: bytes = self.scope.get("query_string", b"")
        raw: bytes = self.scope.get("raw_path") or self.scope.get("path", "").encode()
        return (raw + b"?" + query_string if query_string else raw).decode("latin-1")

    @cached_property
    def base(self) -> str:
        """scheme://host, where the request was sent."""
        return f"{self.scope.get('scheme', 'http')}://{self.headers.get('host', '')}"


@dataclass(frozen=True, slots=True)
class Verdict:
    status: int  # 200, 401 or 403
    error: str | None = None  # the RFC 6750 error code of the challenge


GRANTED = Verdict(200)
REFUSED = Verdict(401)


class Credential(Protocol):
    """One accepted credential of an adapter."""

    @property
    def place(self) -> str:
        """Where it travels: a lower-case header name, or `?name` for a query key; never
        read as an input, never forwarded upstream."""
        ...

    async def verdict(self, presented: Presented) -> Verdict: ...

    def challenge(self, realm: str, presented: Presented, verdict: Verdict) -> str:
        """The WWW-Authenticate challenge of a refused request."""
        ...

    def openapi(self) -> tuple[str, dict[str, Any], list[str]]:
        """The OpenAPI security scheme: its name, the scheme object, the scopes it requires."""
        ...


@dataclass(frozen=True, slots=True)
class InboundScheme(Generic[K]):
    """A registry entry: the scheme's `kind` (as `authentication.type` names it) and how its
    credential is built from the block, the settings and the adapter's realm."""

    kind: K
    credential: Callable[[InboundAuth, Settings, str], Credential]


def same(given: str, expected: str) -> bool:
    """A constant-time comparison; an empty expectation matches nothing."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def required(value: str, realm: str) -> str:
    """A credential that resolved to nothing refuses to start the service."""
    if not value or "{{" in value:
        raise AuthConfigError(
            f"the authentication of adapter {realm} resolves to an empty credential"
        )
    return value
