"""OAuth 2.1 resource server for exposes `oauth2` (SEMANTICS §6.7, §7.10).

Callers send `Authorization: Bearer <JWT>`. The authorization server's keys are found through
its metadata (`/.well-known/oauth-authorization-server`, else `openid-configuration`) and kept
until a token names a key id they do not hold. A token is accepted when its signature (an
asymmetric algorithm only), `exp`/`nbf`, `iss` (trailing `/` ignored) and `aud` check out and
its `scope` claim grants every scope the spec lists; a missing scope is a 403.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
_WELL_KNOWN = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")
_REFRESH_INTERVAL = 30.0  # at most one key refresh this often, however many unknown key ids


@dataclass(frozen=True)
class Verdict:
    status: int  # 200, 401 or 403
    error: str | None = None  # the RFC 6750 error code of the challenge


class JwtVerifier:
    def __init__(
        self, issuer: str, resource: str, audience: str | None, scopes: tuple[str, ...]
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.resource = resource
        self.audience = audience or resource
        self.scopes = scopes
        self._keys: dict[str, Any] = {}
        self._fetched = float("-inf")
        self._lock = asyncio.Lock()

    def metadata(self) -> dict[str, Any]:
        """Protected Resource Metadata (RFC 9728), served at `security.METADATA_PATH`."""
        return {
            "resource": self.resource,
            "authorization_servers": [self.issuer],
            "scopes_supported": list(self.scopes),
            "bearer_methods_supported": ["header"],
        }

    async def check(self, authorization: str) -> Verdict:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return Verdict(401)
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in ALGORITHMS:  # refused before any key is looked up
                return Verdict(401, "invalid_token")
            key = await self._key(header.get("kid"))
            if key is None:
                return Verdict(401, "invalid_token")
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[header["alg"]],
                audience=self.audience,
                options={"require": ["exp", "iss"]},
            )
        except (jwt.PyJWTError, httpx.HTTPError, ValueError, KeyError):
            return Verdict(401, "invalid_token")
        if str(claims["iss"]).rstrip("/") != self.issuer:
            return Verdict(401, "invalid_token")
        granted = set(str(claims.get("scope", "")).split())
        if isinstance(claims.get("scp"), list):
            granted |= {str(s) for s in claims["scp"]}
        if not set(self.scopes) <= granted:
            return Verdict(403, "insufficient_scope")
        return Verdict(200)

    async def _key(self, kid: str | None) -> Any:
        found = self._pick(kid)
        if found is None:
            async with self._lock:
                found = self._pick(kid)
                if found is None and time.monotonic() - self._fetched > _REFRESH_INTERVAL:
                    self._fetched = time.monotonic()
                    self._keys = await self._fetch_keys()
                    found = self._pick(kid)
        return found

    def _pick(self, kid: str | None) -> Any:
        if kid is not None:
            return self._keys.get(kid)
        return next(iter(self._keys.values())) if len(self._keys) == 1 else None

    async def _fetch_keys(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10, follow_redirects=False, trust_env=False) as http:
            jwks_uri = None
            for path in _WELL_KNOWN:
                response = await http.get(self.issuer + path)
                if response.status_code == 200:
                    jwks_uri = response.json().get("jwks_uri")
                    break
            if not isinstance(jwks_uri, str):
                return {}
            keys = jwt.PyJWKSet.from_dict((await http.get(jwks_uri)).json()).keys
        return {key.key_id or "": key.key for key in keys}
