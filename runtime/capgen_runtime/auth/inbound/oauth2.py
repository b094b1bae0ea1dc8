"""OAuth 2.1 resource server (SEMANTICS §6.7, §7.10): callers send `Authorization: Bearer <JWT>`.

The authorization server's keys are found through its metadata
(`/.well-known/oauth-authorization-server`, else `openid-configuration`) and kept until a
token names a key id they do not hold. A token is accepted when its signature (an asymmetric
algorithm only), `exp`/`nbf`, `iss` (trailing `/` ignored) and `aud` check out and its `scope`
claim grants every scope the spec lists; a missing scope is a 403. PyJWT (the runtime's
`oauth2` extra) is imported only by adapters that use this scheme.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import httpx

from ...expr.templating import render
from ...model import InboundAuth
from ...settings import Settings
from .scheme import GRANTED, METADATA_PATH, REFUSED, Credential, InboundScheme, Presented, Verdict

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
_WELL_KNOWN = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")
_REFRESH_INTERVAL = 30.0  # at most one key refresh this often, however many unknown key ids


@dataclass
class OAuthCredential:
    issuer: str
    resource: str
    audience: str
    scopes: tuple[str, ...]
    place: str = "authorization"
    _keys: dict[str, Any] = field(default_factory=dict)
    _fetched: float = float("-inf")
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def metadata(self) -> dict[str, Any]:
        """Protected Resource Metadata (RFC 9728), served at `METADATA_PATH`."""
        return {
            "resource": self.resource,
            "authorization_servers": [self.issuer],
            "scopes_supported": list(self.scopes),
            "bearer_methods_supported": ["header"],
        }

    def challenge(self, realm: str, presented: Presented, verdict: Verdict) -> str:
        parts = [f'realm="{realm}"', f'resource_metadata="{presented.base}{METADATA_PATH}"']
        if verdict.error:
            parts.append(f'error="{verdict.error}"')
        if verdict.error == "insufficient_scope":
            parts.append(f'scope="{" ".join(self.scopes)}"')
        return "Bearer " + ", ".join(parts)

    def openapi(self) -> tuple[str, dict[str, Any], list[str]]:
        scheme = {
            "type": "openIdConnect",  # RFC 8414 metadata: the same endpoints OIDC discovery gives
            "openIdConnectUrl": f"{self.issuer}/.well-known/oauth-authorization-server",
            "description": f"an access token (JWT) issued by {self.issuer}",
        }
        return "oauth2", scheme, list(self.scopes)

    async def verdict(self, presented: Presented) -> Verdict:
        import jwt  # the oauth2 extra

        scheme, _, token = (presented.header("authorization") or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return REFUSED
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in ALGORITHMS:  # refused before any key is looked up
                return Verdict(401, "invalid_token")
            key = await self._key(header.get("kid"))
            if key is None:
                return Verdict(401, "invalid_token")
            claims = jwt.decode(
                token, key=key, algorithms=[header["alg"]], audience=self.audience,
                options={"require": ["exp", "iss"]},
            )  # fmt: skip
        except (jwt.PyJWTError, httpx.HTTPError, ValueError, KeyError):
            return Verdict(401, "invalid_token")
        return self._granted(claims)

    def _granted(self, claims: dict[str, Any]) -> Verdict:
        if str(claims["iss"]).rstrip("/") != self.issuer:
            return Verdict(401, "invalid_token")
        granted = set(str(claims.get("scope", "")).split())
        if isinstance(claims.get("scp"), list):
            granted |= {str(s) for s in claims["scp"]}
        return GRANTED if set(self.scopes) <= granted else Verdict(403, "insufficient_scope")

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
            import jwt  # the oauth2 extra

            keys = jwt.PyJWKSet.from_dict((await http.get(jwks_uri)).json()).keys
        return {key.key_id or "": key.key for key in keys}


def _credential(auth: InboundAuth, settings: Settings, realm: str) -> Credential:
    scope = settings.binds.scope
    issuer = render(auth.authorization_server or "", scope).rstrip("/")
    resource = render(auth.resource or "", scope)
    audience = render(auth.audience, scope) if auth.audience else resource
    return OAuthCredential(issuer, resource, audience, auth.scopes)


SCHEME: Final[InboundScheme[Literal["oauth2"]]] = InboundScheme("oauth2", _credential)
