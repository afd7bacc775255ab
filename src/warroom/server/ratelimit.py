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

    def full(self) -> bool:
        """Whether the allowance has refilled to its bursts (then it is as good as a new one)."""
        elapsed = self._monotonic() - self._last
        return (
            self._frames + elapsed * self.rate >= self.burst
            and self._bytes + elapsed * self.bytes_per_second >= self.burst_bytes
        )


class LeftBudgets:
    """What a user's closed connections left of their allowance, for the user's next ones.

    A connection's allowance starts full, so closing and opening connections again was a way
    around it: each new connection could send another 1 MiB burst of frames the server must
    parse (about 18 ms of CPU in refused 256 KiB frames, for a 2 ms handshake). A new connection
    now takes up a closed one's allowance where it was left (refilled since), so a user holds at
    most as many allowances as connections open at once (`connections_per_user`)."""

    def __init__(self) -> None:
        self._by_user: dict[str, list[FrameBudget]] = {}

    def take(self, user: str, make: Callable[[], FrameBudget]) -> FrameBudget:
        """A closed connection's allowance, or a new one from `make` if none is left over."""
        left = self._by_user.get(user)
        if not left:
            return make()
        budget = left.pop()
        if not left:
            del self._by_user[user]
        return budget

    def give_back(self, user: str, budget: FrameBudget) -> None:
        """Keep what a closing connection left, unless it is as good as new (nothing to keep)."""
        left = [b for b in self._by_user.pop(user, []) if not b.full()]
        if not budget.full():
            left.append(budget)
        if left:
            self._by_user[user] = left
