"""Fixtures of the fault tests: the handshake throttle's waits, recorded instead of slept."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import warroom.server.auth as auth_module


@pytest.fixture
def recorded_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The Authenticator's waits, recorded instead of slept: a test asserts how long each
    handshake would wait without spending that time."""
    waits: list[float] = []

    async def record(delay: float) -> None:
        waits.append(delay)

    class AsyncioWithRecordedSleep:
        sleep = staticmethod(record)

        def __getattr__(self, name: str) -> Any:
            return getattr(asyncio, name)

    monkeypatch.setattr(auth_module, "asyncio", AsyncioWithRecordedSleep())
    return waits
