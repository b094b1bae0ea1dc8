"""The base of generated clients: one typed method per consumed operation, nothing else public.

A generated client holds a runtime `UpstreamClient` instead of being one, so an operation may be
named `settings`, `call`, `send` or anything but `aclose`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import httpx

from .model import Operation, Upstream
from .settings import Settings
from .upstream import UpstreamClient


class OperationsClient:
    """Use ``async with`` or call ``aclose()``; every method sends one request."""

    __slots__ = ("_upstream",)

    def __init__(
        self, upstream: Upstream, settings: Settings, *, http: httpx.AsyncClient | None = None
    ) -> None:
        self._upstream = UpstreamClient(upstream, settings, http=http)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._upstream.aclose()

    async def _call(self, operation: Operation, arguments: Mapping[str, Any]) -> httpx.Response:
        return await self._upstream.call(operation, arguments)
