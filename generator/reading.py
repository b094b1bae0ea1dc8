"""Reading the files a spec build depends on, and noting which ones a build read."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

MAX_BYTES = 32 * 1024 * 1024  # the largest spec of the corpus is under 2 MB

_reads: ContextVar[list[tuple[Path, str]] | None] = ContextVar("capgen_reads", default=None)


@contextmanager
def recording_reads() -> Iterator[list[tuple[Path, str]]]:
    """Every file `load_document` reads meanwhile, with the sha256 of its bytes: what a
    build's output depends on besides capgen itself (the spec and what it imports)."""
    reads: list[tuple[Path, str]] = []
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)


def read(path: Path, raw: bytes) -> None:
    """Note that `path` was read with these bytes, while `recording_reads` is on."""
    reads = _reads.get()
    if reads is not None:
        reads.append((path, hashlib.sha256(raw).hexdigest()))


def read_regular_file(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_BYTES (never a device, a FIFO or a folder).
    Opened without blocking: opening a FIFO for reading would wait for a writer forever."""
    if "\x00" in str(path):
        raise ValueError("the path contains a NUL character")
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise ValueError("not a regular file")
        if status.st_size > MAX_BYTES:
            raise ValueError(f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
    return data
