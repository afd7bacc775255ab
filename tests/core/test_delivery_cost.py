"""What one frame to one console costs the server, counted in Python calls rather than timed: at
50 consoles on an incident every frame of a turn is sent 50 times, so the per-delivery path is
what a burst's CPU per write grows with (docs/performance.md, "The M = 50 per-delivery cost")."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from warroom.server.connection import Connection
from warroom.server.ratelimit import FrameBudget

FRAMES = 50
FRAME = '{"type":"events","id":null,"incident_id":1,"events":[]}'


@asynccontextmanager
async def _console() -> AsyncIterator[tuple[Connection, Any]]:
    """A real websocket console and the server's `Connection` to it, its sender running."""
    opened: asyncio.Future[Connection] = asyncio.get_running_loop().create_future()
    done = asyncio.Event()

    async def handle(ws: ServerConnection) -> None:
        conn = Connection(ws, "alice", 1_000, FrameBudget(100, 100, 1e9, 10**9))
        sender = asyncio.create_task(conn.run_sender())
        opened.set_result(conn)
        await done.wait()
        sender.cancel()

    async with serve(handle, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}", compression=None) as client:
            yield await opened, client
            done.set()


def _counting(calls: list[str]) -> Any:
    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call":
            calls.append(frame.f_code.co_qualname)

    return profile


async def test_a_frame_to_an_idle_console_wakes_its_sender_without_an_event() -> None:
    async with _console() as (conn, client):
        calls: list[str] = []
        sys.setprofile(_counting(calls))
        try:
            for _ in range(FRAMES):
                conn.send(FRAME)  # the sender is idle each time: the turn-by-turn case
                assert await client.recv() == FRAME
        finally:
            sys.setprofile(None)
    # An `asyncio.Event` per console cost its wait coroutine (twice: called, resumed), `set`,
    # `clear` and a scan of its waiters for every frame to every follower.
    assert not [c for c in calls if c.startswith("Event.")]
    # The whole path, the server's sender and websockets' send plus this test's receive: 96
    # Python calls per frame, 101 with the Event.
    assert len(calls) / FRAMES < 100
