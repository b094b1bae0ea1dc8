"""`Authorization: Bearer <token>`: capgen's default, and `authentication.type: bearer`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from ...expr.templating import render
from ...model import InboundAuth
from ...settings import Settings
from .scheme import GRANTED, REFUSED, Credential, InboundScheme, Presented, Verdict, required, same


@dataclass(frozen=True, slots=True)
class BearerCredential:
    token: str
    place: str = "authorization"

    async def verdict(self, presented: Presented) -> Verdict:
        scheme, _, given = (presented.header("authorization") or "").partition(" ")
        matches = scheme.lower() == "bearer" and bool(given) and same(given.strip(), self.token)
        return GRANTED if matches else REFUSED

    def challenge(self, realm: str, presented: Presented, verdict: Verdict) -> str:
        return f'Bearer realm="{realm}"'

    def openapi(self) -> tuple[str, dict[str, Any], list[str]]:
        return "bearer", {"type": "http", "scheme": "bearer"}, []


def _credential(auth: InboundAuth, settings: Settings, realm: str) -> Credential:
    return BearerCredential(required(render(auth.token or "", settings.binds.scope), realm))


SCHEME: Final[InboundScheme[Literal["bearer"]]] = InboundScheme("bearer", _credential)
