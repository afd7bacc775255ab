"""A token bucket per connection: bursts are fine, floods are refused message by message."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """Allows `rate` messages per second on average and up to `burst` at once."""

    def __init__(
        self, rate: float, burst: int, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._monotonic = monotonic
        self._last = monotonic()

    def take(self) -> bool:
        """Spend one token; False when the sender is over its limit."""
        now = self._monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False
