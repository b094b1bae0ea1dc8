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
        pair = f"{self.text(self.auth.username, params)}:{self.text(self.auth.password, params)}"
        request.headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()


SCHEME: Final[OutboundScheme[Literal["basic"]]] = OutboundScheme("basic", BasicSigner)
