"""`Authorization: Bearer <token>` on every upstream request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

import httpx

from ...upstream.request import PreparedRequest, header_value
from .scheme import OutboundScheme, Plain


class BearerSigner(Plain):
    async def apply(
        self, request: PreparedRequest, params: Mapping[str, Any], http: httpx.AsyncClient
    ) -> None:
        token = self.text(self.auth.token, params)
        if token:
            request.headers["Authorization"] = header_value("Authorization", f"Bearer {token}")


SCHEME: Final[OutboundScheme[Literal["bearer"]]] = OutboundScheme("bearer", BearerSigner)
