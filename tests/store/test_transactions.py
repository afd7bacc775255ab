"""The stores' write transactions, on SQLite and PostgreSQL alike: all or nothing, one at a time,
errors as `StoreError`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest

from tests.domain.factories import Log
from warroom.domain.events import Event
from warroom.domain.projection import replay
from warroom.store.base import StoredSnapshot, StoreError, User
from warroom.store.open import Store, open_store
from warroom.store.sqlite import SqliteStore


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await open_store(store_url)
    yield opened
    await opened.close()


CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def _user(name: str) -> User:
    return User(name=name, token_hash=f"hash-of-{name}", created_at=CREATED)


async def test_a_failed_write_leaves_nothing_behind_and_the_next_write_commits(
    store: Store,
) -> None:
    events = Log().events
    # The last event repeats the first one's (incident, seq): the batch must fail as a whole.
    with pytest.raises(StoreError, match="could not write to"):
        await store.append([*events, events[0]])
    assert await store.load_events() == []

    await store.append(events)
    assert await store.load_events() == events


async def test_a_duplicate_user_is_refused_by_name_and_the_store_stays_writable(
    store: Store,
) -> None:
    await store.add_user(_user("alice"))
    with pytest.raises(StoreError, match="a user named alice already exists"):
        await store.add_user(_user("alice"))

    await store.add_user(_user("bob"))
    assert [u.name for u in await store.users()] == ["alice", "bob"]
    assert await store.remove_user("alice")
    assert not await store.remove_user("alice")


async def test_concurrent_writers_take_turns(store: Store) -> None:
    events = Log().events
    users = [_user(f"user{n}") for n in range(len(events))]
    # Each append is its own transaction; on SQLite without taking turns a second BEGIN would
    # land inside the first transaction, on PostgreSQL each takes its own pooled connection.
    await asyncio.gather(
        *(store.add_user(user) for user in users),
        # One incident's events in order: a gap-free log is built one after the other.
        _append_one_by_one(store, events),
    )
    assert await store.load_events() == events
    assert sorted(u.name for u in await store.users()) == sorted(u.name for u in users)


async def _append_one_by_one(store: Store, events: list[Event]) -> None:
    for event in events:
        await store.append([event])


async def test_writes_are_durable_across_a_reopen(store_url: str) -> None:
    events = Log().events
    store = await open_store(store_url)
    await store.append(events)
    await store.close()

    reopened = await open_store(store_url)
    try:
        assert await reopened.load_events() == events
    finally:
        await reopened.close()


async def test_a_failed_commit_of_events_summaries_and_snapshots_leaves_none_of_them(
    store: Store,
) -> None:
    events = Log().events
    state = replay(events)
    snapshot = StoredSnapshot(state.incident.id, state.seq, state.model_dump_json())
    with pytest.raises(StoreError, match="could not write to"):
        await store.append([*events, events[0]], [state.summary()], [snapshot])
    assert await store.load_events() == []
    assert await store.incident_summaries() == []
    assert await store.load_snapshot(state.incident.id) is None

    await store.append(events, [state.summary()], [snapshot])
    assert await store.load_events() == events
    assert await store.incident_summaries() == [state.summary()]
    assert await store.load_snapshot(state.incident.id) == snapshot


async def test_the_sequencers_commit_and_command_lookup_each_cross_to_sqlites_thread_once(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each call to aiosqlite's thread costs a wake-up on both sides; at a few writes per turn a
    # commit of four statements in four calls was a good part of a burst's CPU.
    store = await SqliteStore.open(db_path)
    calls: list[object] = []
    execute = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: object, *args: object) -> object:
        calls.append(fn)
        return await execute(self, fn, *args)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    try:
        events = [e.model_copy(update={"command_id": f"c{e.seq}"}) for e in Log().events]
        state = replay(events)
        snapshot = StoredSnapshot(state.incident.id, state.seq, state.model_dump_json())
        await store.append(events, [state.summary()], [snapshot])
        assert len(calls) == 1
        assert await store.load_snapshot(state.incident.id) == snapshot

        calls.clear()
        found = await store.find_commands({(e.actor, f"c{e.seq}") for e in events} | {("x", "y")})
        assert len(calls) == 1
        assert found == {(e.actor, f"c{e.seq}"): (e.incident_id, e.seq) for e in events}
    finally:
        await store.close()
