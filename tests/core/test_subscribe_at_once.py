"""A subscribe to an incident in memory that arrives while the sequencer waits is answered at
once, without a turn of its own (sync21), and a subscribe arriving while writes are being
decided and committed still waits its turn: every console following during a stream of writes
ends with exactly the writer's state, no event missing or applied twice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.core.test_catch_up import write_notes
from tests.support.client_sync import seq_reached
from tests.support.clients import ClientAs, declare
from warroom.client.session import new_id
from warroom.domain.commands import AddEntry
from warroom.node import WarroomNode


async def test_a_subscribe_while_the_sequencer_waits_is_answered_without_a_turn(
    server: WarroomNode, client_as: ClientAs, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await client_as(server.url, "alice")
    incident_id = await declare(alice, "answered at once", severity=2)
    await alice.follow(incident_id)
    await write_notes(alice, incident_id, 20)
    turns: list[int] = []
    real_turn = server.hub._turn

    async def counted_turn(batch: list[Any]) -> None:
        turns.append(len(batch))
        await real_turn(batch)

    monkeypatch.setattr(server.hub, "_turn", counted_turn)
    bob = await client_as(server.url, "bob")
    state = await bob.follow(incident_id)
    assert turns == []  # the subscribe took no turn
    assert state.model_dump_json() == alice.states[incident_id].model_dump_json()
    await alice.execute(_note(incident_id))  # a write still takes its turn...
    assert turns == [1]
    await seq_reached(bob, incident_id, alice.states[incident_id].seq).wait()  # ...and reaches bob


def _note(incident_id: int) -> AddEntry:
    return AddEntry(id=new_id(), incident_id=incident_id, text="one more")


async def test_consoles_following_during_a_stream_of_writes_end_with_the_writers_state(
    server: WarroomNode, client_as: ClientAs
) -> None:
    alice = await client_as(server.url, "alice")
    incident_id = await declare(alice, "followed while written", severity=2)
    await alice.follow(incident_id)
    writes = [alice.submit(_note(incident_id)) for _ in range(300)]
    followers = [await client_as(server.url, name) for name in ("bob", "carol", "dave", "erin")]
    # Each follows somewhere in the stream: while writes are queued or being committed (a
    # turn's answer) or between turns (answered at once).
    for follower in followers:
        await follower.follow(incident_id)
    await asyncio.gather(*writes)
    head = alice.states[incident_id].seq
    for follower in followers:
        await seq_reached(follower, incident_id, head).wait()
        state = follower.states[incident_id]
        assert state.model_dump_json() == alice.states[incident_id].model_dump_json()
