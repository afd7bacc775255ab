"""Tells a node what the other nodes on its PostgreSQL database committed: a dedicated connection
LISTENs on the changes channel, checks itself with a ping, and is re-established when it is lost.

A notification names an incident and its last seq, and carries the committed events when they fit
in it; otherwise (or after a gap) the node reads them from the table. A notification lost with a
connection costs nothing but the time until the next one, or until the check the node runs
whenever the feed (re)connects and every few seconds.

It follows the triage channel too: a notification there only says that triage items changed; the
node reads the rows written since the last change number it saw.

Any role that may connect to the database may NOTIFY any channel (PostgreSQL asks no privilege
for it), so a notification is not proof of a commit. Carried events are used only when the
notifying backend runs as this node's own role (looked up in `pg_stat_activity`, which every
role may read); from any other backend, or before its role is known, a notification is only a
hint and the node reads the events from the table, the truth. A malformed payload is ignored
(logged briefly, never in full): the periodic check repairs whatever it hid.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
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

LOOK_UP_AT_MOST_EVERY = 0.1
"""Seconds between two lookups of this role's sessions asked for by notifications from unknown
backends: a flood of forged notifications costs the database ten small queries a second."""
MAX_HELD = 1_000
"""Notifications held while the role of their sender is looked up; beyond, they are handed on
at once as mere hints (read back from the table)."""
MAX_STRANGERS = 1_000
"""Backends known not to run as this node's role, remembered until the next periodic lookup."""
LOGGED_PAYLOAD = 60
"""Characters of an ignored payload that go into the log line (of up to 7,999 bytes)."""

_CHANGE = re.compile(r"([1-9][0-9]{0,17}):([0-9]{1,18})(?::(.*))?", re.DOTALL)
"""`INCIDENT:SEQ[:EVENTS]`; 18 digits at most, so both fit a bigint."""
_OWN_SESSIONS = (
    "SELECT pid FROM pg_stat_activity WHERE usename = current_user AND datname = current_database()"
)

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
        self._own_sessions: frozenset[int] = frozenset()
        """The backend pids running as this node's role, as last looked up."""
        self._strangers: set[int] = set()
        """Backends that notified and were not this node's role at a lookup after that."""
        self._held: list[tuple[int, int, int, str]] = []
        """(pid, incident, seq, carried) of the notifications waiting for a lookup, in order."""
        self._looked_up_at = -LOOK_UP_AT_MOST_EVERY
        self._look_up = asyncio.Event()

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

        def on_lost(_: object) -> None:
            lost.set()
            self._look_up.set()

        conn.add_termination_listener(on_lost)
        await self._look_up_own_sessions(conn)
        await conn.add_listener(CHANGES_CHANNEL, self._notified)
        if self._on_triage is not None:
            await conn.add_listener(TRIAGE_CHANNEL, self._triage_notified)
        log.info("following the changes of %s", self._where)
        self._on_connected()
        # `asyncio.timeout`, never `wait_for`: on Python 3.11 `wait_for` loses a cancellation
        # that arrives as what it waits for finishes, and the node's shutdown then hangs.
        try:
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(PING_EVERY):
                        await self._look_up.wait()
                if lost.is_set():
                    break
                periodic = not self._held
                await asyncio.sleep(self._looked_up_at + LOOK_UP_AT_MOST_EVERY - time.monotonic())
                # The lookup is the ping: the list stays fresh even when every notifier is known.
                await self._look_up_own_sessions(conn, forget_strangers=periodic)
        finally:
            self._hand_on_held()  # as hints if the lookup failed: the table has the events
        raise ConnectionError("the connection closed")

    async def _look_up_own_sessions(
        self, conn: asyncpg.Connection[asyncpg.Record], *, forget_strangers: bool = True
    ) -> None:
        self._look_up.clear()
        async with asyncio.timeout(PING_TIMEOUT):
            rows = await conn.fetch(_OWN_SESSIONS)
        self._own_sessions = frozenset(int(row[0]) for row in rows)
        self._looked_up_at = time.monotonic()
        if forget_strangers or len(self._strangers) >= MAX_STRANGERS:
            self._strangers.clear()
        self._strangers.update(pid for pid, *_ in self._held if pid not in self._own_sessions)
        self._hand_on_held()

    def _hand_on_held(self) -> None:
        held, self._held = self._held, []
        for pid, incident, seq, carried in held:
            self._hand_on(pid, incident, seq, carried)

    def _hand_on(self, pid: int, incident: int, seq: int, carried: str) -> None:
        """Hand on a change, with its carried events only if `pid` runs as this node's role."""
        trusted = carried and pid in self._own_sessions
        self._on_change(incident, seq, tuple(carried.split("\n")) if trusted else ())

    def _notified(self, _conn: object, pid: int, _channel: str, payload: object) -> None:
        text = str(payload)
        change = _CHANGE.fullmatch(text)
        if change is None:
            shown = text[:LOGGED_PAYLOAD].encode("unicode_escape").decode("ascii")
            log.warning(
                "ignored a malformed change notification (%d characters): %s...", len(text), shown
            )
            return
        incident, seq, carried = int(change[1]), int(change[2]), change[3] or ""
        known = pid in self._own_sessions or pid in self._strangers or not carried
        if (known and not self._held) or len(self._held) >= MAX_HELD:
            self._hand_on(pid, incident, seq, carried)
        else:  # in order behind the held ones, until the sender's role is known
            self._held.append((pid, incident, seq, carried))
            self._look_up.set()

    def _triage_notified(self, _conn: object, _pid: int, _channel: str, _payload: object) -> None:
        if self._on_triage is not None:
            self._on_triage()
