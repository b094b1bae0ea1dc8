"""Draining on SIGTERM, as orchestrators expect: `/readyz` answers 503 at once, the server
keeps listening for `<PREFIX>_DRAIN_GRACE` seconds (load balancers see the 503 and stop
sending), then stops as uvicorn stops, giving requests in flight (streams included)
`<PREFIX>_DRAIN_TIMEOUT` seconds. SIGINT (Ctrl-C) drains without the grace; a second signal
stops at once.

The drain takes over the signals from the server's own handlers when the application starts,
and hands the stop back to them once the grace has passed. A worker whose parent dies stops
too (`serve --workers`, killed with SIGKILL, must not leave its workers serving).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from typing import Any, Protocol

Handler = Callable[[int, Any], Any]
PARENT_CHECK = 1.0  # seconds between checks that a worker's parent is alive


class Drained(Protocol):
    draining: bool


class Drain:
    def __init__(self, service: Drained, grace: float, timeout: float) -> None:
        self.service = service
        self.grace = grace
        self.timeout = timeout
        self.stopping = False
        self.previous: dict[int, Handler] = {}
        self.log = logging.getLogger("capgen.serve")
        self._watch: asyncio.Task[None] | None = None

    def install(self) -> None:
        """Take SIGTERM and SIGINT over from the server (in its running loop)."""
        loop = asyncio.get_running_loop()
        for sig, grace in ((signal.SIGTERM, self.grace), (signal.SIGINT, 0.0)):
            current = signal.getsignal(sig)
            if callable(current):
                self.previous[sig] = current
            loop.add_signal_handler(sig, self.signalled, sig, grace)
        parent = multiprocessing.parent_process()  # the pid it had, not os.getppid() now:
        if parent is not None and parent.pid is not None:  # it may be gone before we start
            self._watch = loop.create_task(self._parent_alive(parent.pid))

    def signalled(self, sig: int, grace: float) -> None:
        if self.stopping:  # a second signal: stop now, in-flight requests or not
            self._stop(signal.SIGINT)
            self._stop(signal.SIGINT)
            return
        self.stopping = True
        self.service.draining = True
        if grace:
            self.log.warning(
                "draining: /readyz answers 503; the server stops in %gs, then requests in "
                "flight have %gs to complete",
                grace,
                self.timeout,
            )
        asyncio.get_running_loop().call_later(grace, self._stop, sig)

    def _stop(self, sig: int) -> None:
        """Hand the stop to the server, as if the signal had reached it."""
        handler = self.previous.get(sig) or self.previous.get(signal.SIGTERM)
        if handler is not None:
            handler(sig, None)

    async def _parent_alive(self, parent: int) -> None:
        while os.getppid() == parent:
            await asyncio.sleep(PARENT_CHECK)
        self.log.warning("the parent process is gone: stopping")
        self.signalled(signal.SIGTERM, 0.0)
