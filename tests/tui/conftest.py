"""Fixtures: a real warroom server on 127.0.0.1 with the test cast, and the seeded incident."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from warroom.config import ServerConfig
from warroom.tui.app import WarroomApp

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


@dataclass(frozen=True)
class Notice:
    """One notification the console showed."""

    title: str
    message: str
    severity: str


@pytest.fixture
def notices(monkeypatch: pytest.MonkeyPatch) -> list[Notice]:
    """Every notification any `WarroomApp` shows during the test, in order; they are still
    shown (the toast is drawn as users see it)."""
    seen: list[Notice] = []
    show = WarroomApp.notify

    def record(
        self: WarroomApp,
        message: str,
        *,
        title: str = "",
        severity: str = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        seen.append(Notice(title, message, severity))
        show(self, message, title=title, severity=severity, timeout=timeout, markup=markup)  # type: ignore[arg-type]

    monkeypatch.setattr(WarroomApp, "notify", record)
    return seen
