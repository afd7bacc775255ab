"""Shared fixtures: a real warroom server on 127.0.0.1 with a real SQLite file, and its users."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.support.settings import TEST_SETTINGS
from warroom.node import WarroomNode, start_node
from warroom.users import create_user

# The real PostgreSQL (session) and a fresh database per test: `pg_url`, `store_url`; clients
# started as new users and closed at the end: `client_as`; every asyncio test's tasks dumped
# shortly before pytest-timeout ends it.
pytest_plugins = ["tests.support.postgres", "tests.support.clients", "tests.support.hang_report"]


@pytest.fixture(autouse=True)
def warroom_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test's data dir, outboxes and tokens out of the real home directory."""
    home = tmp_path / "home"
    # Every WARROOM_* variable is a setting (see warroom.settings): none of the tester's own.
    for name in [name for name in os.environ if name.upper().startswith("WARROOM_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("WARROOM_HOME", str(home))
    return home


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "warroom.db"


@pytest.fixture
async def server(db_path: Path) -> AsyncIterator[WarroomNode]:
    async with await start_node(db_path, TEST_SETTINGS) as running:
        yield running


@pytest.fixture
def add_user(db_path: Path) -> Callable[[str], Awaitable[str]]:
    """Create a user in the server's database and return their token."""

    async def add(name: str) -> str:
        return await create_user(db_path, name)

    return add
