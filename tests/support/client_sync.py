"""Awaiting a client's view of an incident, instead of sleeping until it probably caught up."""

from __future__ import annotations

import asyncio

from warroom.client.session import WarroomClient
from warroom.client.updates import ClientUpdate, EventsApplied
from warroom.node import WarroomNode


def seq_reached(client: WarroomClient, incident_id: int, seq: int) -> asyncio.Event:
    """An event set once `client`'s copy of the incident has reached `seq`."""
    reached = asyncio.Event()

    def check(update: ClientUpdate) -> None:
        state = client.states.get(incident_id)
        if state is not None and state.seq >= seq:
            reached.set()

    client.add_listener(check)
    check(EventsApplied(incident_id, []))
    return reached


async def caught_up(client: WarroomClient, server: WarroomNode, incident_id: int) -> None:
    """Wait until the server's integrations are idle and `client` has every committed event."""
    await server.integrations.idle()
    state = server.hub.incident_state(incident_id)
    assert state is not None
    await seq_reached(client, incident_id, state.seq).wait()
