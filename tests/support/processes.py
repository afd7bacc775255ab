"""Ending the child processes a test started (nodes, servers, proxies): at once, like a host
losing power, or asked politely with SIGKILL after a grace period."""

from __future__ import annotations

import subprocess
from typing import Protocol

GRACE = 20.0
"""Seconds a process gets to end after a signal; a bound for a hang."""


class Child(Protocol):
    """What ending a process asks of it: a `Popen`, or a node forked by tests/support."""

    def poll(self) -> int | None: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...

    def wait(self, timeout: float) -> int: ...


def kill_now(proc: Child) -> None:
    """SIGKILL: no shutdown code runs; returns once it has ended."""
    proc.kill()
    proc.wait(timeout=GRACE)


def stop(proc: Child | None) -> None:
    """SIGTERM a process still running, SIGKILL it if it has not ended within the grace."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=GRACE)
    except subprocess.TimeoutExpired:
        kill_now(proc)
