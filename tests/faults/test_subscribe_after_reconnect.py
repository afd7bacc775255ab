"""A subscribe still unanswered when the connection drops is forgotten at the reconnect: the
incident is subscribed again, and nothing left over from the lost connection keeps the client
from asking for it again later (a live frame with a gap asks only while no subscribe of the
incident is awaited)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.faults.support import ChaosProxy
from tests.support.client_sync import until
from warroom.client.session import WarroomClient, new_id
from warroom.client.updates import ConnectionStatus
from warroom.domain.commands import DeclareIncident
from warroom.node import WarroomNode

AddUser = Callable[[str], Awaitable[str]]


@pytest.fixture
async def proxy(server: WarroomNode) -> AsyncIterator[ChaosProxy]:
    chaos = ChaosProxy(server.port)
    await chaos.start()
    yield chaos
    await chaos.close()


async def test_a_reconnect_forgets_an_unanswered_subscribe_and_subscribes_again(
    server: WarroomNode, proxy: ChaosProxy, add_user: AddUser
) -> None:
    token = await add_user("alice")
    declarer = WarroomClient(server.url, token)
    await declarer.start()
    ack = await declarer.execute(DeclareIncident(id=new_id(), title="Queue backlog", severity=2))
    await declarer.close()

    client = WarroomClient(proxy.url, token, max_backoff=0.2)
    await client.start()
    try:
        # The subscribe never reaches the server: the connection drops with it unanswered.
        proxy.swallow_next_upstream = True
        following = asyncio.create_task(client.follow(ack.incident_id))
        await proxy.swallowed.wait()
        lost = set(client._subscribe_ids)
        assert lost, "the follow sent a subscribe"

        # Reconnected, the incident is subscribed again and the follow is answered.
        async with asyncio.timeout(10):
            state = await following
        assert state.incident.title == "Queue backlog"
        await until(client, lambda: client.status is ConnectionStatus.CONNECTED, what="connected")

        # Nothing of the lost connection's subscribe is left to be awaited.
        assert not lost & set(client._subscribe_ids)
        assert ack.incident_id not in client._subscribe_ids.values()
    finally:
        await client.close()


async def test_an_incident_followed_again_while_offline_is_shown_as_held_at_once(
    server: WarroomNode, proxy: ChaosProxy, add_user: AddUser
) -> None:
    """Opening again the incident a console follows while the server cannot be reached gives
    the copy it holds, as the console promises to keep working when the network is what broke;
    the reconnect's catch-up replaces it later."""
    token = await add_user("alice")
    client = WarroomClient(proxy.url, token, max_backoff=0.2)
    await client.start()
    try:
        ack = await client.execute(DeclareIncident(id=new_id(), title="DNS down", severity=1))
        held = await client.follow(ack.incident_id)

        proxy.refuse_attempts = 1_000_000  # the server seems gone until the test ends
        proxy.cut_all()
        await until(client, lambda: client.status is not ConnectionStatus.CONNECTED, what="offline")
        async with asyncio.timeout(10):  # a hang guard: the copy held is answered at once
            state = await client.follow(ack.incident_id)
        assert client.status is not ConnectionStatus.CONNECTED
        assert state.incident.title == "DNS down"
        assert state.seq == held.seq
    finally:
        await client.close()
