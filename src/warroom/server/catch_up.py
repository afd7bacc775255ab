"""The reply to `subscribe`: exactly the missed events, or a snapshot and the events after it.

A console that comes back names the last seq it holds (`since`). It gets whichever answer costs
it less to take in: the missed events, or the incident's latest serialized snapshot followed by
the events after that snapshot (its tail). A client's cost follows the bytes, and a byte of
events costs it about twice a byte of snapshot (it validates both, and applies the events too;
see docs/performance.md). A timeline entry is about as long as the event that made it, so the
snapshot wins once a console has missed more than about half of the incident.

The snapshot is the one the cache already holds as JSON (written with the events, see
`incidents.snapshot_gap`), so answering never serialises a whole incident while it is being
written to; only an incident with no snapshot yet is serialised, once per seq.
"""

from __future__ import annotations

import json
from typing import AnyStr

from warroom.protocol.packed import packed_frame
from warroom.server.connection import BinaryFrame
from warroom.server.incidents import LoadedIncident

EVENTS_ALWAYS = 1_000
"""Up to this many missed events are sent as they are, without weighing a snapshot."""
EVENT_BYTE_COST = 2
"""What a byte of events costs a client to take in, against a byte of snapshot."""


def catch_up_frames(
    frame_id: str,
    incident_id: int,
    since: int | None,
    record: LoadedIncident,
    *,
    compact: bool = False,
    compact_snapshot: bool = False,
    columnar_snapshot: bool = False,
    columnar_events: bool = False,
    packed_snapshot: bool = False,
) -> list[str | bytes]:
    """The frames answering a subscribe: one `events` frame, or a `snapshot` and, when the
    snapshot is older than the incident, an `events` frame with its tail (same `id`). With
    `compact` the events go as `compact_events`, with `compact_snapshot` the snapshot as
    `compact_snapshot` (`protocol.compact`), with `columnar_snapshot` as `columnar_snapshot`
    (`protocol.columnar`; if it cannot be, as asked without it), with `packed_snapshot` as a
    packed snapshot, a binary message (`protocol.packed`; if it cannot be, as asked without it),
    with `columnar_events` the events as `columnar_events` (`protocol.columnar_events`)."""
    encoding = "columnar" if columnar_events else "compact" if compact else "plain"
    seq = record.seq
    if since is not None and 0 <= since <= seq:
        missed = seq - since
        if missed <= EVENTS_ALWAYS or not _snapshot_is_cheaper(record, since):
            return [_events_reply(frame_id, incident_id, record, since, seq, encoding)]
    snapshot_seq, state_json = record.latest_snapshot()
    packed = record.packed_snapshot(snapshot_seq, state_json) if packed_snapshot else None
    snapshot: str | bytes
    if packed is not None:
        snapshot = BinaryFrame(packed_frame(frame_id, incident_id, snapshot_seq, seq, packed))
    else:
        snapshot = _snapshot_frame(
            frame_id,
            incident_id,
            snapshot_seq,
            seq,
            state_json,
            record,
            compact_snapshot=compact_snapshot,
            columnar_snapshot=columnar_snapshot,
        )
    if snapshot_seq == seq:
        return [snapshot]
    return [snapshot, _events_reply(frame_id, incident_id, record, snapshot_seq, seq, encoding)]


def _snapshot_frame(
    frame_id: str,
    incident_id: int,
    snapshot_seq: int,
    seq: int,
    state_json: str,
    record: LoadedIncident,
    *,
    compact_snapshot: bool,
    columnar_snapshot: bool,
) -> str | bytes:
    kind, compact_json = "columnar_snapshot", None
    if columnar_snapshot:
        compact_json = record.columnar_snapshot(snapshot_seq, state_json)
    if compact_json is None and compact_snapshot:
        kind, compact_json = "compact_snapshot", record.compact_snapshot(snapshot_seq, state_json)
    if compact_json is None:
        kind = "snapshot"
    head = (
        f'{{"type":"{kind}","id":{json.dumps(frame_id)},"incident_id":{incident_id},'
        f'"seq":{snapshot_seq},"head":{seq},"state":'
    )
    if compact_json is None:
        return f"{head}{state_json}}}"
    return b"".join((head.encode(), compact_json, b"}"))


def _events_reply(
    frame_id: str, incident_id: int, record: LoadedIncident, after: int, seq: int, encoding: str
) -> str | bytes:
    if encoding == "columnar":
        parts = record.columnar_events(after, seq)
        if parts is not None:
            head = (
                f'{{"type":"columnar_events","id":{json.dumps(frame_id)},'
                f'"incident_id":{incident_id},"events":['
            )
            return _joined(head.encode(), parts, b"]}", b",")
        encoding = "compact"
    if encoding == "compact":
        elements = record.compact_frames(seq)
        if elements is not None:
            head = (
                f'{{"type":"compact_events","id":{json.dumps(frame_id)},'
                f'"incident_id":{incident_id},"events":['
            )
            return _joined(head.encode(), elements[after:seq], b"]}", b",")
    return events_frame(frame_id, incident_id, record.frames[after:seq])


def _snapshot_is_cheaper(record: LoadedIncident, since: int) -> bool:
    held = record.snapshot
    if held is None or held[0] < since:
        return False  # serialising now costs the server more than the bytes save the client
    snapshot_seq, state_json = held
    frames = record.frames
    tail = sum(map(len, frames[snapshot_seq:]))
    missed = sum(map(len, frames[since:]))
    return len(state_json) + EVENT_BYTE_COST * tail < EVENT_BYTE_COST * missed


def current_snapshot_frame(frame_id: str | None, incident_id: int, record: LoadedIncident) -> str:
    """A `snapshot` frame of the incident as it stands now (serialised for this frame)."""
    seq = record.seq
    return (
        f'{{"type":"snapshot","id":{json.dumps(frame_id)},"incident_id":{incident_id},'
        f'"seq":{seq},"head":{seq},"state":{record.state_json()}}}'
    )


def events_frame(frame_id: str | None, incident_id: int, frames: list[str]) -> str:
    """An `events` frame around events already serialised (at commit, once)."""
    head = f'{{"type":"events","id":{json.dumps(frame_id)},"incident_id":{incident_id},"events":['
    return _joined(head, frames, "]}", ",")


def _joined(head: AnyStr, elements: list[AnyStr], end: AnyStr, comma: AnyStr) -> AnyStr:
    """`head`, the elements separated by `comma`, then `end`: copied once. A catch-up frame is
    megabytes, and every copy of it (a join, then an f-string around the join) cost the server
    1-2 ms of fresh memory."""
    if not elements:
        return head + end
    # Only the list of references is copied; the first and last elements carry head and end.
    parts = list(elements)
    parts[0] = head + parts[0]
    parts[-1] = parts[-1] + end
    return comma.join(parts)
