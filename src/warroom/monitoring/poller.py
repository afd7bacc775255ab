"""Poll, finish, reschedule: a loop that never overlaps polls of a slow source."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeAlias, TypeVar

__all__ = ["PollFailed", "PollOutcome", "PollSucceeded", "Poller"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PollSucceeded(Generic[T]):
    """A poll that returned a value."""

    value: T
    started: float
    """Clock reading when the poll began."""
    finished: float


@dataclass(frozen=True, slots=True)
class PollFailed:
    """A poll that raised; the loop carries on and tries again next time."""

    error: Exception
    started: float
    finished: float


PollOutcome: TypeAlias = PollSucceeded[T] | PollFailed
"""What `on_outcome` receives after each poll."""


class Poller(Generic[T]):
    """Calls `poll` repeatedly, handing each outcome to `on_outcome`.

    The next poll is scheduled only once the previous one (and its callback) has finished, so
    a slow Prometheus sees at most one request at a time from us. Polls start every `interval`
    seconds when they are quick; when a poll takes longer than that, the next one still waits
    `min_pause` so a struggling server gets a breather.
    """

    def __init__(
        self,
        poll: Callable[[], Awaitable[T]],
        on_outcome: Callable[[PollOutcome[T]], Awaitable[None] | None],
        *,
        interval: float,
        min_pause: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Args:
        poll: fetches one result; any `Exception` it raises becomes a `PollFailed`.
        on_outcome: sync or async callback for each result or failure.
        interval: seconds from one poll's start to the next's, when polls are quick.
        min_pause: the least time between one poll's end and the next's start.
        sleep: waits that many seconds; inject a fake for deterministic tests.
        clock: monotonic seconds; inject a fake alongside `sleep`.
        """
        if interval <= 0 or min_pause < 0:
            raise ValueError("interval must be positive and min_pause not negative")
        self._poll = poll
        self._on_outcome = on_outcome
        self.interval = interval
        self.min_pause = min_pause
        self._sleep = sleep
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self.polls = 0
        """How many polls have finished, for status displays and tests."""

    @property
    def running(self) -> bool:
        """Whether the loop task is alive."""
        return self._task is not None and not self._task.done()

    def start(self, *, name: str = "poller") -> asyncio.Task[None]:
        """Run the loop in a new task; calling it while running returns the existing task."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name=name)
        return self._task

    async def stop(self) -> None:
        """Cancel the loop, including a poll in flight, and wait until it has ended."""
        task, self._task = self._task, None
        if task is None or task.done():
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            # Our own cancellation of the loop; if the caller is being cancelled too, honour it.
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    async def run(self) -> None:
        """Poll until cancelled."""
        while True:
            started = self._clock()
            outcome: PollOutcome[T]
            try:
                value = await self._poll()
            except Exception as error:  # any failure of the source is data for the callback
                outcome = PollFailed(error, started, self._clock())
            else:
                outcome = PollSucceeded(value, started, self._clock())
            await self._deliver(outcome)
            self.polls += 1
            elapsed = self._clock() - started
            await self._sleep(max(self.interval - elapsed, self.min_pause))

    async def _deliver(self, outcome: PollOutcome[T]) -> None:
        try:
            result = self._on_outcome(outcome)
            if inspect.isawaitable(result):
                await result
        except Exception:
            # A broken consumer must not stop monitoring during an incident; log loudly instead.
            log.exception("poll outcome callback failed")
