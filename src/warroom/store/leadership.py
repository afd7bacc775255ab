"""Which node of a war room runs the integrations: one leader at a time.

Pollers, update-clock reminders and outbound deliveries (PagerDuty, Slack, Statuspage) must run
once per war room, not once per node. On PostgreSQL the leader is the node whose dedicated
connection holds a session advisory lock; the others retry every couple of seconds, so one takes
over shortly after the leader dies (its session ends, and with it the lock). A leader that loses
its connection stops leading at once: it cannot tell whether its lock is still held. On SQLite
there is one node, and it always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from warroom.store.open import Store
from warroom.store.sqlite import SqliteStore
from warroom.store.url import PostgresUrl

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger(__name__)

LEADER_LOCK = 0x77617272_6C656164
"""The advisory lock's key ("warrlead"); advisory locks are per database, so war rooms in other
databases of the same server do not compete for it."""

RETRY_SECONDS = 2.0
"""How often a follower asks for the lock, and a leader checks that its connection is alive."""


class Leadership(Protocol):
    """Whether this node leads, and who wants to hear when that changes."""

    @property
    def is_leader(self) -> bool: ...

    def on_change(self, listener: Callable[[bool], None]) -> None:
        """Call `listener(leading)` on each change from now on."""

    async def start(self) -> None:
        """Begin taking part; a node that can lead at once does so before this returns."""

    async def close(self) -> None:
        """Stop leading (the lock is released) and stop trying."""


class AlwaysLeader:
    """A single node (SQLite): nobody else could run the integrations."""

    is_leader = True

    def on_change(self, listener: Callable[[bool], None]) -> None:
        pass  # it never changes

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass


class AdvisoryLockLeadership:
    """Leadership by `pg_try_advisory_lock` on a connection of its own (not the store's pool,
    whose connections come and go, and a session lock lives as long as its session)."""

    def __init__(
        self,
        url: PostgresUrl,
        password_file: Path | None = None,
        *,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self._url = url
        self._password_file = password_file
        self._retry = retry_seconds
        self._leading = False
        self._listeners: list[Callable[[bool], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._first_try = asyncio.Event()

    @property
    def is_leader(self) -> bool:
        return self._leading

    def on_change(self, listener: Callable[[bool], None]) -> None:
        self._listeners.append(listener)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="warroom-leadership")
        await self._first_try.wait()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._set(False)

    async def _run(self) -> None:
        # Imported here, as the store does: SQLite nodes never pay for the driver.
        import asyncpg

        from warroom.store.postgres import _read_password_file

        password = None
        if self._password_file is not None:
            password = await asyncio.to_thread(_read_password_file, self._password_file)
        while True:
            conn: asyncpg.Connection[asyncpg.Record] | None = None
            try:
                conn = await asyncpg.connect(
                    self._url.dsn,
                    password=password,
                    timeout=10,
                    server_settings={"application_name": "warroom-leadership"},
                )
                await self._hold_or_wait(conn)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
                if self._leading:
                    log.warning("lost the integrations leadership: %s", exc)
                self._set(False)
            finally:
                self._first_try.set()
                if conn is not None:
                    conn.terminate()  # ends the session, and so releases the lock at once
            await asyncio.sleep(self._retry)

    async def _hold_or_wait(self, conn: asyncpg.Connection[asyncpg.Record]) -> None:
        """Ask for the lock until granted, then check every few seconds that it is still held."""
        check = self._retry * 2  # a hung query means a lost connection, not a wait forever
        while True:
            if not self._leading:
                got = await conn.fetchval(
                    "SELECT pg_try_advisory_lock($1)", LEADER_LOCK, timeout=check
                )
                if got:
                    log.info("this node now runs the integrations (leader)")
                    self._set(True)
            else:
                await conn.fetchval("SELECT 1", timeout=check)
            self._first_try.set()
            await asyncio.sleep(self._retry)

    def _set(self, leading: bool) -> None:
        if leading is self._leading:
            return
        self._leading = leading
        for listener in self._listeners:
            listener(leading)


def leadership_for(store: Store, password_file: Path | None = None) -> Leadership:
    """The leadership a node on `store` takes part in: the lock on PostgreSQL (`password_file`
    as the store was opened with), always-leader on SQLite."""
    if isinstance(store, SqliteStore):
        return AlwaysLeader()
    return AdvisoryLockLeadership(store.url, password_file)
