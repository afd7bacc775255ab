"""What a commit of events costs in round trips to PostgreSQL, counted on the wire by a proxy:
the usual commit (events, the incident's summary and snapshot, the notification) is one
statement; a commit decided again under the incidents' locks adds only the round trip that takes
them (the commit lets them go); a connection goes back to the pool without a reset query."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.domain.factories import Log
from tests.support.postgres import PostgresServer
from tests.support.round_trips import RoundTrips, counting_proxy
from warroom.domain.events import EntryAdded, Event
from warroom.domain.timeline import EntryKind
from warroom.store.base import StoredSnapshot
from warroom.store.postgres import PostgresStore
from warroom.store.url import parse_postgres_url


@pytest.fixture
async def counted(
    postgres_server: PostgresServer, pg_url: str
) -> AsyncIterator[tuple[PostgresStore, RoundTrips, Log]]:
    """A store whose pool reaches the database through the counting proxy, holding one
    incident, and every statement a commit uses prepared once."""
    database = pg_url.split("?")[0].rsplit("/", 1)[1]
    async with counting_proxy(postgres_server) as trips:
        store = await PostgresStore.open(parse_postgres_url(trips.url(database)), max_connections=1)
        log = Log()
        try:
            await _commit(store, log, log.events)
            await _commit(store, log, [_note(log)])
            async with store.holding([1]):
                await _commit(store, log, [_note(log)])
            yield store, trips, log
        finally:
            await store.close()


def _note(log: Log) -> Event:
    return log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text="checked the dashboards"))


async def _commit(store: PostgresStore, log: Log, events: list[Event]) -> None:
    """As the sequencer commits: the events with the incident's summary and snapshot."""
    state = log.state
    snapshot = StoredSnapshot(state.incident.id, state.seq, state.model_dump_json())
    await store.append(events, [state.summary()], [snapshot])


async def test_a_commit_of_events_is_one_round_trip(
    counted: tuple[PostgresStore, RoundTrips, Log],
) -> None:
    store, trips, log = counted
    before = trips.by_application["warroom"]
    for _ in range(10):
        await _commit(store, log, [_note(log)])
    assert trips.by_application["warroom"] - before == 10
    assert [e.seq for e in await store.load_events()] == list(range(1, log.state.seq + 1))


async def test_a_commit_under_the_incidents_locks_adds_only_the_locks(
    counted: tuple[PostgresStore, RoundTrips, Log],
) -> None:
    store, trips, log = counted
    before = trips.by_application["warroom"]
    async with store.holding([1]):
        await _commit(store, log, [_note(log)])
    # The locks, then the commit's statement, which ends the hold: no COMMIT, no unlock.
    assert trips.by_application["warroom"] - before == 2
    assert (await store.load_events())[-1] == log.events[-1]
