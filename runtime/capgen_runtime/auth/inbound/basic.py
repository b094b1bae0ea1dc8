"""HTTP Basic authentication (RFC 7617) against a bound user name and password."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Final, Literal

from ...expr.templating import render
from ...model import InboundAuth
from ...settings import Settings
from .scheme import GRANTED, REFUSED, Credential, InboundScheme, Presented, Verdict, required, same


@dataclass(frozen=True, slots=True)
class BasicCredential:
    pair: str  # user:password
    place: str = "authorization"

    async def verdict(self, presented: Presented) -> Verdict:
        scheme, _, given = (presented.header("authorization") or "").partition(" ")
        if scheme.lower() != "basic" or not given:
            return REFUSED
        try:
            decoded = base64.b64decode(given.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return REFUSED
        return GRANTED if same(decoded, self.pair) else REFUSED

    def challenge(self, realm: str, presented: Presented, verdict: Verdict) -> str:
        return f'Basic realm="{realm}", charset="UTF-8"'

    def openapi(self) -> tuple[str, dict[str, Any], list[str]]:
        return "basic", {"type": "http", "scheme": "basic"}, []


def _credential(auth: InboundAuth, settings: Settings, realm: str) -> Credential:
    scope = settings.binds.scope
    user, password = render(auth.username or "", scope), render(auth.password or "", scope)
    return BasicCredential(required(f"{user}:{password}" if user and password else "", realm))


SCHEME: Final[InboundScheme[Literal["basic"]]] = InboundScheme("basic", _credential)
