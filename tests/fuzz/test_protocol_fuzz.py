"""Random sequences of frames, valid and invalid, from five people in different roles, against a
real server: it never crashes or hangs, answers every frame exactly once with a well-formed
frame, and its invariants hold afterwards (gap-free sequence, one IC, state == replay(log))."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.faults.support import open_ws, recv_json, request
from tests.fuzz.strategies import (
    CURRENT,
    DEEP_ARRAY,
    DEEP_OBJECT,
    FRESH_ID,
    HUGE_VALUES,
    INCIDENT,
    OVERSIZED,
    REPEATED_ID,
    USERS,
    FromNow,
    Placeholder,
    Raw,
    ops,
)
from tests.support.client_sync import seq_reached
from warroom.client.session import WarroomClient
from warroom.domain.events import Event
from warroom.domain.incident import IncidentState
from warroom.domain.projection import replay
from warroom.domain.roles import Role
from warroom.node import WarroomNode
from warroom.protocol.frames import SERVER_FRAME_ADAPTER

AddUser = Callable[[str], Awaitable[str]]
_ids = itertools.count()


def from_now(when: FromNow) -> str:
    """The ISO 8601 text of a time relative to this machine's clock (the server's too)."""
    zone = timezone(timedelta(minutes=when.offset_minutes))
    return (datetime.now(UTC) + timedelta(minutes=when.minutes)).astimezone(zone).isoformat()


def expected_reply_id(data: str | bytes) -> str | None:
    """The id the server's answer must carry: the frame's `id` if it is a short string that can
    be written back (a lone surrogate cannot, so that answer carries none)."""
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict):
        frame_id = value.get("id")
        if isinstance(frame_id, str) and len(frame_id) <= 64:
            try:
                frame_id.encode("utf-8")
            except UnicodeEncodeError:
                return None
            return frame_id
    return None


def is_reply(frame: dict[str, Any]) -> bool:
    """Answers carry the request's id (an error may not, if the request had none)."""
    return frame.get("id") is not None or frame["type"] == "error"


@dataclass
class Line:
    """One person's raw connection and everything it received."""

    user: str
    ws: ClientConnection
    received: list[dict[str, Any]] = field(default_factory=list)
    expected: Counter[str | None] = field(default_factory=Counter)
    replies: Counter[str | None] = field(default_factory=Counter)
    used_ids: list[str] = field(default_factory=list)
    tail_of: str | None = None
    """The id of a snapshot (plain or compact) older than its incident's head: the `events` frame
    right after it with the same id is its tail, part of the same answer (docs/protocol.md,
    subscribe)."""
    done_sending: bool = False
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    closed: ConnectionClosed | None = None

    async def read(self) -> None:
        try:
            async for raw in self.ws:
                frame = SERVER_FRAME_ADAPTER.validate_json(raw)  # well-formed, or the test fails
                data = json.loads(raw)
                assert data["type"] == frame.type
                self.received.append(data)
                events = data["type"] in {"events", "compact_events"}
                tail = events and self.tail_of == data.get("id") is not None
                if is_reply(data) and not tail:
                    self.replies[data.get("id")] += 1
                self.tail_of = None
                snapshot = data["type"] in {"snapshot", "compact_snapshot"}
                if snapshot and data.get("head", data["seq"]) > data["seq"]:
                    self.tail_of = data.get("id")
                self.check()
        except ConnectionClosed as closed:
            self.closed = closed
        finally:
            self.settled.set()

    def check(self) -> None:
        extra = any(n > self.expected[frame_id] for frame_id, n in self.replies.items())
        if self.done_sending and (self.replies == self.expected or extra):
            self.settled.set()

    async def settle(self, sent: list[tuple[str, str | bytes]]) -> None:
        """Wait until every frame sent is answered (or the connection ends); bounded."""
        try:
            async with asyncio.timeout(10):
                await self.settled.wait()
        except TimeoutError:
            missing = self.expected - self.replies
            mine = [d[:200] for u, d in sent if u == self.user]
            raise AssertionError(f"{self.user} got no answer for {missing} after {mine}") from None


class Scenario:
    """Turns generated frames into bytes on the wire for one example's incident."""

    def __init__(self, server: WarroomNode, incident_id: int) -> None:
        self.server = server
        self.incident_id = incident_id

    def state(self) -> IncidentState:
        state = self.server.hub.incident_state(self.incident_id)
        assert state is not None
        return state

    def current(self, frame: dict[str, Any]) -> Any:
        state = self.state()
        match frame.get("type"):
            case "set_severity":
                return int(state.incident.severity)
            case "set_phase":
                return state.incident.phase.value
            case "set_title":
                return state.incident.title
            case "set_summary":
                return state.incident.summary
            case "set_item_state":
                item_id = frame.get("item_id")
                item = state.item(item_id) if isinstance(item_id, int) else None
                return item.state.value if item is not None else "todo"
        return None

    def resolve(self, value: Any, frame: dict[str, Any], line: Line) -> Any:
        if isinstance(value, dict):
            return {k: self.resolve(v, value, line) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, frame, line) for v in value]
        if value is INCIDENT:
            return self.incident_id
        if value is CURRENT:
            return self.current(frame)
        if value is FRESH_ID or (value is REPEATED_ID and not line.used_ids):
            line.used_ids.append(f"{line.user}-{next(_ids)}")
            return line.used_ids[-1]
        if value is REPEATED_ID:
            return line.used_ids[-1]
        if isinstance(value, FromNow):
            return from_now(value)
        if isinstance(value, Placeholder):
            return HUGE_VALUES[value]
        return value

    def wire(self, op: dict[str, Any] | Raw, line: Line) -> str | bytes:
        if isinstance(op, Raw):
            return op.data
        return json.dumps(self.resolve(op, op, line))


@pytest.fixture
async def tokens(add_user: AddUser) -> dict[str, str]:
    return {name: await add_user(name) for name in USERS}


async def open_line(server: WarroomNode, user: str, token: str) -> Line:
    ws = await open_ws(server.url, token)
    welcome = await recv_json(ws)
    assert welcome["type"] == "welcome"
    assert welcome["user"] == user
    return Line(user, ws)


async def new_incident(lines: dict[str, Line]) -> int:
    """alice declares and names bob TL, carol Scribe and dave CL."""
    alice = lines["alice"].ws
    declared = await request(
        alice, {"type": "declare_incident", "id": f"d{next(_ids)}", "title": "Fuzz", "severity": 2}
    )
    assert declared["type"] == "ack", declared
    incident_id = int(declared["incident_id"])
    for role, user in (("tl", "bob"), ("scribe", "carol"), ("cl", "dave")):
        frame = {"type": "assign_role", "id": f"r{next(_ids)}", "incident_id": incident_id}
        ack = await request(alice, {**frame, "role": role, "user": user})
        assert ack["type"] == "ack", ack
    return incident_id


async def check_oversized(server: WarroomNode, token: str) -> None:
    ws = await open_ws(server.url, token)
    await recv_json(ws)
    await ws.send(OVERSIZED.data)
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


def check_log(events: list[Event], state: IncidentState | None) -> IncidentState:
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "gap-free sequence"
    replayed = replay(events)
    assert state is not None
    assert state.model_dump() == replayed.model_dump(), "server state == replay(log)"
    roster = replayed.roster
    assert roster.ic in USERS, roster.ic
    open_ic = [t.user for t in roster.history if t.role is Role.IC and t.renounced_at is None]
    assert open_ic == [roster.ic], f"exactly one IC at a time: {open_ic}"
    return replayed


async def assert_server_alive(server: WarroomNode, token: str) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        health = await http.get(f"http://127.0.0.1:{server.port}/healthz")
    assert health.status_code == 200
    ws = await open_ws(server.url, token)
    await recv_json(ws)
    listing = await request(ws, {"type": "list_incidents", "id": "alive"})
    assert listing["type"] == "incidents"
    await ws.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # No shrinking: each attempt replays a whole session against the server, and shrinking a
    # failure could take minutes. A failure reports the frames its connection had sent.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(sequence=ops)
@example(sequence=[(2, OVERSIZED)])
async def test_random_frames_from_every_role_keep_the_server_and_its_invariants(
    server: WarroomNode,
    tokens: dict[str, str],
    sequence: list[tuple[int, dict[str, Any] | Raw]],
) -> None:
    lines = {user: await open_line(server, user, tokens[user]) for user in USERS}
    readers: list[asyncio.Task[None]] = []
    follower = WarroomClient(server.url, tokens["erin"])  # erin's console, via the client library
    try:
        await follower.start()
        async with asyncio.timeout(30):
            incident_id = await new_incident(lines)
            await follower.follow(incident_id)
            readers = [asyncio.create_task(line.read()) for line in lines.values()]
            scenario = Scenario(server, incident_id)
            sent: list[tuple[str, str | bytes]] = []
            for who, op in sequence:
                line = lines[USERS[who]]
                if op is OVERSIZED:
                    await check_oversized(server, tokens[line.user])
                    continue
                data = scenario.wire(op, line)
                sent.append((line.user, data))
                line.expected[expected_reply_id(data)] += 1
                await line.ws.send(data)
            for line in lines.values():
                line.done_sending = True
                line.check()
            for line in lines.values():
                await line.settle(sent)
                assert line.closed is None, (
                    f"the server closed {line.user}'s connection ({line.closed}) "
                    f"after: {[d[:200] for u, d in sent if u == line.user]}"
                )
                assert line.replies == line.expected, f"{line.user}: one answer per frame"
                # Nothing more is on its way: a last request is answered next.
                line.settled.clear()
                line.expected["sentinel"] += 1
                await line.ws.send(json.dumps({"type": "list_incidents", "id": "sentinel"}))
                await line.settle(sent)
                assert line.replies == line.expected, f"{line.user}: an unasked-for answer"
            errors = [f for line in lines.values() for f in line.received if f["type"] == "error"]
            assert all(e["message"] for e in errors)
            assert not [e for e in errors if e["code"] == "internal"], "internal errors"

            # Invariants, for this incident and any other the frames declared.
            touched = {incident_id} | {
                f["incident_id"]
                for line in lines.values()
                for f in line.received
                if f["type"] == "ack"
            }
            reader = await open_ws(server.url, tokens["erin"])  # a fresh connection is served
            await recv_json(reader)
            for touched_id in sorted(touched):
                log_frame = await request(
                    reader,
                    {"type": "read_log", "id": f"log{touched_id}", "incident_id": touched_id},
                )
                events = [Event.model_validate(e) for e in log_frame["events"]]
                replayed = check_log(events, server.hub.incident_state(touched_id))
                # Every new event was acknowledged to its author exactly once, and vice versa.
                fresh_acks = {
                    (f["seq"], line.user, f["id"])
                    for line in lines.values()
                    for f in line.received
                    if f["type"] == "ack" and not f["duplicate"] and f["incident_id"] == touched_id
                }
                written = {(e.seq, e.actor, e.command_id) for e in events}
                assert fresh_acks <= written
                if touched_id == incident_id:
                    assert written - fresh_acks == {
                        (e.seq, e.actor, e.command_id) for e in events[:4]
                    }, "events nobody was told about"
                    await seq_reached(follower, incident_id, len(events)).wait()
                    assert follower.states[incident_id].model_dump() == replayed.model_dump()
            await reader.close()
            await assert_server_alive(server, tokens["erin"])
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for line in lines.values():
            await line.ws.close()
        await follower.close()


# --- found by the fuzzer, kept as plain regression tests ---------------------------------------


@pytest.mark.parametrize(
    "raw",
    [DEEP_ARRAY.data, DEEP_OBJECT.data, '{"type": "add_entry", "tags": ' + "[" * 50_000 + "]"],
    ids=["deep array", "deep object", "deep field"],
)
async def test_deeply_nested_json_gets_bad_frame_and_the_connection_stays_usable(
    server: WarroomNode, tokens: dict[str, str], raw: str
) -> None:
    ws = await open_ws(server.url, tokens["alice"])
    await recv_json(ws)
    await ws.send(raw)
    try:
        error = await recv_json(ws)
    except ConnectionClosed as closed:
        raise AssertionError(f"the server dropped the connection: {closed}") from None
    assert error["type"] == "error"
    assert error["code"] == "bad_frame"
    assert (await request(ws, {"type": "list_incidents", "id": "after"}))["type"] == "incidents"
    await ws.close()


@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "list_incidents", "id": "\\ud800"}',
        '{"type": "no_such_type", "id": "\\udfff"}',
        '{"id": "ok\\ud83d"}',
    ],
)
async def test_unencodable_frame_id_gets_an_error_and_the_connection_stays_usable(
    server: WarroomNode, tokens: dict[str, str], raw: str
) -> None:
    """A lone surrogate in `id` parses as JSON but cannot be written back as UTF-8."""
    ws = await open_ws(server.url, tokens["alice"])
    await recv_json(ws)
    await ws.send(raw)
    try:
        error = await recv_json(ws)
    except ConnectionClosed as closed:
        raise AssertionError(f"the server dropped the connection: {closed}") from None
    assert error["type"] == "error"
    assert error["code"] in {"invalid", "unknown_type", "bad_frame"}
    assert (await request(ws, {"type": "list_incidents", "id": "after"}))["type"] == "incidents"
    await ws.close()
