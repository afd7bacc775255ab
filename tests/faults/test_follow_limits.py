"""How many incidents one connection may follow, and how many closed incidents the server holds
for reads: a connection subscribing to thousands of closed incidents made the server load each
from the store and hold it while the connection stayed open, and reading thousands held them
all until they went idle (hostile10). A subscribe past `[limits] follows_per_connection` is
refused `too_large`, loads nothing and changes nothing; the client library drops the follow it
refuses; closed incidents nobody follows are dropped, least recently used first, past
`[limits] closed_incidents_held`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.core.test_history import close_incident, declare
from tests.core.wire import Peer
from tests.faults.test_limits import settings
from warroom.client.session import CommandRefused, WarroomClient
from warroom.node import WarroomNode, start_node
from warroom.users import create_user


@asynccontextmanager
async def _node_after_closing(
    db_path: Path, count: int, **limits: int
) -> AsyncIterator[tuple[WarroomNode, str, list[int]]]:
    """A node with `limits`, started on a database holding `count` closed incidents (none of
    them in its memory), with alice's token."""
    token = await create_user(db_path, "alice")
    async with await start_node(db_path, settings()) as first:
        client = WarroomClient(first.url, token)
        await client.start()
        try:
            closed = [await declare(client, f"closed {n}") for n in range(count)]
            for incident_id in closed:
                await close_incident(client, incident_id)
        finally:
            await client.close()
    async with await start_node(db_path, settings(**limits)) as node:
        yield node, token, closed


def _in_memory(node: WarroomNode, incidents: list[int]) -> list[int]:
    return [i for i in incidents if i in node.hub._cache.loaded]


async def test_a_subscribe_past_the_follow_limit_is_refused_and_loads_nothing(
    db_path: Path,
) -> None:
    async with _node_after_closing(db_path, 5, follows_per_connection=3) as (node, token, closed):
        assert _in_memory(node, closed) == []
        peer = await Peer.open(node.url, token)
        for incident_id in closed[:3]:
            answer = await peer.request({"type": "subscribe", "incident_id": incident_id})
            assert answer["type"] == "snapshot"
        refused = await peer.request({"type": "subscribe", "incident_id": closed[3]})
        assert (refused["type"], refused["code"]) == ("error", "too_large")
        assert "at most 3 incidents" in refused["message"]
        assert _in_memory(node, closed) == closed[:3]  # the fourth was not loaded
        # Following one again is not one more; leaving one makes room for another.
        again = await peer.request({"type": "subscribe", "incident_id": closed[0], "since": 0})
        assert again["type"] == "events"
        await peer.request({"type": "unsubscribe", "incident_id": closed[0]})
        taken = await peer.request({"type": "subscribe", "incident_id": closed[3]})
        assert taken["type"] == "snapshot"
        # Another connection has its own count.
        other = await Peer.open(node.url, token)
        assert (await other.request({"type": "subscribe", "incident_id": closed[4]}))[
            "type"
        ] == "snapshot"
        await peer.close()
        await other.close()


async def test_the_client_drops_a_follow_the_limit_refuses(db_path: Path) -> None:
    async with _node_after_closing(db_path, 2, follows_per_connection=1) as (node, token, closed):
        client = WarroomClient(node.url, token, reconnect=False)
        await client.start()
        try:
            await client.follow(closed[0])
            with pytest.raises(CommandRefused, match="too_large: a connection follows at most 1"):
                await client.follow(closed[1])
            assert closed[1] not in client.states
            await client.unfollow(closed[0])
            assert (await client.follow(closed[1])).incident.id == closed[1]
        finally:
            await client.close()


async def test_closed_incidents_read_past_the_bound_are_dropped_oldest_first(
    db_path: Path,
) -> None:
    async with _node_after_closing(db_path, 6, closed_incidents_held=2) as (node, token, closed):
        peer = await Peer.open(node.url, token)
        followed = await peer.request({"type": "subscribe", "incident_id": closed[0]})
        assert followed["type"] == "snapshot"
        for incident_id in closed[1:]:
            page = await peer.request({"type": "read_log", "incident_id": incident_id})
            assert page["type"] == "events"
        # The followed one is kept whatever the bound; of those only read, the last two.
        assert _in_memory(node, closed) == [closed[0], *closed[-2:]]
        # A dropped one is loaded again when read.
        page = await peer.request({"type": "read_log", "incident_id": closed[1]})
        assert page["events"][-1]["body"]["phase"] == "postmortem_done"
        await peer.close()


async def test_a_user_past_the_follow_limit_over_all_connections_is_refused(
    db_path: Path,
) -> None:
    """The per-connection bound times the connections a user may open was one user's only
    bound (32 x 16): `[limits] follows_per_user` counts the follows over all of them, refuses
    one more `too_large` as the per-connection bound does, and gives them back when a
    connection unsubscribes or closes."""
    bob_token = await create_user(db_path, "bob")
    limits = {"follows_per_connection": 2, "follows_per_user": 3}
    async with _node_after_closing(db_path, 6, **limits) as (node, token, closed):
        first, second = await Peer.open(node.url, token), await Peer.open(node.url, token)
        for peer, incident_id in ((first, closed[0]), (first, closed[1]), (second, closed[2])):
            answer = await peer.request({"type": "subscribe", "incident_id": incident_id})
            assert answer["type"] == "snapshot"
        refused = await second.request({"type": "subscribe", "incident_id": closed[3]})
        assert (refused["type"], refused["code"]) == ("error", "too_large")
        assert "a user follows at most 3 incidents" in refused["message"]
        assert _in_memory(node, closed) == closed[:3]  # the fourth was not loaded
        # Following one again is not one more; another user has their own count.
        again = await second.request({"type": "subscribe", "incident_id": closed[2], "since": 0})
        assert again["type"] == "events"
        bob = await Peer.open(node.url, bob_token)
        assert (await bob.request({"type": "subscribe", "incident_id": closed[3]}))[
            "type"
        ] == "snapshot"
        await bob.close()
        # An unsubscribe on one connection makes room on another.
        await first.request({"type": "unsubscribe", "incident_id": closed[0]})
        taken = await second.request({"type": "subscribe", "incident_id": closed[3]})
        assert taken["type"] == "snapshot"
        # A closed connection gives back what it followed (closed[1]).
        await first.close()
        await node.server.until_connections_at_most(1)  # the server saw it go
        third = await Peer.open(node.url, token)
        taken = await third.request({"type": "subscribe", "incident_id": closed[4]})
        assert taken["type"] == "snapshot"
        refused = await third.request({"type": "subscribe", "incident_id": closed[0]})
        assert (refused["type"], refused["code"]) == ("error", "too_large")
        # An unsubscribe sent with the subscribe, before either is answered, makes room too
        # (and the incident it asks for, never loaded, is loaded for it).
        assert closed[5] not in _in_memory(node, closed)
        await third.send({"type": "unsubscribe", "incident_id": closed[4]})
        taken = await third.request({"type": "subscribe", "incident_id": closed[5]})
        assert taken["type"] == "snapshot"
        await second.close()
        await third.close()


async def test_the_client_drops_a_follow_the_user_limit_refuses(db_path: Path) -> None:
    limits = {"follows_per_connection": 2, "follows_per_user": 2}
    async with _node_after_closing(db_path, 3, **limits) as (node, token, closed):
        desk, laptop = (WarroomClient(node.url, token, reconnect=False) for _ in range(2))
        for client in (desk, laptop):
            await client.start()
        try:
            await desk.follow(closed[0])
            await desk.follow(closed[1])
            with pytest.raises(CommandRefused, match="too_large: a user follows at most 2"):
                await laptop.follow(closed[2])
            assert closed[2] not in laptop.states
            await desk.close()
            await node.server.until_connections_at_most(1)
            assert (await laptop.follow(closed[2])).incident.id == closed[2]
        finally:
            await desk.close()
            await laptop.close()
