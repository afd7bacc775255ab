"""A real server on each backend: two consoles write, the server restarts, and the war room comes
back with every entry, every sequence number and every command id, answered once."""

from __future__ import annotations

import asyncio

from tests.support.client_sync import seq_reached
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient, new_id
from warroom.domain.commands import AddEntry, AssignRole, DeclareIncident
from warroom.node import start_node
from warroom.users import create_user

WRITES_EACH = 20


async def test_two_clients_write_and_a_restart_keeps_state_sequences_and_command_ids(
    store_url: str,
) -> None:
    alice = await create_user(store_url, "alice")
    bob = await create_user(store_url, "bob")
    async with await start_node(store_url, TEST_SETTINGS) as server:
        first, second = WarroomClient(server.url, alice), WarroomClient(server.url, bob)
        await first.start()
        await second.start()
        declared = await first.execute(
            DeclareIncident(id=new_id(), title="Payments down", severity=1)
        )
        incident = declared.incident_id
        await first.execute(
            AssignRole(id=new_id(), incident_id=incident, role="scribe", user="bob")
        )
        await first.follow(incident)
        await second.follow(incident)
        writes = [
            AddEntry(id=new_id(), incident_id=incident, text=f"{who} {n}")
            for n in range(WRITES_EACH)
            for who in ("alice", "bob")
        ]
        acks = await asyncio.gather(
            *((first if w.text.startswith("alice") else second).execute(w) for w in writes)
        )
        last = max(ack.seq for ack in acks)
        await seq_reached(first, incident, last).wait()
        await seq_reached(second, incident, last).wait()
        before = server.hub.incident_state(incident)
        assert before is not None
        assert first.states[incident] == second.states[incident] == before
        await first.close()
        await second.close()

    # Gap-free: declared 1, bob made Scribe 2, the 40 writes took the next 40 numbers, each once.
    assert sorted(ack.seq for ack in acks) == list(range(3, 3 + len(writes)))

    async with await start_node(store_url, TEST_SETTINGS) as restarted:
        after = restarted.hub.incident_state(incident)
        assert after == before
        client = WarroomClient(restarted.url, alice)
        await client.start()
        try:
            # A retry after the restart is answered with its original seq, not applied again.
            original = acks[0]
            retry = await client.execute(writes[0])
            assert (retry.seq, retry.duplicate) == (original.seq, True)
            fresh = await client.execute(
                AddEntry(id=new_id(), incident_id=incident, text="after the restart")
            )
            assert fresh.seq == last + 1
        finally:
            await client.close()
        events = await restarted.store.load_events()
        assert [e.seq for e in events] == list(range(1, last + 2))
