"""JSON log lines on stderr, secrets redacted, written in batches.

Every record goes through `logging` as usual and becomes one JSON line (`JsonFormatter`) with
every known secret replaced (`RedactingFilter`). `JsonLines` writes them in batches: a line
waits at most `FLUSH_SECONDS` (or until `FLUSH_BYTES` are waiting) while an event loop runs,
so a busy service makes one write for many requests instead of one per line; a warning or
worse, a record logged outside an event loop, and the process's exit write at once.

The request log line is the one record every request makes. When nothing but `JsonLines`
would see it (no handler or filter of its own on the way, as `configure_logging` leaves
things), `JsonLines.access` writes the same line without building a `LogRecord`; a handler
or filter a user adds turns that off, and the record goes through `logging` again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

from ..engine.redaction import Redactor
from ..jsontext import json_text
from .problem import request_id

FLUSH_SECONDS = 0.02
FLUSH_BYTES = 64 * 1024
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


class RedactingFilter(logging.Filter):
    """Replaces every known secret by `***` in formatted log messages, by the rule answers
    follow (engine/redaction.py)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.redactor = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redactor.text(record.getMessage()), None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, TIME_FORMAT),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[0] is not None:  # the type: tracebacks hold secrets
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


class JsonLines(logging.StreamHandler):  # type: ignore[type-arg]
    """JSON lines on `stream`, redacted, written in batches (see the module's text)."""

    def __init__(self, stream: TextIO, secrets: Iterable[str]) -> None:
        super().__init__(stream)
        self.setFormatter(JsonFormatter())
        self.redacting = RedactingFilter(secrets)
        self.addFilter(self.redacting)
        self.pending: list[str] = []
        self.size = 0
        self.timer: asyncio.TimerHandle | None = None
        self.lines: dict[tuple[str, str, str, int], tuple[str, str]] = {}  # `access` parts
        self.second = (0, "")  # the last whole second formatted

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.add(line, urgent=record.levelno >= logging.WARNING)

    def add(self, line: str, urgent: bool = False) -> None:
        with self.lock:  # type: ignore[union-attr]  # made by Handler.__init__
            self.pending.append(line)
            self.size += len(line) + 1
            if not urgent and self.size < FLUSH_BYTES and self._flush_later():
                return
            self.flush()

    def _flush_later(self) -> bool:
        """A flush is (now) due within `FLUSH_SECONDS`; False outside an event loop."""
        if self.timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop in this thread: nothing would flush later
                return False
            self.timer = loop.call_later(FLUSH_SECONDS, self.flush)
        return True

    def flush(self) -> None:
        self.acquire()
        try:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            if self.pending:
                text = "\n".join(self.pending) + "\n"
                self.pending.clear()
                self.size = 0
                self.stream.write(text)
            super().flush()
        finally:
            self.release()

    def access(
        self, logger: logging.Logger, method: str, path: str, status: int, ms: float, size: int
    ) -> None:
        """The request line `logger.info("%s %s %s", method, path, status, extra={"fields":
        {"status": status, "duration_ms": ms, "bytes": size, "route": path}})` would write
        through this handler, written without `logging`'s record: its fixed parts are
        formatted once per logger, route and status."""
        key = (logger.name, method, path, status)
        parts = self.lines.get(key)
        if parts is None:
            parts = self._access_parts(logger.name, method, path, status)
            if len(self.lines) < 4096:
                self.lines[key] = parts
        now = time.time()
        whole = int(now)
        if self.second[0] != whole:
            self.second = (whole, time.strftime(TIME_FORMAT, time.localtime(now)))
        head, route = parts
        rid = json_text(request_id.get())
        self.add(
            f'{{"time": "{self.second[1]}", {head}, "request_id": {rid}, "status": {status}, '
            f'"duration_ms": {ms!r}, "bytes": {size}, "route": {route}}}'
        )

    def _access_parts(self, logger: str, method: str, path: str, status: int) -> tuple[str, str]:
        message = self.redacting.redactor.text(f"{method} {path} {status}")
        head = {"level": "info", "logger": logger, "message": message}
        return json.dumps(head, ensure_ascii=False)[1:-1], json.dumps(path, ensure_ascii=False)


def sole_sink(logger: logging.Logger) -> JsonLines | None:
    """The `JsonLines` handler an INFO record of `logger` would reach, when it is the only
    thing that would see the record (no other handler, no filter on the way)."""
    found: JsonLines | None = None
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters or current.disabled:
            return None
        for handler in current.handlers:
            if found is not None or not isinstance(handler, JsonLines):
                return None
            if len(handler.filters) != 1 or handler.level > logging.INFO:
                return None
            found = handler
        if not current.propagate:
            break
        current = current.parent
    return found


def configure_logging(secrets: Iterable[str], level: str = "INFO") -> None:
    """Structured JSON logs on stderr; every handler redacts the secrets."""
    root = logging.getLogger()
    for old in root.handlers:
        old.flush()
    root.handlers[:] = [JsonLines(sys.stderr, secrets)]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs each request once
    logging.getLogger("uvicorn.error").setLevel(max(root.level, logging.WARNING))
    logging.getLogger("mcp").setLevel(max(root.level, logging.WARNING))
    logging.getLogger("httpx").setLevel(logging.WARNING)
