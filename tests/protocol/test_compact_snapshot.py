"""The compact snapshot makes exactly the state the plain snapshot makes: for any log (any kind
of event, entries amended, struck, back-dated, status updates with promises), the same state,
and the same state again after more events are applied to it (amends and strikes of entries
still held as rows). A real server sends it only to a console that asked, and a console's follow
comes back equal to the live copy with its entries still rows until read; a compact snapshot
that does not validate is skipped and the follow refused, as a damaged snapshot is."""

from __future__ import annotations

import json

from hypothesis import given, settings
from websockets.asyncio.client import connect

from tests.core.test_catch_up import AddUser, bearer
from tests.core.wire import Peer
from tests.domain.factories import Log
from tests.domain.test_apply_events import _logs, _same_state
from tests.protocol.support import (
    a_fresh_follow_equals_the_live_copy,
    fold,
    followed_incident,
    refused_follow,
)
from tests.support.clients import ClientAs
from warroom.domain.events import EntryAdded, EntryAmended, Event
from warroom.domain.incident import IncidentState
from warroom.domain.projection import apply_event, replay
from warroom.domain.timeline import EntryKind
from warroom.domain.timeline_list import LIST_FIELDS
from warroom.node import WarroomNode
from warroom.protocol.compact import SNAPSHOT_ROW_FIELDS, compact_state_json
from warroom.protocol.frames import SERVER_FRAME_ADAPTER, CompactSnapshot, Snapshot
from warroom.server.catch_up import catch_up_frames
from warroom.server.incidents import LoadedIncident


def _snapshot_frames(state: IncidentState) -> tuple[IncidentState, IncidentState]:
    """The state as a client takes it from a plain `snapshot` and from a `compact_snapshot`."""
    head = f'"incident_id":1,"seq":{state.seq},"head":{state.seq}'
    state_json = state.model_dump_json()
    plain = SERVER_FRAME_ADAPTER.validate_json(f'{{"type":"snapshot",{head},"state":{state_json}}}')
    compact = SERVER_FRAME_ADAPTER.validate_json(
        f'{{"type":"compact_snapshot",{head},"state":{compact_state_json(state_json)}}}'
    )
    assert isinstance(plain, Snapshot)
    assert isinstance(compact, CompactSnapshot)
    return plain.state, compact.state.to_state()


@settings(max_examples=100, deadline=None)
@given(_logs())
def test_any_state_sent_compact_is_the_state_sent_plain_and_folds_on_the_same(
    case: tuple[list[Event], list[Event], list[int]],
) -> None:
    start, events, cuts = case
    cut = min(cuts, default=len(events) // 2)
    state = replay(start)
    fold(state, events[:cut])
    by_plain, by_compact = _snapshot_frames(state)
    assert by_compact.timeline.unbuilt == len(state.timeline)
    _same_state(by_plain, by_compact)
    # Then the rest of the log on both: amends and strikes reach entries still held as rows.
    by_compact = _snapshot_frames(state)[1]
    assert fold(by_compact, events[cut:]) == fold(by_plain, events[cut:])
    _same_state(by_plain, by_compact)


def test_an_entry_row_holds_every_field_of_the_entry_in_the_models_order() -> None:
    log = Log()
    log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text="@alice look", tags=["db"]))
    compact = json.loads(compact_state_json(log.state.model_dump_json()))
    plain = json.loads(log.state.model_dump_json())
    assert {k: v for k, v in compact.items() if k != "timeline"} == {
        k: v for k, v in plain.items() if k != "timeline"
    }
    assert compact["timeline"] == [
        [entry[name] for name in SNAPSHOT_ROW_FIELDS] for entry in plain["timeline"]
    ]
    assert compact["timeline"][-1][SNAPSHOT_ROW_FIELDS.index("mentions")] == ["alice"]


def test_rows_share_one_empty_tuple_for_empty_lists_and_built_entries_get_lists_of_their_own() -> (
    None
):
    """The lists nearly every entry leaves empty (tags, mentions, revisions) cost a console no
    memory per row; the entries built from the rows still hold lists, which later events
    change in place (an amend appends a revision) without reaching any other entry."""
    log = Log()
    first = log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text="plain"))
    log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text="@alice look", tags=["db"]))
    state = _snapshot_frames(log.state)[1]
    rows = [row for row in state.timeline._items if isinstance(row, tuple)]
    assert len(rows) == len(state.timeline)  # none built yet
    tags, mentions, revisions = (SNAPSHOT_ROW_FIELDS.index(n) for n in LIST_FIELDS)
    shared = ()
    assert all(row[i] is shared for row in rows[:-1] for i in (tags, mentions, revisions))
    assert (rows[-1][tags], rows[-1][mentions]) == (("db",), ("alice",))
    newest = state.timeline[-1]
    assert (newest.tags, newest.mentions, newest.revisions) == (["db"], ["alice"], [])
    apply_event(state, log.add("scribe", EntryAmended(entry_id=first.seq, text="amended")))
    position = state.timeline.index_of(first.seq)
    assert position is not None
    assert [r.text for r in state.timeline[position].revisions] == ["plain"]
    assert newest.revisions == []
    assert state.timeline[-1].revisions == []
    assert state.model_dump_json() == log.state.model_dump_json()


async def test_a_server_sends_compact_snapshots_only_when_asked_and_the_follow_equals_the_live_copy(
    server: WarroomNode, add_user: AddUser, client_as: ClientAs
) -> None:
    live, incident_id = await followed_incident(server, client_as, "compact snapshot")

    peer = Peer(await connect(server.url, additional_headers=bearer(await add_user("bob"))))
    welcome = await peer.recv()
    assert "compact_snapshot" in welcome["features"]
    ask = {"type": "subscribe", "incident_id": incident_id}
    plain = await peer.reply_to(await peer.send(dict(ask)))
    assert plain["type"] == "snapshot"
    compact = await peer.reply_to(await peer.send({**ask, "compact_snapshot": True}))
    # (A stored snapshot older than the incident is followed by its tail; both kinds are.)
    assert compact["type"] == "compact_snapshot"
    assert compact["seq"] == plain["seq"]
    assert len(compact["state"]["timeline"]) == len(plain["state"]["timeline"])
    assert all(len(row) == len(SNAPSHOT_ROW_FIELDS) for row in compact["state"]["timeline"])
    await peer.close()

    await a_fresh_follow_equals_the_live_copy(server, client_as, live, incident_id)


async def test_a_compact_snapshot_that_does_not_validate_refuses_the_follow() -> None:
    """A stand-in server offering `compact_snapshot` answers with an entry whose text is a
    number."""
    log = Log()
    state = json.loads(compact_state_json(log.state.model_dump_json()))
    state["timeline"][0][SNAPSHOT_ROW_FIELDS.index("text")] = 5
    reply = {"type": "compact_snapshot", "incident_id": 1, "seq": log.state.seq, "state": state}
    asked, held = await refused_follow("compact_snapshot", reply)
    assert asked["compact_snapshot"] is True
    assert "compact" not in asked  # not offered, so not asked for
    assert held is None


def test_a_snapshot_the_server_cannot_convert_is_sent_plain() -> None:
    log = Log()
    frames = [event.model_dump_json() for event in log.events]
    readable = LoadedIncident(replay(list(log.events)), list(frames))
    [compact] = catch_up_frames("s-1", 1, None, readable, compact_snapshot=True)
    assert json.loads(compact)["type"] == "compact_snapshot"

    damaged = LoadedIncident(replay(list(log.events)), list(frames))
    damaged.snapshot = (log.state.seq, '{"incident": {"id": 1}, "timeline": [{"id": 1}]}')
    [reply] = catch_up_frames("s-2", 1, None, damaged, compact_snapshot=True)
    assert json.loads(reply)["type"] == "snapshot"
