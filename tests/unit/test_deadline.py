"""The upstream calls' deadlines, kept by one timer per client (`upstream/deadline.py`)."""

from __future__ import annotations

import asyncio
import time

import pytest
from capgen_runtime.upstream.deadline import Deadlines, Expired


async def _sleep_watched(deadlines: Deadlines, seconds: float) -> float:
    started = time.monotonic()
    with deadlines.watch():
        await asyncio.sleep(seconds)
    return time.monotonic() - started


def test_a_call_that_outlives_its_deadline_is_expired_at_the_deadline() -> None:
    async def main() -> float:
        started = time.monotonic()
        with pytest.raises(Expired):
            await _sleep_watched(Deadlines(0.2), 5)
        return time.monotonic() - started

    assert 0.15 <= asyncio.run(main()) < 1.0


def test_calls_in_time_are_left_alone_and_later_ones_get_their_own_deadline() -> None:
    """The timer set for the first call fires with nothing to cancel, then waits for the next
    call in flight: its deadline counts from when it began, not from the first."""

    async def main() -> list[object]:
        deadlines = Deadlines(0.3)
        quick = await _sleep_watched(deadlines, 0.05)
        await asyncio.sleep(0.1)
        second = asyncio.create_task(_sleep_watched(deadlines, 0.25))  # ends by 0.4 s: in time
        third = asyncio.create_task(_sleep_watched(deadlines, 5))
        return [quick, *await asyncio.gather(second, third, return_exceptions=True)]

    quick, second, third = asyncio.run(main())
    assert isinstance(quick, float) and isinstance(second, float)
    assert isinstance(third, Expired)


def test_several_calls_past_their_deadline_all_expire() -> None:
    async def main() -> list[object]:
        deadlines = Deadlines(0.2)
        calls = [asyncio.create_task(_sleep_watched(deadlines, 5)) for _ in range(5)]
        return await asyncio.gather(*calls, return_exceptions=True)

    assert all(isinstance(result, Expired) for result in asyncio.run(main()))


def test_a_callers_own_cancellation_is_not_taken_for_the_deadline() -> None:
    async def main() -> None:
        deadlines = Deadlines(5)
        call = asyncio.create_task(_sleep_watched(deadlines, 5))
        await asyncio.sleep(0.05)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

    asyncio.run(main())


def test_the_task_goes_on_normally_after_an_expired_call() -> None:
    """The deadline's cancellation is taken back (`uncancel`): the task can await again."""

    async def main() -> str:
        with pytest.raises(Expired):
            await _sleep_watched(Deadlines(0.1), 5)
        task = asyncio.current_task()
        assert task is not None and task.cancelling() == 0
        await asyncio.sleep(0.01)
        return "went on"

    assert asyncio.run(main()) == "went on"


def test_renewing_starts_the_span_again_and_none_never_expires() -> None:
    async def main() -> None:
        deadlines = Deadlines(0.3)
        with deadlines.watch() as watch:
            for _ in range(4):  # 0.6 s in all, never 0.3 s without progress
                await asyncio.sleep(0.15)
                watch.renew()
        with Deadlines(None).watch():
            await asyncio.sleep(0.05)

    asyncio.run(main())
