"""One console's connection: who it is, what it follows, and its outgoing queue, bounded in frames
and in bytes."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections import deque

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from warroom.server.ratelimit import FrameBudget

LIVE: weakref.WeakSet[Connection] = weakref.WeakSet()
"""Every console connection not yet garbage, for the node's gauges (read at scrape time only)."""

CLOSE_TOO_SLOW = 1013
"""Close code ("try again later") for a console that stopped reading; it resumes with `since`."""
CLOSE_POLICY = 1008
"""Close code for a connection the server ends on purpose: its user was revoked, or the user
holds more connections than allowed."""


class BinaryFrame(bytes):
    """A frame sent as a binary message (a packed snapshot, `protocol.packed`); every other
    frame is text."""


def wire_frame(frame: str | bytes) -> str | bytes:
    """The frame in a form whose `len` is its size on the wire: an ASCII str as it is (`isascii`
    is a flag CPython keeps, not a scan), anything else encoded to UTF-8 here, once. The sender
    passes bytes to websockets as a text frame, so nothing is encoded twice; counting characters
    let a frame of 4-byte characters hold four times the bytes the queue bound allows."""
    if isinstance(frame, bytes) or frame.isascii():
        return frame
    return frame.encode()


class Connection:
    """Frames for a console wait in a bounded queue drained by the console's own sender task, so
    one slow console never delays the others. A console whose queue overflows (more than
    `queue_limit` frames or `queue_bytes` bytes of UTF-8 waiting) is disconnected and catches up by
    sequence number when it returns, which is never a gap."""

    def __init__(
        self,
        ws: ServerConnection,
        user: str,
        queue_limit: int,
        budget: FrameBudget,
        queue_bytes: int = 4 * 1024 * 1024,
    ):
        self.ws = ws
        self.user = user
        self.budget = budget
        self.subscriptions: set[int] = set()
        self.closed = False
        self.revoked = False
        self._queue: deque[str | bytes] = deque()
        self._queue_limit = queue_limit
        self._queue_bytes = queue_bytes
        self._queued = 0
        """UTF-8 bytes waiting in `_queue`; a frame is counted until the sender takes it."""
        self._wakeup: asyncio.Future[None] | None = None
        """What the idle sender awaits; a plain future rather than an `asyncio.Event`, whose wait
        and set cost a coroutine, a waiters deque and a scan of it for every frame to every
        follower (the work that grows with the number of consoles on an incident)."""
        self._closer: asyncio.Task[None] | None = None
        LIVE.add(self)

    @property
    def queued(self) -> int:
        """Frames waiting to be sent to this console."""
        return len(self._queue)

    @property
    def queued_bytes(self) -> int:
        """What this connection holds in queued frames, in bytes as they go on the wire."""
        return self._queued

    def send(self, frame: str | bytes) -> None:
        """Queue a text frame (bytes: already UTF-8, as large catch-up frames are kept); never
        blocks the caller. A frame sent to many consoles is best passed through `wire_frame`
        once by the caller, so it is encoded once for all of them."""
        if self.closed:
            return
        frame = wire_frame(frame)
        size = len(frame)
        if len(self._queue) >= self._queue_limit or self._queued + size > self._queue_bytes:
            self._queue.clear()
            self._queued = 0
            self.drop("console fell too far behind; reconnect and resume from your last seq")
            return
        self._queue.append(frame)
        self._queued += size
        wakeup = self._wakeup
        if wakeup is not None:
            self._wakeup = None
            if not wakeup.done():  # cancelled with the sender
                wakeup.set_result(None)

    def drop(self, reason: str, code: int = CLOSE_TOO_SLOW) -> None:
        """Close the connection from the server side without waiting for it."""
        if self.closed:
            return
        self.closed = True
        self._closer = asyncio.create_task(self.ws.close(code, reason))

    async def run_sender(self) -> None:
        """Drain the queue into the socket until the connection ends."""
        loop = asyncio.get_running_loop()
        with contextlib.suppress(ConnectionClosed):
            while True:
                while not self._queue:
                    self._wakeup = loop.create_future()
                    await self._wakeup
                frame = self._queue.popleft()
                self._queued -= len(frame)
                await self.ws.send(frame, text=type(frame) is not BinaryFrame)
