"""HTTP Digest authentication (RFC 7616): the upstream's challenge is answered by httpx's
digest flow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

import httpx

from ...upstream.request import PreparedRequest
from .scheme import OutboundScheme, Plain


class DigestSigner(Plain):
    async def apply(
        self, request: PreparedRequest, params: Mapping[str, Any], http: httpx.AsyncClient
    ) -> None:
        """Nothing before the challenge."""

    def flow(self, params: Mapping[str, Any]) -> httpx.Auth | None:
        username, password = (
            self.text(self.auth.username, params),
            self.text(self.auth.password, params),
        )
        return httpx.DigestAuth(username, password)


SCHEME: Final[OutboundScheme[Literal["digest"]]] = OutboundScheme("digest", DigestSigner)
