"""What every outbound authentication scheme provides: a `Sender` credential that signs each
upstream request of one consumed API, and an `OutboundScheme` descriptor (its registry entry)
that builds one from the API's `authentication` block."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import httpx

from ...expr.templating import fixed, render
from ...model import Auth
from ...upstream.request import PreparedRequest

K = TypeVar("K", bound=str)


class Signer(Protocol):
    """Adds one API's credential to its upstream requests."""

    async def apply(
        self, request: PreparedRequest, params: Mapping[str, Any], http: httpx.AsyncClient
    ) -> None: ...

    def flow(self, params: Mapping[str, Any]) -> httpx.Auth | None:
        """An httpx auth flow, for a scheme that needs the upstream's challenge (digest)."""
        ...

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client certificate (mutual TLS); raises OSError or ValueError when unreadable."""
        ...

    def composed(self) -> tuple[str, ...]:
        """Credentials it builds from bound values (never to be shown, like the values)."""
        ...


@dataclass(frozen=True, slots=True)
class OutboundScheme(Generic[K]):
    """A registry entry: the scheme's `kind` and how its signer is built from the block and
    the bound variables."""

    kind: K
    signer: Callable[[Auth, Mapping[str, Any]], Signer]


class Plain:
    """The defaults of a signer: no flow, no certificate; templates rendered over the binds
    first (a caller can never shadow them), then the call's parameters."""

    def __init__(self, auth: Auth, bind_scope: Mapping[str, Any]) -> None:
        self.auth = auth
        self.scope = bind_scope
        self._fixed: dict[str, str | None] = {}  # templates the binds alone decide

    def text(self, template: str | None, params: Mapping[str, Any]) -> str:
        template = template or ""
        if template not in self._fixed:
            self._fixed[template] = fixed(template, self.scope)
        text = self._fixed[template]
        return render(template, self.scope, params) if text is None else text

    def flow(self, params: Mapping[str, Any]) -> httpx.Auth | None:
        return None

    def ssl_context(self) -> ssl.SSLContext | None:
        return None

    def composed(self) -> tuple[str, ...]:
        return ()

    def bound(self, template: str | None) -> str | None:
        """A template over the binds alone; None while something in it is unbound."""
        text = render(template or "", self.scope)
        return None if "{{" in text else text
