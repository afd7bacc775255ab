"""History for the tests: closed incidents (short logs whose post-mortem is done), and stores
written, opened and closed around a test's block."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from tests.domain.factories import Log
from warroom.domain.events import Event, PhaseChanged
from warroom.domain.phase import Phase
from warroom.domain.projection import replay
from warroom.server.incidents import IncidentCache
from warroom.store.base import EventStore, StoredSnapshot
from warroom.store.open import Store, open_store


def closed_log(incident_id: int, resolved_at: datetime) -> list[Event]:
    """A short incident, resolved at `resolved_at` with its post-mortem done."""
    events = [e.model_copy(update={"incident_id": incident_id}) for e in Log().events]
    seq = events[-1].seq
    for phase, previous in (
        (Phase.RESOLVED, events and replay(events).incident.phase),
        (Phase.POSTMORTEM_DONE, Phase.RESOLVED),
    ):
        seq += 1
        events.append(
            Event(
                incident_id=incident_id,
                seq=seq,
                at=resolved_at,
                actor="alice",
                command_id=f"{incident_id}-{phase.value}",
                body=PhaseChanged(phase=phase, previous=previous),
            )
        )
    return events


@asynccontextmanager
async def opened(location: Path | str) -> AsyncIterator[Store]:
    """The store at `location` (a SQLite file's path or a store URL), closed when the block ends
    however it ends."""
    store = await open_store(location)
    try:
        yield store
    finally:
        await store.close()


async def written(
    location: Path | str, events: Sequence[Event], snapshots: Sequence[StoredSnapshot] = ()
) -> None:
    """Append `events` (then `snapshots`) to the store at `location` and close it: a database
    for a test to tamper with or to open again."""
    async with opened(location) as store:
        await store.append(events)
        if snapshots:
            await store.append((), (), snapshots)


async def started_cache(store: EventStore) -> IncidentCache:
    """The server's incident cache over `store`, started as a node starts it (open incidents
    loaded, closed ones waiting to be asked for)."""
    cache = IncidentCache(store)
    await cache.start()
    return cache
