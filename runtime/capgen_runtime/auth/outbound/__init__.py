"""Outbound authentication of consumed APIs (SEMANTICS §3.6): one module per scheme, each
registered here by its `kind`."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import httpx

from ...model import Auth
from ...upstream.request import PreparedRequest, header_value
from . import apikey, basic, bearer, certificate, digest, oauth2
from .apikey import path_credential
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


def built_credentials(auth: Auth | None, bind_scope: Mapping[str, Any]) -> tuple[str, ...]:
    """What the service composes from bound values and sends in place of them (the base64 of
    basic authentication's `user:password`), which an upstream that echoes its request would
    otherwise show: redacted like the values themselves."""
    return SCHEMES[auth.kind].signer(auth, bind_scope).composed() if auth is not None else ()


__all__ = [
    "SCHEMES",
    "Authenticator",
    "OutboundScheme",
    "built_credentials",
    "client_certificate",
    "path_credential",
]
