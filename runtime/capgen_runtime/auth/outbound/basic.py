"""HTTP Basic authentication (RFC 7617) on every upstream request."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Final, Literal

import httpx

from ...upstream.request import PreparedRequest
from .scheme import OutboundScheme, Plain


class BasicSigner(Plain):
    async def apply(
        self, request: PreparedRequest, params: Mapping[str, Any], http: httpx.AsyncClient
    ) -> None:
        user, password = self.text(self.auth.username, params), self.text(
            self.auth.password, params
        )
        request.headers["Authorization"] = "Basic " + basic_credentials(user, password)

    def composed(self) -> tuple[str, ...]:
        user, password = self.bound(self.auth.username), self.bound(self.auth.password)
        return (basic_credentials(user, password),) if user is not None and password else ()


def basic_credentials(user: str, password: str) -> str:
    """The token of `Authorization: Basic` (RFC 7617)."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()


SCHEME: Final[OutboundScheme[Literal["basic"]]] = OutboundScheme("basic", BasicSigner)
