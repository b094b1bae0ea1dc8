"""Inbound authentication for both adapters (SEMANTICS §7.10, §6.7): one module per scheme,
each registered here by its `kind`.

The spec's exposes `authentication` wins. Otherwise callers present capgen's own credentials:
a bearer token from `<PREFIX>_API_TOKEN` and/or an `X-API-Key` from `<PREFIX>_API_KEY`. Only an
explicit `--no-auth` (or `<PREFIX>_AUTH_DISABLED=1`) turns authentication off; with nothing to
compare against, the service refuses to start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from starlette.types import Scope

from ...model import InboundAuth
from ...settings import Settings
from . import apikey, basic, bearer, digest, oauth2
from .scheme import METADATA_PATH, AuthConfigError, Credential, InboundScheme, Presented, Verdict

SCHEMES: Mapping[str, InboundScheme[Any]] = {
    scheme.kind: scheme
    for scheme in (bearer.SCHEME, apikey.SCHEME, basic.SCHEME, digest.SCHEME, oauth2.SCHEME)
}


@dataclass(frozen=True)
class Guard:
    """The credentials an adapter accepts; any one of them is enough."""

    credentials: tuple[Credential, ...]
    realm: str

    async def verdict(
        self, scope: Scope, known: Mapping[str, str | None] | None = None
    ) -> tuple[int, list[str]]:
        """200, or the status and WWW-Authenticate challenges of a refused request (`known`:
        headers already read, as `Presented` takes them)."""
        presented = Presented(scope, known)
        verdicts = []
        for credential in self.credentials:
            verdict = await credential.verdict(presented)
            if verdict.status == 200:
                return 200, []
            verdicts.append((credential, verdict))
        status = max(verdict.status for _, verdict in verdicts)
        return status, [c.challenge(self.realm, presented, v) for c, v in verdicts]

    @cached_property
    def hidden(self) -> frozenset[str]:
        """Where inbound credentials travel (lower-case header names, `?name` for query keys):
        never collected as inputs, never forwarded upstream."""
        return frozenset(credential.place for credential in self.credentials)

    @cached_property
    def hidden_headers(self) -> dict[bytes, str]:
        """The header names among `hidden`, as they arrive (lower case), with their text."""
        return {n.encode("latin-1"): n for n in self.hidden if not n.startswith("?")}

    def metadata(self) -> dict[str, Any] | None:
        """RFC 9728 metadata, for a scheme that has it (oauth2)."""
        for credential in self.credentials:
            if isinstance(credential, oauth2.OAuthCredential):
                return credential.metadata()
        return None


def resolve_guard(auth: InboundAuth | None, settings: Settings, realm: str) -> Guard | None:
    """The guard of one adapter, or None when authentication is explicitly disabled."""
    if settings.auth_disabled:
        return None
    if auth is not None:
        return Guard((SCHEMES[auth.kind].credential(auth, settings, realm),), realm)
    credentials: list[Credential] = []
    if settings.api_token:
        credentials.append(bearer.BearerCredential(settings.api_token))
    if settings.api_key:
        credentials.append(apikey.ApiKeyCredential("X-API-Key", settings.api_key))
    if not credentials:
        prefix = settings.env_prefix
        raise AuthConfigError(
            f"inbound authentication is on: set {prefix}_API_TOKEN (or {prefix}_API_KEY), "
            "or start with --no-auth"
        )
    return Guard(tuple(credentials), realm)


__all__ = [
    "METADATA_PATH",
    "SCHEMES",
    "AuthConfigError",
    "Credential",
    "Guard",
    "InboundScheme",
    "Presented",
    "Verdict",
    "resolve_guard",
]
