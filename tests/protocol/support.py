"""What the tests of the catch-up and snapshot encodings share: folding events onto a state, an
incident a live console follows and the check that a fresh console's follow equals its copy,
and a stand-in server that offers one feature and answers every subscribe with one frame, so a
test can hand the client a frame no real server sends (a damaged one)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from tests.core.test_catch_up import write_notes
from tests.support.clients import ClientAs, declare
from warroom.client.session import CommandRefused, WarroomClient
from warroom.domain.events import Event
from warroom.domain.incident import IncidentState
from warroom.domain.projection import ProjectionError, apply_event
from warroom.node import WarroomNode


def fold(state: IncidentState, events: list[Event]) -> str | None:
    """Apply `events` one by one, up to the first that does not apply: why not, or None."""
    for event in events:
        try:
            apply_event(state, event)
        except ProjectionError as exc:
            return str(exc)
    return None


async def followed_incident(
    server: WarroomNode, client_as: ClientAs, title: str, notes: int = 50
) -> tuple[WarroomClient, int]:
    """alice's console following a SEV2 incident she declared and wrote `notes` notes to."""
    live = await client_as(server.url, "alice")
    incident_id = await declare(live, title, severity=2)
    await live.follow(incident_id)
    await write_notes(live, incident_id, notes)
    return live, incident_id


async def a_fresh_follow_equals_the_live_copy(
    server: WarroomNode, client_as: ClientAs, live: WarroomClient, incident_id: int
) -> None:
    """carol's console follows the incident: its copy is the live console's, none of its
    entries built yet (the encoding's rows or columns wait to be read)."""
    fresh = await client_as(server.url, "carol")
    state = await fresh.follow(incident_id)
    assert state.timeline.unbuilt == len(state.timeline)  # nothing read yet
    assert state.model_dump_json() == live.states[incident_id].model_dump_json()


async def refused_follow(
    feature: str, reply: Mapping[str, Any], held: IncidentState | None = None
) -> tuple[dict[str, Any], IncidentState | None]:
    """Follow incident 1 (holding `held`, if given) from a stand-in offering `feature` that
    answers the subscribe with `reply` (carrying the subscribe's id): the follow is refused as
    unreadable. Returns the subscribe the client sent and the state it holds afterwards."""
    asked: list[dict[str, Any]] = []

    async def answer(ws: ServerConnection) -> None:
        welcome = {"type": "welcome", "protocol": 2, "server": "stand-in", "user": "bob"}
        await ws.send(json.dumps({**welcome, "features": [feature]}))
        async for raw in ws:
            frame = json.loads(raw)
            asked.append(frame)
            # The id right after the type, as servers put it: the client finds the request an
            # unreadable reply answers in the frame's first bytes.
            await ws.send(json.dumps({"type": reply["type"], "id": frame["id"], **reply}))

    async with serve(answer, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        client = WarroomClient(f"ws://127.0.0.1:{port}", "token", reconnect=False)
        if held is not None:
            client.states[1] = held.model_copy(deep=True)
        try:
            await client.start()
            with pytest.raises(CommandRefused, match="could not be read"):
                async with asyncio.timeout(10):
                    await client.follow(1)
        finally:
            await client.close()
    return asked[0], client.states.get(1)
