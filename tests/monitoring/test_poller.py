"""The poll loop, driven by a fake clock and sleep: no real time passes in these tests."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from warroom.monitoring.poller import Poller, PollFailed, PollOutcome, PollSucceeded


class FakeTime:
    """A clock that moves only when the loop sleeps or a test says a poll took a while."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would


class GatedSource:
    """A poll function whose every call blocks until the test finishes it."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.calls: list[asyncio.Future[int]] = []
        self.started_at: list[float] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def __call__(self) -> int:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.started_at.append(self.time.now)
        call: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.calls.append(call)
        try:
            return await call
        finally:
            self.in_flight -= 1

    def finish(self, value: int, *, took: float) -> None:
        self.time.now += took
        self.calls[-1].set_result(value)

    def fail(self, error: Exception, *, took: float) -> None:
        self.time.now += took
        self.calls[-1].set_exception(error)


async def settle(condition: Callable[[], bool] = lambda: False, turns: int = 50) -> None:
    """Give the event loop `turns` chances to run, stopping early once `condition` holds."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def source(time: FakeTime) -> GatedSource:
    return GatedSource(time)


async def test_polls_never_overlap_and_the_next_is_scheduled_after_the_last_finished(
    time: FakeTime, source: GatedSource
) -> None:
    outcomes: list[PollOutcome[int]] = []
    poller = Poller(
        source, outcomes.append, interval=5, min_pause=1, sleep=time.sleep, clock=time.clock
    )
    poller.start()

    await settle(lambda: len(source.calls) == 1)
    await settle()  # plenty of chances to misbehave while the first poll hangs
    assert len(source.calls) == 1
    assert time.sleeps == []

    source.finish(1, took=2)
    await settle(lambda: len(source.calls) == 2)
    assert outcomes == [PollSucceeded(1, started=100, finished=102)]
    assert time.sleeps == [3]  # the rest of the 5s interval
    assert source.started_at == [100, 105]

    error = RuntimeError("Prometheus down")
    source.fail(error, took=1)
    await settle(lambda: len(source.calls) == 3)
    assert outcomes[1] == PollFailed(error, started=105, finished=106)
    assert time.sleeps == [3, 4]

    await poller.stop()
    assert source.most_in_flight == 1
    assert source.in_flight == 0  # the third poll was cancelled, not abandoned
    assert not poller.running
    assert poller.polls == 2


async def test_a_poll_slower_than_the_interval_still_gets_a_pause(
    time: FakeTime, source: GatedSource
) -> None:
    poller = Poller(
        source, lambda _: None, interval=5, min_pause=1.5, sleep=time.sleep, clock=time.clock
    )
    poller.start()
    await settle(lambda: len(source.calls) == 1)

    source.finish(1, took=30)
    await settle(lambda: len(source.calls) == 2)

    assert time.sleeps == [1.5]
    await poller.stop()


async def test_an_async_callback_finishes_before_the_next_poll(
    time: FakeTime, source: GatedSource
) -> None:
    handled: list[int] = []
    release = asyncio.Event()

    async def slow_consumer(outcome: PollOutcome[int]) -> None:
        await release.wait()
        assert isinstance(outcome, PollSucceeded)
        handled.append(outcome.value)

    poller = Poller(source, slow_consumer, interval=5, sleep=time.sleep, clock=time.clock)
    poller.start()
    await settle(lambda: len(source.calls) == 1)
    source.finish(7, took=0)
    await settle()

    assert len(source.calls) == 1
    assert time.sleeps == []

    release.set()
    await settle(lambda: len(source.calls) == 2)
    assert handled == [7]
    await poller.stop()


async def test_a_failing_callback_is_logged_and_polling_goes_on(
    time: FakeTime, source: GatedSource, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_consumer(outcome: PollOutcome[int]) -> None:
        raise KeyError("renderer bug")

    poller = Poller(source, broken_consumer, interval=5, sleep=time.sleep, clock=time.clock)
    with caplog.at_level(logging.ERROR, logger="warroom.monitoring.poller"):
        poller.start()
        await settle(lambda: len(source.calls) == 1)
        source.finish(1, took=0)
        await settle(lambda: len(source.calls) == 2)

    assert "poll outcome callback failed" in caplog.text
    assert poller.running
    await poller.stop()


async def test_stop_during_the_pause_ends_the_loop(source: GatedSource) -> None:
    forever = asyncio.Event()

    async def sleep_forever(seconds: float) -> None:
        await forever.wait()

    poller = Poller(source, lambda _: None, interval=5, sleep=sleep_forever)
    task = poller.start()
    assert poller.start() is task  # starting twice does not start a second loop
    await settle(lambda: len(source.calls) == 1)
    source.finish(1, took=0)
    await settle(lambda: poller.polls == 1)

    await poller.stop()

    assert task.cancelled()
    assert len(source.calls) == 1
    await poller.stop()  # stopping again is harmless


async def test_cancelling_run_propagates(time: FakeTime, source: GatedSource) -> None:
    poller = Poller(source, lambda _: None, interval=5, sleep=time.sleep, clock=time.clock)
    task = asyncio.create_task(poller.run())
    await settle(lambda: len(source.calls) == 1)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert source.in_flight == 0


@pytest.mark.parametrize(("interval", "min_pause"), [(0, 1), (-1, 1), (5, -1)])
def test_nonsense_timing_is_refused(interval: float, min_pause: float) -> None:
    async def poll() -> None:
        return None

    with pytest.raises(ValueError, match="interval"):
        Poller(poll, lambda _: None, interval=interval, min_pause=min_pause)
