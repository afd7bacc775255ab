"""Long incidents, made fast: warroom events straight into the store, Yjs rooms over the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from websockets.asyncio.client import connect

from warroom.domain.commands import DeclareIncident
from warroom.domain.events import EntryAdded, Event
from warroom.domain.rules import decide_declaration
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind
from warroom.store.sqlite import SqliteStore

CHUNK = 5_000
STEP = 100
LINE = "checked {n}: p99 latency on checkout-api back under 300 ms after the pool resize, watching"


def incident_events(incident_id: int, entries: int, actor: str) -> list[Event]:
    """A declaration followed by `entries` timeline notes: seq 1 .. entries + 1."""
    now = datetime.now(UTC)
    declare = DeclareIncident(
        id=f"seed-{incident_id}", title=f"seeded {entries}", severity=Severity.SEV2
    )
    events = [
        Event(
            incident_id=incident_id,
            seq=1,
            at=now,
            actor=actor,
            command_id=declare.id,
            body=decide_declaration(declare, now),
        )
    ]
    for n in range(1, entries + 1):
        body = EntryAdded(kind=EntryKind.NOTE, text=LINE.format(n=n))
        events.append(
            Event(
                incident_id=incident_id,
                seq=n + 1,
                at=now,
                actor=actor,
                command_id=f"seed-{incident_id}-{n}",
                body=body,
            )
        )
    return events


async def seed_warroom(db: Path, incidents: dict[int, list[Event]]) -> None:
    """Append the events to a warroom database that no server has open yet."""
    store = await SqliteStore.open(db)
    try:
        for events in incidents.values():
            for start in range(0, len(events), CHUNK):
                await store.append(events[start : start + CHUNK])
    finally:
        await store.close()


async def seed_yjs(url: str, entries: int, marks: tuple[int, ...] = ()) -> dict[int, bytes]:
    """Append `entries` lines to a room's `timeline` array, 100 per update, and return the doc's
    full update as it stood after each count in `marks` (a client that was that far along)."""
    from pycrdt import (
        Array,
        Doc,
        YMessageType,
        YSyncMessageType,
        create_sync_message,
        create_update_message,
    )

    doc: Doc[Array[str]] = Doc()
    timeline = doc.get("timeline", type=Array)
    saved: dict[int, bytes] = {}
    # Read everything the room sends back (it echoes each update): a client that stops reading
    # stalls on websockets' flow control, and then so does its closing handshake.
    async with connect(url, max_size=None, close_timeout=2) as ws:
        await ws.send(create_sync_message(doc))
        written = 0
        while written < entries:
            step = min(STEP, entries - written)
            before = doc.get_state()
            timeline.extend([LINE.format(n=written + i + 1) for i in range(step)])
            written += step
            await ws.send(create_update_message(doc.get_update(before)))
            if written in marks:
                saved[written] = doc.get_update()
        # A round trip after the last update: the room has applied everything sent before it.
        # The first SYNC_STEP2 answers the handshake above; the second one answers this.
        await ws.send(create_sync_message(Doc()))
        answers = 0
        while answers < 2:
            message = await ws.recv()
            if message[:2] == bytes([YMessageType.SYNC, YSyncMessageType.SYNC_STEP2]):
                answers += 1
    return saved
