"""Subscribe replies for consoles that come back: exactly the missed events, or, for a console
far behind, the latest stored snapshot and the events after it; never a gap or a repeat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.core.wire import Peer
from tests.support.client_sync import seq_reached
from tests.support.clients import ClientAs, declare
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient, new_id
from warroom.client.updates import ClientUpdate, EventsApplied, StateReplaced
from warroom.config import HistorySettings, ServerConfig
from warroom.domain.commands import AddEntry
from warroom.node import WarroomNode, start_node
from warroom.server.incidents import snapshot_gap

AddUser = Callable[[str], Awaitable[str]]

SNAPSHOT_EVERY = 64
BEHIND = 5_000


@pytest.fixture
async def node(db_path: Path) -> AsyncIterator[WarroomNode]:
    config = ServerConfig(history=HistorySettings(snapshot_every=SNAPSHOT_EVERY))
    async with await start_node(db_path, TEST_SETTINGS, config=config) as running:
        yield running


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def write_notes(client: WarroomClient, incident_id: int, count: int) -> int:
    """`count` entries, many in flight at once; returns the last seq."""
    last = 0
    for start in range(0, count, 500):
        acks = await asyncio.gather(
            *(
                client.submit(AddEntry(id=new_id(), incident_id=incident_id, text=f"note {n}"))
                for n in range(start, min(start + 500, count))
            )
        )
        last = max(last, *(a.seq for a in acks))
    return last


async def test_a_client_5000_events_behind_gets_a_snapshot_and_a_short_tail(
    node: WarroomNode, add_user: AddUser, client_as: ClientAs
) -> None:
    live = await client_as(node.url, "alice")
    incident_id = await declare(live, "long night", severity=2)
    await write_notes(live, incident_id, 30)
    # The state a console held when it went away, 5,000 events (and a few) ago.
    left_behind = (await live.follow(incident_id)).model_copy(deep=True)
    head = await write_notes(live, incident_id, BEHIND + 7)
    await seq_reached(live, incident_id, head).wait()

    # On the wire: a stored snapshot, then the events after it under the same id.
    token = await add_user("bob")
    peer = Peer(await connect(node.url, additional_headers=bearer(token), max_size=None))
    assert (await peer.recv())["type"] == "welcome"
    subscribe_id = await peer.send(
        {"type": "subscribe", "incident_id": incident_id, "since": left_behind.seq}
    )
    snapshot = await peer.reply_to(subscribe_id)
    assert snapshot["type"] == "snapshot"
    assert snapshot["head"] == head
    gap = snapshot_gap(head, SNAPSHOT_EVERY)
    assert head - gap < snapshot["seq"] <= head
    if snapshot["seq"] < head:
        tail = await peer.reply_to(subscribe_id)
        assert tail["type"] == "events"
        assert [e["seq"] for e in tail["events"]] == list(range(snapshot["seq"] + 1, head + 1))
    await peer.close()

    # Through the client: the follow returns once the tail is applied, equal to the live copy.
    back = WarroomClient(node.url, await add_user("carol"))
    back.states[incident_id] = left_behind
    updates: list[ClientUpdate] = []
    back.add_listener(updates.append)
    await back.start()
    state = await back.follow(incident_id)
    assert state.seq == head
    assert state.model_dump() == live.states[incident_id].model_dump()
    replaced = [u for u in updates if isinstance(u, StateReplaced)]
    applied = [e for u in updates if isinstance(u, EventsApplied) for e in u.events]
    assert len(replaced) == 1
    assert len(applied) < snapshot_gap(head, SNAPSHOT_EVERY)

    # And it keeps following live, with no gap after the tail.
    more = await write_notes(live, incident_id, 3)
    await seq_reached(back, incident_id, more).wait()
    assert back.states[incident_id].model_dump() == live.states[incident_id].model_dump()
    await back.close()


async def test_a_client_a_few_hundred_behind_gets_exactly_the_missed_events(
    node: WarroomNode, add_user: AddUser, client_as: ClientAs
) -> None:
    live = await client_as(node.url, "alice")
    incident_id = await declare(live, "short gap")
    await write_notes(live, incident_id, 200)
    since = (await live.follow(incident_id)).seq
    head = await write_notes(live, incident_id, 300)

    peer = await Peer.open(node.url, await add_user("bob"))
    reply = await peer.request({"type": "subscribe", "incident_id": incident_id, "since": since})
    assert reply["type"] == "events"
    assert [e["seq"] for e in reply["events"]] == list(range(since + 1, head + 1))
    await peer.close()


async def test_a_fresh_client_gets_the_stored_snapshot_and_its_tail_as_one_answer(
    node: WarroomNode, client_as: ClientAs
) -> None:
    live = await client_as(node.url, "alice")
    incident_id = await declare(live, "fresh eyes")
    await live.follow(incident_id)
    head = await write_notes(live, incident_id, SNAPSHOT_EVERY + 5)
    await seq_reached(live, incident_id, head).wait()

    fresh = await client_as(node.url, "bob")
    state = await fresh.follow(incident_id)
    assert state.seq == head
    assert state.model_dump() == live.states[incident_id].model_dump()
