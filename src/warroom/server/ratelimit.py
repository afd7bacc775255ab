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
    """A connection's allowance: `rate` frames and `bytes_per_second` bytes per second, with
    bursts of `burst` frames and `burst_bytes` bytes. One clock read per frame: it runs for every
    frame every console sends."""

    def __init__(
        self,
        rate: float,
        burst: int,
        bytes_per_second: float,
        burst_bytes: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.bytes_per_second = bytes_per_second
        self.burst_bytes = burst_bytes
        self._frames = float(burst)
        self._bytes = float(burst_bytes)
        self._monotonic = monotonic
        self._last = monotonic()

    def take(self, size: int) -> str | None:
        """Charge one frame of `size` bytes; None if allowed, else why not (nothing is charged)."""
        now = self._monotonic()
        elapsed = now - self._last
        self._last = now
        self._frames = min(self.burst, self._frames + elapsed * self.rate)
        self._bytes = min(self.burst_bytes, self._bytes + elapsed * self.bytes_per_second)
        if self._frames < 1:
            return f"more than {self.rate:g} messages per second"
        if self._bytes < size:
            return f"more than {self.bytes_per_second:g} bytes per second"
        self._frames -= 1
        self._bytes -= size
        return None
