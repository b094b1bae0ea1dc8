"""A pytest plugin (`-p tests.support.reaper`, in the project's addopts): every process a test
session starts ends with it, however pytest was launched.

- The session process becomes a child subreaper (Linux `PR_SET_CHILD_SUBREAPER`): a process
  orphaned by its parent (a server's worker, a grandchild a test lost track of) is re-parented
  to it instead of to init, so it stays findable.
- When the session ends (and at exit, whatever ended it), every descendant still alive is
  killed (SIGKILL, and its process group when it leads one), and named on stderr.
- A session started with SIGINT ignored (a background job of a non-interactive shell) takes
  Python's default handler back, so the processes it starts do not inherit the ignored SIGINT
  and stop when a test sends it to them.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import sys
import time
from pathlib import Path

import pytest

_PR_SET_CHILD_SUBREAPER = 36


def adopt_orphans() -> bool:
    """Make this process the subreaper of its descendants; False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0


def take_sigint_back() -> None:
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid`, parents before their children (from /proc)."""
    found: list[int] = []
    parents = [pid]
    while parents:
        parent = parents.pop(0)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{parent}/task").iterdir():
                children = [int(c) for c in (task / "children").read_text().split()]
                found += children
                parents += children
    return found


def running(pid: int) -> bool:
    """Alive, and not a zombie waiting for its parent to read its status."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
    except OSError:
        return "?"


def reap(pid: int | None = None) -> list[str]:
    """Kill every descendant of `pid` (this process by default); the commands it killed."""
    killed = []
    for child in filter(running, descendants(os.getpid() if pid is None else pid)):
        command = _command(child)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(child) == child and child != os.getpgid(0):
                os.killpg(child, signal.SIGKILL)
            os.kill(child, signal.SIGKILL)
            killed.append(f"{child} {command}")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # collect the zombies that are ours
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                break
        except ChildProcessError:
            break
    return killed


def _reap_and_tell() -> None:
    for line in reap():
        print(f"reaper: killed a process the tests left behind: {line}", file=sys.stderr)


def pytest_configure(config: pytest.Config) -> None:
    take_sigint_back()
    adopt_orphans()
    atexit.register(_reap_and_tell)


def pytest_unconfigure(config: pytest.Config) -> None:
    _reap_and_tell()
