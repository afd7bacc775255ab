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
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite
from pydantic import ValidationError

from warroom.domain.events import EVENT_BODY_ADAPTER, Event
from warroom.domain.triage import TriageItem
from warroom.domain.triage_log import TriageDismissed, TriageRecord
from warroom.store.base import StoreError, User
from warroom.store.migrations import MIGRATIONS

_INSERT_EVENT = (
    "INSERT INTO events (incident_id, seq, at, actor, command_id, type, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


class SqliteStore:
    """An `EventStore` in one SQLite file."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path
        # One connection serves every caller; a transaction spans several awaits, so writers
        # take turns or one's statements would land inside another's transaction.
        self._write_lock = asyncio.Lock()

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
        return store

    async def _configure(self) -> None:
        await self._db.execute("PRAGMA busy_timeout = 5000")
        async with self._db.execute("PRAGMA quick_check") as cursor:
            rows = await cursor.fetchall()
        if [tuple(row) for row in rows] != [("ok",)]:
            raise sqlite3.DatabaseError(f"integrity check failed: {_first_problem(rows)}")
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
                await self._db.execute(f"PRAGMA user_version = {number}")

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

    async def _rollback(self) -> None:
        # SQLite may already have rolled back (e.g. on SQLITE_FULL); then nothing is left to undo.
        with contextlib.suppress(sqlite3.Error):
            await self._db.execute("ROLLBACK")

    async def close(self) -> None:
        await self._db.close()

    async def load_events(self) -> list[Event]:
        try:
            async with self._db.execute(
                "SELECT incident_id, seq, at, actor, command_id, body FROM events "
                "ORDER BY incident_id, seq"
            ) as cursor:
                rows = await cursor.fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read events from {self.path}: {exc}") from None
        events = []
        for row in rows:
            try:
                events.append(_event_from_row(tuple(row)))
            except ValidationError as exc:
                problem = exc.errors(include_url=False)[0]["msg"]
                raise StoreError(
                    f"{self.path} is not a usable warroom database (event {row[0]}/{row[1]}: "
                    f"{problem}); restore it from a backup"
                ) from None
            except ValueError as exc:
                raise StoreError(
                    f"{self.path} is not a usable warroom database (event {row[0]}/{row[1]}: "
                    f"{exc}); restore it from a backup"
                ) from None
        return events

    async def append(self, events: Sequence[Event]) -> None:
        rows = [
            (
                e.incident_id,
                e.seq,
                e.at.isoformat(),
                e.actor,
                e.command_id,
                e.body.type,
                e.body.model_dump_json(),
            )
            for e in events
        ]
        async with self._transaction("write to"):
            await self._db.executemany(_INSERT_EVENT, rows)

    async def add_user(self, user: User) -> None:
        async with self._transaction("add user to"):
            try:
                await self._db.execute(
                    "INSERT INTO users (name, token_hash, created_at) VALUES (?, ?, ?)",
                    (user.name, user.token_hash, user.created_at.isoformat()),
                )
            except sqlite3.IntegrityError:
                raise StoreError(f"a user named {user.name} already exists") from None

    async def remove_user(self, name: str) -> bool:
        """Delete a user; their token stops working at the next handshake. False if unknown."""
        async with self._transaction("remove user from"):
            cursor = await self._db.execute("DELETE FROM users WHERE name = ?", (name,))
        return cursor.rowcount > 0

    async def users(self) -> list[User]:
        try:
            async with self._db.execute(
                "SELECT name, token_hash, created_at FROM users ORDER BY name"
            ) as cursor:
                rows = await cursor.fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read users from {self.path}: {exc}") from None
        return [
            User(name=r[0], token_hash=r[1], created_at=datetime.fromisoformat(r[2])) for r in rows
        ]

    async def save_triage(self, item: TriageItem) -> None:
        async with self._transaction("save triage item to"):
            await self._db.execute(
                "INSERT OR REPLACE INTO triage_items (id, group_key, body) VALUES (?, ?, ?)",
                (item.id, item.group_key, item.model_dump_json()),
            )

    async def load_triage(self) -> list[TriageItem]:
        try:
            async with self._db.execute("SELECT body FROM triage_items ORDER BY id") as cursor:
                rows = await cursor.fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read triage items from {self.path}: {exc}") from None
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
                    [
                        (r.seq, r.at.isoformat(), r.actor, r.command_id, r.body.model_dump_json())
                        for r in records
                    ],
                )
                await self._db.executemany(
                    "INSERT OR REPLACE INTO triage_items (id, group_key, body) VALUES (?, ?, ?)",
                    [(i.id, i.group_key, i.model_dump_json()) for i in items],
                )
                await self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                await self._rollback()
                raise StoreError(f"could not write the triage log to {self.path}: {exc}") from None

    async def load_triage_log(self) -> list[TriageRecord]:
        """The whole triage log, oldest first."""
        try:
            async with self._db.execute(
                "SELECT seq, at, actor, command_id, body FROM triage_log ORDER BY seq"
            ) as cursor:
                rows = await cursor.fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the triage log from {self.path}: {exc}") from None
        return [
            TriageRecord(
                seq=int(str(seq)),
                at=datetime.fromisoformat(str(at)),
                actor=str(actor),
                command_id=str(command_id),
                body=TriageDismissed.model_validate_json(str(body)),
            )
            for seq, at, actor, command_id, body in rows
        ]


def _first_problem(rows: Iterable[Any]) -> str:
    """SQLite's integrity report in one line: its first problem and how many more there are (a
    damaged file can list hundreds, one per line, which would bury the one line that matters)."""
    lines = [
        line.strip()
        for row in rows
        for line in str(row[0]).splitlines()
        if line.strip() and not line.startswith("*** in database")
    ]
    if not lines:
        return "no answer"
    more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
    return f"{lines[0][:200]}{more}"


def _create_private_file(path: Path) -> Path:
    """Create the database file ourselves so it is never briefly readable by others; SQLite gives
    the -wal and -shm files the same permissions as the database file."""
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    return path


def _event_from_row(row: tuple[object, ...]) -> Event:
    incident_id, seq, at, actor, command_id, body = row
    return Event(
        incident_id=int(str(incident_id)),
        seq=int(str(seq)),
        at=datetime.fromisoformat(str(at)),
        actor=str(actor),
        command_id=None if command_id is None else str(command_id),
        body=EVENT_BODY_ADAPTER.validate_json(str(body)),
    )
