"""A commit under `PostgresStore.holding` (a node writing an incident another node wrote first):
the append is the commit and ends the hold in one statement, every other writer waits for that
commit, and the incident's lock never outlives the block, whatever ends it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextvars import Context

import asyncpg
import pytest

from tests.domain.factories import Log
from tests.store.support import note_after
from warroom.domain.events import Event
from warroom.domain.projection import replay
from warroom.domain.triage_log import TriageDismissed, TriageRecord
from warroom.store.base import StaleAppend, StoreError
from warroom.store.open import open_store
from warroom.store.postgres import PostgresStore, _held

_ADVISORY_LOCKS = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1"


async def _postgres_store(url: str) -> PostgresStore:
    store = await open_store(url)
    assert isinstance(store, PostgresStore)
    return store


async def _lock_is_free(url: str, incident_id: int) -> bool:
    """Whether another session can take the incident's write lock at once (and let it go)."""
    conn = await asyncpg.connect(url)
    try:
        taken = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", incident_id))
        if taken:
            await conn.execute("SELECT pg_advisory_unlock($1)", incident_id)
        return taken
    finally:
        await conn.close()


async def test_a_held_append_commits_and_lets_the_lock_go_in_one_statement(pg_url: str) -> None:
    log = Log()
    store = await _postgres_store(pg_url)
    try:
        await store.append(log.events)
        last = log.events[-1]
        sent: list[str] = []
        async with store.holding([last.incident_id]):
            held = _held.get()
            assert held is not None
            held.conn.add_query_logger(lambda record: sent.append(record.query))
            entry = note_after(last, last.seq + 1, "held")
            # With its summary, as a node writes (events alone get one derived, in more steps).
            await store.append([entry], [replay([*log.events, entry]).summary()])
            # Still in the block: committed, and another node may take the lock already.
            assert await _lock_is_free(pg_url, last.incident_id)
        assert len(sent) == 1, sent
        assert "warroom_append_held" in sent[0]
        stored = await store.events_json(last.incident_id, after=last.seq)
        assert len(stored) == 1
    finally:
        await store.close()


async def test_another_writer_waits_for_the_held_commit_and_is_then_refused_as_stale(
    pg_url: str,
) -> None:
    log = Log()
    first = await _postgres_store(pg_url)
    second = await _postgres_store(pg_url)
    watcher = await asyncpg.connect(pg_url)
    try:
        await first.append(log.events)
        last = log.events[-1]
        async with first.holding([last.incident_id]):
            # In a context of its own, as another node's: not inside this block's hold.
            racing = asyncio.create_task(
                second.append([note_after(last, last.seq + 1, "racing")]), context=Context()
            )
            # Wait until the other writer is queued on the incident's lock (not a sleep).
            while not await watcher.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 "
                "AND NOT granted",
                last.incident_id,
            ):
                assert not racing.done(), racing
                await asyncio.sleep(0)
            await first.append([note_after(last, last.seq + 1, "held")])
        with pytest.raises(StaleAppend):
            await racing
        stored = await second.load_events()
        assert [e.command_id for e in stored[len(log.events) :]] == ["held"]
        assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
    finally:
        await watcher.close()
        await first.close()
        await second.close()


async def _refused_append(store: PostgresStore, events: Sequence[Event]) -> None:
    with pytest.raises((StaleAppend, StoreError)):
        await store.append(events)


async def test_the_lock_never_outlives_the_block(pg_url: str) -> None:
    """A refused append, a block that ends without writing, one that raises and one cancelled
    while it waits for the lock: the incident's lock is free afterwards, and the pool's
    connections hold no lock that would stop every node writing it."""
    log = Log()
    store = await _postgres_store(pg_url)
    watcher = await asyncpg.connect(pg_url)
    try:
        await store.append(log.events)
        last = log.events[-1]
        incident = last.incident_id

        async with store.holding([incident]):
            await _refused_append(store, [note_after(last, last.seq, "stale")])
        assert await _lock_is_free(pg_url, incident)

        async with store.holding([incident]):
            assert await store.events_json(incident, after=last.seq) == []
        assert await _lock_is_free(pg_url, incident)

        with pytest.raises(RuntimeError):
            async with store.holding([incident]):
                raise RuntimeError("the turn failed")
        assert await _lock_is_free(pg_url, incident)

        await watcher.execute("SELECT pg_advisory_lock($1)", incident)
        waiting = asyncio.create_task(_enter_and_leave(store, incident))
        while not await watcher.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 "
            "AND NOT granted",
            incident,
        ):
            await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await watcher.execute("SELECT pg_advisory_unlock($1)", incident)
        # The cancelled wait ends on the server a moment later; a pooled session keeping the
        # lock never lets it go, and this times out.
        async with asyncio.timeout(10):
            while await watcher.fetchval(_ADVISORY_LOCKS, incident):
                await asyncio.sleep(0)
        assert await _lock_is_free(pg_url, incident)

        await store.append([note_after(last, last.seq + 1, "after")])
        assert len(await store.events_json(incident, after=last.seq)) == 1
    finally:
        await watcher.close()
        await store.close()


async def _enter_and_leave(store: PostgresStore, incident_id: int) -> None:
    async with store.holding([incident_id]):
        pass


async def test_a_task_started_in_the_block_does_not_use_its_connection(pg_url: str) -> None:
    """Tasks inherit the block's context (an observer scheduling a delivery while the sequencer
    holds a lock): their reads go to the pool, never to the held connection, which asyncpg
    would refuse while the block uses it, and their appends do not end the block's hold."""
    log = Log()
    store = await _postgres_store(pg_url)
    try:
        await store.append(log.events)
        last = log.events[-1]
        sent: list[str] = []
        async with store.holding([last.incident_id]):
            held = _held.get()
            assert held is not None
            held.conn.add_query_logger(lambda record: sent.append(record.query))
            read = await asyncio.create_task(store.events_json(last.incident_id))
            assert len(read) == len(log.events)
            assert sent == []
            assert not await _lock_is_free(pg_url, last.incident_id)
            entry = note_after(last, last.seq + 1, "held")
            await store.append([entry], [replay([*log.events, entry]).summary()])
        assert len(sent) == 1
        assert "warroom_append_held" in sent[0]
    finally:
        await store.close()


async def test_the_read_with_the_locks_answers_as_the_reads_it_replaces(pg_url: str) -> None:
    """`holding` with `after` and `commands` reads, in the statement that takes the locks, the
    events after the seq given (archived ones too) and the command ids committed (to the
    events, to the archived events, to the triage log): the same as `events_json` and
    `find_commands` read."""
    log = Log()
    store = await _postgres_store(pg_url)
    try:
        first = log.events[0]
        log.events[2] = log.events[2].model_copy(update={"command_id": "assign-tl"})
        closed = [e.model_copy(update={"incident_id": 9, "command_id": None}) for e in log.events]
        closed[1] = closed[1].model_copy(update={"command_id": "closed-1"})
        await store.append([*log.events, *closed])
        archive = "WITH moved AS (DELETE FROM events WHERE incident_id = 9 RETURNING *) "
        mover = await asyncpg.connect(pg_url)
        try:
            await mover.execute(archive + "INSERT INTO archived_events SELECT * FROM moved")
        finally:
            await mover.close()
        record = TriageRecord(
            seq=1, at=first.at, actor="oncall", command_id="dismiss-1",
            body=TriageDismissed(triage_id=7, reason="noise"),
        )  # fmt: skip
        await store.append_triage([record], [])
        keys = [
            (log.events[2].actor, "assign-tl"),
            (closed[1].actor, "closed-1"),
            ("oncall", "dismiss-1"),
            ("ic", "never-sent"),
        ]
        async with store.holding([1, 9], {1: 2, 9: 1}, keys) as read:
            assert await _lock_is_free(pg_url, 1) is False
            assert read.read == {1, 9}
            assert read.events == {
                1: await store.events_json(1, after=2),
                9: await store.events_json(9, after=1),
            }
            assert len(read.events[1]) == len(log.events) - 2
            assert len(read.events[9]) == len(log.events) - 1
            assert read.commands == await store.find_commands(keys)
            assert len(read.commands) == 3
            assert read.looked_up == set(keys)
        assert await _lock_is_free(pg_url, 1)
    finally:
        await store.close()
