"""One incident written through several nodes: a node that lost a commit to another decides
again holding the incident's lock, commits in that one transaction every write queued behind the
turn for that incident, and takes the lock first for its next writes there."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

from tests.support.postgres import PostgresServer
from tests.support.round_trips import counting_proxy
from tests.support.sequencers import close_hubs, two_hubs
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient, new_id
from warroom.domain.commands import DeclareIncident
from warroom.domain.errors import DomainError, ErrorCode
from warroom.domain.events import EntryAdded, Event
from warroom.domain.incident import IncidentSummary
from warroom.domain.projection import replay
from warroom.domain.timeline import EntryKind
from warroom.node import start_node
from warroom.protocol.parse import parse_client_frame
from warroom.server.connection import Connection
from warroom.server.hub import Hub
from warroom.server.ratelimit import FrameBudget
from warroom.store.base import CommandKey, HeldRead, StoredSnapshot
from warroom.store.postgres import PostgresStore
from warroom.users import create_user


async def _incident(pg_url: str) -> int:
    token = await create_user(pg_url, "alice")
    async with await start_node(pg_url, TEST_SETTINGS) as node:
        client = WarroomClient(node.url, token)
        await client.start()
        try:
            ack = await client.execute(DeclareIncident(id=new_id(), title="Outage", severity=1))
        finally:
            await client.close()
    return int(ack.incident_id)


def _count_appends(
    store: PostgresStore, while_first: Callable[[], None] = lambda: None
) -> list[int]:
    """Each call of the store's `append`, as the number of events it was given (committed or
    refused as stale); `while_first` is called as the first call starts."""
    calls: list[int] = []
    append = store.append

    async def counted(
        events: Sequence[Event],
        summaries: Sequence[IncidentSummary] = (),
        snapshots: Sequence[StoredSnapshot] = (),
    ) -> None:
        calls.append(len(events))
        if len(calls) == 1:
            while_first()
        await append(events, summaries, snapshots)

    store.append = counted  # type: ignore[method-assign]
    return calls


def _note(text: str) -> EntryAdded:
    return EntryAdded(kind=EntryKind.NOTE, text=text)


async def _second_hears_one_write_of_two(
    first: Hub, second: Hub, store: PostgresStore, incident: int
) -> None:
    """`first` writes seq 2 and 3 to the incident; `second` hears of seq 2 only, with the event
    carried as a notification carries it: its turns there now lock first, and its copy is
    one write behind."""
    assert await first.record(incident, _note("first, 1")) == 2
    second.changed_elsewhere(incident, 2, tuple(await store.events_json(incident, 1)))
    assert await first.record(incident, _note("first, 2")) == 3


async def test_a_turn_decided_again_under_the_lock_commits_the_writes_queued_behind_it(
    pg_url: str,
) -> None:
    incident = await _incident(pg_url)
    stores, (first, second), tasks = await two_hubs(pg_url)
    try:
        assert await first.record(incident, _note("from the first")) == 2
        later: list[asyncio.Task[int]] = []

        def write_more() -> None:
            # Sent while the turn's first commit is on its way (to be refused as stale: the
            # second sequencer has not heard of seq 2).
            later.extend(
                asyncio.create_task(second.record(incident, _note(f"later {n}"))) for n in range(20)
            )

        appends = _count_appends(stores[1], write_more)
        first_seqs = await asyncio.gather(
            *(second.record(incident, _note(f"queued {n}")) for n in range(10))
        )
        later_seqs = await asyncio.gather(*later)
        # Refused as stale with the 10 it started with, decided again under the lock with the
        # 20 that queued meanwhile: one commit of 30.
        assert appends == [10, 30]
        assert first_seqs + later_seqs == list(range(3, 33))
        events = await stores[0].load_events()
        assert [e.seq for e in events] == list(range(1, 33))
    finally:
        await close_hubs(stores, tasks)


async def test_a_node_that_lost_a_commit_takes_the_lock_first_for_its_next_write_there(
    pg_url: str,
) -> None:
    incident = await _incident(pg_url)
    stores, (first, second), tasks = await two_hubs(pg_url)
    try:
        assert await first.record(incident, _note("first, 1")) == 2
        appends = _count_appends(stores[1])
        assert await second.record(incident, _note("second, 1")) == 3
        assert appends == [1, 1]  # refused as stale, then committed under the lock
        assert await first.record(incident, _note("first, 2")) == 4
        # The second's copy is out of date again, but it now locks before deciding: one append.
        assert await second.record(incident, _note("second, 2")) == 5
        assert appends == [1, 1, 1]
        events = await stores[0].load_events()
        assert [e.seq for e in events] == [1, 2, 3, 4, 5]
        texts = [e.body.text for e in events[1:] if isinstance(e.body, EntryAdded)]
        assert texts == ["first, 1", "second, 1", "first, 2", "second, 2"]
    finally:
        await close_hubs(stores, tasks)


async def test_a_resend_that_joins_a_turn_under_the_lock_is_answered_with_its_original_seq(
    pg_url: str,
) -> None:
    incident = await _incident(pg_url)
    stores, (first, second), tasks = await two_hubs(pg_url)
    try:
        # The second node loses a commit on the incident: its next turns there lock first.
        assert await first.record(incident, _note("first")) == 2
        assert await second.record(incident, _note("second")) == 3
        # A command committed through the first node, whose writer then resends it to the
        # second (a failover) while the second's next turn there waits for the lock.
        original = await first.record(incident, _note("sent once"), "alice", "command-1")
        assert original == 4
        resent: list[asyncio.Task[int]] = []
        hold = stores[1].holding

        def resend_meanwhile(
            incident_ids: Collection[int],
            after: Mapping[int, int] | None = None,
            commands: Collection[CommandKey] = (),
        ) -> AbstractAsyncContextManager[HeldRead]:
            if not resent:
                resent.append(
                    asyncio.create_task(
                        second.record(incident, _note("sent once"), "alice", "command-1")
                    )
                )
            return hold(incident_ids, after, commands)

        stores[1].holding = resend_meanwhile  # type: ignore[method-assign,assignment]
        appends = _count_appends(stores[1])
        assert await second.record(incident, _note("third")) == 5
        # It joined the turn under the lock, was looked up there, and is answered with the
        # first commit's seq; the commit holds "third" alone.
        assert resent[0].done()
        assert await resent[0] == original
        assert appends == [1]
        events = await stores[0].load_events()
        assert [e.seq for e in events] == [1, 2, 3, 4, 5]
        assert [e.command_id for e in events].count("command-1") == 1
    finally:
        await close_hubs(stores, tasks)


@asynccontextmanager
async def _console(user: str) -> AsyncIterator[tuple[Connection, ClientConnection]]:
    """A real websocket console of `user` and the server's `Connection` to it, sending."""
    opened: asyncio.Future[Connection] = asyncio.get_running_loop().create_future()
    done = asyncio.Event()

    async def handle(ws: ServerConnection) -> None:
        conn = Connection(ws, user, 1_000, FrameBudget(100, 100, 1e9, 10**9))
        sender = asyncio.create_task(conn.run_sender())
        opened.set_result(conn)
        await done.wait()
        sender.cancel()

    async with serve(handle, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as client:
            yield await opened, client
            done.set()


async def test_hostile_writes_joining_a_turn_under_the_lock_are_refused_alone(
    pg_url: str,
) -> None:
    """Writes that join a turn decided again under the incident's lock are decided one by one
    like the turn's own: a hostile one is refused with its reason and the good ones around it
    are committed in the same transaction."""
    incident = await _incident(pg_url)
    stores, (first, second), tasks = await two_hubs(pg_url)
    hostile: dict[str, dict[str, Any]] = {
        "an unknown entry": {"type": "amend_entry", "entry_id": 10**15, "text": "x"},
        "a server kind": {"type": "add_entry", "kind": "external", "text": "[b]x[/b]\x1b[2J"},
        "a system entry": {"type": "strike_entry", "entry_id": 1, "reason": "x"},
        "an unknown user": {"type": "assign_role", "role": "cl", "user": "nobody"},
    }
    good: list[dict[str, Any]] = [
        {"type": "add_entry", "kind": "note", "text": f"good {n}"} for n in range(3)
    ]
    frames = [good[0], *hostile.values(), *good[1:]]
    ids = [f"w{n}" for n in range(len(frames))]
    try:
        assert await first.record(incident, _note("from the first")) == 2
        async with _console("alice") as (conn, console):

            def write_meanwhile() -> None:
                # Queued while the turn's first commit is on its way (refused as stale).
                for frame_id, frame in zip(ids, frames, strict=True):
                    raw = json.dumps({**frame, "id": frame_id, "incident_id": incident})
                    second.submit(conn, parse_client_frame(raw))

            appends = _count_appends(stores[1], write_meanwhile)
            assert await second.record(incident, _note("queued")) == 3
            replies: dict[str, dict[str, Any]] = {}
            while len(replies) < len(frames):
                reply = json.loads(await console.recv())
                replies[reply["id"]] = reply
        assert appends == [1, 1 + len(good)]  # the good ones joined the turn under the lock
        for frame_id, frame in zip(ids, frames, strict=True):
            expected = "ack" if frame in good else "error"
            assert replies[frame_id]["type"] == expected, (frame, replies[frame_id])
        acked = [replies[i]["seq"] for i, f in zip(ids, frames, strict=True) if f in good]
        assert sorted(acked) == [4, 5, 6]
        codes = [replies[i].get("code") for i in ids[1 : 1 + len(hostile)]]
        assert codes == ["unknown_entry", "invalid", "invalid", "unknown_user"]
        events = await stores[0].load_events()
        texts = [e.body.text for e in events if isinstance(e.body, EntryAdded)]
        assert texts == ["from the first", "queued", "good 0", "good 1", "good 2"]
    finally:
        await close_hubs(stores, tasks)


async def test_a_node_that_hears_another_commit_there_takes_the_lock_first(
    pg_url: str,
) -> None:
    """Another node's commit heard of (not only one lost to it) makes this node's next writes
    to the incident lock before deciding: on an incident written through several nodes this
    node's copy is behind at nearly every turn, and deciding against it loses the commit."""
    incident = await _incident(pg_url)
    stores, (first, second), tasks = await two_hubs(pg_url)
    try:
        await _second_hears_one_write_of_two(first, second, stores[0], incident)
        appends = _count_appends(stores[1])
        assert await second.record(incident, _note("second")) == 4
        assert appends == [1]  # decided under the lock at once: no commit lost as stale
        events = await stores[0].load_events()
        assert [e.seq for e in events] == [1, 2, 3, 4]
        texts = [e.body.text for e in events[1:] if isinstance(e.body, EntryAdded)]
        assert texts == ["first, 1", "first, 2", "second"]
    finally:
        await close_hubs(stores, tasks)


async def test_a_turn_under_the_lock_reads_what_it_missed_and_its_command_ids_with_the_lock(
    postgres_server: PostgresServer, pg_url: str
) -> None:
    """The contended turn costs the round trips one node's turn costs: one before deciding (it
    takes the locks, reads the events missed and looks up the command ids, all once the locks
    are granted) and the commit; each round trip more kept every node writing there waiting.
    What it decides is decided against what it read: the latest."""
    incident = await _incident(pg_url)
    database = pg_url.split("?")[0].rsplit("/", 1)[1]
    async with counting_proxy(postgres_server) as trips:
        stores, (first, second), tasks = await two_hubs(pg_url, trips.url(database))
        try:
            await _second_hears_one_write_of_two(first, second, stores[0], incident)
            # One turn there first, so that every statement it uses is prepared.
            assert await second.record(incident, _note("second, 1"), "alice", "command-0") == 4
            # Two commits it has not heard of, one of them the command it is about to resend.
            assert await first.record(incident, _note("first, 3")) == 5
            assert await first.record(incident, _note("sent"), "alice", "command-1") == 6
            before = trips.by_application["warroom"]
            resent = second.record(incident, _note("sent"), "alice", "command-1")
            fresh = second.record(incident, _note("second, 2"), "alice", "command-2")
            assert list(await asyncio.gather(resent, fresh)) == [6, 7]
            assert trips.by_application["warroom"] - before == 2
            events = await stores[0].load_events()
            assert [e.seq for e in events] == list(range(1, 8))
            assert [e.command_id for e in events].count("command-1") == 1
            assert second.incident_state(incident) == replay(events)
        finally:
            await close_hubs(stores, tasks)


async def test_a_damaged_row_read_with_the_lock_refuses_the_turn_and_the_node_goes_on(
    pg_url: str,
) -> None:
    """An event row that is not an event, read with the locks: the writes are refused as
    unavailable, nothing is committed, and once the row is mended the node writes there again."""
    incident = await _incident(pg_url)
    stores, (first, second), tasks = await two_hubs(pg_url)
    try:
        await _second_hears_one_write_of_two(first, second, stores[0], incident)
        conn = await asyncpg.connect(pg_url)
        try:
            mend = await conn.fetchval(
                "SELECT body::text FROM events WHERE incident_id = $1 AND seq = 3", incident
            )
            damage = "UPDATE events SET body = $2::json WHERE incident_id = $1 AND seq = 3"
            await conn.execute(damage, incident, '{"type": "entry_added", "kind": 7}')
            with pytest.raises(DomainError) as refused:
                await second.record(incident, _note("second"))
            assert refused.value.code is ErrorCode.UNAVAILABLE
            assert [r["seq"] for r in await _rows(conn, incident)] == [1, 2, 3]
            await conn.execute(damage, incident, mend)
        finally:
            await conn.close()
        assert await second.record(incident, _note("second, again")) == 4
        events = await stores[0].load_events()
        texts = [e.body.text for e in events[1:] if isinstance(e.body, EntryAdded)]
        assert texts == ["first, 1", "first, 2", "second, again"]
    finally:
        await close_hubs(stores, tasks)


async def _rows(conn: asyncpg.Connection[asyncpg.Record], incident: int) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT seq FROM events WHERE incident_id = $1 ORDER BY seq", incident)
