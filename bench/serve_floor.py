"""Launcher: the floor, a bare websockets broadcast server with no persistence and no checks.

It speaks the frames a warroom console's join and writes take, so that warroom is compared with
the same exchange done by nothing but the websocket library: a `welcome` as soon as the
connection opens (a console waits for it before subscribing), one reply to `subscribe`, an
`events` frame to everyone and an `ack` for every entry. Like warroom it refuses
permessage-deflate, so both pay for the same negotiated connection."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

WELCOME = json.dumps({"type": "welcome", "server": "floor", "features": []})


class Floor:
    """Numbers each entry, broadcasts it to every client as an `events` frame, then acks."""

    def __init__(self) -> None:
        self.clients: set[ServerConnection] = set()
        self.seq = 0

    async def handle(self, ws: ServerConnection) -> None:
        try:
            await ws.send(WELCOME)
            async for raw in ws:
                self._receive(ws, json.loads(raw))
        except ConnectionClosed:
            pass
        finally:
            self.clients.discard(ws)

    def _receive(self, ws: ServerConnection, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "subscribe":
            self.clients.add(ws)
            broadcast([ws], json.dumps({"type": "events", "id": frame["id"], "events": []}))
        elif kind == "add_entry":
            self.seq += 1
            event = {
                "seq": self.seq,
                "command_id": frame["id"],
                "body": {"type": "entry_added", "kind": "note", "text": frame["text"]},
            }
            broadcast(self.clients, json.dumps({"type": "events", "events": [event]}))
            broadcast([ws], json.dumps({"type": "ack", "id": frame["id"], "seq": self.seq}))


async def run(port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    floor = Floor()
    # warroom's server refuses permessage-deflate (`WarroomServer.listen`); so does the floor.
    async with serve(floor.handle, "127.0.0.1", port, compression=None) as server:
        print(f"READY {next(iter(server.sockets)).getsockname()[1]}", flush=True)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(run(parser.parse_args().port))


if __name__ == "__main__":
    main()
