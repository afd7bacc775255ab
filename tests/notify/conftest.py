"""Fixtures for notification tests: a recording server, a real client and a recording sleep."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.support.recording_server import RecordedSleep, RecordingServer


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: a proxy set in the environment must not swallow requests to 127.0.0.1.
    async with httpx.AsyncClient(trust_env=False) as http:
        yield http


@pytest.fixture
def sleep() -> RecordedSleep:
    return RecordedSleep()
