"""The compact catch-up encoding makes exactly the state the plain one makes: for any log (any
kind of event, entries with every field, gaps), the same state, the same error where an event
does not fit, and the same events read back. A real server answers `compact` only when asked,
and a console's follow comes back equal to the live copy either way; a compact frame that does
not validate is skipped and the follow refused, as a damaged `events` frame is."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from pydantic import ValidationError
from websockets.asyncio.client import connect

from tests.core.test_catch_up import AddUser, bearer, write_notes
from tests.core.wire import Peer
from tests.domain.factories import Log
from tests.domain.test_apply_events import _logs, _same_state
from tests.protocol.support import refused_follow
from tests.support.client_sync import seq_reached
from tests.support.clients import ClientAs, declare
from warroom.domain.events import EntryAdded, Event
from warroom.domain.projection import ProjectionError, apply_events, replay
from warroom.domain.timeline import EntryKind
from warroom.node import WarroomNode
from warroom.protocol.compact import ENTRY_ROW_FIELDS, apply_compact, compact_event_json
from warroom.protocol.frames import SERVER_FRAME_ADAPTER, CompactEvents, Events
from warroom.server.catch_up import catch_up_frames, events_frame
from warroom.server.incidents import LoadedIncident

T1 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _frames(events: list[Event]) -> tuple[CompactEvents, Events]:
    stored = [event.model_dump_json() for event in events]
    compact = SERVER_FRAME_ADAPTER.validate_json(
        f'{{"type":"compact_events","incident_id":1,'
        f'"events":[{",".join(compact_event_json(e) for e in stored)}]}}'
    )
    plain = SERVER_FRAME_ADAPTER.validate_json(
        f'{{"type":"events","incident_id":1,"events":[{",".join(stored)}]}}'
    )
    assert isinstance(compact, CompactEvents)
    assert isinstance(plain, Events)
    return compact, plain


def _both_ways(start: list[Event], events: list[Event]) -> None:
    compact, plain = _frames(events)
    by_plain, by_compact = replay(start), replay(start)
    # As the client takes a plain frame: the events it already holds are skipped.
    held = start[-1].seq
    first = next((n for n, e in enumerate(plain.events) if e.seq > held), len(plain.events))
    plain_error = compact_error = None
    try:
        apply_events(by_plain, plain.events[first:])
    except ProjectionError as exc:
        plain_error = str(exc)
    read_back: list[Event] = []
    try:
        read_back = list(apply_compact(by_compact, 1, compact.events))
    except ProjectionError as exc:
        compact_error = str(exc)
    assert compact_error == plain_error
    _same_state(by_plain, by_compact)
    if compact_error is None:
        assert [e.model_dump_json() for e in read_back] == [
            e.model_dump_json() for e in plain.events[first:]
        ]


@settings(max_examples=100, deadline=None)
@given(_logs())
def test_any_log_decoded_compact_makes_the_state_the_plain_frame_makes(
    case: tuple[list[Event], list[Event], list[int]],
) -> None:
    start, events, _ = case
    _both_ways(start, events)


def test_entries_with_every_field_set_come_through_a_row_unchanged() -> None:
    log = Log()
    start = list(log.events)
    full = EntryAdded(
        kind=EntryKind.STATUS,
        text="db failover @alice",
        occurred_at=T1 - timedelta(minutes=5),
        correlation_id="req-7",
        tags=["db", "api"],
        typed_at=T1,
    )
    added = [log.add("scribe", full), log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text=""))]
    row = json.loads(compact_event_json(added[0].model_dump_json()))
    assert len(row) == len(ENTRY_ROW_FIELDS)
    assert row[ENTRY_ROW_FIELDS.index("correlation_id")] == "req-7"
    _both_ways(start, added)


def test_a_rows_empty_tags_are_the_shared_empty_tuple_and_its_event_and_entry_get_lists() -> None:
    log = Log()
    added = [log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text=f"n{n}")) for n in range(3)]
    compact, _ = _frames(added)
    tags = ENTRY_ROW_FIELDS.index("tags")
    shared = ()
    assert all(type(row) is tuple and row[tags] is shared for row in compact.events)
    state = replay(log.events[: -len(added)])
    applied = apply_compact(state, 1, compact.events)
    assert [type(event.body.tags) for event in applied] == [list] * 3  # type: ignore[union-attr]
    assert [type(entry.tags) for entry in state.timeline[-3:]] == [list] * 3


def test_events_already_held_are_skipped_as_in_a_plain_frame() -> None:
    log = Log()
    added = [log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text=f"n{n}")) for n in range(4)]
    compact, _ = _frames(added)
    state = replay([*log.events[: -len(added)], *added[:2]])
    applied = apply_compact(state, 1, compact.events)
    assert [e.seq for e in applied] == [e.seq for e in added[2:]]
    _same_state(state, log.state)


async def test_a_server_answers_compact_only_when_asked_and_the_follow_equals_the_live_copy(
    server: WarroomNode, add_user: AddUser, client_as: ClientAs
) -> None:
    live = await client_as(server.url, "alice")
    incident_id = await declare(live, "compact", severity=2)
    held = (await live.follow(incident_id)).model_copy(deep=True)
    head = await write_notes(live, incident_id, 300)
    await seq_reached(live, incident_id, head).wait()

    peer = Peer(await connect(server.url, additional_headers=bearer(await add_user("bob"))))
    welcome = await peer.recv()
    assert "compact" in welcome["features"]
    ask = {"type": "subscribe", "incident_id": incident_id, "since": held.seq}
    plain = await peer.reply_to(await peer.send(ask))
    assert plain["type"] == "events"
    compact = await peer.reply_to(await peer.send({**ask, "compact": True}))
    assert compact["type"] == "compact_events"
    assert len(compact["events"]) == len(plain["events"]) == head - held.seq
    assert all(len(row) == len(ENTRY_ROW_FIELDS) for row in compact["events"])
    await peer.close()

    back = await client_as(server.url, "carol")
    back.states[incident_id] = held
    state = await back.follow(incident_id)
    assert state.model_dump_json() == live.states[incident_id].model_dump_json()


async def test_a_compact_frame_that_does_not_validate_refuses_the_follow() -> None:
    """A stand-in server offering `compact` answers with a row whose text is a number."""
    log = Log()
    row = [log.state.seq + 1, T1.isoformat(), "x", None, "note", 5, None, None, [], None]
    reply = {"type": "compact_events", "incident_id": 1, "events": [row]}
    asked, kept = await refused_follow("compact", reply, log.state)
    assert asked["compact"] is True
    assert kept is not None
    _same_state(kept, log.state)


def test_a_stored_event_the_server_cannot_read_makes_the_reply_a_plain_events_frame() -> None:
    log = Log()
    for n in range(3):
        log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text=f"n{n}"))
    frames = [event.model_dump_json() for event in log.events]
    held = len(frames) - 3
    readable = LoadedIncident(replay(list(log.events)), list(frames))
    compact = json.loads(catch_up_frames("s-1", 1, held, readable, compact=True)[0])
    assert compact["type"] == "compact_events"
    assert [row[0] for row in compact["events"]] == [held + 1, held + 2, held + 3]

    frames[-2] = '{"incident_id": 1, "seq": ' + str(held + 2) + ', "body": "damaged"'
    damaged = LoadedIncident(replay(list(log.events)), frames)
    [reply] = catch_up_frames("s-2", 1, held, damaged, compact=True)
    assert reply == events_frame("s-2", 1, frames[held:])


def test_an_entry_whose_time_is_not_utc_goes_as_an_event_object_and_folds_the_same() -> None:
    """An old log may hold a time with no UTC value, kept with its offset: a row's times are
    checked natively as UTC, so such an event goes as the object it is stored as."""
    log = Log()
    start = list(log.events)
    far_east = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
    odd = log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text="old", occurred_at=far_east))
    plain = log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text="new"))
    assert compact_event_json(odd.model_dump_json()) == odd.model_dump_json()
    assert json.loads(compact_event_json(plain.model_dump_json()))[0] == plain.seq
    # A UTC time as the store writes it (`+00:00`) is UTC all the same: a row.
    as_stored = plain.model_dump_json().replace("Z", "+00:00")
    assert json.loads(compact_event_json(as_stored))[0] == plain.seq
    _both_ways(start, [odd, plain])


@pytest.mark.parametrize("at", ["2026-11-30T10:00:00+02:00", "2026-11-30T10:00:00"])
def test_a_row_whose_time_is_not_utc_does_not_validate(at: str) -> None:
    row = [5, at, "alice", None, "note", "text", None, None, [], None]
    with pytest.raises(ValidationError, match="events"):
        SERVER_FRAME_ADAPTER.validate_json(
            json.dumps({"type": "compact_events", "incident_id": 1, "events": [row]})
        )
