"""Times of any year at any offset, and a wrong JSON type in any field of any frame, against a real
server: a time is taken exactly when it falls in its window (and comes back as the same instant
in UTC), everything else is refused with `invalid` naming the field, nothing refused changes the
incident, and the server stays up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from tests.faults.support import open_ws, recv_json, request
from tests.fuzz.strategies import (
    _VALID,
    _VALID_BY_TYPE,
    FRAME_TYPES,
    MODELS,
    FromNow,
    any_times,
    near_times,
    wrong_json_type,
)
from tests.fuzz.test_protocol_fuzz import from_now
from warroom.domain.time_window import BACKDATE_LIMIT, CLOCK_ALLOWANCE, NEXT_UPDATE_LIMIT
from warroom.node import WarroomNode

AddUser = Callable[[str], Awaitable[str]]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
_MARGIN = timedelta(seconds=30)
"""Times this close to a window's edge may go either way: the clock moves while the frame flies."""


class Room:
    """alice declared one incident (she is IC and may write everything); her connection."""

    def __init__(self, server: WarroomNode, ws: Any, incident: int) -> None:
        self.server = server
        self.ws = ws
        self.incident = incident
        self.count = 0

    @classmethod
    async def open(cls, server: WarroomNode, token: str) -> Room:
        ws = await open_ws(server.url, token)
        await recv_json(ws)
        listing = await request(ws, {"type": "list_incidents", "id": "list"})
        if listing["incidents"]:
            return cls(server, ws, listing["incidents"][0]["id"])
        declared = await request(
            ws, {"type": "declare_incident", "id": "declare", "title": "Fuzz", "severity": 2}
        )
        return cls(server, ws, declared["incident_id"])

    def state_json(self) -> str:
        state = self.server.hub.incident_state(self.incident)
        assert state is not None
        return str(state.model_dump_json())

    async def send(self, frame: dict[str, Any]) -> dict[str, Any]:
        self.count += 1
        return await request(self.ws, {**frame, "id": f"f{self.count}-{datetime.now(UTC):%s%f}"})


@pytest.fixture
async def alice_token(add_user: AddUser) -> str:
    return await add_user("alice")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


@FUZZ
@given(field=st.sampled_from(["occurred_at", "next_update_at"]), when=any_times | near_times)
@example(field="occurred_at", when="0001-01-01T00:00:00+14:00")
@example(field="occurred_at", when="0001-01-01T00:00:00Z")
@example(field="next_update_at", when="9999-12-31T23:59:59-14:00")
async def test_a_time_of_any_year_at_any_offset_is_taken_only_inside_its_window(
    server: WarroomNode, alice_token: str, field: str, when: str | FromNow
) -> None:
    room = await Room.open(server, alice_token)
    try:
        text = from_now(when) if isinstance(when, FromNow) else when
        sent = _parse(text)
        before = room.state_json()
        state = server.hub.incident_state(room.incident)
        assert state is not None
        declared_at = state.incident.declared_at
        now = datetime.now(UTC)
        if field == "occurred_at":
            frame = {"type": "add_entry", "incident_id": room.incident, "text": "t", field: text}
            window = (declared_at - BACKDATE_LIMIT, now + CLOCK_ALLOWANCE)
        else:
            frame = {"type": "post_status_update", "incident_id": room.incident, "status": "s"}
            frame[field] = text
            window = (now - CLOCK_ALLOWANCE, now + NEXT_UPDATE_LIMIT)
        reply = await room.send(frame)
        near_edge = any(abs(sent - edge) < _MARGIN for edge in window)
        inside = window[0] <= sent <= window[1]
        if reply["type"] == "ack":
            assert inside or near_edge, (text, reply)
            log = await request(
                room.ws, {"type": "read_log", "id": "log", "incident_id": room.incident}
            )
            stored = log["events"][-1]["body"][field]
            assert stored.endswith("Z"), stored
            assert _parse(stored) == sent, "the same instant, in UTC"
        else:
            assert not inside or near_edge, (text, reply)
            assert reply["code"] == "invalid", reply
            assert reply["message"].startswith(f"{field} must be between"), reply
            assert room.state_json() == before, "a refused time changed the incident"
        assert (await request(room.ws, {"type": "list_incidents", "id": "alive"}))["incidents"]
    finally:
        await room.ws.close()


@st.composite
def wrong_typed_frames(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A frame whose fields all fit, except one that has another JSON type than it should."""
    frame_type = draw(st.sampled_from(FRAME_TYPES))
    fields = [n for n in MODELS[frame_type].model_fields if n not in ("type", "id")]
    frame: dict[str, Any] = {"type": frame_type}
    for name in fields:
        valid = _VALID_BY_TYPE.get((frame_type, name), _VALID.get(name))
        frame[name] = draw(valid) if valid is not None else "x"
    if "incident_id" in frame:
        frame["incident_id"] = 1  # replaced by the room's incident, unless it is the wrong one
    if "expected" in frame:
        frame["expected"] = _STALE[frame_type]
    typed = [n for n in fields if frame[n] is not None]
    if not typed:
        return {**frame, "unknown": 1}, "unknown"  # read frames with only an id: an extra field
    name = draw(st.sampled_from(typed))
    frame[name] = draw(wrong_json_type(frame[name]))
    return frame, name


_STALE = {
    "set_severity": 2,
    "set_phase": "declared",
    "set_item_state": "todo",
    "set_title": "Fuzz",
    "set_summary": "",
}
"""An `expected` of the right type (stale or not, the frame is refused for its type first)."""


@FUZZ
@given(case=wrong_typed_frames())
@example(case=({"type": "declare_incident", "title": "t", "severity": True}, "severity"))
@example(case=({"type": "set_item_owner", "item_id": "1", "owner": "alice"}, "item_id"))
async def test_a_wrong_json_type_in_any_field_is_refused_naming_it_and_changes_nothing(
    server: WarroomNode, alice_token: str, case: tuple[dict[str, Any], str]
) -> None:
    frame, field = case
    room = await Room.open(server, alice_token)
    try:
        resolved = {
            k: (room.incident if k == "incident_id" and v == "<incident>" else v)
            for k, v in frame.items()
        }
        resolved = {k: (from_now(v) if isinstance(v, FromNow) else v) for k, v in resolved.items()}
        if "incident_id" in resolved and field != "incident_id":
            resolved["incident_id"] = room.incident
        if "expected" in resolved and field != "expected":
            # A falsy wrong-typed `expected` (0, false, []) is the value under test, not a gap.
            resolved["expected"] = resolved.get("expected") or "x"
        before = room.state_json()
        listing = await request(room.ws, {"type": "list_incidents", "id": "before"})
        reply = await room.send(resolved)
        assert reply["type"] == "error", (resolved, reply)
        assert reply["code"] in {"invalid", "too_large"}, (resolved, reply)
        assert f"{field}" in reply["message"], (resolved, reply)
        assert room.state_json() == before
        after = await request(room.ws, {"type": "list_incidents", "id": "after"})
        assert after["incidents"] == listing["incidents"]
    finally:
        await room.ws.close()
