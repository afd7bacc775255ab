"""Awaiting a client's view of the war room, instead of sleeping until it probably caught up.

Each helper re-checks its condition on every client update, so a test waits exactly as long as
the thing it asserts on takes, and no longer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from warroom.client.session import WarroomClient
from warroom.client.updates import ClientUpdate, StatusChanged
from warroom.node import WarroomNode


def client_reached(client: WarroomClient, condition: Callable[[], bool]) -> asyncio.Event:
    """An event set as soon as `condition()` holds, re-checked on every client update."""
    reached = asyncio.Event()

    def check(_: ClientUpdate | None = None) -> None:
        if condition():
            reached.set()

    client.add_listener(check)
    check()
    return reached


def seq_reached(client: WarroomClient, incident_id: int, seq: int) -> asyncio.Event:
    """An event set once `client`'s copy of the incident has reached `seq`."""

    def current() -> bool:
        state = client.states.get(incident_id)
        return state is not None and state.seq >= seq

    return client_reached(client, current)


async def until(
    client: WarroomClient,
    predicate: Callable[[], bool],
    timeout: float = 10.0,
    *,
    what: str = "the condition",
) -> None:
    """Wait for the client update after which `predicate` holds, failing after `timeout` s.

    Args:
        what: the awaited state in words, for the failure message.
    """
    try:
        async with asyncio.timeout(timeout):
            await client_reached(client, predicate).wait()
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}") from None


def drained(client: WarroomClient) -> asyncio.Event:
    """Set once the client has no write waiting for the server."""
    done = asyncio.Event()

    def check(update: ClientUpdate | None = None) -> None:
        if client.unsent == 0 and (update is None or isinstance(update, StatusChanged)):
            done.set()

    client.add_listener(check)
    check()
    return done


async def caught_up(client: WarroomClient, server: WarroomNode, incident_id: int) -> None:
    """Wait until the server's integrations are idle and `client` has every committed event."""
    await server.integrations.idle()
    state = server.hub.incident_state(incident_id)
    assert state is not None
    await seq_reached(client, incident_id, state.seq).wait()
