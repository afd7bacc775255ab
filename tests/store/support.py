"""Events the store tests write after a seeded log: one note, numbered as the caller asks."""

from __future__ import annotations

from warroom.domain.events import EntryAdded, Event
from warroom.domain.timeline import EntryKind


def note_after(last: Event, seq: int, command_id: str) -> Event:
    """A note in `last`'s incident at `seq`, its text its command id."""
    return Event(
        incident_id=last.incident_id,
        seq=seq,
        at=last.at,
        actor="scribe",
        command_id=command_id,
        body=EntryAdded(kind=EntryKind.NOTE, text=command_id),
    )
