"""The SQLite store's write transactions: all or nothing, one at a time, errors as `StoreError`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.domain.factories import Log
from warroom.store.base import StoreError, User
from warroom.store.sqlite import SqliteStore


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(db_path)
    yield opened
    await opened.close()


CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def _user(name: str) -> User:
    return User(name=name, token_hash=f"hash-of-{name}", created_at=CREATED)


async def test_a_failed_write_leaves_nothing_behind_and_the_next_write_commits(
    store: SqliteStore,
) -> None:
    events = Log().events
    # The last event repeats the first one's (incident, seq): the batch must fail as a whole.
    with pytest.raises(StoreError, match="could not write to"):
        await store.append([*events[1:], events[0], events[0]])
    assert await store.load_events() == []

    await store.append(events)
    assert await store.load_events() == events


async def test_a_duplicate_user_is_refused_by_name_and_the_store_stays_writable(
    store: SqliteStore,
) -> None:
    await store.add_user(_user("alice"))
    with pytest.raises(StoreError, match="a user named alice already exists"):
        await store.add_user(_user("alice"))

    await store.add_user(_user("bob"))
    assert [u.name for u in await store.users()] == ["alice", "bob"]
    assert await store.remove_user("alice")
    assert not await store.remove_user("alice")


async def test_concurrent_writers_take_turns_on_the_one_connection(store: SqliteStore) -> None:
    events = Log().events
    # Each append is its own transaction; without taking turns, a second BEGIN would land inside
    # the first transaction and fail.
    await asyncio.gather(
        *(store.append([event]) for event in events),
        *(store.add_user(_user(f"user{n}")) for n in range(len(events))),
    )
    assert await store.load_events() == events
    assert len(await store.users()) == len(events)


async def test_writes_are_durable_across_a_reopen(db_path: Path) -> None:
    events = Log().events
    store = await SqliteStore.open(db_path)
    await store.append(events)
    await store.close()

    reopened = await SqliteStore.open(db_path)
    try:
        assert await reopened.load_events() == events
    finally:
        await reopened.close()
