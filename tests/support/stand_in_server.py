"""A stand-in warroom server on 127.0.0.1 for tests of what a console does with frames a real
server never sends: it welcomes a client (offering the compact encodings), answers `subscribe`
with whatever frames a test makes, and `list_incidents` with none. The client is the real one."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from warroom.client.session import WarroomClient

Answer = Callable[[dict[str, Any], int], list[dict[str, Any]]]
"""The frames a stand-in server sends for a client frame (the nth subscribe it got)."""


@asynccontextmanager
async def stand_in(
    answer: Answer, asked: list[dict[str, Any]], welcome: dict[str, Any] | None = None
) -> AsyncIterator[WarroomClient]:
    """A started client of a server that answers subscribes with `answer`, lists with no
    incidents and nothing else; every client frame is kept in `asked`. `welcome` adds to or
    overrides the welcome frame's fields."""

    async def serve_one(ws: ServerConnection) -> None:
        greeting = {"type": "welcome", "protocol": 2, "server": "stand-in", "user": "bob"}
        greeting["features"] = ["compact", "compact_snapshot"]
        await ws.send(json.dumps({**greeting, **(welcome or {})}))
        subscribes = 0
        # The client closing (as it does when a test ends) ends this server's side too.
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                frame = json.loads(raw)
                asked.append(frame)
                if frame["type"] == "list_incidents":
                    reply = {"type": "incidents", "id": frame["id"], "incidents": []}
                    await ws.send(json.dumps(reply))
                elif frame["type"] == "subscribe":
                    subscribes += 1
                    for each in answer(frame, subscribes):
                        await ws.send(json.dumps(each))

    async with serve(serve_one, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        client = WarroomClient(f"ws://127.0.0.1:{port}", "token", reconnect=False)
        await client.start()
        try:
            yield client
        finally:
            await client.close()
