"""Presence: followers are told who follows an incident, and consoles joining in numbers cost each
follower one presence frame per gathering time, not one per join."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

from tests.core.wire import Peer
from warroom.node import WarroomNode
from warroom.server.connection import Connection
from warroom.server.presence import (
    PRESENCE_EVERY,
    PRESENCE_LONGEST,
    PresenceSender,
    gathering_time,
)
from warroom.server.ratelimit import FrameBudget

AddUser = Callable[[str], Awaitable[str]]


async def _presence(peer: Peer, wanted: dict[str, int]) -> None:
    """Read frames until a presence frame lists exactly `wanted` (user: consoles)."""
    while True:
        frame = await peer.recv()
        if frame["type"] == "presence":
            users = {u["user"]: u["connections"] for u in frame["users"]}
            if users == wanted:
                return


async def test_followers_are_told_who_follows_the_incident_and_who_left(
    server: WarroomNode, add_user: AddUser
) -> None:
    alice, bob = await add_user("alice"), await add_user("bob")
    first = await Peer.open(server.url, alice)
    incident_id = await first.declare()
    second = await Peer.open(server.url, alice)
    other = await Peer.open(server.url, bob)
    for peer in (first, second, other):
        reply = await peer.request({"type": "subscribe", "incident_id": incident_id})
        assert reply["type"] == "snapshot", reply
    await _presence(first, {"alice": 2, "bob": 1})
    await _presence(other, {"alice": 2, "bob": 1})
    await other.close()
    await _presence(first, {"alice": 2})
    await first.close()
    await second.close()


def test_a_large_room_gathers_presence_longer_but_never_past_its_limit() -> None:
    assert gathering_time(0) == PRESENCE_EVERY
    assert gathering_time(50) == PRESENCE_EVERY
    assert gathering_time(200) > 3 * PRESENCE_EVERY
    assert gathering_time(100_000) == PRESENCE_LONGEST


@asynccontextmanager
async def _socket_pair() -> AsyncIterator[tuple[ServerConnection, ClientConnection]]:
    """A real websocket connection, both ends: the consoles' frames queue on the server end."""
    opened: asyncio.Future[ServerConnection] = asyncio.get_running_loop().create_future()
    done = asyncio.Event()

    async def handle(ws: ServerConnection) -> None:
        opened.set_result(ws)
        await done.wait()

    async with serve(handle, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}", compression=None) as client:
            yield await opened, client
            done.set()


async def test_joins_within_one_gathering_time_cost_each_follower_one_presence_frame() -> None:
    scheduled: list[tuple[float, Callable[[int], None], int]] = []

    def schedule(delay: float, callback: Callable[[int], None], incident_id: int) -> Any:
        scheduled.append((delay, callback, incident_id))

    async with _socket_pair() as (ws, client):
        followers: dict[Connection, None] = {}
        sender = PresenceSender(lambda _: followers.keys(), schedule)
        for n in range(200):
            user = ("alice", "bob", "carol")[n % 3]
            followers[Connection(ws, user, 100, FrameBudget(100, 100, 1e9, 10**9))] = None
            sender.changed(7)  # the join's own change, as the hub reports it
        assert len(scheduled) == 1
        delay, send, incident_id = scheduled.pop()
        assert delay == gathering_time(1)  # the first join started the gathering
        send(incident_id)
        assert [conn.queued for conn in followers] == [1] * 200
        sending = asyncio.create_task(next(iter(followers)).run_sender())
        frame = json.loads(await client.recv())
        sending.cancel()
        assert frame["type"] == "presence"
        assert frame["incident_id"] == 7
        assert frame["users"] == [
            {"user": "alice", "connections": 67},
            {"user": "bob", "connections": 67},
            {"user": "carol", "connections": 66},
        ]
        # The next change starts a new gathering, as long as the room's size asks for.
        sender.changed(7)
        assert [delay for delay, _, _ in scheduled] == [gathering_time(200)]
