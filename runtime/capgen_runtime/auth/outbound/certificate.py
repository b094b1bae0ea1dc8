"""Mutual TLS: a PEM file holding the client certificate and its key (optionally encrypted)."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any, Final, Literal

import httpx

from ...expr.templating import render
from ...upstream.request import PreparedRequest
from .scheme import OutboundScheme, Plain


class CertificateSigner(Plain):
    async def apply(
        self, request: PreparedRequest, params: Mapping[str, Any], http: httpx.AsyncClient
    ) -> None:
        """Nothing on the request: the connection carries the credential."""

    def ssl_context(self) -> ssl.SSLContext | None:
        path = render(self.auth.certificate or "", self.scope)
        password = render(self.auth.password or "", self.scope) or None
        context = ssl.create_default_context()
        context.load_cert_chain(path, password=password)
        return context


SCHEME: Final[OutboundScheme[Literal["certificate"]]] = OutboundScheme(
    "certificate", CertificateSigner
)
