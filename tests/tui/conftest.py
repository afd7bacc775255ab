"""Fixtures: a real warroom server on 127.0.0.1 with the test cast, and the seeded incident."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from warroom.config import ServerConfig

from .harness import Warroom, seed_incident, start_warroom


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Themes in the tester's own config dir must not change what the tests see.
    monkeypatch.setenv("WARROOM_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WARROOM_THEMES_DIR", raising=False)


@pytest.fixture
def server_config() -> ServerConfig:
    """The server's configuration; a test module overrides this fixture to configure link
    templates or Prometheus."""
    return ServerConfig()


@pytest.fixture
async def warroom(tmp_path: Path, server_config: ServerConfig) -> AsyncIterator[Warroom]:
    running = await start_warroom(tmp_path, config=server_config)
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def incident(warroom: Warroom) -> int:
    alice = await warroom.client("alice")
    return await seed_incident(alice)
