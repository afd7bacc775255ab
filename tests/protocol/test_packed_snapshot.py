"""The packed snapshot (and the columnar one, by the same property) makes exactly the state the
plain snapshot makes: for any log, the same state, and the same again after more events are
applied to it, its timeline answering ids, kinds and ordering keys without building an entry
and its texts cut from one string. A packed
snapshot that does not hold together (a short column, a code past its list, a time out of the
calendar, lengths that do not add up, text that is not UTF-8, a head that does not validate) is
refused whole and the follow with it. A real server sends it, as a binary message, only to a
console that asked (in a frame or in the handshake's accept header), falls back to the
columnar snapshot for a state that cannot be packed, and a console's follow comes back equal to
the live copy with nothing built."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from tests.core.test_catch_up import AddUser, bearer
from tests.domain.factories import Log
from tests.domain.test_apply_events import _logs, _same_state
from tests.protocol.support import a_fresh_follow_equals_the_live_copy, fold, followed_incident
from tests.protocol.test_columnar_snapshot import (
    _columnar,
    _has_a_time_no_column_carries,
    _plain,
    _varied_log,
)
from tests.support.clients import ClientAs
from warroom.client.session import CommandRefused, WarroomClient
from warroom.domain.errors import DomainError
from warroom.domain.events import EntryAdded, Event
from warroom.domain.incident import IncidentState
from warroom.domain.instants import order_key
from warroom.domain.projection import replay
from warroom.domain.timeline import EntryKind
from warroom.domain.timeline_columns import EARLIEST_MICROS, LATEST_MICROS, JoinedTexts
from warroom.node import WarroomNode
from warroom.protocol.handshake import ACCEPT_HEADER, FEATURES_HEADER, SUBSCRIBE_HEADER
from warroom.protocol.packed import MAGIC, packed_frame, packed_state, read_packed_snapshot
from warroom.protocol.parse import parse_client_frame
from warroom.server.catch_up import catch_up_frames
from warroom.server.incidents import LoadedIncident


def _packed(state_json: str) -> IncidentState:
    frame = read_packed_snapshot(packed_frame("p-1", 1, 1, 1, packed_state(state_json)))
    assert (frame.id, frame.incident_id, frame.seq, frame.head) == ("p-1", 1, 1, 1)
    return frame.state


def plain_state(state: dict[str, Any]) -> str:
    """A `snapshot` frame's state as the model dumps it."""
    return IncidentState.model_validate(state).model_dump_json()


@pytest.mark.parametrize("read", [_columnar, _packed], ids=["columnar", "packed"])
@settings(max_examples=100, deadline=None)
@given(_logs())
def test_any_state_sent_by_columns_is_the_state_sent_plain_and_folds_on_the_same(
    read: Callable[[str], IncidentState], case: tuple[list[Event], list[Event], list[int]]
) -> None:
    start, events, cuts = case
    cut = min(cuts, default=len(events) // 2)
    state = replay(start)
    fold(state, events[:cut])
    state_json = state.model_dump_json()
    try:
        by_columns = read(state_json)
    except ValueError:
        assert _has_a_time_no_column_carries(state_json)
        return
    plain = _plain(state_json)
    assert by_columns.timeline.unbuilt == len(state.timeline)
    assert by_columns.timeline.ids() == plain.timeline.ids()
    assert by_columns.timeline.order_keys() == [order_key(e.when) for e in plain.timeline]
    assert [by_columns.timeline.kind_at(n) for n in range(len(state.timeline))] == [
        e.kind for e in plain.timeline
    ]
    assert by_columns.timeline.unbuilt == len(state.timeline)  # none of that built an entry
    _same_state(plain, by_columns)
    by_columns = read(state_json)
    assert fold(by_columns, events[cut:]) == fold(plain, events[cut:])
    _same_state(plain, by_columns)


def test_an_entry_with_every_field_set_and_texts_beyond_ascii_read_back_whole() -> None:
    log = _varied_log()
    for text in ("café ☕", "fire 🔥 @bob", "", "plain"):
        log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text=text or "x", tags=["t"]))
    state_json = log.state.model_dump_json()
    _same_state(_plain(state_json), _packed(state_json))


def test_joined_texts_cut_each_text_and_slice_as_a_list_would() -> None:
    texts = ["a", "", "ünï", "😀x", "last one"]
    joined = JoinedTexts("".join(texts), [len(t) for t in texts])
    assert list(joined) == texts
    assert joined[-1] == texts[-1]
    for cut in (slice(2, None), slice(1, 3), slice(None, None, 2), slice(4, 1), slice(-2, None)):
        assert list(joined[cut]) == texts[cut]
    assert list(joined[1:][2:]) == texts[1:][2:]


def _frame(state_json: str | None = None) -> bytearray:
    state = packed_state(state_json or _varied_log().state.model_dump_json())
    return bytearray(packed_frame("p-1", 1, 9, 9, state))


def _head_and_body(frame: bytearray) -> tuple[dict[str, Any], bytearray]:
    (length,) = struct.unpack_from("<I", frame, len(MAGIC))
    start = len(MAGIC) + 4
    return json.loads(frame[start : start + length]), frame[start + length :]


def _with(head: dict[str, Any], body: bytes) -> bytearray:
    encoded = json.dumps(head).encode()
    return bytearray(MAGIC + struct.pack("<I", len(encoded)) + encoded + body)


def _damage(change: str) -> bytes:
    frame = _frame()
    head, body = _head_and_body(frame)
    count = head["state"]["timeline"]["count"]
    time_at = 8 * count
    if change == "not packed":
        return b"{" + bytes(frame[1:])
    if change == "head past the end":
        struct.pack_into("<I", frame, len(MAGIC), len(frame))
        return bytes(frame)
    if change == "head not a state":
        head["state"]["incident"]["severity"] = "five"
    elif change == "count past the columns":
        head["state"]["timeline"]["count"] = count + 1000
    elif change == "negative count":
        head["state"]["timeline"]["count"] = -1
    elif change == "optional column too short":
        head["state"]["timeline"]["tags"] = [[]]
    elif change == "kind past its list":
        body[16 * count] = len(head["state"]["timeline"]["kinds"])
    elif change == "author past its list":
        body[17 * count] = len(head["state"]["timeline"]["authors"])
    elif change == "time past the calendar":
        struct.pack_into("<q", body, time_at, LATEST_MICROS + 1)
    elif change == "time before the calendar":
        struct.pack_into("<q", body, time_at, EARLIEST_MICROS - 1)
    elif change == "lengths that do not add up":
        struct.pack_into("<I", body, 18 * count, 10**6)
    elif change == "text not UTF-8":
        body[-1] = 0xFF
    return bytes(_with(head, bytes(body)))


DAMAGES = {
    "not packed": "not a packed snapshot",
    "head past the end": "runs past its end",
    "head not a state": "validation error",
    "count past the columns": "shorter than its count",
    "negative count": "validation error",
    "optional column too short": "one value per entry",
    "kind past its list": "kind's number",
    "author past its list": "author's number",
    "time past the calendar": "out of the calendar",
    "time before the calendar": "out of the calendar",
    "lengths that do not add up": "do not add up",
    "text not UTF-8": "utf-8",
}
"""Each damage, and what the refusal says."""


@pytest.mark.parametrize("change", DAMAGES)
def test_a_packed_snapshot_that_does_not_hold_together_is_refused(change: str) -> None:
    with pytest.raises(ValueError, match=DAMAGES[change]):
        read_packed_snapshot(_damage(change))


def test_times_anywhere_in_the_calendar_are_taken_in() -> None:
    """Times outside the quick check's years (before 1970, after about 8800) are checked one
    by one, and taken when within the calendar."""
    frame = _frame()
    head, body = _head_and_body(frame)
    count = head["state"]["timeline"]["count"]
    struct.pack_into("<q", body, 8 * count, EARLIEST_MICROS)
    struct.pack_into("<q", body, 8 * count + 8, LATEST_MICROS)
    state = read_packed_snapshot(bytes(_with(head, bytes(body)))).state
    assert [state.timeline[0].at.year, state.timeline[1].at.year] == [1, 9999]


async def _stand_in_follow(reply: Callable[[str], bytes]) -> None:
    """Follow incident 1 from a stand-in offering `packed_snapshot` that answers the subscribe
    with `reply(subscribe id)` as a binary message."""

    async def answer(ws: ServerConnection) -> None:
        welcome = {"type": "welcome", "protocol": 2, "server": "stand-in", "user": "bob"}
        await ws.send(json.dumps({**welcome, "features": ["packed_snapshot"]}))
        async for raw in ws:
            frame = json.loads(raw)
            assert frame["packed_snapshot"] is True
            await ws.send(reply(frame["id"]))

    async with serve(answer, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        client = WarroomClient(f"ws://127.0.0.1:{port}", "token", reconnect=False)
        try:
            await client.start()
            async with asyncio.timeout(10):
                await client.follow(1)
        finally:
            await client.close()


def _answering(frame: bytes) -> Callable[[str], bytes]:
    head, body = _head_and_body(bytearray(frame))
    return lambda frame_id: bytes(_with({**head, "id": frame_id}, bytes(body)))


async def test_a_packed_snapshot_that_does_not_hold_together_refuses_the_follow() -> None:
    await _stand_in_follow(_answering(bytes(_frame())))  # whole, it is followed
    with pytest.raises(CommandRefused, match="could not be read"):
        await _stand_in_follow(_answering(_damage("kind past its list")))


async def test_a_server_sends_packed_snapshots_only_when_asked_and_a_follow_equals_the_live_copy(
    server: WarroomNode, add_user: AddUser, client_as: ClientAs
) -> None:
    live, incident_id = await followed_incident(server, client_as, "packed snapshot")
    token = await add_user("bob")
    ask = {"type": "subscribe", "incident_id": incident_id}
    async with connect(server.url, additional_headers=bearer(token)) as ws:
        assert ws.response is not None
        assert "packed_snapshot" in ws.response.headers[FEATURES_HEADER].split(",")
        await ws.recv()  # welcome
        await ws.send(json.dumps({**ask, "id": "plain"}))
        plain = json.loads(await ws.recv())
        assert plain["type"] == "snapshot"
        await ws.send(json.dumps({**ask, "id": "packed", "packed_snapshot": True}))
        raw = await ws.recv()
        while isinstance(raw, str):  # the plain snapshot's tail
            assert json.loads(raw)["id"] == "plain"
            raw = await ws.recv()
        packed = read_packed_snapshot(raw)  # a binary message
        assert (packed.id, packed.seq, packed.head) == ("packed", plain["seq"], plain["head"])
        assert packed.state.model_dump_json() == plain_state(plain["state"])

    # In the handshake: the accept header asks for it in every subscribe the handshake carries.
    subscribe = json.dumps({**ask, "id": "shaken"})
    headers = {**bearer(token), SUBSCRIBE_HEADER: subscribe, ACCEPT_HEADER: "packed_snapshot"}
    async with connect(server.url, additional_headers=headers) as ws:
        await ws.recv()  # welcome
        assert read_packed_snapshot(await ws.recv(decode=False)).id == "shaken"

    await a_fresh_follow_equals_the_live_copy(server, client_as, live, incident_id)


def test_a_snapshot_that_cannot_be_packed_is_sent_columnar() -> None:
    log = _varied_log()
    frames = [event.model_dump_json() for event in log.events]
    [packed] = catch_up_frames(
        "s-1", 1, None, LoadedIncident(replay(list(log.events)), list(frames)), packed_snapshot=True
    )
    assert isinstance(packed, bytes)
    assert packed.startswith(MAGIC)

    offset = json.loads(log.state.model_dump_json())
    # An old log's back-dated time with an offset (stored as it came): no UTC integer for it.
    offset["timeline"][-1]["occurred_at"] = "2026-11-29T10:00:00+02:00"
    many_authors = json.loads(log.state.model_dump_json())
    entry = many_authors["timeline"][-1]
    many_authors["timeline"] += [
        {**entry, "id": entry["id"] + n, "author": f"user{n}"} for n in range(1, 300)
    ]
    for state, sent in ((offset, "compact_snapshot"), (many_authors, "columnar_snapshot")):
        record = LoadedIncident(replay(list(log.events)), list(frames))
        record.snapshot = (log.state.seq, json.dumps(state))
        asked = {"packed_snapshot": True, "columnar_snapshot": True, "compact_snapshot": True}
        [reply] = catch_up_frames("s-2", 1, None, record, **asked)
        assert json.loads(reply)["type"] == sent


def test_a_log_of_many_notes_packs_every_text_once() -> None:
    log = Log()
    for n in range(50):
        log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text=f"note {n} ✓"))
    state_head, body = packed_state(log.state.model_dump_json())
    texts = "".join(e.text for e in log.state.timeline).encode()
    assert body.endswith(texts)
    assert json.loads(state_head)["timeline"]["count"] == len(log.state.timeline)


@pytest.mark.parametrize("value", ['"yes"', "1", "[]", "null", '{"a": 1}'])
def test_a_subscribe_asking_packed_with_a_value_not_a_boolean_is_refused(value: str) -> None:
    raw = f'{{"type": "subscribe", "id": "s-1", "incident_id": 1, "packed_snapshot": {value}}}'
    with pytest.raises(DomainError, match="packed_snapshot: Input should be a valid boolean"):
        parse_client_frame(raw)
