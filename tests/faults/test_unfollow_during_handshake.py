"""An incident unfollowed while the connection's handshake, which carried its subscribe
(`X-Warroom-Subscribe`), is on its way: the server took that subscribe, so the client
unsubscribes once welcomed; the answer is not kept as a copy of an incident no longer followed
(which would never be brought up to date), and the user stops showing in its presence. A
subscribe retried after a rate limit is not sent for an incident unfollowed during the pause."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from tests.faults.support import ChaosProxy
from tests.support.client_sync import until
from tests.support.stand_in_server import stand_in
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


def _present(client: WarroomClient, incident_id: int) -> set[str]:
    return {user.user for user in client.presence.get(incident_id, [])}


async def test_an_incident_unfollowed_during_the_handshake_is_unsubscribed_once_welcomed(
    server: WarroomNode, proxy: ChaosProxy, add_user: AddUser
) -> None:
    alice = WarroomClient(server.url, await add_user("alice"))
    await alice.start()
    bob = WarroomClient(proxy.url, await add_user("bob"), max_backoff=0.2)
    try:
        ack = await alice.execute(DeclareIncident(id=new_id(), title="Queue backlog", severity=2))
        incident_id = ack.incident_id
        await alice.follow(incident_id)

        proxy.downstream_open.clear()
        await bob.start(wait=False, follow=[incident_id])
        # The server took the handshake's subscribe: bob follows it there.
        await until(alice, lambda: "bob" in _present(alice, incident_id), what="bob present")
        assert bob.status is not ConnectionStatus.CONNECTED
        await bob.unfollow(incident_id)
        proxy.downstream_open.set()

        await until(bob, lambda: bob.status is ConnectionStatus.CONNECTED, what="bob connected")
        await until(alice, lambda: "bob" not in _present(alice, incident_id), what="bob gone")
        await bob.list_incidents()  # after the handshake's answer (the snapshot) on the wire
        assert incident_id not in bob.states
    finally:
        await bob.close()
        await alice.close()


async def test_a_rate_limited_subscribe_is_not_retried_for_an_incident_unfollowed_meanwhile() -> (
    None
):
    asked: list[dict[str, Any]] = []

    def answer(frame: dict[str, Any], _: int) -> list[dict[str, Any]]:
        return [{"type": "error", "id": frame["id"], "code": "rate_limited", "message": "slow"}]

    async with stand_in(answer, asked) as client:
        following = asyncio.create_task(client.follow(7))
        await client.list_incidents()  # answered after the refusal: the retry is scheduled
        assert client._retries
        await client.unfollow(7)
        await asyncio.gather(*client._retries)
        await client.list_incidents()  # anything sent before it has reached the server
        following.cancel()
    assert [f["incident_id"] for f in asked if f["type"] == "subscribe"] == [7]
