"""The store's side of history at any size: summaries, snapshots, command lookup, the archive,
and databases written by the previous schema."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.domain.factories import Log
from tests.support.history import closed_log, opened, started_cache, written
from warroom.domain.events import Event
from warroom.domain.projection import replay
from warroom.server.incidents import IncidentCache
from warroom.store.base import STATE_VERSION, StoredSnapshot, StoreError
from warroom.store.columns import event_row
from warroom.store.migrations import MIGRATIONS

GARBAGE = '{"seq": "garbage"}'
"""A snapshot's state that is JSON but no state."""


def write_version_3_database(path: Path, events: list[Event]) -> None:
    """A file exactly as the previous warroom left it: schema 3, events and nothing else."""
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:3]:
        for statement in script:
            db.execute(statement)
    db.execute("PRAGMA user_version = 3")
    db.executemany(
        "INSERT INTO events (incident_id, seq, at, actor, command_id, type, body) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [event_row(e) for e in events],
    )
    db.commit()
    db.close()


async def test_a_database_written_by_the_previous_schema_opens_with_summaries(
    db_path: Path,
) -> None:
    first, second = Log().events, closed_log(2, datetime(2025, 1, 1, tzinfo=UTC))
    write_version_3_database(db_path, [*first, *second])

    async with opened(db_path) as store:
        summaries = await store.incident_summaries()
        assert summaries == [replay(first).summary(), replay(second).summary()]
        snapshot = await store.load_snapshot(2)
        assert snapshot is not None
        assert snapshot.seq == second[-1].seq
        cache = await started_cache(store)
        assert sorted(cache.loaded) == [1]  # the open one; the closed one waits to be asked for
        loaded = await cache.load(2)
        assert loaded.state.model_dump() == replay(second).model_dump()
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


async def test_a_snapshot_of_another_domain_version_is_ignored_and_rebuilt(db_path: Path) -> None:
    events = Log().events
    await written(db_path, events)
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE snapshots SET version = 'older', state = '{\"not\": \"a state\"}'")

    async with opened(db_path) as store:
        assert await store.load_snapshot(1) is None
        cache = IncidentCache(store, snapshot_every=1)
        loaded = await cache.load(1)
        assert loaded.state.model_dump() == replay(events).model_dump()
        fresh = await store.load_snapshot(1)  # written back in this version
        assert fresh is not None
        assert fresh.seq == events[-1].seq
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT version FROM snapshots").fetchone()[0] == STATE_VERSION


async def test_a_damaged_snapshot_is_replaced_by_the_events(store_url: str) -> None:
    events = Log().events
    await written(store_url, events, [StoredSnapshot(1, events[-1].seq, GARBAGE)])
    async with opened(store_url) as store:
        loaded = await IncidentCache(store).load(1)
        assert loaded.state.model_dump() == replay(events).model_dump()


async def test_command_ids_are_found_in_the_log_the_archive_and_the_triage_log(
    store_url: str,
) -> None:
    resolved = datetime(2024, 3, 1, tzinfo=UTC)
    old, recent = closed_log(1, resolved), closed_log(2, resolved + timedelta(days=400))
    async with opened(store_url) as store:
        await store.append([*old, *recent])
        assert await store.archive(resolved + timedelta(days=1)) == [1]
        keys = {("alice", "1-resolved"), ("alice", "2-resolved"), ("alice", "never-sent")}
        found = await store.find_commands(keys)
        assert found == {
            ("alice", "1-resolved"): (1, old[-2].seq),
            ("alice", "2-resolved"): (2, recent[-2].seq),
        }
        # Archived events are still the incident's log, and it still loads.
        assert len(await store.events_json(1)) == len(old)
        loaded = await IncidentCache(store).load(1)
        assert loaded.state.model_dump() == replay(old).model_dump()
        assert [e.incident_id for e in await store.load_events()] == [2] * len(recent)
        # Archiving again moves nothing; an open incident is never archived.
        assert await store.archive(datetime(2100, 1, 1, tzinfo=UTC)) == [2]
        assert await store.archive(datetime(2100, 1, 1, tzinfo=UTC)) == []


async def test_appending_a_summary_with_events_is_all_or_nothing(store_url: str) -> None:
    events = Log().events
    async with opened(store_url) as store:
        await store.append(events[:2])
        with pytest.raises(StoreError):
            # A repeated seq: neither the events nor the summary may land.
            await store.append(events[1:], [replay(events).summary()])
        summaries = await store.incident_summaries()
        assert [s.seq for s in summaries] == [2]


async def test_a_closed_incident_opened_to_be_read_sends_its_stored_snapshot_as_stored(
    store_url: str,
) -> None:
    events = closed_log(2, datetime(2025, 1, 1, tzinfo=UTC))
    await written(store_url, events)
    async with opened(store_url) as store:
        stored = await store.load_snapshot(2)
        assert stored is not None
        cache = await started_cache(store)
        await cache.ensure_loaded([2])
        loaded = cache.loaded[2]
        assert (loaded.seq, loaded.latest_snapshot()) == (
            events[-1].seq,
            (stored.seq, stored.state_json),
        )
        assert not loaded.live
        assert loaded.state.model_dump() == replay(events).model_dump()


async def test_a_closed_incidents_damaged_snapshot_is_replaced_by_the_events_when_used(
    store_url: str,
) -> None:
    events = closed_log(2, datetime(2025, 1, 1, tzinfo=UTC))
    await written(store_url, events, [StoredSnapshot(2, events[-1].seq, GARBAGE)])
    async with opened(store_url) as store:
        cache = await started_cache(store)
        await cache.ensure_loaded([2], writing=[2])
        assert cache.loaded[2].state.model_dump() == replay(events).model_dump()


async def test_a_closed_incident_whose_snapshot_and_events_are_damaged_is_not_written_to(
    db_path: Path,
) -> None:
    events = closed_log(2, datetime(2025, 1, 1, tzinfo=UTC))
    await written(db_path, events, [StoredSnapshot(2, events[-1].seq, GARBAGE)])
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE events SET body = '{}' WHERE seq = 2")
    async with opened(db_path) as store:
        cache = await started_cache(store)
        # Even to be read: a snapshot that is not a state's outline is never sent as it is, and
        # the events make no state either.
        await cache.ensure_loaded([2])
        assert 2 not in cache.loaded
        await cache.ensure_loaded([2], writing=[2])
        assert 2 not in cache.loaded  # requests to write find no incident, as a failed load


async def test_a_gap_hidden_behind_a_snapshot_is_refused_as_damage(db_path: Path) -> None:
    events = Log().events
    await written(db_path, events)  # with a snapshot at the last seq
    with sqlite3.connect(db_path) as db:
        db.execute("DELETE FROM events WHERE seq = 2")
    async with opened(db_path) as store:
        assert await store.load_snapshot(1) is not None
        with pytest.raises(StoreError, match="incident 1 has a damaged log"):
            await IncidentCache(store).load(1)
