"""A refused write leaves no trace: after any refusal, of any write type, for any reason (a rule,
a time out of its window, a wrong JSON type, a failure inside the server), the next snapshot is
byte for byte the one before, and the server goes on numbering from where it was."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.core.wire import Peer
from warroom.domain.events import Event
from warroom.domain.incident import IncidentState
from warroom.domain.permissions import WRITE_RULES
from warroom.node import WarroomNode
from warroom.server import hub as hub_module

AddUser = Callable[[str], Awaitable[str]]


async def snapshot_text(peer: Peer, incident: int) -> str:
    """The incident's state exactly as the server sends it to a fresh console."""
    frame_id = await peer.send({"type": "subscribe", "incident_id": incident})
    while True:
        raw = await peer.ws.recv()
        frame = json.loads(raw)
        if frame.get("id") == frame_id:
            assert frame["type"] == "snapshot", frame
            text = str(raw)
            await peer.request({"type": "unsubscribe", "incident_id": incident})
            return text[text.index('"state":') :]


async def incident_list(peer: Peer) -> Any:
    return (await peer.request({"type": "list_incidents"}))["incidents"]


def refused_writes(incident: int, now: datetime) -> list[tuple[str, dict[str, Any], str]]:
    """(sender, frame, expected code): one refused write of every type, most of them sent by the
    IC, who may do nearly everything, so that the refusal comes from the rule, not the role."""
    far = "0001-01-01T00:00:00+14:00"
    on = {"incident_id": incident}
    return [
        (
            "alice",
            {"type": "declare_incident", "title": "x", "severity": 1, "triage_id": 5},
            "unknown_entry",
        ),
        ("alice", {"type": "declare_incident", "title": "x", "severity": True}, "invalid"),
        ("alice", {"type": "dismiss_triage", "triage_id": 5, "reason": "noise"}, "unknown_entry"),
        ("alice", {"type": "set_title", **on, "title": "New", "expected": "Older"}, "conflict"),
        ("alice", {"type": "set_summary", **on, "summary": "s", "expected": "stale"}, "conflict"),
        (
            "alice",
            {"type": "set_severity", **on, "severity": 3, "expected": 3, "reason": ""},
            "invalid",
        ),
        (
            "alice",
            {"type": "set_severity", **on, "severity": "1", "expected": 3, "reason": ""},
            "invalid",
        ),
        (
            "alice",
            {"type": "set_phase", **on, "phase": "postmortem_done", "expected": "declared"},
            "invalid_transition",
        ),
        ("alice", {"type": "assign_role", **on, "role": "cl", "user": "ghost"}, "unknown_user"),
        ("alice", {"type": "unassign_role", **on, "role": "cl", "user": "bob"}, "invalid"),
        ("alice", {"type": "accept_ic", **on}, "forbidden"),
        ("alice", {"type": "decline_ic", **on}, "invalid"),
        ("alice", {"type": "add_entry", **on, "text": "t", "occurred_at": far}, "invalid"),
        (
            "alice",
            {
                "type": "add_entry",
                **on,
                "text": "t",
                "occurred_at": (now + timedelta(hours=1)).isoformat(),
            },
            "invalid",
        ),
        ("alice", {"type": "add_entry", "incident_id": str(incident), "text": "t"}, "invalid"),
        # Times as Unix seconds, which lax pydantic would read: refused, not taken for 1970.
        ("alice", {"type": "add_entry", **on, "text": "t", "typed_at": 1764428400}, "invalid"),
        (
            "alice",
            {"type": "post_status_update", **on, "status": "ok", "typed_at": "1764428400"},
            "invalid",
        ),
        ("alice", {"type": "amend_entry", **on, "entry_id": 999, "text": "t"}, "unknown_entry"),
        ("alice", {"type": "strike_entry", **on, "entry_id": 1}, "invalid"),
        ("bob", {"type": "add_checklist_item", **on, "title": "Purge"}, "forbidden"),
        (
            "alice",
            {"type": "set_item_state", **on, "item_id": 1, "state": "todo", "expected": "todo"},
            "invalid",
        ),
        (
            "alice",
            {"type": "set_item_state", **on, "item_id": "1", "state": "done", "expected": "todo"},
            "invalid",
        ),
        ("alice", {"type": "set_item_owner", **on, "item_id": 1, "owner": "ghost"}, "unknown_user"),
        ("alice", {"type": "add_service", **on, "service": "payments"}, "invalid"),
        ("alice", {"type": "remove_service", **on, "service": "nowhere"}, "invalid"),
        (
            "alice",
            {"type": "post_status_update", **on, "status": "ok", "next_update_at": far},
            "invalid",
        ),
        (
            "alice",
            {
                "type": "post_status_update",
                **on,
                "status": "ok",
                "next_update_at": "9999-12-31T23:59:59Z",
            },
            "invalid",
        ),
        (
            "bob",
            {"type": "draft_external_update", **on, "text": "t", "state": "investigating"},
            "forbidden",
        ),
        ("alice", {"type": "approve_external_update", **on, "draft_id": 999}, "unknown_entry"),
        (
            "alice",
            {"type": "reject_external_update", **on, "draft_id": 999, "comment": "no"},
            "unknown_entry",
        ),
        ("alice", {"type": "pin_metrics", **on}, "invalid"),
    ]


@pytest.fixture
async def room(server: WarroomNode, add_user: AddUser) -> dict[str, Peer]:
    peers = {name: await Peer.open(server.url, await add_user(name)) for name in ("alice", "bob")}
    return peers


async def test_a_refused_write_of_every_type_leaves_the_next_snapshot_byte_identical(
    server: WarroomNode, room: dict[str, Peer]
) -> None:
    alice = room["alice"]
    incident = await alice.declare(title="Old", severity=3)
    for frame in (
        {"type": "add_service", "incident_id": incident, "service": "payments"},
        {"type": "post_status_update", "incident_id": incident, "status": "first"},
    ):
        assert (await alice.request(frame))["type"] == "ack"
    cases = refused_writes(incident, datetime.now(UTC))
    assert {frame["type"] for _, frame, _ in cases} == set(WRITE_RULES), "every write type"
    before = await snapshot_text(alice, incident)
    listing = await incident_list(alice)
    for sender, frame, code in cases:
        reply = await room[sender].request(dict(frame))
        assert reply["type"] == "error", (frame, reply)
        assert reply["code"] == code, (frame, reply)
        assert await snapshot_text(alice, incident) == before, frame
        assert await incident_list(alice) == listing, frame
    # Nothing was numbered for the refusals: the next write is the next seq.
    ack = await alice.request({"type": "add_entry", "incident_id": incident, "text": "after"})
    assert ack["seq"] == 4
    for peer in room.values():
        await peer.close()


async def test_an_out_of_range_next_update_does_not_move_the_update_clock(
    server: WarroomNode, room: dict[str, Peer]
) -> None:
    alice = room["alice"]
    incident = await alice.declare(severity=1)
    before = server.hub.incident_state(incident)
    assert before is not None
    last_status_at = before.last_status_at
    reply = await alice.request(
        {
            "type": "post_status_update",
            "incident_id": incident,
            "status": "ok",
            "next_update_at": "0001-01-01T00:00:00+14:00",
        }
    )
    assert reply["code"] == "invalid"
    assert "next_update_at must be between" in reply["message"]
    assert "(24 hours from now)" in reply["message"]
    after = server.hub.incident_state(incident)
    assert after is not None
    assert after.last_status_at == last_status_at
    await alice.close()


async def test_a_failure_inside_apply_refuses_that_write_only_and_changes_nothing(
    server: WarroomNode, room: dict[str, Peer], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = room["alice"]
    incident = await alice.declare()
    before = await snapshot_text(alice, incident)
    real_apply = getattr(hub_module, "apply_event")  # noqa: B009 (not re-exported)

    def half_apply(state: IncidentState, event: Event) -> None:
        if event.command_id == "poison":
            # A bug that changes the state and then fails, as an overflow in composing text did.
            state.last_status_at = event.at
            state.incident.title = "half-applied"
            state.seq = event.seq
            raise OverflowError("date value out of range")
        real_apply(state, event)

    monkeypatch.setattr(hub_module, "apply_event", half_apply)
    reply = await alice.request(
        {"type": "post_status_update", "id": "poison", "incident_id": incident, "status": "ok"}
    )
    assert reply["type"] == "error"
    assert reply["code"] == "internal"
    assert await snapshot_text(alice, incident) == before
    # The refused id is not remembered and the sequence goes on where it was.
    ack = await alice.request({"type": "add_entry", "incident_id": incident, "text": "next"})
    assert ack["seq"] == 2
    monkeypatch.setattr(hub_module, "apply_event", real_apply)
    retry = await alice.request(
        {"type": "post_status_update", "id": "poison", "incident_id": incident, "status": "ok"}
    )
    assert retry["type"] == "ack"
    assert not retry["duplicate"]
    assert retry["seq"] == 3
    log = await alice.request({"type": "read_log", "incident_id": incident})
    assert [e["seq"] for e in log["events"]] == [1, 2, 3]
    for peer in room.values():
        await peer.close()


async def test_a_failure_while_deciding_refuses_that_write_only(
    server: WarroomNode, room: dict[str, Peer], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = room["alice"]
    incident = await alice.declare()
    before = await snapshot_text(alice, incident)
    real_decide = getattr(hub_module, "decide")  # noqa: B009 (not re-exported)

    def broken_decide(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in a rule")

    monkeypatch.setattr(hub_module, "decide", broken_decide)
    first = await alice.send({"type": "add_entry", "incident_id": incident, "text": "a"})
    second = await alice.send({"type": "declare_incident", "title": "Other", "severity": 3})
    assert (await alice.reply_to(first))["code"] == "internal"
    declared = await alice.reply_to(second)
    assert declared["type"] == "ack", "a bug deciding one write does not refuse the others"
    assert [r.get("id") for r in alice.seen].count(first) == 1, "answered once"
    assert await snapshot_text(alice, incident) == before
    monkeypatch.setattr(hub_module, "decide", real_decide)
    for peer in room.values():
        await peer.close()
