"""SQLite implementation of the event store: WAL, `synchronous=FULL`, one writer, migrations.

Rows become models here and nowhere else. Writes run in `BEGIN IMMEDIATE` transactions so a second
process (for example `warroom user add` while a server runs) waits for the lock instead of failing
half-way.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import cast

import aiosqlite

from warroom.domain.events import Event
from warroom.domain.incident import IncidentSummary
from warroom.domain.phase import Phase
from warroom.domain.triage import TriageItem
from warroom.domain.triage_log import TRIAGE_LOG, TriageRecord
from warroom.store import columns
from warroom.store.base import STATE_VERSION, CommandKey, StoredSnapshot, StoreError, User
from warroom.store.migrations import MIGRATIONS
from warroom.store.sqlite_check import (
    READ_AT_START,
    BackgroundCheck,
    needs_background_check,
    raise_on_problem,
)
from warroom.store.sqlite_probe import CommitProbe

_SUMMARIES_VERSION = 4
"""The migration that added summaries and snapshots; older files are backfilled by it."""

_INSERT_EVENT = (
    "INSERT INTO events (incident_id, seq, at, actor, command_id, type, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# A summary saved with new events marks the incident unarchived: those events are in the live
# log, and the next archive run moves them too.
_SAVE_SUMMARY = (
    "INSERT OR REPLACE INTO incident_summaries (id, phase, resolved_at, archived, body) "
    "VALUES (?, ?, ?, 0, ?)"
)
_SAVE_SNAPSHOT = (
    "INSERT OR REPLACE INTO snapshots (incident_id, seq, version, state) VALUES (?, ?, ?, ?)"
)
_EVENT_COLUMNS = "incident_id, seq, at, actor, command_id, body"
_SAVE_TRIAGE_ITEM = "INSERT OR REPLACE INTO triage_items (id, group_key, body) VALUES (?, ?, ?)"
_COMMAND_LOOKUP_CHUNK = 400
"""Keys per lookup query: two parameters each, well under SQLite's limit on parameters."""

_Batch = tuple[str, Sequence[tuple[object, ...]]]
"""One statement and the rows it is run for (`executemany`)."""


class _BeginFailed(Exception):
    """`BEGIN IMMEDIATE` itself failed: the database is locked by another process or read-only."""

    def __init__(self, cause: sqlite3.Error) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _write_all(conn: sqlite3.Connection, batches: Sequence[_Batch]) -> None:
    """Run the batches as one `BEGIN IMMEDIATE` transaction, rolled back on any failure; on the
    connection's own thread."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise _BeginFailed(exc) from None
    try:
        for sql, rows in batches:
            if rows:
                conn.executemany(sql, rows)
        conn.execute("COMMIT")
    except BaseException:
        # SQLite may already have rolled back (e.g. on SQLITE_FULL); then nothing is left to undo.
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise


class SqliteStore:
    """An `EventStore` in one SQLite file."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path
        self._where = str(path)
        # One connection serves every caller; a transaction spans several awaits, so writers
        # take turns or one's statements would land inside another's transaction.
        self._write_lock = asyncio.Lock()
        self.background_check: BackgroundCheck | None = None
        """The whole-file integrity check of a large file, running after the open."""
        self._probe: CommitProbe | None = None
        """Tells `data_version_now` without the connection's thread; None until opened."""

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        """Open (creating if needed) the database at `path`, readable by its owner only.

        Raises:
            StoreError: the file is not a warroom database, is corrupt, or cannot be opened.
        """
        try:
            path = await asyncio.to_thread(_create_private_file, path)
            db = await aiosqlite.connect(path, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from None
        store = cls(db, path)
        try:
            await store._configure()
            await store._migrate()
        except sqlite3.DatabaseError as exc:
            await db.close()
            raise StoreError(
                f"{path} is not a usable warroom database ({exc}); "
                "restore it from a backup or move it aside to start fresh"
            ) from None
        except StoreError:
            await db.close()
            raise
        # Without a probe, every handshake asks the store's thread, as before.
        with contextlib.suppress(sqlite3.Error, OSError, ValueError):
            store._probe = await asyncio.to_thread(CommitProbe.open, path)
        if store.background_check is not None:
            store.background_check.start()
        return store

    async def _configure(self) -> None:
        await self._db.execute("PRAGMA busy_timeout = 5000")
        checks = ["PRAGMA quick_check"]
        if needs_background_check(self.path):
            # Start-up must not read the whole history: check what it reads now, the rest in
            # the background (store/sqlite_check.py).
            async with self._db.execute("SELECT name FROM sqlite_master") as cursor:
                tables = {str(row[0]) for row in await cursor.fetchall()}
            checks = [f"PRAGMA quick_check({t})" for t in READ_AT_START if t in tables]
            self.background_check = BackgroundCheck(self.path)
        for check in checks:
            async with self._db.execute(check) as cursor:
                raise_on_problem(await cursor.fetchall())
        await self._db.execute("PRAGMA journal_mode = WAL")
        # FULL: an acknowledged write survives power loss, not only a process crash.
        await self._db.execute("PRAGMA synchronous = FULL")

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise sqlite3.DatabaseError(
                f"schema version {version} is newer than this warroom ({len(MIGRATIONS)})"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            async with self._transaction("migrate the schema of"):
                for statement in script:
                    await self._db.execute(statement)
                if number == _SUMMARIES_VERSION:
                    await self._backfill()
                await self._db.execute(f"PRAGMA user_version = {number}")

    async def _backfill(self) -> None:
        """Give every incident of a database written before summaries and snapshots existed its
        summary and snapshot, by replaying its events once (inside the migration's transaction)."""
        async with self._db.execute("SELECT DISTINCT incident_id FROM events") as cursor:
            incident_ids = [int(row[0]) for row in await cursor.fetchall()]
        for incident_id in incident_ids:
            await self._derive_summary(incident_id)

    async def _derive_summary(self, incident_id: int) -> None:
        """Rebuild one incident's summary and snapshot from its latest snapshot and the events
        after it; only inside a write transaction. The sequencer hands both in with its events;
        this is for tools and seeding that append events alone, and for old databases."""
        async with self._db.execute(
            "SELECT seq, state FROM snapshots WHERE incident_id = ? AND version = ?",
            (incident_id, STATE_VERSION),
        ) as cursor:
            snapshot = await cursor.fetchone()
        state = columns.snapshot_state(None if snapshot is None else str(snapshot[1]))
        after = state.seq if state is not None else 0
        async with self._db.execute(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE incident_id = ? AND seq > ? "
            f"UNION ALL SELECT {_EVENT_COLUMNS} FROM archived_events "
            "WHERE incident_id = ? AND seq > ? ORDER BY seq",
            (incident_id, after, incident_id, after),
        ) as cursor:
            rows = await cursor.fetchall()
        events = [columns.checked_event(self._where, *row) for row in rows]
        state = columns.rebuilt_state(self._where, incident_id, state, events)
        await self._db.execute(_SAVE_SUMMARY, columns.summary_row(state.summary()))
        await self._db.execute(
            _SAVE_SNAPSHOT,
            columns.snapshot_row(StoredSnapshot(incident_id, state.seq, state.model_dump_json())),
        )

    @contextlib.asynccontextmanager
    async def _transaction(self, action: str) -> AsyncIterator[None]:
        """Run the block as one `BEGIN IMMEDIATE` write transaction, committed when it ends.

        Any exception rolls the transaction back; a SQLite error becomes a `StoreError`.

        Args:
            action: what the block does, worded for "could not {action} {path}: {error}".

        Raises:
            StoreError: the database is locked by another process, or a statement or the commit
                failed.
        """
        async with self._write_lock:
            try:
                await self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"database {self.path} is busy or unwritable: {exc}") from None
            try:
                yield
                await self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                await self._rollback()
                raise StoreError(f"could not {action} {self.path}: {exc}") from None
            except BaseException:
                await self._rollback()
                raise

    async def _write_at_once(self, action: str, batches: Sequence[_Batch]) -> None:
        """Commit `batches` in one transaction handed to the connection's thread in one call.

        aiosqlite runs each call on the connection's own thread and wakes the event loop with
        the answer: a transaction of four statements crossed threads four times. The sequencer
        commits once per turn, so at a few writes per turn those crossings were a good part of a
        burst's CPU (docs/performance.md, "the M = 10 burst regression").

        Raises:
            StoreError: as `_transaction`.
        """
        db = self._db
        # aiosqlite has no public call for "run this function on the connection's thread"; its
        # `_execute` is what every one of its own calls goes through.
        in_thread = cast(Callable[[Callable[[], None]], Awaitable[None]], db._execute)
        async with self._write_lock:
            try:
                await in_thread(lambda: _write_all(db._conn, batches))
            except _BeginFailed as exc:
                raise StoreError(
                    f"database {self.path} is busy or unwritable: {exc.cause}"
                ) from None
            except sqlite3.Error as exc:
                raise StoreError(f"could not {action} {self.path}: {exc}") from None

    async def _rollback(self) -> None:
        # SQLite may already have rolled back (e.g. on SQLITE_FULL); then nothing is left to undo.
        with contextlib.suppress(sqlite3.Error):
            await self._db.execute("ROLLBACK")

    async def close(self) -> None:
        if self.background_check is not None:
            self.background_check.stop()
        if self._probe is not None:
            self._probe.close()
        await self._db.close()

    async def load_events(self) -> list[Event]:
        """Every event in the live log (not the archive), by incident then seq: for tests and
        tools, never for serving."""
        rows = await self._read(
            "events from", f"SELECT {_EVENT_COLUMNS} FROM events ORDER BY incident_id, seq"
        )
        return [columns.checked_event(self._where, *row) for row in rows]

    async def _read(self, what: str, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        try:
            # One call to the connection's thread (a cursor's execute, fetch and close are three).
            return list(await self._db.execute_fetchall(sql, params))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read {what} {self.path}: {exc}") from None

    async def append(
        self,
        events: Sequence[Event],
        summaries: Sequence[IncidentSummary] = (),
        snapshots: Sequence[StoredSnapshot] = (),
    ) -> None:
        rows = [columns.event_row(e) for e in events]
        summary_rows = [columns.summary_row(s) for s in summaries]
        snapshot_rows = [columns.snapshot_row(s) for s in snapshots]
        unsummarised = {e.incident_id for e in events} - {s.id for s in summaries}
        if not unsummarised:
            # The sequencer's commit, once per turn: one call to the connection's thread.
            await self._write_at_once(
                "write to",
                [
                    (_INSERT_EVENT, rows),
                    (_SAVE_SUMMARY, summary_rows),
                    (_SAVE_SNAPSHOT, snapshot_rows),
                ],
            )
            return
        async with self._transaction("write to"):
            await self._db.executemany(_INSERT_EVENT, rows)
            for incident_id in sorted(unsummarised):
                await self._derive_summary(incident_id)
            if summary_rows:
                await self._db.executemany(_SAVE_SUMMARY, summary_rows)
            if snapshot_rows:
                await self._db.executemany(_SAVE_SNAPSHOT, snapshot_rows)

    async def incident_summaries(self) -> list[IncidentSummary]:
        rows = await self._read(
            "incident summaries from", "SELECT body FROM incident_summaries ORDER BY id"
        )
        return columns.checked_summaries(self._where, (str(row[0]) for row in rows))

    async def load_snapshot(self, incident_id: int) -> StoredSnapshot | None:
        rows = await self._read(
            "a snapshot from",
            "SELECT seq, state FROM snapshots WHERE incident_id = ? AND version = ?",
            (incident_id, STATE_VERSION),
        )
        if not rows or not isinstance(rows[0][0], int):
            return None  # a seq that is not a number (a tampered file): the events are the truth
        return StoredSnapshot(incident_id, rows[0][0], str(rows[0][1]))

    async def events_json(self, incident_id: int, after: int = 0) -> list[str]:
        rows = await self._read(
            "events from",
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE incident_id = ? AND seq > ? "
            f"UNION ALL SELECT {_EVENT_COLUMNS} FROM archived_events "
            "WHERE incident_id = ? AND seq > ? ORDER BY seq",
            (incident_id, after, incident_id, after),
        )
        return columns.events_json(rows)

    async def find_commands(
        self, keys: Collection[CommandKey]
    ) -> dict[CommandKey, tuple[int, int]]:
        found: dict[CommandKey, tuple[int, int]] = {}
        wanted = list(keys)
        for start in range(0, len(wanted), _COMMAND_LOOKUP_CHUNK):
            chunk = wanted[start : start + _COMMAND_LOOKUP_CHUNK]
            values = ",".join("(?, ?)" for _ in chunk)
            params = [part for key in chunk for part in key]
            rows = await self._read(
                "command ids from",
                f"WITH k(actor, command_id) AS (VALUES {values}) "
                "SELECT e.actor, e.command_id, e.incident_id, e.seq FROM k "
                "JOIN events e ON e.actor = k.actor AND e.command_id = k.command_id "
                "UNION ALL SELECT a.actor, a.command_id, a.incident_id, a.seq FROM k "
                "JOIN archived_events a ON a.actor = k.actor AND a.command_id = k.command_id "
                f"UNION ALL SELECT t.actor, t.command_id, {TRIAGE_LOG}, t.seq FROM k "
                "JOIN triage_log t ON t.actor = k.actor AND t.command_id = k.command_id",
                params,
            )
            found.update(columns.found_commands(rows))
        return found

    async def archived_incidents(self) -> list[int]:
        """The ids of the archived incidents, in order (`warroom migrate` keeps them archived)."""
        async with self._db.execute(
            "SELECT id FROM incident_summaries WHERE archived = 1 ORDER BY id"
        ) as cursor:
            return [int(row[0]) for row in await cursor.fetchall()]

    async def archive(self, before: datetime) -> list[int]:
        async with self._transaction("archive closed incidents in"):
            async with self._db.execute(
                "SELECT id, resolved_at FROM incident_summaries "
                "WHERE phase = ? AND archived = 0 AND resolved_at IS NOT NULL",
                (Phase.POSTMORTEM_DONE.value,),
            ) as cursor:
                rows = await cursor.fetchall()
            ids = columns.due_for_archive(rows, before)
            for incident_id in ids:
                await self._db.execute(
                    "INSERT INTO archived_events SELECT * FROM events WHERE incident_id = ?",
                    (incident_id,),
                )
                await self._db.execute("DELETE FROM events WHERE incident_id = ?", (incident_id,))
                await self._db.execute(
                    "UPDATE incident_summaries SET archived = 1 WHERE id = ?", (incident_id,)
                )
        return ids

    async def add_user(self, user: User) -> None:
        async with self._transaction("add user to"):
            try:
                await self._db.execute(
                    "INSERT INTO users (name, token_hash, created_at) VALUES (?, ?, ?)",
                    columns.user_row(user),
                )
            except sqlite3.IntegrityError:
                raise StoreError(f"a user named {user.name} already exists") from None

    async def remove_user(self, name: str) -> bool:
        """Delete a user; their token stops working at the next handshake. False if unknown."""
        async with self._transaction("remove user from"):
            cursor = await self._db.execute("DELETE FROM users WHERE name = ?", (name,))
        return cursor.rowcount > 0

    async def users(self) -> list[User]:
        rows = await self._read(
            "users from", "SELECT name, token_hash, created_at FROM users ORDER BY name"
        )
        return [columns.user(*row) for row in rows]

    def data_version_now(self) -> int | None:
        # A side connection's `PRAGMA data_version`: about 20 us on the loop, where the same
        # read through aiosqlite is a round trip to its thread (sqlite_probe.py).
        return None if self._probe is None else self._probe.data_version()

    async def users_version(self) -> int:
        # Changes whenever another connection commits to the database; only the user commands
        # do (the server is the only writer of everything else), and a spurious change costs
        # one re-read of a small table.
        rows = await self._read("the data version of", "PRAGMA data_version")
        return int(rows[0][0])

    async def save_triage(self, item: TriageItem) -> None:
        async with self._transaction("save triage item to"):
            await self._db.execute(
                _SAVE_TRIAGE_ITEM,
                columns.triage_item_row(item),
            )

    async def open_triage(self, item: TriageItem, after: int) -> TriageItem:
        # The only process on the file: the desk's own numbering is the file's.
        await self.save_triage(item)
        return item

    async def load_triage(self) -> list[TriageItem]:
        rows = await self._read("triage items from", "SELECT body FROM triage_items ORDER BY id")
        return [TriageItem.model_validate_json(str(row[0])) for row in rows]

    async def append_triage(
        self, records: Sequence[TriageRecord], items: Sequence[TriageItem]
    ) -> None:
        """Commit triage log records and the items they changed in one transaction."""
        async with self._write_lock:
            try:
                await self._db.execute("BEGIN IMMEDIATE")
                await self._db.executemany(
                    "INSERT INTO triage_log (seq, at, actor, command_id, body) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [columns.triage_record_row(r) for r in records],
                )
                await self._db.executemany(
                    _SAVE_TRIAGE_ITEM, [columns.triage_item_row(i) for i in items]
                )
                await self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                await self._rollback()
                raise StoreError(f"could not write the triage log to {self.path}: {exc}") from None

    async def load_triage_log(self) -> list[TriageRecord]:
        """The whole triage log, oldest first."""
        rows = await self._read(
            "the triage log from",
            "SELECT seq, at, actor, command_id, body FROM triage_log ORDER BY seq",
        )
        return [columns.triage_record(*row) for row in rows]


def _create_private_file(path: Path) -> Path:
    """Create the database file ourselves so it is never briefly readable by others; SQLite gives
    the -wal and -shm files the same permissions as the database file."""
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    return path
