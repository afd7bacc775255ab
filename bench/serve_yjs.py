"""Launcher: the peer, a pycrdt-websocket Yjs sync server persisting to a SQLite YStore."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from typing import Any

import anyio
from anyio.abc import TaskGroup
from pycrdt import Channel, Doc
from pycrdt.store import SQLiteYStore, YDocNotFound
from pycrdt.websocket import YRoom, exception_logger
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

log = logging.getLogger("bench.yjs")


class WebsocketChannel(Channel):
    """pycrdt's transport interface over a `websockets` server connection."""

    def __init__(self, ws: ServerConnection, path: str) -> None:
        self._ws = ws
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except ConnectionClosed:
            raise StopAsyncIteration from None

    async def send(self, message: bytes) -> None:
        with contextlib.suppress(ConnectionClosed):  # the room drops it on its next receive
            await self._ws.send(message)

    async def recv(self) -> bytes:
        message = await self._ws.recv()
        return message if isinstance(message, bytes) else message.encode()


class Rooms:
    """One YRoom per URL path, each loaded from and persisted to the shared SQLite YStore file."""

    def __init__(self, db: str, group: TaskGroup) -> None:
        self._db = db
        self._group = group
        self._rooms: dict[str, YRoom] = {}
        self._lock = anyio.Lock()

    async def get(self, name: str) -> YRoom:
        async with self._lock:
            room = self._rooms.get(name)
            if room is None:
                room = self._rooms[name] = await self._open(name)
            return room

    async def _open(self, name: str) -> YRoom:
        store = SQLiteYStore(path=name, log=log)
        store.db_path = self._db
        await self._group.start(store.start)
        assert store.db_initialized is not None
        await store.db_initialized.wait()
        # Same durability as warroom: WAL and a full fsync at every commit.
        await store._db.execute("PRAGMA journal_mode = WAL")
        await store._db.execute("PRAGMA synchronous = FULL")
        doc: Doc[Any] = Doc()
        with contextlib.suppress(YDocNotFound):  # a new room
            await store.apply_updates(doc)
        room = YRoom(
            ready=True, ystore=store, ydoc=doc, exception_handler=exception_logger, log=log
        )
        await self._group.start(room.start)
        return room


async def run(port: int, db: str) -> None:
    stop = anyio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with anyio.create_task_group() as group:
        rooms = Rooms(db, group)

        async def handle(ws: ServerConnection) -> None:
            assert ws.request is not None
            path = ws.request.path
            room = await rooms.get(path)
            await room.serve(WebsocketChannel(ws, path))

        async with serve(handle, "127.0.0.1", port, max_size=None) as server:
            print(f"READY {next(iter(server.sockets)).getsockname()[1]}", flush=True)
            await stop.wait()
        group.cancel_scope.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args.port, args.db))


if __name__ == "__main__":
    main()
