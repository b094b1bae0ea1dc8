"""The httpx responses the transport answers with: one whose request is built only when read
(`LazyRequestResponse`), one whose body it read whole (`Received`), and how the engine reads
a header of either (`answer_header`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from multidict import CIMultiDictProxy


class LazyRequestResponse(httpx.Response):
    """An httpx response to a request sent without an httpx request object: the request is
    built the first time someone reads `.request` (a user's code, an error message)."""

    def __init__(
        self, *args: Any, request_factory: Callable[[], httpx.Request], **options: Any
    ) -> None:
        super().__init__(*args, **options)
        self._request_factory = request_factory

    @property
    def request(self) -> httpx.Request:
        if self._request is None:
            self._request = self._request_factory()
        return self._request

    @request.setter
    def request(self, value: httpx.Request) -> None:
        self._request = value


class Received(LazyRequestResponse):
    """An answer whose body the transport read whole, in the state `httpx.Response(status,
    headers=..., content=...)` is in once read, without running the body through httpx's
    decoders and chunker, and with httpx's headers made only when someone reads them: the
    engine reads what it needs through `answer_header`. httpx 0.28 keeps a read body in
    `_content` (the runtime pins `httpx>=0.28,<0.29`; tests/unit/test_transport.py compares
    the two)."""

    def __init__(  # httpx.Response's own state, set as its __init__ would
        self,
        status: int,
        headers: list[tuple[bytes, bytes]] | list[tuple[str, str]],
        content: bytes,
        extensions: dict[str, Any],
        request_factory: Callable[[], httpx.Request],
        found: CIMultiDictProxy[str] | None = None,
    ) -> None:
        self.status_code = status
        self._given = headers
        self._made: httpx.Headers | None = None
        self.found = found  # the same headers as aiohttp parsed them, when it did
        self._request = None
        self._request_factory = request_factory
        self.next_request = None
        self.extensions = extensions
        self.history = []
        self.default_encoding = "utf-8"
        self.stream = httpx.ByteStream(content)
        self._content = content
        self._num_bytes_downloaded = len(content)
        self.is_stream_consumed = self.is_closed = True

    @property
    def headers(self) -> httpx.Headers:
        if self._made is None:
            self._made = httpx.Headers(self._given)
        return self._made

    @headers.setter
    def headers(self, value: httpx.Headers) -> None:
        self._made = value


def answer_header(response: httpx.Response, name: str) -> str | None:
    """`response.headers.get(name)`, read from aiohttp's parsed headers when the transport
    kept them and the value is plain ASCII (the same text either way; repeated fields joined
    as httpx joins them)."""
    found = response.found if isinstance(response, Received) else None
    if found is not None:
        values = found.getall(name, ())
        if not values:
            return None
        if all(value.isascii() for value in values):
            return values[0] if len(values) == 1 else ", ".join(values)
    value: str | None = response.headers.get(name)
    return value
