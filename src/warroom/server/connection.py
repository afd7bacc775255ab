"""One console's connection: who it is, what it follows, and its bounded outgoing queue."""

from __future__ import annotations

import asyncio
import contextlib
import weakref

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from warroom.server.ratelimit import TokenBucket

LIVE: weakref.WeakSet[Connection] = weakref.WeakSet()
"""Every console connection not yet garbage, for the node's gauges (read at scrape time only)."""

CLOSE_TOO_SLOW = 1013
"""Close code ("try again later") for a console that stopped reading; it resumes with `since`."""


class Connection:
    """Frames for a console wait in a bounded queue drained by the console's own sender task, so
    one slow console never delays the others. A console whose queue overflows is disconnected and
    catches up by sequence number when it returns, which is never a gap."""

    def __init__(self, ws: ServerConnection, user: str, queue_limit: int, bucket: TokenBucket):
        self.ws = ws
        self.user = user
        self.bucket = bucket
        self.subscriptions: set[int] = set()
        self.closed = False
        self._queue: asyncio.Queue[str] = asyncio.Queue(queue_limit)
        self._closer: asyncio.Task[None] | None = None
        LIVE.add(self)

    @property
    def queued(self) -> int:
        """Frames waiting to be sent to this console."""
        return self._queue.qsize()

    def send(self, frame: str) -> None:
        """Queue a frame; never blocks the caller."""
        if self.closed:
            return
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.drop("console fell too far behind; reconnect and resume from your last seq")

    def drop(self, reason: str) -> None:
        """Close the connection from the server side without waiting for it."""
        if self.closed:
            return
        self.closed = True
        self._closer = asyncio.create_task(self.ws.close(CLOSE_TOO_SLOW, reason))

    async def run_sender(self) -> None:
        """Drain the queue into the socket until the connection ends."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                frame = await self._queue.get()
                await self.ws.send(frame)
