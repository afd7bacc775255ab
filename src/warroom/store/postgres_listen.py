"""Tells a node what the other nodes on its PostgreSQL database committed: a dedicated connection
LISTENs on the changes channel, checks itself with a ping, and is re-established when it is lost.

A notification names an incident and its last seq, and carries the committed events when they fit
in it; otherwise (or after a gap) the node reads them from the table. A notification lost with a
connection costs nothing but the time until the next one, or until the check the node runs
whenever the feed (re)connects and every few seconds.

It follows the triage channel too: a notification there only says that triage items changed; the
node reads the rows written since the last change number it saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from warroom.store.postgres import CHANGES_CHANNEL, TRIAGE_CHANNEL, PostgresStore, _reason
from warroom.store.url import PostgresUrl

log = logging.getLogger(__name__)

PING_EVERY = 5.0
"""Seconds between two pings of an idle listening connection: a connection that died without a
word (a failover, a dropped route) is noticed within this and `PING_TIMEOUT`."""
PING_TIMEOUT = 5.0
RETRY_FIRST = 0.2
"""Seconds before the first attempt to reconnect; it doubles up to `RETRY_MOST`."""
RETRY_MOST = 2.0

_LOST = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)

OnChange = Callable[[int, int, tuple[str, ...]], None]
"""Called with (incident id, its last committed seq, the events carried as `Event` JSON, if any)
for every notification."""


class ChangeListener:
    """Follows the changes channel of one database until cancelled."""

    def __init__(
        self,
        store: PostgresStore,
        on_change: OnChange,
        on_connected: Callable[[], None],
        on_triage: Callable[[], None] | None = None,
    ) -> None:
        """Args:
        on_change: gets each notification; it must only schedule work.
        on_connected: called each time the feed (re)connects, so the node checks for what it
            may have missed while it was not listening.
        on_triage: called for each notification of the triage channel (None: not followed);
            it must only schedule work.
        """
        self._url: PostgresUrl = store.url
        self._password = store.password
        self._where = store.where
        self._on_change = on_change
        self._on_connected = on_connected
        self._on_triage = on_triage

    async def run(self) -> None:
        """Listen, reconnecting whenever the connection is lost, until cancelled."""
        delay = RETRY_FIRST
        told = False
        while True:
            try:
                conn = await asyncpg.connect(
                    self._url.dsn,
                    password=self._password,
                    timeout=10,
                    server_settings={"application_name": "warroom-listen"},
                )
            except _LOST as exc:
                if not told:  # once per outage, not at every attempt
                    log.warning("cannot follow %s (retrying): %s", self._where, _reason(exc))
                    told = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MOST)
                continue
            delay, told = RETRY_FIRST, False
            try:
                await self._follow(conn)
            except _LOST as exc:
                log.warning("lost the change feed of %s (reconnecting): %s", self._where, exc)
            finally:
                with contextlib.suppress(*_LOST):
                    async with asyncio.timeout(PING_TIMEOUT):
                        await conn.close()

    async def _follow(self, conn: asyncpg.Connection[asyncpg.Record]) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _: lost.set())
        await conn.add_listener(CHANGES_CHANNEL, self._notified)
        if self._on_triage is not None:
            await conn.add_listener(TRIAGE_CHANNEL, self._triage_notified)
        log.info("following the changes of %s", self._where)
        self._on_connected()
        # `asyncio.timeout`, never `wait_for`: on Python 3.11 `wait_for` loses a cancellation
        # that arrives as what it waits for finishes, and the node's shutdown then hangs.
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PING_EVERY):
                    await lost.wait()
                break
            async with asyncio.timeout(PING_TIMEOUT):
                await conn.execute("SELECT 1")
        raise ConnectionError("the connection closed")

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        incident, _, rest = str(payload).partition(":")
        seq, _, carried = rest.partition(":")
        try:
            self._on_change(int(incident), int(seq), tuple(carried.split("\n")) if carried else ())
        except ValueError:
            log.warning("ignored a malformed change notification %r", payload)

    def _triage_notified(self, _conn: object, _pid: int, _channel: str, _payload: object) -> None:
        if self._on_triage is not None:
            self._on_triage()
