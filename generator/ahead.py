"""Templates compiled ahead, on the other core, while the spec is being read.

Compiling the Jinja templates is a fixed cost of every cold build or check (about a tenth of a
check of a large spec) that depends on nothing in the spec. When capgen runs as a command and no
cache of compiled templates is on (`CAPGEN_NO_CACHE`, a clean CI machine), the pipeline forks
one helper process as it starts on a spec: the helper compiles every template into Jinja's
bytecode and sends it back through a pipe; the Jinja environment then reads it as from any
bytecode cache, where Jinja checks each template's source checksum (so a template the helper
did not see as it is now is compiled again). Loading, validating and building the IR run
meanwhile in the command's own process, so the templates cost no time when a second core is
free. Nothing the helper sends changes what is rendered: it is the same compiler on the same
sources, and anything wrong with it (no fork, a helper that dies, a truncated pipe) means the
templates are compiled in-process as before.

Only the command line turns this on (`allow`), and only in a single-threaded process that is
not itself a worker, with at least two cores: forking a threaded host is not safe.
"""

from __future__ import annotations

import marshal
import multiprocessing
import os
import threading
from typing import Any

import jinja2

from .workers import available_cores

_allowed = False
_helper: tuple[int, int] | None = None  # pid, read end of the pipe
_received: dict[str, bytes] | None = None


def allow() -> None:
    """Let this process compile its templates ahead (the command line, one command)."""
    global _allowed
    _allowed = True


def start(make_environment: Any) -> None:
    """Fork the helper, once, when it can help; `make_environment(cache)` builds the Jinja
    environment capgen renders with, around the given bytecode cache."""
    global _helper, _allowed
    if not _allowed or _helper is not None or not _forkable():
        return
    _allowed = False  # at most one helper per process
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the helper: never returns, never flushes the command's output
        os.close(read)
        _compile_all(make_environment, write)
    os.close(write)
    _helper = (pid, read)


def received() -> jinja2.BytecodeCache | None:
    """The bytecode the helper compiled, as a cache for the environment (None without one)."""
    return _Received() if _helper is not None else None


def _forkable() -> bool:
    return (
        hasattr(os, "fork")
        and threading.active_count() == 1
        and multiprocessing.parent_process() is None
        and available_cores() >= 2
    )


def _compile_all(make_environment: Any, write: int) -> None:
    code = 1
    try:
        captured = _Captured()
        environment = make_environment(captured)
        for name in environment.list_templates():
            environment.get_template(name)
        data = marshal.dumps(captured.buckets)
        with os.fdopen(write, "wb") as pipe:
            pipe.write(data)
        code = 0
    finally:
        os._exit(code)


class _Captured(jinja2.BytecodeCache):
    """Keeps what the helper compiles."""

    def __init__(self) -> None:
        self.buckets: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        return None

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.buckets[bucket.key] = bucket.bytecode_to_string()


class _Received(jinja2.BytecodeCache):
    """What the helper sent; read (and the helper reaped) when the first template is loaded."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = _collect().get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)  # Jinja rejects it if the source has changed

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        return None


def _collect() -> dict[str, bytes]:
    global _received
    if _received is not None or _helper is None:
        return _received or {}
    pid, read = _helper
    chunks = []
    try:
        with os.fdopen(read, "rb") as pipe:
            chunks.append(pipe.read())
        _, status = os.waitpid(pid, 0)
        loaded = marshal.loads(b"".join(chunks)) if status == 0 else {}
    except (OSError, EOFError, ValueError, TypeError):
        loaded = {}
    _received = loaded if isinstance(loaded, dict) else {}
    return _received
