"""The columnar catch-up makes exactly the state the plain one makes: for any gap-free log
caught up from any seq (runs of any length, any kind of event between them), the same state,
the same events read back, and the same again after more events are applied (amends and strikes
of entries still in the columns). A real server answers `columnar_events` only when asked (as a
frame's field, or in the handshake's `X-Warroom-Accept`), a client never puts the field in a
handshake's subscribe (a server older than it would refuse the subscribe), and a console's
follow comes back equal to the live copy with nothing built. A columnar frame that does not
validate (columns of different lengths, a number past its list, a time past the calendar, an
empty run, a seq of 0) is skipped and the follow refused, changing nothing."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from tests.core.test_catch_up import AddUser, bearer, write_notes
from tests.core.wire import Peer
from tests.domain.factories import Log
from tests.domain.test_apply_events import _logs, _same_state
from tests.protocol.support import refused_follow
from tests.support.client_sync import seq_reached
from tests.support.clients import ClientAs, declare
from warroom.client.session import WarroomClient
from warroom.domain.events import EntryAdded, EntryAmended, EntryStruck, Event
from warroom.domain.incident import IncidentState
from warroom.domain.instants import order_key
from warroom.domain.projection import ProjectionError, add_entry_columns, apply_events, replay
from warroom.domain.timeline import EntryKind
from warroom.domain.timeline_columns import LATEST_MICROS, time_of_micros
from warroom.node import WarroomNode
from warroom.protocol.columnar_events import EntryRun, EventColumns, apply_columnar
from warroom.protocol.frames import SERVER_FRAME_ADAPTER, ColumnarEvents, Events
from warroom.protocol.handshake import ACCEPT_HEADER, FEATURES_HEADER, SUBSCRIBE_HEADER
from warroom.server.catch_up import catch_up_frames, events_frame
from warroom.server.incidents import LoadedIncident


def _columnar_frame(stored: list[str], after: int, min_run: int = 8) -> ColumnarEvents:
    columns = EventColumns()
    columns.extend(stored)
    elements = b",".join(columns.elements(stored, after, len(stored), min_run)).decode()
    frame = SERVER_FRAME_ADAPTER.validate_json(
        f'{{"type":"columnar_events","incident_id":1,"events":[{elements}]}}'
    )
    assert isinstance(frame, ColumnarEvents)
    return frame


def _plain_frame(stored: list[str], after: int) -> Events:
    frame = SERVER_FRAME_ADAPTER.validate_json(
        f'{{"type":"events","incident_id":1,"events":[{",".join(stored[after:])}]}}'
    )
    assert isinstance(frame, Events)
    return frame


def _fold(state: IncidentState, events: list[Event]) -> str | None:
    try:
        apply_events(state, events)
    except ProjectionError as exc:
        return str(exc)
    return None


def _server_log(start: list[Event], events: list[Event]) -> list[Event]:
    """The log up to its first event that does not apply (out of order, or naming an entry
    that is not there): a server's log holds only events that applied."""
    state = replay(start)
    log = list(start)
    for event in events:
        if _fold(state, [event]) is not None:
            break
        log.append(event)
    return log


@settings(max_examples=100, deadline=None)
@given(_logs(), st.sampled_from([1, 2, 8]), st.data())
def test_any_log_caught_up_columnar_equals_it_caught_up_plain(
    case: tuple[list[Event], list[Event], list[int]], min_run: int, data: st.DataObject
) -> None:
    start, events, _ = case
    log = _server_log(start, events)
    stored = [event.model_dump_json() for event in log]
    since = data.draw(st.integers(min_value=len(start), max_value=len(log)))
    head = data.draw(st.integers(min_value=since, max_value=len(log)))
    by_plain, by_columns = replay(log[:since]), replay(log[:since])
    plain = _plain_frame(stored[:head], since)
    columnar = _columnar_frame(stored[:head], since, min_run)
    apply_events(by_plain, plain.events)
    read_back = apply_columnar(by_columns, 1, columnar.events)
    timeline = by_columns.timeline
    assert timeline.ids() == by_plain.timeline.ids()
    assert timeline.order_keys() == [order_key(e.when) for e in by_plain.timeline]
    assert [timeline.kind_at(n) for n in range(len(timeline))] == [
        e.kind for e in by_plain.timeline
    ]
    assert [e.model_dump_json() for e in read_back] == [e.model_dump_json() for e in plain.events]
    _same_state(by_plain, by_columns)
    # Live events after the catch-up (amends, strikes of entries still in the columns).
    by_columns = replay(log[:since])
    apply_columnar(by_columns, 1, columnar.events)
    assert _fold(by_columns, log[head:]) == _fold(by_plain, log[head:])
    _same_state(by_plain, by_columns)


def _notes(count: int) -> Log:
    log = Log()
    for n in range(count):
        log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text=f"note {n}"))
    return log


def test_a_run_names_each_kind_and_actor_once_and_leaves_out_all_default_columns() -> None:
    log = _notes(10)
    stored = [event.model_dump_json() for event in log.events]
    after = len(stored) - 10
    columns = EventColumns()
    columns.extend(stored)
    [run] = [json.loads(part) for part in columns.elements(stored, after, len(stored))]
    assert run["seq"] == after + 1
    assert [run["kinds"][code] for code in run["kind"]] == ["note"] * 10
    assert [run["actors"][code] for code in run["actor"]] == ["scribe"] * 10
    assert all(isinstance(at, int) for at in run["at"])
    assert not {"command_id", "occurred_at", "correlation_id", "tags", "typed_at"} & set(run)


class _CountedCodes(list[int]):
    """Kind codes that count the codes each read of them goes through."""

    touched = 0

    def __getitem__(self, index: Any) -> Any:
        span = len(range(*index.indices(len(self)))) if isinstance(index, slice) else 1
        self.touched += span
        return super().__getitem__(index)

    def __contains__(self, value: object) -> bool:
        self.touched += len(self)
        return super().__contains__(value)

    def __iter__(self) -> Iterator[int]:
        self.touched += len(self)
        return super().__iter__()

    def __reversed__(self) -> Iterator[int]:
        self.touched += len(self)
        return super().__reversed__()

    def index(self, value: int, *bounds: Any) -> int:
        self.touched += len(self)
        return super().index(value, *bounds)


def test_a_run_naming_the_status_kind_many_times_is_applied_in_one_pass_over_its_codes() -> None:
    """A hostile server's run may name `status` in its kinds again and again: the codes were
    searched once per such name, so a frame of 600 KB held a console's loop for 5 s, and one of
    a few MB for minutes (hostile10)."""
    log = Log()
    entries, names = 2_000, 1_000
    kind = [0] * entries
    kind[entries // 2] = names  # one status update, halfway
    run = {"seq": log.state.seq + 1, "kinds": ["note"] + ["status"] * names, "actors": ["x"]}
    run |= {
        "kind": kind,
        "actor": [0] * entries,
        "at": list(range(entries)),
        "text": ["t"] * entries,
    }
    frame = SERVER_FRAME_ADAPTER.validate_json(
        json.dumps({"type": "columnar_events", "id": "s", "incident_id": 1, "events": [run]})
    )
    assert isinstance(frame, ColumnarEvents)
    [element] = frame.events
    assert isinstance(element, EntryRun)
    codes = _CountedCodes(element.kind)
    add_entry_columns(log.state, dataclasses.replace(element.to_columns(), kind_codes=codes))
    assert log.state.last_status_at == time_of_micros(entries // 2)
    assert log.state.seq == element.last_seq
    assert codes.touched <= 2 * entries, f"{codes.touched:,} codes read for {entries:,}"


def test_entries_with_every_field_set_come_through_a_run_unchanged() -> None:
    log = Log()
    start = len(log.events)
    for n in range(9):
        log.add(
            "scribe",
            EntryAdded(
                kind=EntryKind.STATUS if n % 2 else EntryKind.NOTE,
                text=f"db failover @alice {n}",
                occurred_at=log.events[0].at,
                correlation_id=f"req-{n}",
                tags=["db", "api"],
                typed_at=log.events[-1].at,
            ),
        )
    first = log.events[start]
    log.add("scribe", EntryAmended(entry_id=first.seq, text="amended"))
    log.add("ic", EntryStruck(entry_id=first.seq + 2, reason="wrong"))
    stored = [event.model_dump_json() for event in log.events]
    frame = _columnar_frame(stored, start)
    assert isinstance(frame.events[0], EntryRun)
    state = replay(log.events[:start])
    apply_columnar(state, 1, frame.events)
    assert state.timeline.unbuilt == 7  # the amended and struck entries were built
    _same_state(state, log.state)
    assert state.timeline[-1].mentions == ["alice"]


def test_events_already_held_are_skipped_even_inside_a_run() -> None:
    log = _notes(12)
    stored = [event.model_dump_json() for event in log.events]
    frame = _columnar_frame(stored, len(stored) - 12)
    state = replay(log.events[:-5])
    applied = apply_columnar(state, 1, frame.events)
    assert [e.seq for e in applied] == [e.seq for e in log.events[-5:]]
    _same_state(state, log.state)


def test_an_entry_whose_time_is_not_utc_goes_as_an_event_object_and_folds_the_same() -> None:
    log = _notes(8)
    start = len(log.events)
    far_east = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
    log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text="old", occurred_at=far_east))
    for n in range(8):
        log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text=f"later {n}"))
    stored = [event.model_dump_json() for event in log.events]
    frame = _columnar_frame(stored, start - 8)
    assert [type(e) for e in frame.events] == [EntryRun, Event, EntryRun]
    state = replay(log.events[: start - 8])
    apply_columnar(state, 1, frame.events)
    _same_state(state, log.state)


def _damaged(change: str) -> dict[str, Any]:
    log = _notes(10)
    stored = [event.model_dump_json() for event in log.events]
    columns = EventColumns()
    columns.extend(stored)
    run: dict[str, Any] = json.loads(columns.elements(stored, len(stored) - 10, len(stored))[0])
    if change == "short column":
        run["text"].pop()
    elif change == "kind past its list":
        run["kind"][0] = len(run["kinds"])
    elif change == "negative actor":
        run["actor"][0] = -1
    elif change == "time past the calendar":
        run["at"][0] = LATEST_MICROS + 1
    elif change == "text a number":
        run["text"][0] = 5
    elif change == "empty run":
        for name in ("kind", "actor", "at", "text"):
            run[name] = []
    elif change == "seq 0":
        run["seq"] = 0
    elif change == "unknown column":
        run["mentions"] = [[] for _ in run["text"]]
    return run


_DAMAGES = [
    "short column",
    "kind past its list",
    "negative actor",
    "time past the calendar",
    "text a number",
    "empty run",
    "seq 0",
    "unknown column",
]


@pytest.mark.parametrize("change", _DAMAGES)
def test_a_columnar_frame_that_does_not_line_up_does_not_validate(change: str) -> None:
    frame = {"type": "columnar_events", "incident_id": 1, "events": [_damaged(change)]}
    with pytest.raises(ValidationError):
        SERVER_FRAME_ADAPTER.validate_json(json.dumps(frame))


async def test_a_columnar_frame_that_does_not_validate_refuses_the_follow_and_changes_nothing() -> (
    None
):
    """A stand-in server offering `columnar_events` answers with a kind past its list."""
    held = replay(_notes(10).events[:-10])
    run = _damaged("kind past its list")
    reply = {"type": "columnar_events", "incident_id": 1, "events": [run]}
    asked, kept = await refused_follow("columnar_events", reply, held)
    assert asked["columnar_events"] is True
    assert "compact" not in asked  # not offered, so not asked for
    assert kept is not None
    _same_state(kept, held)


async def test_a_handshake_subscribe_never_carries_the_field_and_asks_in_the_accept_header() -> (
    None
):
    """A server that reads the subscribe header but predates `columnar_events` would refuse a
    subscribe with that field: it is asked for in `X-Warroom-Accept`, which such a server
    ignores."""
    seen: list[Any] = []

    async def answer(ws: ServerConnection) -> None:
        assert ws.request is not None
        seen.append(ws.request.headers)
        welcome = {"type": "welcome", "protocol": 2, "server": "stand-in", "user": "bob"}
        await ws.send(json.dumps(welcome))
        async for _ in ws:
            pass

    async with serve(answer, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        client = WarroomClient(f"ws://127.0.0.1:{port}", "token", reconnect=False)
        client.states[1] = _notes(1).state
        await client.start(follow=[1])
        [subscribe] = seen[0].get_all(SUBSCRIBE_HEADER)
        assert not {"columnar_events", "packed_snapshot"} & set(json.loads(subscribe))
        assert seen[0][ACCEPT_HEADER].split(",") == ["columnar_events", "packed_snapshot"]
        await client.close()


async def test_a_server_answers_columnar_only_when_asked_and_the_follow_equals_the_live_copy(
    server: WarroomNode, add_user: AddUser, client_as: ClientAs
) -> None:
    live = await client_as(server.url, "alice")
    incident_id = await declare(live, "columnar events", severity=2)
    held = (await live.follow(incident_id)).model_copy(deep=True)
    head = await write_notes(live, incident_id, 300)
    await seq_reached(live, incident_id, head).wait()

    ws = await connect(server.url, additional_headers=bearer(await add_user("bob")))
    assert ws.response is not None
    assert "columnar_events" in ws.response.headers[FEATURES_HEADER].split(",")
    peer = Peer(ws)
    await peer.recv()  # welcome
    ask = {"type": "subscribe", "incident_id": incident_id, "since": held.seq}
    plain = await peer.reply_to(await peer.send(ask))
    assert plain["type"] == "events"
    columnar = await peer.reply_to(
        await peer.send({**ask, "compact": True, "columnar_events": True})
    )
    assert columnar["type"] == "columnar_events"
    [run] = columnar["events"]
    assert run["seq"] == held.seq + 1
    assert run["text"] == [e["body"]["text"] for e in plain["events"]]
    await peer.close()

    # In the handshake: asked for in the accept header, answered right after the welcome.
    subscribe = json.dumps({**ask, "id": "h-1", "compact": True})
    headers = [
        *bearer(await add_user("dave")).items(),
        (SUBSCRIBE_HEADER, subscribe),
        (ACCEPT_HEADER, "columnar_events"),
    ]
    peer = Peer(await connect(server.url, additional_headers=headers))
    await peer.recv()  # welcome
    answer = await peer.recv()  # the first frame after the welcome
    assert (answer["type"], answer["id"]) == ("columnar_events", "h-1")
    await peer.close()

    back = await client_as(server.url, "carol")
    back.states[incident_id] = held
    state = await back.follow(incident_id)
    assert state.timeline.unbuilt >= 300  # none of the notes caught up read yet
    assert state.model_dump_json() == live.states[incident_id].model_dump_json()


def test_a_stored_event_the_server_cannot_read_makes_the_reply_compact_or_plain() -> None:
    log = _notes(10)
    frames = [event.model_dump_json() for event in log.events]
    held = len(frames) - 10
    readable = LoadedIncident(replay(list(log.events)), list(frames))
    [reply] = catch_up_frames("s-1", 1, held, readable, columnar_events=True)
    assert json.loads(reply)["type"] == "columnar_events"

    frames[-2] = '{"incident_id": 1, "seq": ' + str(len(frames) - 1) + ', "body": "damaged"'
    damaged = LoadedIncident(replay(list(log.events)), frames)
    [reply] = catch_up_frames("s-2", 1, held, damaged, columnar_events=True)
    assert reply == events_frame("s-2", 1, frames[held:])
