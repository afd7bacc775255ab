"""Bounded waits for conditions that become true on their own (scrapes, rule evaluations)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

POLL_EVERY = 0.2
"""Seconds between checks: a scrape or rule evaluation happens every second."""


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, what: str, timeout: float = 20.0
) -> T:
    """Call `check` until it returns something truthy and return that; fail at the deadline.

    Exceptions from `check` count as "not yet" so a half-started system can be polled, and the
    last one is shown if the deadline passes.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            result = await check()
        except Exception as exc:  # not ready yet; keep the reason for the failure message
            last = exc
        else:
            if result:
                return result
            last = result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last: {last!r}")
        await asyncio.sleep(POLL_EVERY)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
