"""Token buckets: bursts are fine, floods are refused message by message. A connection is charged
per frame and per byte, before its frame is parsed, so what a refused frame costs the server does
not depend on what is in it."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """Allows `rate` units per second on average and up to `burst` at once."""

    def __init__(
        self, rate: float, burst: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._monotonic = monotonic
        self._last = monotonic()

    def _refill(self) -> None:
        now = self._monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def can_take(self, amount: float = 1.0) -> bool:
        self._refill()
        return self._tokens >= amount

    def take(self, amount: float = 1.0) -> bool:
        """Spend `amount` tokens; False (and nothing spent) when the sender is over its limit."""
        if not self.can_take(amount):
            return False
        self._tokens -= amount
        return True


class FrameBudget:
    """A connection's allowance: `rate` frames and `bytes_per_second` bytes per second."""

    def __init__(
        self,
        rate: float,
        burst: int,
        bytes_per_second: float,
        burst_bytes: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.frames = TokenBucket(rate, burst, monotonic)
        self.bytes = TokenBucket(bytes_per_second, burst_bytes, monotonic)

    @property
    def rate(self) -> float:
        return self.frames.rate

    def take(self, size: int) -> str | None:
        """Charge one frame of `size` bytes; None if allowed, else why not (nothing is charged)."""
        if not self.frames.can_take():
            return f"more than {self.frames.rate:g} messages per second"
        if not self.bytes.can_take(size):
            return f"more than {self.bytes.rate:g} bytes per second"
        self.frames.take()
        self.bytes.take(size)
        return None
