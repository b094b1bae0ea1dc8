"""Outbound authentication of consumed APIs (SEMANTICS §3.6)."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus

import httpx

from .errors import InvalidRequest, UpstreamUnavailable
from .model import Auth
from .request import PreparedRequest, encode_path_value, header_value
from .templating import render


def _add_body_field(request: PreparedRequest, key: str, value: str) -> None:
    """An API key sent as a field of the body: of the form, of the JSON object, or as the only
    field of a form body when there is none."""
    if request.form is not None:
        request.form[key] = value
    elif not request.content:
        request.form = {key: value}
        request.headers.pop("Content-Type", None)  # httpx writes the form's
    elif "json" in request.headers.get("Content-Type", ""):
        data = json.loads(request.content)
        if not isinstance(data, dict):
            raise InvalidRequest("the API key goes in the body, which is not a JSON object")
        data[key] = value
        request.content = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    else:
        raise InvalidRequest("the API key goes in the body, which is neither JSON nor a form")


class Authenticator:
    """Adds credentials to prepared requests; renders its templates against the bind context."""

    def __init__(self, auth: Auth | None, bind_scope: Mapping[str, Any]) -> None:
        self.auth = auth
        self.scope = bind_scope
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    def _text(self, template: str | None, params: Mapping[str, Any]) -> str:
        return render(template or "", self.scope, params)  # binds are never shadowed

    def httpx_auth(self, params: Mapping[str, Any]) -> httpx.Auth | None:
        """Digest needs a challenge round-trip, which httpx does for us."""
        if self.auth is not None and self.auth.kind == "digest":
            return httpx.DigestAuth(
                self._text(self.auth.username, params), self._text(self.auth.password, params)
            )
        return None

    async def apply(
        self,
        request: PreparedRequest,
        params: Mapping[str, Any],
        client: httpx.AsyncClient,
        inbound_authorization: str | None = None,
    ) -> None:
        auth = self.auth
        if auth is None:
            if inbound_authorization:
                request.headers["Authorization"] = header_value(
                    "Authorization", inbound_authorization
                )
            return
        if auth.kind == "bearer":
            token = self._text(auth.token, params)
            if token:
                request.headers["Authorization"] = header_value("Authorization", f"Bearer {token}")
        elif auth.kind == "apikey":  # DEV-27: every key written, each from its own template
            for key, value in ((auth.key, auth.value), *auth.more):
                self._apply_key(
                    request, self._text(key, params), self._text(value, params), auth.placement
                )
        elif auth.kind == "basic":
            user, password = self._text(auth.username, params), self._text(auth.password, params)
            request.headers["Authorization"] = "Basic " + basic_credentials(user, password)
        elif auth.kind == "oauth2" and auth.token_url:
            token = await self._client_credentials_token(client, params)
            request.headers["Authorization"] = header_value("Authorization", f"Bearer {token}")

    @staticmethod
    def _apply_key(request: PreparedRequest, key: str, value: str, placement: str) -> None:
        if not key or not value or placement == "path":  # the generator put it in the path
            return
        if placement == "body":
            _add_body_field(request, key, value)
        elif placement == "query":
            separator = "&" if "?" in request.url else "?"
            request.url += f"{separator}{quote_plus(key)}={quote_plus(value)}"
        elif placement == "cookie":
            request.cookies[key] = header_value(key, value)
        else:
            request.headers[key] = header_value(key, value)

    async def _client_credentials_token(
        self, client: httpx.AsyncClient, params: Mapping[str, Any]
    ) -> str:
        """OAuth2 client-credentials grant; the token is cached until shortly before it expires."""
        async with self._lock:
            if self._token and time.monotonic() < self._expires:
                return self._token
            auth = self.auth
            assert auth is not None and auth.token_url
            form = {"grant_type": "client_credentials"}
            if auth.scopes:
                form["scope"] = " ".join(auth.scopes)
            if auth.audience:
                form["audience"] = self._text(auth.audience, params)
            credentials = (
                self._text(auth.client_id, params),
                self._text(auth.client_secret, params),
            )
            try:
                response = await client.post(
                    self._text(auth.token_url, params), data=form, auth=credentials
                )
                payload = response.json() if response.status_code == 200 else {}
            except (httpx.HTTPError, ValueError):
                raise UpstreamUnavailable("could not obtain an OAuth2 access token") from None
            token = payload.get("access_token") if isinstance(payload, dict) else None
            if not isinstance(token, str) or not token:
                raise UpstreamUnavailable(
                    "the OAuth2 token endpoint did not return an access token"
                )
            self._token = token
            self._expires = time.monotonic() + max(_lifetime(payload) - 30.0, 0.0)
            return token


def _lifetime(payload: dict[str, Any]) -> float:
    """`expires_in` seconds; servers that leave it out (or send junk) get an hour."""
    try:
        return float(payload.get("expires_in", 3600))
    except (TypeError, ValueError):
        return 3600.0


def built_credentials(auth: Auth | None, bind_scope: Mapping[str, Any]) -> tuple[str, ...]:
    """What the service composes from bound values and sends in place of them: the base64 of
    basic authentication's `user:password` (or an OAuth2 client's `id:secret`), which an
    upstream that echoes its request would otherwise show."""
    if auth is None or auth.kind not in ("basic", "oauth2"):
        return ()
    user, password = (
        (auth.username, auth.password)
        if auth.kind == "basic"
        else (auth.client_id, auth.client_secret)
    )
    user_text, password_text = render(user or "", bind_scope), render(password or "", bind_scope)
    if not password_text or "{{" in user_text + password_text:
        return ()
    return (basic_credentials(user_text, password_text),)


def path_credential(auth: Auth | None, bind_scope: Mapping[str, Any]) -> dict[str, str]:
    """An API key placed in the path (a bot token), as the path segment of the placeholder its
    key names: `{token: "123%3Aabc"}`; empty for other credentials or an unbound key."""
    if auth is None or auth.kind != "apikey" or auth.placement != "path" or not auth.key:
        return {}
    value = render(auth.value or "", bind_scope)
    if not value or "{{" in value:
        return {}
    return {auth.key: encode_path_value(auth.key, value)}


def basic_credentials(user: str, password: str) -> str:
    """The token of `Authorization: Basic` (RFC 7617)."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def client_certificate(auth: Auth | None, bind_scope: Mapping[str, Any]) -> ssl.SSLContext | None:
    """mTLS: `certificate` auth with a PEM file holding certificate and key (optionally encrypted)."""
    if auth is None or auth.kind != "certificate":
        return None
    path = render(auth.certificate or "", bind_scope)
    password = render(auth.password or "", bind_scope) or None
    context = ssl.create_default_context()
    context.load_cert_chain(path, password=password)
    return context
