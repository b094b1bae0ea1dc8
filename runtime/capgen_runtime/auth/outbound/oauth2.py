"""OAuth2 client credentials (RFC 6749 §4.4): a token from the token endpoint, cached until
shortly before it expires, as the bearer of every upstream request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any, Final, Literal

import httpx

from ...errors import UpstreamUnavailable
from ...model import Auth
from ...upstream.request import PreparedRequest, header_value
from .basic import basic_credentials
from .scheme import OutboundScheme, Plain

EARLY = 30.0  # a token is renewed this many seconds before it expires


class ClientCredentialsSigner(Plain):
    def __init__(self, auth: Auth, bind_scope: Mapping[str, Any]) -> None:
        super().__init__(auth, bind_scope)
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def apply(
        self, request: PreparedRequest, params: Mapping[str, Any], http: httpx.AsyncClient
    ) -> None:
        if self.auth.token_url:
            token = await self._token_for(http, params)
            request.headers["Authorization"] = header_value("Authorization", f"Bearer {token}")

    def composed(self) -> tuple[str, ...]:
        """The client's `id:secret` as the basic credential the token request sends."""
        client, secret = self.bound(self.auth.client_id), self.bound(self.auth.client_secret)
        return (basic_credentials(client, secret),) if client is not None and secret else ()

    async def _token_for(self, http: httpx.AsyncClient, params: Mapping[str, Any]) -> str:
        async with self._lock:
            if self._token and time.monotonic() < self._expires:
                return self._token
            payload = await self._grant(http, params)
            token = payload.get("access_token")
            if not isinstance(token, str) or not token:
                raise UpstreamUnavailable(
                    "the OAuth2 token endpoint did not return an access token"
                )
            self._token = token
            self._expires = time.monotonic() + max(_lifetime(payload) - EARLY, 0.0)
            return token

    async def _grant(self, http: httpx.AsyncClient, params: Mapping[str, Any]) -> dict[str, Any]:
        form = {"grant_type": "client_credentials"}
        if self.auth.scopes:
            form["scope"] = " ".join(self.auth.scopes)
        if self.auth.audience:
            form["audience"] = self.text(self.auth.audience, params)
        client = (
            self.text(self.auth.client_id, params),
            self.text(self.auth.client_secret, params),
        )
        try:
            url = self.text(self.auth.token_url, params)
            response = await http.post(url, data=form, auth=client)
            payload = response.json() if response.status_code == 200 else {}
        except (httpx.HTTPError, ValueError):
            raise UpstreamUnavailable("could not obtain an OAuth2 access token") from None
        return payload if isinstance(payload, dict) else {}


def _lifetime(payload: dict[str, Any]) -> float:
    """`expires_in` seconds; servers that leave it out (or send junk) get an hour."""
    try:
        return float(payload.get("expires_in", 3600))
    except (TypeError, ValueError):
        return 3600.0


SCHEME: Final[OutboundScheme[Literal["oauth2"]]] = OutboundScheme("oauth2", ClientCredentialsSigner)
