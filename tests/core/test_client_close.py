"""Quitting a console closes its connection as a normal closure: the server hears 1000, not
1011 (internal error), which a client cancelled inside websockets' `async with connect` sends."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from warroom.client.session import WarroomClient, new_id
from warroom.client.updates import ConnectionStatus
from warroom.domain.commands import AddEntry
from warroom.protocol.frames import PROTOCOL_VERSION


@asynccontextmanager
async def close_recorder() -> AsyncIterator[tuple[str, asyncio.Future[int | None]]]:
    """A real websocket server on 127.0.0.1 that welcomes one client, reads until it leaves and
    records the close code it received; yields its address and that code's future."""
    received: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()

    async def serve_one(ws: ServerConnection) -> None:
        welcome = {"type": "welcome", "protocol": PROTOCOL_VERSION, "server": "recorder"}
        await ws.send(json.dumps({**welcome, "user": "alice"}))
        with contextlib.suppress(ConnectionClosed):
            async for _ in ws:
                pass
        received.set_result(ws.close_code)

    async with serve(serve_one, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}", received


async def test_quitting_closes_the_connection_with_a_normal_closure() -> None:
    async with close_recorder() as (url, received):
        client = WarroomClient(url, "token", reconnect=False)
        await client.start()
        await client.close()
        async with asyncio.timeout(10):  # a guard: the server hears the close at once
            code = await received
    assert code == CloseCode.NORMAL_CLOSURE
    assert client.status is ConnectionStatus.CLOSED


async def test_a_write_unanswered_at_quit_is_kept_not_failed() -> None:
    """The normal closure a console sends when it quits is not taken for a lost connection:
    a write the server has not answered stays pending (the outbox resends it on the next run),
    instead of failing as unreachable."""
    async with close_recorder() as (url, received):
        client = WarroomClient(url, "token")
        await client.start()
        write = client.submit(AddEntry(id=new_id(), incident_id=1, text="typed before quitting"))
        await client.close()
        async with asyncio.timeout(10):
            assert await received == CloseCode.NORMAL_CLOSURE
    assert not write.done()
    assert [frame["text"] for frame in client.pending_frames] == ["typed before quitting"]
    assert client.status is ConnectionStatus.CLOSED
