"""The templates compiled and the spec read ahead, on the other core, meanwhile.

Compiling the Jinja templates is a fixed cost of every cold build or check (about a tenth of a
check of a large spec) that depends on nothing in the spec, and reading the spec's YAML needs
none of the modules the pipeline imports before it (pydantic, the semantics: another tenth).
When capgen runs as a command and no cache of compiled templates is on (`CAPGEN_NO_CACHE`, a
clean CI machine), one helper process is forked: by the console script (`launch`) on its first
line when its words name the one spec of a `build` or `check`, by the command line once click
has read them, else by the pipeline as it starts on its first spec (the helper imports the
loader and Jinja itself: `readahead`). A helper the command turns out not to need (its
output was current) is stopped as the command ends.

The helper loads the spec as `loader.parse_text` does and sends the plain data and the places of
its nodes back through a pipe, then compiles every template into Jinja's bytecode and sends that.
The command's own process imports its stages meanwhile, takes the document when the text it
reads itself is the text the helper read (else it parses it itself), and hands the bytecode to
the Jinja environment as any bytecode cache would, where Jinja checks each template's source
checksum. Nothing the helper sends changes the output: the same code on the same bytes, and any
problem (no fork, a diagnostic, a helper that dies, a truncated pipe) means the in-process path.

Only the command line turns this on (`allow`), and only in a single-threaded process that is
not itself a worker (forking a threaded host is not safe), with a second core that the load
average says is free.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import marshal
import os
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from .cache import cache_dir
from .cores import available_cores
from .reading import read_regular_file

if TYPE_CHECKING:
    from .diagnostics import Diagnostics

Pointer = tuple[str | int, ...]


class Loaded(Protocol):
    data: Any
    locations: Any


Load = Callable[[str, Path, "Diagnostics", str], Loaded | None]
_allowed = False
_helper: _Helper | None = None


def allow() -> None:
    """Let this process compile its templates ahead (the command line, one command)."""
    global _allowed
    _allowed = True


def start(spec: Path, load: Load, compile_templates: Callable[[], dict[str, bytes]]) -> None:
    """Fork the helper, once, when it can help (no cache holds the templates compiled): it
    reads `spec` with `load` (`parse_text`), then runs `compile_templates` (Jinja bytecode by
    template key). A helper the command did not wait for is stopped as the command ends."""
    global _helper, _allowed
    if not _allowed or _helper is not None or cache_dir("jinja") is not None:
        return
    if not _forkable():
        return
    _allowed = False  # at most one helper per process
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the helper: never returns, never writes to the command's output
        os.close(read)
        _help(spec, load, compile_templates, write)
    os.close(write)
    _helper = _Helper(pid, os.fdopen(read, "rb"))
    atexit.register(_helper.stop)


def document(text: str) -> tuple[Any, dict[Pointer, tuple[int, int]]] | None:
    """The data and node places the helper loaded, when it read exactly `text` (once)."""
    if _helper is None or _helper.loaded is _TAKEN:
        return None
    found = _helper.message() if _helper.loaded is _UNREAD else _helper.loaded
    _helper.loaded = _TAKEN
    if not isinstance(found, tuple) or found[0] != hashlib.sha256(text.encode()).hexdigest():
        return None
    return found[1], found[2]


def active() -> bool:
    """Whether a helper was started (its bytecode then comes from `bytecode`)."""
    return _helper is not None


def bytecode() -> dict[str, bytes]:
    """The templates' bytecode the helper sent (empty without one); the helper is reaped."""
    return _helper.bytecode() if _helper is not None else {}


def _forkable() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1 and not _worker() and _spare_core()


def _worker() -> bool:
    """A worker process of multiprocessing (which such a worker has imported)."""
    found = sys.modules.get("multiprocessing")
    return found is not None and found.parent_process() is not None


def _spare_core() -> bool:
    """A second core, and one that is not busy: on a saturated machine the helper's work (and
    sending it back) only adds to the command's wait."""
    cores = available_cores()
    return cores >= 2 and os.getloadavg()[0] < cores - 0.25


def _help(
    spec: Path, load: Load, compile_templates: Callable[[], dict[str, bytes]], write: int
) -> None:
    code = 1
    gc.disable()  # one document built and sent, then the helper ends: nothing to collect
    try:
        quiet = os.open(os.devnull, os.O_WRONLY)  # the command's output is not held open
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        with os.fdopen(write, "wb") as pipe:
            _send(pipe, _load(spec, load))
            _send(pipe, compile_templates())
        code = 0
    finally:
        os._exit(code)


def _load(spec: Path, load: Load) -> tuple[str, Any, dict[Pointer, tuple[int, int]]] | None:
    try:
        text = read_regular_file(spec).decode("utf-8-sig")
    except (OSError, ValueError):
        return None
    from .diagnostics import Diagnostics  # in the helper: the command may fork before it

    diagnostics = Diagnostics()
    loaded = load(text, spec, diagnostics, str(spec))
    if loaded is None or diagnostics.items:
        return None  # the command's own process reports it
    return hashlib.sha256(text.encode()).hexdigest(), loaded.data, loaded.locations.nodes


def _send(pipe: BinaryIO, value: Any) -> None:
    data = marshal.dumps(value)
    pipe.write(len(data).to_bytes(8, "big") + data)
    pipe.flush()


_TAKEN, _UNREAD = object(), object()


class _Helper:
    """The helper process and what it has sent, in order: the document, then the bytecode."""

    def __init__(self, pid: int, pipe: BinaryIO) -> None:
        self.pid, self.pipe = pid, pipe
        self.loaded: object = _UNREAD  # the first message, until `document` takes it
        self.buckets: dict[str, bytes] | None = None

    def message(self) -> object:
        try:
            size = int.from_bytes(self.pipe.read(8), "big")
            data = self.pipe.read(size)
            return marshal.loads(data) if size and len(data) == size else None
        except (OSError, EOFError, ValueError, TypeError):
            return None

    def bytecode(self) -> dict[str, bytes]:
        if self.buckets is None:
            if self.loaded is _UNREAD:
                self.loaded = self.message()
            found = self.message()
            self.buckets = found if isinstance(found, dict) else {}
            self.pipe.close()
            with suppress(OSError):
                os.waitpid(self.pid, 0)
        return self.buckets

    def stop(self) -> None:
        """At exit: a helper still at work (the command needed nothing of it) is stopped."""
        if self.buckets is not None:
            return
        self.buckets = {}
        with suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        self.pipe.close()
