"""An upstream answer whose body is still arriving (`OpenStream`), and a body read a bounded,
decoded piece at a time (`body_pieces`)."""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import AsyncIterator, Callable

import httpx

from .decoding import UnboundedEncoding, decoded

logger = logging.getLogger("capgen_runtime.upstream.client")  # the client's log, as before


class OpenStream:
    """An upstream answer whose body is still arriving: iterate it once, then it is closed.

    Each wait for the next chunk is bounded by the read timeout (`<PREFIX>_TIMEOUT`), not by
    the overall deadline, so a healthy long stream runs to its end and a stalled one stops.
    """

    def __init__(
        self, response: httpx.Response, limit: int, on_close: Callable[[int, float], None]
    ) -> None:
        self.response = response
        self.limit = limit
        self.status = response.status_code
        self.media_type = response.headers.get("content-type")
        self._on_close = on_close
        self._started = time.perf_counter()
        self.size = 0
        self.truncated = False  # the body went past the size limit and was cut

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in body_pieces(self.response):  # decoded: no content-encoding left
                self.size += len(chunk)
                if self.size > self.limit:
                    logger.warning("upstream stream cut at the %d-byte limit", self.limit)
                    self.truncated = True
                    return
                yield chunk
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        if not self.response.is_closed:
            await self.response.aclose()
            self._on_close(self.size, time.perf_counter() - self._started)


async def body_pieces(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body of `response` decoded a bounded piece at a time (decoding.py); a body that
    cannot be decoded, or only without a bound, is an httpx.DecodingError as httpx says it."""
    try:
        async for piece in decoded(response.aiter_raw(), response.headers.get("content-encoding")):
            yield piece
    except (UnboundedEncoding, zlib.error):
        raise httpx.DecodingError("undecodable body", request=response.request) from None
