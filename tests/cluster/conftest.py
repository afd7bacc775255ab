"""Fixtures of the cluster tests: a user on the shared PostgreSQL database, and two nodes on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.settings import TEST_SETTINGS
from warroom.node import WarroomNode, start_node
from warroom.users import create_user


@pytest.fixture
async def token(pg_url: str) -> str:
    """alice's token on the test's database."""
    return await create_user(pg_url, "alice")


@pytest.fixture
async def two_nodes(pg_url: str, token: str) -> AsyncIterator[tuple[WarroomNode, WarroomNode]]:
    """Two nodes on the test's database, alice already a user."""
    a = await start_node(pg_url, TEST_SETTINGS)
    b = await start_node(pg_url, TEST_SETTINGS)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()
