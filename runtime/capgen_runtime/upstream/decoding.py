"""Upstream bodies decompressed a bounded piece at a time.

httpx inflates each compressed chunk whole before anyone can count it: a 64 KiB chunk of a
gzip bomb is 64 MiB before the size limit is checked. Here each layer of the
`Content-Encoding` is inflated with zlib's `max_length`, so no step ever holds more than
`PIECE` bytes of output, and the caller's size limit stops a bomb after the first piece past
it. Encodings zlib does not read (`br`, `zstd`, `compress`) are refused rather than inflated
without a bound; requests advertise `gzip, deflate` only (`ACCEPT_ENCODING`).
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterator

ACCEPT_ENCODING = "gzip, deflate"
PIECE = 64 * 1024  # the most output one inflating step produces


class UnboundedEncoding(ValueError):
    """A content encoding whose output cannot be bounded as it is produced."""


class _Layer:
    """One zlib stream: gzip, or deflate (zlib-wrapped, or raw as some servers send it)."""

    def __init__(self, encoding: str) -> None:
        gzip = encoding in ("gzip", "x-gzip")
        self.inflater = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)
        self.head: bytes | None = None if gzip else b""  # deflate: the bytes that tell which

    def pieces(self, data: bytes) -> Iterator[bytes]:
        if self.head is not None:  # zlib-wrapped or raw deflate: its first two bytes say
            data, self.head = self.head + data, self.head + data
            if len(data) < 2:
                return
            if not _zlib_header(data):
                self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            self.head = None
        while True:
            out = self.inflater.decompress(data, PIECE)
            data = self.inflater.unconsumed_tail
            if out:
                yield out
            if not data and len(out) < PIECE:
                return

    def rest(self) -> bytes:
        return self.inflater.flush(PIECE)


def _zlib_header(data: bytes) -> bool:
    """RFC 1950: compression method 8, and a check that makes the first two bytes a multiple
    of 31."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0


def layers(content_encoding: str | None) -> list[_Layer]:
    """The decoders of a Content-Encoding value, in the order they apply (last coding first)."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    found = []
    for coding in reversed(codings):
        if coding in ("", "identity"):
            continue
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise UnboundedEncoding(coding)
        found.append(_Layer(coding))
    return found


async def decoded(raw: AsyncIterator[bytes], content_encoding: str | None) -> AsyncIterator[bytes]:
    """The body of `raw` with its content codings removed, in pieces of at most `PIECE` bytes
    (raises UnboundedEncoding for a coding that cannot be bounded, zlib.error for bad data)."""
    chain = layers(content_encoding)
    if not chain:
        async for chunk in raw:
            yield chunk
        return
    async for chunk in raw:
        for piece in _through(chain, chunk):
            yield piece
    for piece in _finish(chain):
        yield piece


def _through(chain: list[_Layer], data: bytes) -> Iterator[bytes]:
    if not chain:
        yield data
        return
    head, rest = chain[0], chain[1:]
    for piece in head.pieces(data):
        yield from _through(rest, piece)


def _finish(chain: list[_Layer]) -> Iterator[bytes]:
    for index, layer in enumerate(chain):
        tail = layer.rest()
        if tail:
            yield from _through(chain[index + 1 :], tail)
