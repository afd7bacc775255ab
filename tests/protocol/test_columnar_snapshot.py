"""The columnar snapshot makes exactly the state the plain snapshot makes: for any log, the same
state, and the same again after more events are applied to it (amends and strikes of entries
still in the columns). Its timeline answers ids, kinds and ordering keys without building an
entry. A real server sends it only to a console that asked, falls back to the compact (or
plain) snapshot for a state whose times a column cannot carry, and a console's follow comes
back equal to the live copy with nothing built; a columnar snapshot that does not validate
(columns of different lengths, a kind's number past its list, a time past the calendar) is
skipped and the follow refused."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from websockets.asyncio.client import connect

from tests.core.test_catch_up import AddUser, bearer
from tests.core.wire import Peer
from tests.domain.factories import Log
from tests.protocol.support import (
    a_fresh_follow_equals_the_live_copy,
    followed_incident,
    refused_follow,
)
from tests.support.clients import ClientAs
from warroom.domain.events import EntryAdded, EntryAmended, EntryStruck
from warroom.domain.incident import IncidentState
from warroom.domain.projection import replay
from warroom.domain.timeline import EntryKind, EntryRevision, TimelineEntry
from warroom.domain.timeline_columns import (
    COLUMN_OF_FIELD,
    EPOCH,
    LATEST_MICROS,
    NAME_LISTS,
    TimelineColumns,
    unmatched_columns,
)
from warroom.node import WarroomNode
from warroom.protocol.columnar import ColumnarTimeline, columnar_state_json
from warroom.protocol.frames import SERVER_FRAME_ADAPTER, ColumnarSnapshot, Snapshot
from warroom.protocol.handshake import FEATURES_HEADER
from warroom.server.catch_up import catch_up_frames
from warroom.server.incidents import LoadedIncident


def _columnar(state_json: str) -> IncidentState:
    head = '"incident_id":1,"seq":1,"head":1'
    frame = SERVER_FRAME_ADAPTER.validate_json(
        f'{{"type":"columnar_snapshot",{head},"state":{columnar_state_json(state_json)}}}'
    )
    assert isinstance(frame, ColumnarSnapshot)
    return frame.state.to_state()


def _plain(state_json: str) -> IncidentState:
    head = '"incident_id":1,"seq":1,"head":1'
    frame = SERVER_FRAME_ADAPTER.validate_json(f'{{"type":"snapshot",{head},"state":{state_json}}}')
    assert isinstance(frame, Snapshot)
    return frame.state


def _has_a_time_no_column_carries(state_json: str) -> bool:
    entries = json.loads(state_json)["timeline"]
    times = [e[name] for e in entries for name in ("at", "occurred_at", "typed_at")]
    return any(t is not None and not t.endswith(("Z", "+00:00")) for t in times)


def _varied_log() -> Log:
    log = Log()
    log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text="@alice look", tags=["db"]))
    first = log.add("tl", EntryAdded(kind=EntryKind.ACTION, text="restart", correlation_id="c1"))
    log.add("scribe", EntryAmended(entry_id=first.seq, text="restart the pool"))
    back = log.add(
        "scribe",
        EntryAdded(kind=EntryKind.NOTE, text="paged", occurred_at=log.events[0].at),
    )
    log.add("ic", EntryStruck(entry_id=back.seq, reason="wrong incident"))
    return log


def test_the_columns_name_each_kind_and_author_once_and_leave_out_all_default_columns() -> None:
    log = Log()
    for n in range(3):
        log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text=f"note {n}"))
    timeline = json.loads(columnar_state_json(log.state.model_dump_json()))["timeline"]
    plain = json.loads(log.state.model_dump_json())["timeline"]
    assert [timeline["kinds"][code] for code in timeline["kind"]] == [e["kind"] for e in plain]
    assert [timeline["authors"][code] for code in timeline["author"]] == [
        e["author"] for e in plain
    ]
    assert len(timeline["authors"]) == len({e["author"] for e in plain})
    assert all(isinstance(at, int) for at in timeline["at"])
    assert not {"occurred_at", "typed_at", "tags", "mentions", "struck", "revisions"} & set(
        timeline
    )
    varied = json.loads(columnar_state_json(_varied_log().state.model_dump_json()))["timeline"]
    assert {"occurred_at", "correlation_id", "tags", "mentions", "struck", "revisions"} <= set(
        varied
    )


def test_a_columnar_timeline_keeps_its_ids_true_when_an_entry_is_replaced_inserted_or_deleted() -> (
    None
):
    log = _varied_log()
    state = _columnar(log.state.model_dump_json())
    timeline = state.timeline
    ids = timeline.ids()
    entry = timeline[2]
    timeline[2] = entry.model_copy(update={"text": "same id"})
    assert timeline.index_of(ids[2]) == 2
    assert timeline.unbuilt == len(ids) - 1
    timeline[3] = TimelineEntry.model_validate({**timeline[3].model_dump(), "id": 10_000})
    assert timeline.index_of(10_000) == 3
    assert timeline.index_of(ids[3]) is None
    del timeline[0]
    assert timeline.index_of(ids[1]) == 0
    timeline.insert(0, entry)
    assert timeline.ids()[:2] == [ids[2], ids[1]]
    assert timeline.unbuilt == 0


def test_reading_an_entry_gives_it_lists_of_its_own() -> None:
    log = _varied_log()
    state = _columnar(log.state.model_dump_json())
    tagged = state.timeline[state.timeline.index_of(log.events[4].seq) or 0]
    assert tagged.tags == ["db"]
    tagged.tags.append("more")
    again = _columnar(log.state.model_dump_json())
    assert again.timeline[state.timeline.index_of(log.events[4].seq) or 0].tags == ["db"]


def _damaged(change: str) -> str:
    log = _varied_log()
    state = json.loads(columnar_state_json(log.state.model_dump_json()))
    timeline = state["timeline"]
    if change == "short column":
        timeline["text"].pop()
    elif change == "kind past its list":
        timeline["kind"][0] = len(timeline["kinds"])
    elif change == "negative author":
        timeline["author"][0] = -1
    elif change == "time past the calendar":
        timeline["at"][0] = LATEST_MICROS + 1
    elif change == "text a number":
        timeline["text"][0] = 5
    return json.dumps(state)


@pytest.mark.parametrize(
    "change",
    [
        "short column",
        "kind past its list",
        "negative author",
        "time past the calendar",
        "text a number",
    ],
)
def test_a_columnar_snapshot_that_does_not_line_up_does_not_validate(change: str) -> None:
    head = '"incident_id":1,"seq":1'
    with pytest.raises(ValidationError):
        SERVER_FRAME_ADAPTER.validate_json(
            f'{{"type":"columnar_snapshot",{head},"state":{_damaged(change)}}}'
        )


async def test_a_columnar_snapshot_that_does_not_validate_refuses_the_follow() -> None:
    """A stand-in server offering `columnar_snapshot` answers with a kind past its list."""
    state = json.loads(_damaged("kind past its list"))
    reply = {"type": "columnar_snapshot", "incident_id": 1, "seq": 9, "state": state}
    asked, held = await refused_follow("columnar_snapshot", reply)
    assert asked["columnar_snapshot"] is True
    assert "compact_snapshot" not in asked  # not offered, so not asked for
    assert held is None


async def test_a_server_sends_columnar_snapshots_only_when_asked_and_a_follow_equals_the_live_copy(
    server: WarroomNode, add_user: AddUser, client_as: ClientAs
) -> None:
    live, incident_id = await followed_incident(server, client_as, "columnar snapshot")

    ws = await connect(server.url, additional_headers=bearer(await add_user("bob")))
    assert ws.response is not None
    assert "columnar_snapshot" in ws.response.headers[FEATURES_HEADER].split(",")
    peer = Peer(ws)
    await peer.recv()  # welcome
    ask = {"type": "subscribe", "incident_id": incident_id}
    plain = await peer.reply_to(await peer.send(dict(ask)))
    assert plain["type"] == "snapshot"
    both = {**ask, "compact_snapshot": True, "columnar_snapshot": True}
    columnar = await peer.reply_to(await peer.send(both))
    assert columnar["type"] == "columnar_snapshot"
    assert columnar["seq"] == plain["seq"]
    assert columnar["state"]["timeline"]["id"] == [e["id"] for e in plain["state"]["timeline"]]
    await peer.close()

    await a_fresh_follow_equals_the_live_copy(server, client_as, live, incident_id)


def test_a_snapshot_whose_times_a_column_cannot_carry_is_sent_compact_or_plain() -> None:
    log = _varied_log()
    frames = [event.model_dump_json() for event in log.events]
    readable = LoadedIncident(replay(list(log.events)), list(frames))
    [columnar] = catch_up_frames("s-1", 1, None, readable, columnar_snapshot=True)
    assert json.loads(columnar)["type"] == "columnar_snapshot"

    offset = json.loads(log.state.model_dump_json())
    # An old log's back-dated time with an offset (stored as it came): no UTC integer for it.
    offset["timeline"][-1]["occurred_at"] = "2026-11-29T10:00:00+02:00"
    for asked, sent in (
        ({"columnar_snapshot": True, "compact_snapshot": True}, "compact_snapshot"),
        ({"columnar_snapshot": True}, "snapshot"),
    ):
        record = LoadedIncident(replay(list(log.events)), list(frames))
        record.snapshot = (log.state.seq, json.dumps(offset))
        [reply] = catch_up_frames("s-2", 1, None, record, **asked)
        assert json.loads(reply)["type"] == sent


def test_a_field_added_to_the_entry_or_to_its_columns_alone_is_caught() -> None:
    """The entry's fields are listed once for the columns (`COLUMN_OF_FIELD`); the domain's
    columns and the frame's are checked against it when imported (review finding D2)."""
    entry_fields = set(TimelineEntry.model_fields)
    columns = {f.name for f in dataclasses.fields(TimelineColumns)} - NAME_LISTS - {"from_events"}
    assert unmatched_columns(entry_fields, columns) == set()
    assert unmatched_columns(entry_fields | {"severity"}, columns) == {"severity"}
    assert unmatched_columns(entry_fields, columns | {"severities"}) == {"severities"}
    assert set(ColumnarTimeline.model_fields) - NAME_LISTS == set(COLUMN_OF_FIELD)


def test_an_entry_with_every_field_set_reads_back_whole_from_the_columns() -> None:
    """Every field away from its default, so one a column or `TimelineColumns.entry` left out
    would come back as its default."""
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    entry = TimelineEntry(
        id=7,
        kind=EntryKind.STATUS,
        text="db failing over, @bob on it",
        author="alice",
        at=at,
        occurred_at=at.replace(minute=1),
        typed_at=at.replace(minute=2),
        next_update_at=at.replace(minute=30),
        correlation_id="c-1",
        tags=["db"],
        mentions=["bob"],
        struck=True,
        struck_reason="wrong incident",
        revisions=[EntryRevision(text="draft", changed_by="alice", changed_at=at)],
    )
    defaults = TimelineEntry(id=0, kind=EntryKind.NOTE, text="x", author="x", at=EPOCH)
    assert all(getattr(entry, name) != getattr(defaults, name) for name in COLUMN_OF_FIELD)
    state = _varied_log().state
    state.timeline.append(entry)
    [read] = [e for e in _columnar(state.model_dump_json()).timeline if e.id == entry.id]
    assert read.model_dump() == entry.model_dump()
