"""PostgreSQL implementation of the event store (asyncpg): a connection pool, migrations, and the
same all-or-nothing writes as `SqliteStore`.

Rows become models here and nowhere else. Every write is one transaction. `append` takes a
transaction-scoped advisory lock per incident (the single-bigint key space; two-int keys are left
for other uses such as leadership) and refuses a batch that would leave a gap or a repeat in the
incident's sequence, so the log stays gap-free even with several writers on one database; a
usual commit does it all in one statement, one round trip (`warroom_append`, migration 4). The
primary key (incident_id, seq) and the unique (actor, command_id) constraint back that up in the
database itself. A batch decided against an out-of-date copy of an incident (another node
committed first) is refused with `StaleAppend`, and every commit of events notifies the
`CHANGES_CHANNEL` so the other nodes fan them out. Messages name the database by a URL without its
password.
"""

from __future__ import annotations

import asyncio
import contextlib
import stat
import time
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg

from warroom.domain.events import Event, IncidentDeclared
from warroom.domain.incident import IncidentSummary
from warroom.domain.phase import Phase
from warroom.domain.triage import TriageItem, TriageStatus, keep_decision, mark_declared
from warroom.domain.triage_log import TRIAGE_LOG, TriageRecord
from warroom.store import columns
from warroom.store.base import (
    NOTHING_READ,
    STATE_VERSION,
    CommandKey,
    HeldRead,
    StaleAppend,
    StoredSnapshot,
    StoreError,
    TriageDecided,
    User,
)
from warroom.store.postgres_schema import MIGRATIONS, MIGRATIONS_TABLE
from warroom.store.url import PostgresUrl

CHANGES_CHANNEL = "warroom_events"
"""The NOTIFY channel of committed events. A payload is `INCIDENT:SEQ` (the incident's last seq)
or, when the commit's events of that incident fit, `INCIDENT:SEQ:` followed by them as `Event`
JSON, one a line (compact JSON holds no newline), so a listener needs no query to apply them."""
TRIAGE_CHANNEL = "warroom_triage"
"""The NOTIFY channel of triage items: every write of an item's row notifies its id (a trigger,
migration 3), and the listener reads what changed since its last change number."""
NOTIFY_LIMIT = 7999
"""The largest payload PostgreSQL's NOTIFY takes, in bytes (it refuses 8000 and more)."""
_MIGRATION_LOCK = 0x77617272  # "warr": one node migrates at a time, the others wait
_EVENT_COLUMNS = "incident_id, seq, at, actor, command_id, body"
_APPEND = "SELECT * FROM warroom_append(" + ", ".join(f"${n}" for n in range(1, 19)) + ")"
"""A commit of events in one statement (migration 4): see `_Write.args` for its arguments."""
_APPEND_HELD = "SELECT * FROM warroom_append_held(" + ", ".join(f"${n}" for n in range(1, 19)) + ")"
"""The same, under `holding`'s session locks, which it lets go of once its own are taken
(migration 5): the commit ends the hold, with no statement after it."""
_UNLOCK = "SELECT pg_advisory_unlock_all()"
_LOCK_READ = "SELECT * FROM warroom_lock_read($1, $2, $3, $4, $5)"
"""The locks, then the events after given seqs and the command ids found (migration 6)."""
_NOTHING_AFTER = 2**62
"""A seq after any incident's: `warroom_lock_read` reads none of its events."""
# A summary saved with new events marks the incident unarchived: those events are in the live
# log, and the next archive run moves them too.
_SAVE_SUMMARY = (
    "INSERT INTO incident_summaries (id, phase, resolved_at, archived, body) "
    "VALUES ($1, $2, $3, false, $4) ON CONFLICT (id) DO UPDATE SET phase = EXCLUDED.phase, "
    "resolved_at = EXCLUDED.resolved_at, archived = false, body = EXCLUDED.body"
)
_SAVE_SNAPSHOT = (
    "INSERT INTO snapshots (incident_id, seq, version, state) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (incident_id) DO UPDATE SET seq = EXCLUDED.seq, version = EXCLUDED.version, "
    "state = EXCLUDED.state"
)
_SAVE_TRIAGE = (
    # An item's key never changes: a row under the same id with another key is another node's
    # item (this one was numbered while the database was away), and it is kept.
    "INSERT INTO triage_items (id, group_key, body) VALUES ($1, $2, $3) "
    "ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body "
    "WHERE triage_items.group_key = EXCLUDED.group_key"
)
_NEWER_TRIAGE = (
    "SELECT body FROM triage_items WHERE group_key = $1 AND id > $2 ORDER BY id DESC LIMIT 1"
)
TRIAGE_ITEMS_LOCK = 0x77617272_74726961
"""The advisory lock ("warrtria") under which nodes number new triage items and write them (the
rows' trigger takes it too, so change numbers follow commit order)."""
_LOCK_TRIAGE = "SELECT pg_advisory_xact_lock($1)"
_STORED_TRIAGE = "SELECT body FROM triage_items WHERE id = $1 AND group_key = $2 FOR UPDATE"
_LAST_SEQS = (
    # One index probe per incident (the primary key, backwards), whatever its history's size.
    "SELECT i AS incident_id, greatest("
    "(SELECT max(seq) FROM events WHERE incident_id = i), "
    "(SELECT max(seq) FROM archived_events WHERE incident_id = i)) AS last "
    "FROM unnest($1::bigint[]) AS i"
)
_LOCK_INCIDENTS = "SELECT pg_advisory_xact_lock(i) FROM unnest($1::bigint[]) AS i"
_DB_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)
"""What the driver raises when the database refuses, drops or never answers."""

if TYPE_CHECKING:
    # Generic only in the stubs: at run time the class cannot be subscripted.
    Connection = asyncpg.pool.PoolConnectionProxy[asyncpg.Record]
    Pool = asyncpg.Pool[asyncpg.Record]


@dataclass
class _Held:
    """A transaction holding some incidents' write locks for the task that took it."""

    conn: Connection
    owner: asyncio.Task[object] | None
    """The task in the block: tasks it starts inherit the context variable, and would use the
    connection alongside it (asyncpg refuses a second operation in progress), or after it."""
    done: bool = False
    """Committed by an append, or to be unlocked."""

    def serves_now(self) -> bool:
        """Whether the current task may use the held connection now."""
        return not self.done and self.owner is asyncio.current_task()


_held: ContextVar[_Held | None] = ContextVar("warroom_held_incidents", default=None)


class PostgresStore:
    """An `EventStore` in one PostgreSQL database, shared safely by several processes."""

    observe_commit: Callable[[float], None] | None = None
    """Called with the seconds each commit of events took (the node's metrics)."""

    def __init__(self, pool: Pool, url: PostgresUrl, password: str | None = None) -> None:
        self._pool = pool
        self.url = url
        self.password = password
        """The password the pool logged in with (None: libpq's usual places), for the change
        feed's own connection."""
        self.where = url.display
        """The database as people may see it: its URL without a password."""

    @classmethod
    async def open(
        cls,
        url: PostgresUrl,
        *,
        password_file: Path | None = None,
        max_connections: int = 8,
        observe_commit: Callable[[float], None] | None = None,
    ) -> PostgresStore:
        """Connect, and create or migrate the schema.

        The password comes from `password_file` if given, else libpq's usual places: the
        `PGPASSWORD` variable or the password file (`PGPASSFILE`, ~/.pgpass).

        Raises:
            StoreError: the server cannot be reached, refuses the login, the database does not
                exist, or its schema is newer than this warroom.
        """
        password = None
        if password_file is not None:
            password = await asyncio.to_thread(_read_password_file, password_file)
        try:
            pool = await asyncpg.create_pool(
                url.dsn,
                password=password,
                min_size=1,
                max_size=max_connections,
                timeout=10,
                server_settings={"application_name": "warroom"},
                reset=_keep_session,
            )
        except _DB_ERRORS as exc:
            raise StoreError(f"cannot open database {url.display}: {_reason(exc)}") from None
        store = cls(pool, url, password)
        store.observe_commit = observe_commit
        try:
            await store._migrate()
        except BaseException:
            await pool.close()
            raise
        return store

    async def _migrate(self) -> None:
        async with self._transaction("migrate the schema of") as conn:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(MIGRATIONS_TABLE)
            version = int(
                await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")
            )
            if version > len(MIGRATIONS):
                raise StoreError(
                    f"{self.where} has schema version {version}, newer than this warroom's "
                    f"({len(MIGRATIONS)}): upgrade warroom"
                )
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in script:
                    await conn.execute(statement)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", number)

    @contextlib.asynccontextmanager
    async def _transaction(self, action: str) -> AsyncIterator[Connection]:
        """One transaction on a pooled connection, committed when the block ends.

        Any exception rolls it back; a database error becomes a `StoreError`.

        Args:
            action: what the block does, worded for "could not {action} {where}: {error}".
        """
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                yield conn
        except _DB_ERRORS as exc:
            raise StoreError(f"could not {action} {self.where}: {_reason(exc)}") from None

    async def _fetch(self, what: str, sql: str, *args: object) -> list[asyncpg.Record]:
        held = _held.get()
        try:
            if held is not None and held.serves_now():
                return await held.conn.fetch(sql, *args)
            return await self._pool.fetch(sql, *args)
        except _DB_ERRORS as exc:
            raise StoreError(f"cannot read {what} {self.where}: {_reason(exc)}") from None

    async def close(self) -> None:
        await self._pool.close()

    async def load_events(self) -> list[Event]:
        """Every event in the live log, by incident then seq."""
        rows = await self._fetch(
            "events from", f"SELECT {_EVENT_COLUMNS} FROM events ORDER BY incident_id, seq"
        )
        return [columns.checked_event(self.where, *row) for row in rows]

    async def append(
        self,
        events: Sequence[Event],
        summaries: Sequence[IncidentSummary] = (),
        snapshots: Sequence[StoredSnapshot] = (),
    ) -> None:
        if not events and not summaries and not snapshots:
            return
        started = time.perf_counter()
        write = _Write.of(self.where, events, summaries, snapshots)
        held = _held.get()
        try:
            if held is not None and held.serves_now() and events:
                # The caller holds these incidents' locks (`holding`), so nobody could have
                # committed to them since it read them; the commit lets them go.
                try:
                    if write.needs_transaction:
                        async with held.conn.transaction():
                            await self._append_on(held.conn, write, _APPEND_HELD)
                    else:
                        await self._run_append(held.conn, write, _APPEND_HELD)
                except BaseException:
                    # Refused (stale, a command id committed before) or failed: unlocked now,
                    # so the block's later reads go to the pool as after a commit.
                    await _unlock(held.conn)
                    raise
                finally:
                    held.done = True
            elif write.needs_transaction:
                async with self._transaction("write to") as conn:
                    await self._append_on(conn, write)
            else:
                # The usual commit: one statement, its own transaction, one round trip.
                await self._run_append(self._pool, write)
        except _DB_ERRORS as exc:
            raise StoreError(f"could not write to {self.where}: {_reason(exc)}") from None
        if self.observe_commit is not None:
            self.observe_commit(time.perf_counter() - started)

    @contextlib.asynccontextmanager
    async def holding(
        self,
        incident_ids: Collection[int],
        after: Mapping[int, int] | None = None,
        commands: Collection[CommandKey] = (),
    ) -> AsyncIterator[HeldRead]:
        """Hold the write locks of these incidents from now until the block's first `append` of
        events commits (or the block ends); the store's reads in the block (in this task) see
        the latest commits through the same connection. A writer that found its copy out of
        date decides again in here, so it cannot be overtaken again.

        With `after` or `commands`, the statement that takes the locks also reads, once they are
        granted, the events after `after`'s seq of each incident it names and which of
        `commands` were committed (`warroom_lock_read`): the writer needs both before deciding,
        and as two more round trips they kept every other node writing these incidents waiting.

        The locks are the session's, taken outside any transaction (each read in the block sees
        what was committed before it), and the append's commit releases them (`_APPEND_HELD`):
        with a transaction opened here, the commit was a `COMMIT` after the append, one more
        round trip while every other node writing these incidents waited.

        Raises:
            StoreError: the database cannot be reached.
        """
        try:
            async with self._pool.acquire() as conn:
                held = _Held(conn, asyncio.current_task())
                token = _held.set(held)
                try:
                    # In id order, as every writer takes them: no deadlock. The ids are ints.
                    ids = sorted(int(i) for i in incident_ids)
                    if after is None and not commands:
                        keys = ",".join(str(i) for i in ids)
                        await conn.execute(
                            f"SELECT pg_advisory_lock(i) FROM unnest('{{{keys}}}'::bigint[]) AS i"
                        )
                        read = NOTHING_READ
                    else:
                        read = await _lock_and_read(conn, ids, after or {}, commands)
                    yield read
                finally:
                    _held.reset(token)
                    if not held.done:
                        # Also after a lock statement that failed or was cancelled midway: some
                        # of the locks may be held.
                        await _unlock(conn)
        except _DB_ERRORS as exc:
            raise StoreError(f"could not lock incidents in {self.where}: {_reason(exc)}") from None

    async def _append_on(self, conn: Connection, write: _Write, sql: str = _APPEND) -> None:
        """The commit's statement, and what `_APPEND` does not do, in the caller's transaction:
        triage items the events decide, and summaries derived for events written alone."""
        await self._run_append(conn, write, sql)
        await self._decide_triage_rows(conn, write.events)
        for incident_id in write.to_derive:
            await self._derive_summary(conn, incident_id)

    async def _run_append(
        self, runner: Pool | Connection, write: _Write, sql: str = _APPEND
    ) -> None:
        """Run `sql` (`_APPEND`; on the pool: its own transaction), and raise if it wrote
        nothing because some incident's events did not follow on from its last seq:
        `StaleAppend` when they were decided against an older copy (another node committed
        first), a `StoreError` for a gap."""
        try:
            refused = await runner.fetch(sql, *write.args)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != "events_command":
                raise
            # A retry of a command another node is committing (or just committed): the
            # writer looks the command id up again and answers with the original seq.
            raise StaleAppend(self.where, write.heads) from None
        stale: set[int] = set()
        for row in refused:
            incident_id, expected = int(row["refused_incident"]), int(row["expected_seq"])
            if write.heads[incident_id] > expected:
                raise StoreError(
                    f"could not write to {self.where}: incident {incident_id} "
                    f"expects seq {expected} next, not {write.heads[incident_id]} "
                    "(sequences are gap-free)"
                )
            stale.add(incident_id)
        if stale:
            raise StaleAppend(self.where, stale)

    async def _derive_summary(self, conn: Connection, incident_id: int) -> None:
        """Rebuild one incident's summary and snapshot from its latest snapshot and the events
        after it, inside the caller's transaction. The sequencer hands both in with its events;
        this is for tools that write events alone (`warroom migrate`, seeding)."""
        snapshot = await conn.fetchrow(
            "SELECT seq, state FROM snapshots WHERE incident_id = $1 AND version = $2",
            incident_id,
            STATE_VERSION,
        )
        state = columns.snapshot_state(None if snapshot is None else snapshot["state"])
        after = state.seq if state is not None else 0
        rows = await conn.fetch(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE incident_id = $1 AND seq > $2 "
            f"UNION ALL SELECT {_EVENT_COLUMNS} FROM archived_events "
            "WHERE incident_id = $1 AND seq > $2 ORDER BY seq",
            incident_id,
            after,
        )
        events = [columns.checked_event(self.where, *row) for row in rows]
        state = columns.rebuilt_state(self.where, incident_id, state, events)
        await conn.execute(_SAVE_SUMMARY, *columns.summary_row(state.summary()))
        await conn.execute(
            _SAVE_SNAPSHOT,
            *columns.snapshot_row(StoredSnapshot(incident_id, state.seq, state.model_dump_json())),
        )

    async def last_seqs(self, incident_ids: Collection[int]) -> dict[int, int]:
        return _seqs(await self._fetch("the last seqs from", _LAST_SEQS, sorted(incident_ids)))

    async def incident_summaries(self) -> list[IncidentSummary]:
        return self._checked_summaries(
            await self._fetch(
                "incident summaries from", "SELECT body FROM incident_summaries ORDER BY id"
            )
        )

    async def summaries_changed(
        self, incident_ids: Collection[int], after_id: int
    ) -> list[IncidentSummary]:
        """The summaries of these incidents and of every incident with an id above `after_id`
        (declared since), in id order: a read of a few rows, whatever the war room's size."""
        return self._checked_summaries(
            await self._fetch(
                "incident summaries from",
                "SELECT body FROM incident_summaries WHERE id = ANY($1::bigint[]) OR id > $2 "
                "ORDER BY id",
                sorted(incident_ids),
                after_id,
            )
        )

    def _checked_summaries(self, rows: list[asyncpg.Record]) -> list[IncidentSummary]:
        return columns.checked_summaries(self.where, (r["body"] for r in rows))

    async def load_snapshot(self, incident_id: int) -> StoredSnapshot | None:
        rows = await self._fetch(
            "a snapshot from",
            "SELECT seq, state FROM snapshots WHERE incident_id = $1 AND version = $2",
            incident_id,
            STATE_VERSION,
        )
        if not rows:
            return None
        return StoredSnapshot(incident_id, int(rows[0]["seq"]), rows[0]["state"])

    async def archive(self, before: datetime) -> list[int]:
        async with self._transaction("archive closed incidents in") as conn:
            rows = await conn.fetch(
                "SELECT id, resolved_at FROM incident_summaries "
                "WHERE phase = $1 AND NOT archived AND resolved_at IS NOT NULL",
                Phase.POSTMORTEM_DONE.value,
            )
            ids = columns.due_for_archive(rows, before)
            if ids:
                # The same per-incident locks as `append`: no write lands half-way through.
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(i) FROM unnest($1::bigint[]) AS i", ids
                )
                await conn.execute(
                    "WITH moved AS (DELETE FROM events WHERE incident_id = ANY($1::bigint[]) "
                    "RETURNING *) INSERT INTO archived_events SELECT * FROM moved",
                    ids,
                )
                await conn.execute(
                    "UPDATE incident_summaries SET archived = true WHERE id = ANY($1::bigint[])",
                    ids,
                )
        return ids

    async def events_json(self, incident_id: int, after: int = 0) -> list[str]:
        """The incident's events with seq > `after` as `Event` JSON, in seq order, archived
        ones included."""
        rows = await self._fetch(
            "events from",
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE incident_id = $1 AND seq > $2 "
            f"UNION ALL SELECT {_EVENT_COLUMNS} FROM archived_events "
            "WHERE incident_id = $1 AND seq > $2 ORDER BY seq",
            incident_id,
            after,
        )
        return columns.events_json(rows)

    async def find_commands(
        self, keys: Collection[CommandKey]
    ) -> dict[CommandKey, tuple[int, int]]:
        """Which of these (actor, command id) pairs were committed, as (stream, seq): the
        incident id and event seq, or `TRIAGE_LOG` and the triage log record's seq."""
        if not keys:
            return {}
        actors, command_ids = zip(*keys, strict=True)
        rows = await self._fetch(
            "command ids from",
            "WITH k(actor, command_id) AS (SELECT * FROM unnest($1::text[], $2::text[])) "
            "SELECT e.actor, e.command_id, e.incident_id AS stream, e.seq FROM k "
            "JOIN events e USING (actor, command_id) "
            "UNION ALL SELECT a.actor, a.command_id, a.incident_id, a.seq FROM k "
            "JOIN archived_events a USING (actor, command_id) "
            "UNION ALL SELECT t.actor, t.command_id, $3::bigint, t.seq FROM k "
            "JOIN triage_log t USING (actor, command_id)",
            list(actors),
            list(command_ids),
            TRIAGE_LOG,
        )
        return columns.found_commands(rows)

    async def add_user(self, user: User) -> None:
        async with self._transaction("add user to") as conn:
            try:
                await conn.execute(
                    "INSERT INTO users (name, token_hash, created_at) VALUES ($1, $2, $3)",
                    *columns.user_row(user),
                )
            except asyncpg.UniqueViolationError as exc:
                if exc.constraint_name != "users_pkey":
                    raise  # the token's hash: never expected, reported as it is
                raise StoreError(f"a user named {user.name} already exists") from None

    async def remove_user(self, name: str) -> bool:
        """Delete a user; their token stops working at the next handshake. False if unknown."""
        async with self._transaction("remove user from") as conn:
            status = await conn.execute("DELETE FROM users WHERE name = $1", name)
        return status != "DELETE 0"

    async def users(self) -> list[User]:
        rows = await self._fetch(
            "users from", "SELECT name, token_hash, created_at FROM users ORDER BY name"
        )
        return [columns.user(*row) for row in rows]

    def data_version_now(self) -> int | None:
        return None  # only a round trip to the server can tell

    async def users_version(self) -> int:
        rows = await self._fetch("the users' version from", "SELECT version FROM users_version")
        return int(rows[0]["version"])

    async def save_triage(self, item: TriageItem) -> None:
        """Write the item, keeping a decision another node stored since this node's copy."""
        async with self._transaction("save triage item to") as conn:
            await conn.execute(_LOCK_TRIAGE, TRIAGE_ITEMS_LOCK)
            stored = await conn.fetchval(_STORED_TRIAGE, item.id, item.group_key)
            if stored is not None:
                item = keep_decision(TriageItem.model_validate_json(stored), item)
            await conn.execute(_SAVE_TRIAGE, *columns.triage_item_row(item))

    async def triage_changed(self, after: int) -> tuple[int, list[TriageItem]]:
        # Under the items' lock a change number is taken and committed in order: none below the
        # highest read here can commit later.
        rows = await self._fetch(
            "triage items from",
            "SELECT changed, body FROM triage_items WHERE changed > $1 ORDER BY id",
            after,
        )
        mark = max((int(r["changed"]) for r in rows), default=max(after, 0))
        return mark, [TriageItem.model_validate_json(r["body"]) for r in rows]

    async def _decide_triage_rows(self, conn: Connection, events: Sequence[Event]) -> None:
        """Mark the triage items that `events` declare incidents from as declared, in the
        events' transaction; one another node decided first makes the append stale."""
        for event in events:
            body = event.body
            if not isinstance(body, IncidentDeclared) or body.detection is None:
                continue
            await conn.execute(_LOCK_TRIAGE, TRIAGE_ITEMS_LOCK)
            stored = await conn.fetchval(
                "SELECT body FROM triage_items WHERE id = $1 FOR UPDATE",
                body.detection.triage_id,
            )
            if stored is None:
                continue  # an item the database never had (it was away): nothing to decide on
            item = TriageItem.model_validate_json(stored)
            if item.status is not TriageStatus.OPEN:
                # Decided on another node: this node decides again once it read the item.
                raise StaleAppend(self.where, [event.incident_id])
            mark_declared(item, event.incident_id, event.actor, event.at)
            await conn.execute(_SAVE_TRIAGE, *columns.triage_item_row(item))

    async def open_triage(self, item: TriageItem, after: int) -> TriageItem:
        """Number a new item after every item in the database, under the items' own advisory
        lock so two nodes opening items at once get distinct numbers; or take the item another
        node opened for the same key since item `after` (the same alert reached both)."""
        async with self._transaction("open a triage item in") as conn:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", TRIAGE_ITEMS_LOCK)
            newer = await conn.fetchval(_NEWER_TRIAGE, item.group_key, after)
            if newer is not None:
                return TriageItem.model_validate_json(newer)
            last = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM triage_items"))
            # Above this node's own numbers too: one kept in memory while the database was away.
            opened = item.model_copy(update={"id": max(item.id, last + 1)})
            await conn.execute(_SAVE_TRIAGE, opened.id, opened.group_key, opened.model_dump_json())
        return opened

    async def load_triage(self) -> list[TriageItem]:
        rows = await self._fetch("triage items from", "SELECT body FROM triage_items ORDER BY id")
        return [TriageItem.model_validate_json(r["body"]) for r in rows]

    async def append_triage(
        self, records: Sequence[TriageRecord], items: Sequence[TriageItem]
    ) -> None:
        """Commit triage log records and the items they changed in one transaction."""
        await self.append_triage_numbered(records, items)

    async def append_triage_numbered(
        self, records: Sequence[TriageRecord], items: Sequence[TriageItem]
    ) -> list[TriageRecord]:
        """Commit triage log records, numbered after the last one in the database, and the
        items they changed in one transaction; returns the records as committed.

        Another node may have committed the seqs this node expected to use: the log's own lock
        (its stream id as the key, beside the incidents' ids) serialises the writers, so each
        numbers its records after the latest commit and none is refused for a taken seq.
        """
        async with self._transaction("write the triage log to") as conn:
            if items:
                await self._require_open(conn, items)
            if records:
                await conn.execute("SELECT pg_advisory_xact_lock($1)", TRIAGE_LOG)
                last = int(await conn.fetchval("SELECT coalesce(max(seq), 0) FROM triage_log"))
                records = [
                    r if r.seq == last + n else r.model_copy(update={"seq": last + n})
                    for n, r in enumerate(records, start=1)
                ]
                await conn.executemany(
                    "INSERT INTO triage_log (seq, at, actor, command_id, body) "
                    "VALUES ($1, $2, $3, $4, $5)",
                    [columns.triage_record_row(r) for r in records],
                )
            if items:
                await conn.executemany(_SAVE_TRIAGE, [columns.triage_item_row(i) for i in items])
        return list(records)

    async def _require_open(self, conn: Connection, items: Sequence[TriageItem]) -> None:
        """Lock the rows of the items a triage log write decides; refuse if another node
        decided any of them first."""
        await conn.execute(_LOCK_TRIAGE, TRIAGE_ITEMS_LOCK)
        decided_first = []
        for item in items:
            stored = await conn.fetchval(_STORED_TRIAGE, item.id, item.group_key)
            if stored is not None:
                row = TriageItem.model_validate_json(stored)
                if row.status is not TriageStatus.OPEN:
                    decided_first.append(row)
        if decided_first:
            raise TriageDecided(self.where, decided_first)

    async def copy_in(
        self,
        events: Sequence[Event],
        users: Sequence[User],
        triage_items: Sequence[TriageItem],
        triage_log: Sequence[TriageRecord],
        archived: Sequence[int] = (),
    ) -> None:
        """Fill an empty database with a whole war room (`warroom migrate`), in one transaction:
        everything or nothing. The tables' keys and constraints check what comes in. The
        incidents in `archived` were archived in the source and stay archived here.

        Raises:
            StoreError: the database already holds a war room, or a row was refused.
        """
        async with self._transaction("copy the war room into") as conn:
            # No node may write while the copy runs, and the emptiness check must hold until
            # the commit.
            await conn.execute(
                "LOCK TABLE events, archived_events, users, triage_items, triage_log, "
                "incident_summaries, snapshots IN EXCLUSIVE MODE"
            )
            held = await conn.fetchval(
                "SELECT EXISTS (SELECT FROM events) OR EXISTS (SELECT FROM archived_events) "
                "OR EXISTS (SELECT FROM users) OR EXISTS (SELECT FROM triage_items) "
                "OR EXISTS (SELECT FROM triage_log)"
            )
            if held:
                raise StoreError(
                    f"{self.where} already holds a war room; migrate only into an empty database"
                )
            await _copy_rows(
                conn,
                "events",
                ("incident_id", "seq", "at", "actor", "command_id", "type", "body"),
                [columns.event_row(e) for e in events],
            )
            await _copy_rows(
                conn,
                "users",
                ("name", "token_hash", "created_at"),
                [columns.user_row(u) for u in users],
            )
            await _copy_rows(
                conn,
                "triage_items",
                ("id", "group_key", "body"),
                [columns.triage_item_row(i) for i in triage_items],
            )
            await _copy_rows(
                conn,
                "triage_log",
                ("seq", "at", "actor", "command_id", "body"),
                [columns.triage_record_row(r) for r in triage_log],
            )
            for incident_id in sorted({e.incident_id for e in events}):
                await self._derive_summary(conn, incident_id)
            if archived:
                # As `archive` moves them: out of the live log, the summary marked.
                ids = sorted(archived)
                await conn.execute(
                    "WITH moved AS (DELETE FROM events WHERE incident_id = ANY($1::bigint[]) "
                    "RETURNING *) INSERT INTO archived_events SELECT * FROM moved",
                    ids,
                )
                await conn.execute(
                    "UPDATE incident_summaries SET archived = true WHERE id = ANY($1::bigint[])",
                    ids,
                )

    async def load_triage_log(self) -> list[TriageRecord]:
        """The whole triage log, oldest first."""
        rows = await self._fetch(
            "the triage log from",
            "SELECT seq, at, actor, command_id, body FROM triage_log ORDER BY seq",
        )
        return [columns.triage_record(*row) for row in rows]


async def _copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: list[tuple[object, ...]]
) -> None:
    if rows:
        await conn.copy_records_to_table(table, records=rows, columns=list(columns))


def _seqs(rows: list[asyncpg.Record]) -> dict[int, int]:
    """`_LAST_SEQS` rows as incident id → last seq, leaving out incidents without events."""
    return {int(r["incident_id"]): int(r["last"]) for r in rows if r["last"] is not None}


@dataclass(frozen=True)
class _Write:
    """One `append`'s events, summaries and snapshots as `_APPEND` takes them: a column each."""

    events: Sequence[Event]
    heads: dict[int, int]
    """Each incident written → the seq of its first event here (the one that must follow on)."""
    to_derive: list[int]
    """Incidents written without a summary: theirs is derived from the log (tools, not nodes)."""
    args: tuple[object, ...]

    @classmethod
    def of(
        cls,
        where: str,
        events: Sequence[Event],
        summaries: Sequence[IncidentSummary],
        snapshots: Sequence[StoredSnapshot],
    ) -> _Write:
        """Raises:
        StoreError: an incident's events here leave a gap or a repeat between them."""
        rows = [columns.event_row(e) for e in events]
        heads: dict[int, int] = {}
        last: dict[int, int] = {}
        for incident_id, seq, *_ in rows:
            if incident_id in last and seq != last[incident_id] + 1:
                raise StoreError(
                    f"could not write to {where}: incident {incident_id} expects seq "
                    f"{last[incident_id] + 1} next, not {seq} (sequences are gap-free)"
                )
            heads.setdefault(incident_id, seq)
            last[incident_id] = seq
        summary_rows = [columns.summary_row(s) for s in summaries]
        snapshot_rows = [columns.snapshot_row(s) for s in snapshots]
        ids = sorted(heads)
        args = (
            *_columns(rows, 7),
            ids,
            [heads[i] for i in ids],
            *_columns(summary_rows, 4),
            *_columns(snapshot_rows, 4),
            _payloads(last, rows),
        )
        summarised = {s.id for s in summaries}
        return cls(events, heads, [i for i in ids if i not in summarised], args)

    @property
    def needs_transaction(self) -> bool:
        """Whether the commit needs more than `_APPEND`: triage items to decide, or summaries
        to derive."""
        return bool(self.to_derive) or any(_declares_from_triage(e) for e in self.events)


def _columns(rows: Sequence[tuple[object, ...]], width: int) -> list[list[object]]:
    """Rows turned into `width` columns (lists), also when there are no rows."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


def _declares_from_triage(event: Event) -> bool:
    body = event.body
    return isinstance(body, IncidentDeclared) and body.detection is not None


def _payloads(last: dict[int, int], rows: Sequence[columns.EventRow]) -> list[str]:
    """One notification per incident: its last seq, and its events when they fit the limit."""
    frames: dict[int, list[str]] = {}
    for incident_id, seq, at, actor, command_id, _type, body in rows:
        frames.setdefault(incident_id, []).append(
            columns.event_json(incident_id, seq, at, actor, command_id, body)
        )
    payloads = []
    for incident_id, seq in sorted(last.items()):
        head = f"{incident_id}:{seq}"
        carried = f"{head}:" + "\n".join(frames.get(incident_id, ()))
        # Too big: the listener reads the events back instead.
        payloads.append(carried if len(carried.encode()) <= NOTIFY_LIMIT else head)
    return payloads


async def _lock_and_read(
    conn: Connection, ids: list[int], after: Mapping[int, int], commands: Collection[CommandKey]
) -> HeldRead:
    """`warroom_lock_read`'s rows as a `HeldRead`."""
    keys = sorted(set(commands))
    rows = await conn.fetch(
        _LOCK_READ,
        ids,
        [after.get(i, _NOTHING_AFTER) for i in ids],
        [actor for actor, _ in keys],
        [command_id for _, command_id in keys],
        TRIAGE_LOG,
    )
    events: dict[int, list[tuple[object, ...]]] = {}
    found: list[tuple[object, ...]] = []
    for incident_id, seq, at, actor, command_id, body in rows:
        if body is None:
            found.append((actor, command_id, incident_id, seq))
        else:
            events.setdefault(int(incident_id), []).append(
                (incident_id, seq, at, actor, command_id, body)
            )
    return HeldRead(
        frozenset(i for i in ids if i in after),
        {i: columns.events_json(r) for i, r in events.items()},
        columns.found_commands(found),
        frozenset(keys),
    )


async def _unlock(conn: Connection) -> None:
    """Let go of the session locks `holding` took on `conn`, before it goes back to the pool; if
    that fails, close the connection: its session ends, and its locks with it. A pooled
    connection holding an incident's lock would stop every node writing to it."""
    try:
        await conn.execute(_UNLOCK)
    except BaseException as exc:
        conn.terminate()
        if not isinstance(exc, _DB_ERRORS):
            raise


async def _keep_session(_conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """Reset nothing when a connection goes back to the pool: asyncpg's default sends a query
    (unlock every advisory lock, close cursors, unlisten, reset settings), one more round trip
    after every use. The store's pooled connections leave no such state behind: only
    transaction-scoped locks, no cursor, LISTEN or SET (the change feed and the leadership have
    connections of their own); a transaction left open is still rolled back by the pool."""


def _read_password_file(path: Path) -> str:
    """The password in `path`, refused (as libpq refuses a ~/.pgpass) if others may read it."""
    path = path.expanduser()
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise StoreError(
                f"{path}: database password file is accessible by others (mode "
                f"{stat.S_IMODE(mode):04o}); run `chmod 600 {path}`"
            )
        password = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not text"
        raise StoreError(f"{path}: cannot read the database password file: {why}") from None
    if not password:
        raise StoreError(f"{path}: the database password file is empty")
    return password


def _reason(exc: BaseException) -> str:
    """The driver's words for a failure. They never hold the password: asyncpg's messages name
    the server, the user and the database, and the URL it was given carries no password."""
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
