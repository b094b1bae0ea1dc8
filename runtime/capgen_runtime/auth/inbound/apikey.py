"""An API key in a header (capgen's default `X-API-Key`) or a query parameter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from ...expr.templating import render
from ...model import InboundAuth
from ...settings import Settings
from .scheme import GRANTED, REFUSED, Credential, InboundScheme, Presented, Verdict, required, same


@dataclass(frozen=True, slots=True)
class ApiKeyCredential:
    name: str
    value: str
    placement: str = "header"

    @property
    def place(self) -> str:
        return f"?{self.name}" if self.placement == "query" else self.name.lower()

    async def verdict(self, presented: Presented) -> Verdict:
        if self.placement == "query":
            given = presented.query.get(self.name)
        else:
            given = presented.header(self.name.lower())
        return GRANTED if given is not None and same(given, self.value) else REFUSED

    def challenge(self, realm: str, presented: Presented, verdict: Verdict) -> str:
        return f'ApiKey realm="{realm}", in="{self.placement}", name="{self.name}"'

    def openapi(self) -> tuple[str, dict[str, Any], list[str]]:
        place = self.placement if self.placement in ("query", "cookie") else "header"
        return "apiKey", {"type": "apiKey", "in": place, "name": self.name}, []


def _credential(auth: InboundAuth, settings: Settings, realm: str) -> Credential:
    scope = settings.binds.scope
    value = required(render(auth.value or "", scope), realm)
    return ApiKeyCredential(render(auth.key or "X-API-Key", scope), value, auth.placement)


SCHEME: Final[InboundScheme[Literal["apikey"]]] = InboundScheme("apikey", _credential)
