"""Outbound authentication of consumed APIs (SEMANTICS §3.6): one module per scheme, each
registered here by its `kind`."""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from ...model import Auth, Upstream
from ...settings import SettingsError
from ...upstream.request import PreparedRequest, header_value
from . import apikey, basic, bearer, certificate, digest, oauth2
from .scheme import OutboundScheme, Signer

SCHEMES: Mapping[str, OutboundScheme[Any]] = {
    scheme.kind: scheme
    for scheme in (
        bearer.SCHEME, apikey.SCHEME, basic.SCHEME, digest.SCHEME, oauth2.SCHEME, certificate.SCHEME
    )
}  # fmt: skip


class Authenticator:
    """Adds one consumed API's credential to its prepared requests; with none, the caller's
    own Authorization passes on (an adapter without inbound authentication)."""

    def __init__(self, auth: Auth | None, bind_scope: Mapping[str, Any]) -> None:
        self.signer: Signer | None = (
            SCHEMES[auth.kind].signer(auth, bind_scope) if auth is not None else None
        )

    async def apply(
        self,
        request: PreparedRequest,
        params: Mapping[str, Any],
        http: httpx.AsyncClient,
        inbound_authorization: str | None = None,
    ) -> None:
        if self.signer is not None:
            await self.signer.apply(request, params, http)
        elif inbound_authorization:
            request.headers["Authorization"] = header_value("Authorization", inbound_authorization)

    def httpx_auth(self, params: Mapping[str, Any]) -> httpx.Auth | None:
        return self.signer.flow(params) if self.signer is not None else None


def client_certificate(auth: Auth | None, bind_scope: Mapping[str, Any]) -> ssl.SSLContext | None:
    """The client certificate context of `auth`, when its scheme has one (mutual TLS)."""
    return SCHEMES[auth.kind].signer(auth, bind_scope).ssl_context() if auth is not None else None


def check_certificates(upstreams: Sequence[Upstream], bind_scope: Mapping[str, Any]) -> None:
    """Load every client certificate once at start-up: a missing or unreadable one stops the
    service with a message naming the upstream, not the first request."""
    for upstream in upstreams:
        try:
            client_certificate(upstream.auth, bind_scope)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise SettingsError(
                f"cannot load the client certificate of {upstream.namespace}: {reason}"
            ) from None


__all__ = ["SCHEMES", "Authenticator", "OutboundScheme", "check_certificates", "client_certificate"]
