"""A hostile or faulty server cannot stop a console: events that do not follow on from the seq a
console holds (a skipped seq, a repeated one, in the plain and the compact encoding) refuse the
follow they answer, or have the incident asked for again when they came live, and the client
goes on reading every frame after them. Each server here is a real websocket server on
127.0.0.1 speaking the protocol with crafted frames, and the client is the real one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.domain.factories import Log
from tests.support.client_sync import seq_reached
from tests.support.stand_in_server import stand_in
from warroom.client.session import CommandRefused
from warroom.domain.events import EntryAdded, Event
from warroom.domain.projection import replay
from warroom.domain.timeline import EntryKind
from warroom.protocol.compact import compact_event_json, compact_state_json


def _log(notes: int) -> list[Event]:
    log = Log()
    for n in range(notes):
        log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text=f"note {n}"))
    return log.events


def _snapshot(events: list[Event], frame_id: str | None, head: int) -> dict[str, Any]:
    state = replay(list(events))
    return {
        "type": "compact_snapshot",
        "id": frame_id,
        "incident_id": 1,
        "seq": state.seq,
        "head": head,
        "state": json.loads(compact_state_json(state.model_dump_json())),
    }


def _events(events: list[Event], frame_id: str | None, compact: bool) -> dict[str, Any]:
    frames = [event.model_dump_json() for event in events]
    return {
        "type": "compact_events" if compact else "events",
        "id": frame_id,
        "incident_id": 1,
        "events": [json.loads(compact_event_json(f) if compact else f) for f in frames],
    }


GAPS: dict[str, Callable[[list[Event]], list[Event]]] = {
    "a skipped seq": lambda tail: tail[1:],
    "a repeated seq": lambda tail: [tail[0], tail[0], *tail[1:]],
}


@pytest.mark.parametrize("compact", [True, False], ids=["compact_events", "events"])
@pytest.mark.parametrize("gap", GAPS, ids=list(GAPS))
async def test_a_catch_up_whose_events_do_not_follow_on_refuses_the_follow_and_reading_goes_on(
    compact: bool, gap: str
) -> None:
    events = _log(6)
    held, tail = events[:5], events[5:]
    asked: list[dict[str, Any]] = []

    def answer(frame: dict[str, Any], _: int) -> list[dict[str, Any]]:
        return [
            _snapshot(held, frame["id"], head=len(events)),
            _events(GAPS[gap](tail), frame["id"], compact),
        ]

    async with stand_in(answer, asked) as client:
        with pytest.raises(CommandRefused, match="did not follow on"):
            async with asyncio.timeout(10):
                await client.follow(1)
        # The copy holds exactly the events up to its seq (what followed on may stay applied).
        copy = client.states[1]
        assert copy.model_dump_json() == replay(events[: copy.seq]).model_dump_json()
        async with asyncio.timeout(10):
            assert await client.list_incidents() == []  # and the next frame is read


@pytest.mark.parametrize("compact", [True, False], ids=["compact_events", "events"])
async def test_live_events_that_skip_a_seq_have_the_incident_asked_for_again_from_the_seq_held(
    compact: bool,
) -> None:
    events = _log(8)
    held = events[:5]
    asked: list[dict[str, Any]] = []

    def answer(frame: dict[str, Any], subscribes: int) -> list[dict[str, Any]]:
        if subscribes == 1:  # the follow, then a live frame that skips seq 6
            return [
                _snapshot(held, frame["id"], head=len(held)),
                _events(events[6:7], None, compact),
            ]
        return [_events(events[frame["since"] :], frame["id"], compact)]

    async with stand_in(answer, asked) as client:
        caught_up = seq_reached(client, 1, len(events))
        async with asyncio.timeout(10):
            await client.follow(1)
            await caught_up.wait()
        subscribes = [frame for frame in asked if frame["type"] == "subscribe"]
        assert [frame.get("since") for frame in subscribes] == [None, len(held)]
        assert client.states[1].model_dump_json() == replay(events).model_dump_json()


async def test_a_flood_of_gapped_live_frames_asks_for_the_incident_again_once_at_a_time() -> None:
    events = _log(8)
    held = events[:5]
    asked: list[dict[str, Any]] = []

    def answer(frame: dict[str, Any], subscribes: int) -> list[dict[str, Any]]:
        if subscribes == 1:  # the follow, then a thousand live frames skipping seq 6
            gapped = _events(events[6:7], None, compact=True)
            return [_snapshot(held, frame["id"], head=len(held)), *[gapped] * 1_000]
        return []  # the incident asked for again is never answered

    async with stand_in(answer, asked) as client:
        async with asyncio.timeout(10):
            await client.follow(1)
            # Frames are read in order: once a list sent after them is answered, all were read,
            # and the subscribes they caused were sent before the second list.
            await client.list_incidents()
            await client.list_incidents()
        subscribes = [frame for frame in asked if frame["type"] == "subscribe"]
        assert [frame.get("since") for frame in subscribes] == [None, len(held)]
        assert client.states[1].seq == len(held)
