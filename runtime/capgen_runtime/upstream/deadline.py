"""The overall deadline of upstream calls, kept by one timer per client.

`asyncio.timeout` arms and cancels an event-loop timer for every call; under uvloop each is a
libuv handle made and closed, which cost more of a proxied request than anything the deadline
guards. Every call of one client has the same span (`<PREFIX>_TOTAL_TIMEOUT`), so calls reach
their deadlines in the order they began: one timer waits for the earliest, and when it fires
it cancels the calls past their deadline and waits for the next. A call that ends in time
leaves no timer behind. Cancellation is told apart from any other as `asyncio.timeout` does
(`Task.uncancel`): a caller's own cancellation still propagates.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

_EARLY = 0.001  # the event loop's clock counts milliseconds: a timer may fire this early


class Expired(Exception):
    """The call's deadline passed (raised from the `Deadlines.watch` block)."""


class Deadlines:
    """The calls of one client in flight, each cancelled once `seconds` have passed (never,
    when `seconds` is None)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._calls: dict[asyncio.Task[object], float] = {}  # in the order they end
        self._expired: set[asyncio.Task[object]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def watch(self) -> Watch:
        """`with deadlines.watch():` — `Expired` when the block outlives the deadline
        (`renew` starts the span again)."""
        if self.seconds is None:
            return _UNWATCHED
        loop = self._loop
        # the task running in this client's loop, asked of that loop: `current_task()` would
        # first look the running loop up, which costs a system call (getpid) on Python 3.11
        task = asyncio.current_task(loop) if loop is not None else None
        if task is None:  # the first call, or the first in another event loop
            task = asyncio.current_task()
            if task is None:
                raise RuntimeError("an upstream call's deadline needs a running task")
            loop = task.get_loop()
            if loop is not self._loop:
                self._loop, self._timer = loop, None
                self._calls.clear()
                self._expired.clear()
        assert loop is not None
        self._start(task, loop)
        return Watch(self, task)

    def _start(self, task: asyncio.Task[object], loop: asyncio.AbstractEventLoop) -> None:
        assert self.seconds is not None
        at = loop.time() + self.seconds
        self._calls[task] = at  # last: no call's deadline is later
        if self._timer is None:
            self._timer = loop.call_at(at, self._fire)

    def _renew(self, task: asyncio.Task[object]) -> None:
        if self._calls.pop(task, None) is not None and self._loop is not None:
            self._start(task, self._loop)

    def _fire(self) -> None:
        self._timer = None
        assert self._loop is not None
        now = self._loop.time() + _EARLY
        while self._calls:
            task, at = next(iter(self._calls.items()))
            if at > now:
                self._timer = self._loop.call_at(at, self._fire)
                return
            del self._calls[task]
            self._expired.add(task)
            task.cancel()

    def _end(self, task: asyncio.Task[object], cancelling: int, cancelled: bool) -> bool:
        """Whether the call ended by its deadline (it is then no longer cancelled)."""
        self._calls.pop(task, None)
        if task not in self._expired:
            return False
        self._expired.discard(task)
        return task.uncancel() <= cancelling and cancelled


class Watch:
    __slots__ = ("_cancelling", "_deadlines", "_task")

    def __init__(self, deadlines: Deadlines | None, task: asyncio.Task[object] | None) -> None:
        self._deadlines = deadlines
        self._task = task
        self._cancelling = task.cancelling() if task is not None else 0

    def renew(self) -> None:
        """The span starts again from now (a read made progress)."""
        if self._deadlines is not None and self._task is not None:
            self._deadlines._renew(self._task)

    # a plain context manager, used in coroutines: its exit awaits nothing, and `async with`
    # would make two coroutines of every watch
    def __enter__(self) -> Watch:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._deadlines is None or self._task is None:
            return
        cancelled = kind is not None and issubclass(kind, asyncio.CancelledError)
        if self._deadlines._end(self._task, self._cancelling, cancelled):
            raise Expired from error


_UNWATCHED = Watch(None, None)  # what a watch without a deadline is
