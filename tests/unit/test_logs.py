"""The request log line written without a LogRecord is the line `logging` writes; lines are
batched within an event loop, written at once outside one or for warnings; response writes of
one loop turn leave together (serve/wire.py's `Coalescing`)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from capgen_runtime.serve.wire import Coalescing
from capgen_runtime.web.logs import FLUSH_SECONDS, JsonLines, configure_logging, sole_sink
from capgen_runtime.web.problem import request_id

SECRET = "s3cret-token-value"


class Recording(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    """The root logger as configure_logging leaves it (pytest's own capture handlers, added
    around each test, taken off), restored afterwards."""
    logger = logging.getLogger()
    handlers, level = logger.handlers[:], logger.level
    configure_logging([SECRET], "INFO")
    try:
        yield logger
    finally:
        logger.handlers[:] = handlers
        logger.setLevel(level)


def _line(text: str) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(text)
    assert entry.pop("time")[:2] == "20"  # a date, formatted as logging formats it
    return entry


def test_the_access_line_is_the_line_logging_writes(root: logging.Logger) -> None:
    stream = Recording()
    handler = JsonLines(stream, [SECRET])
    root.handlers[:] = [handler]
    log = logging.getLogger("capgen.unit-rest")
    fields = {"status": 200, "duration_ms": 1.25, "bytes": 17, "route": f"/x/{SECRET}/ü"}
    token = request_id.set("req-1")
    try:
        assert sole_sink(log) is handler
        handler.access(log, "POST", f"/x/{SECRET}/ü", 200, 1.25, 17)
        log.info("%s %s %s", "POST", f"/x/{SECRET}/ü", 200, extra={"fields": fields})
    finally:
        request_id.reset(token)
    fast, slow = stream.getvalue().splitlines()
    assert _line(fast) == _line(slow)
    assert fast[fast.index('", ') :] == slow[slow.index('", ') :]  # byte for byte after the time
    assert SECRET not in _line(fast)["message"] and "ü" in fast  # redacted, not ASCII-escaped


def test_another_handler_or_a_filter_sends_the_line_through_logging(
    root: logging.Logger,
) -> None:
    root.handlers[:] = [JsonLines(io.StringIO(), [SECRET])]
    log = logging.getLogger("capgen.unit-mcp")
    assert isinstance(sole_sink(log), JsonLines)
    extra = logging.StreamHandler(io.StringIO())
    root.addHandler(extra)
    assert sole_sink(log) is None
    root.removeHandler(extra)
    log.addFilter(logging.Filter("capgen"))
    try:
        assert sole_sink(log) is None
    finally:
        log.filters.clear()
    log.propagate = False
    try:
        assert sole_sink(log) is None  # nothing reaches the root's handler
    finally:
        log.propagate = True


def test_lines_are_batched_in_a_loop_and_written_at_once_outside_one() -> None:
    stream = Recording()
    handler = JsonLines(stream, [])
    handler.add("outside")
    assert stream.writes == ["outside\n"]

    async def main() -> None:
        handler.add("a")
        handler.add("b")
        assert stream.writes == ["outside\n"]
        await asyncio.sleep(FLUSH_SECONDS * 3)
        assert stream.writes[1:] == ["a\nb\n"]
        handler.add("c")
        handler.add("urgent", urgent=True)  # a warning: everything waiting goes with it
        assert stream.writes[2:] == ["c\nurgent\n"]

    asyncio.run(main())


class Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_writes_of_one_loop_turn_leave_together_and_close_sends_first() -> None:
    async def main() -> None:
        raw = Transport()
        coalescing = Coalescing(raw, asyncio.get_running_loop())  # type: ignore[arg-type]
        coalescing.write(b"HTTP/1.1 200 OK\r\n\r\n")
        coalescing.write(b"body")
        assert raw.writes == []
        await asyncio.sleep(0)
        assert raw.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
        coalescing.write(b"head ")
        coalescing.writelines([b"and ", b"lines"])  # in order with write, not ahead of it
        await asyncio.sleep(0)
        assert raw.writes[-1] == b"head and lines"
        coalescing.write(b"last")
        coalescing.close()
        assert raw.writes[-1] == b"last" and raw.closed
        assert coalescing.get_extra_info("peername") == "info:peername"

    asyncio.run(main())
