"""The base of generated clients: one typed method per consumed operation, nothing else public.

A generated client holds a runtime `UpstreamClient` instead of being one, so an operation may be
named `settings`, `call`, `send` or anything but `aclose` and `stream`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, Self

import httpx

from .model import Operation, Upstream
from .settings import Settings
from .upstream import OpenStream, UpstreamClient

P = ParamSpec("P")
_STREAMING: ContextVar[bool] = ContextVar("capgen_client_streaming", default=False)


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

    @asynccontextmanager
    async def stream(
        self,
        operation: Callable[P, Awaitable[httpx.Response]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> AsyncIterator[httpx.Response]:
        """Call `operation` (one of this client's methods, with its own typed arguments) and
        give its response before the body is read, as httpx's ``stream`` does::

            async with client.stream(client.run_model, model=..., body=...) as response:
                async for chunk in response.aiter_bytes():
                    ...
        """
        flag = _STREAMING.set(True)
        try:
            response = await operation(*args, **kwargs)
        finally:
            _STREAMING.reset(flag)
        try:
            yield response
        finally:
            await response.aclose()

    async def _call(self, operation: Operation, arguments: Mapping[str, Any]) -> httpx.Response:
        if not _STREAMING.get():
            return await self._upstream.call(operation, arguments)
        opened = await self._upstream.call(operation, arguments, stream="always")
        return opened.response if isinstance(opened, OpenStream) else opened
