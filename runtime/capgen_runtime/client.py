"""The base of generated clients: one typed method per consumed operation, nothing else public.

A method answers a `Result`: `.data` is the decoded body, read through the operation's declared
outputs (a generated TypedDict then types it), and `.response` the httpx response itself. An
upstream error status raises `UpstreamError`, with the status, headers and body.

A generated client holds a runtime `UpstreamClient` instead of being one, so an operation may be
named `settings`, `call`, `send` or anything but `aclose` and `stream`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, Self, TypeVar

import httpx

from .model import Operation, Upstream
from .settings import Settings
from .upstream.client import UpstreamClient
from .upstream.result import Result, UndecodableBody, UpstreamError
from .upstream.stream import OpenStream

P = ParamSpec("P")
T = TypeVar("T")
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
        operation: Callable[P, Awaitable[Result[Any]]],
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
            response = (await operation(*args, **kwargs)).response
        finally:
            _STREAMING.reset(flag)
        try:
            yield response
        finally:
            await response.aclose()

    async def _call(self, operation: Operation, arguments: Mapping[str, Any]) -> Result[Any]:
        if not _STREAMING.get():
            response = await self._upstream.call(operation, arguments)
            assert isinstance(response, httpx.Response)  # streams only when asked for
        else:
            opened = await self._upstream.call(operation, arguments, stream="always")
            response = opened.response if isinstance(opened, OpenStream) else opened
        if response.status_code >= 400:
            body = await response.aread()
            await response.aclose()
            raise UpstreamError(response.status_code, response.headers, body)
        return Result(operation, response)


__all__ = ["OperationsClient", "Result", "UndecodableBody", "UpstreamError"]
