"""Stored times read back from JSON are UTC (instant and offset), however pydantic represents
the zone, and serialise with `Z` again; times with another offset are converted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warroom.domain.events import EntryAdded, Event
from warroom.domain.timeline import EntryKind

AT = datetime(2026, 11, 29, 14, 0, 1, 500, tzinfo=UTC)


def _event(at: str) -> Event:
    body = EntryAdded(kind=EntryKind.NOTE, text="x").model_dump_json()
    raw = f'{{"incident_id":1,"seq":2,"at":"{at}","actor":"ic","body":{body}}}'
    return Event.model_validate_json(raw)


def test_a_time_stored_with_z_reads_back_as_the_same_utc_instant() -> None:
    event = _event("2026-11-29T14:00:01.000500Z")
    assert event.at == AT
    assert event.at.utcoffset() == timedelta(0)
    assert event.at.astimezone(UTC) == AT
    assert '"at":"2026-11-29T14:00:01.000500Z"' in event.model_dump_json()


def test_a_time_with_another_offset_is_kept_in_utc() -> None:
    event = _event("2026-11-29T16:00:01.000500+02:00")
    assert event.at == AT
    assert event.at.tzinfo is UTC
    assert '"at":"2026-11-29T14:00:01.000500Z"' in event.model_dump_json()


def test_a_time_with_no_utc_value_is_kept_as_it_came() -> None:
    event = _event("0001-01-01T00:00:00+14:00")
    assert event.at.utcoffset() == timedelta(hours=14)
