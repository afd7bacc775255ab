"""History at any size: only live incidents in memory, closed ones loaded on demand and dropped
again, snapshots, and idempotent retries for incidents that are not in memory."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.core.serverproc import free_port
from tests.core.wire import Peer
from tests.faults.support import ServerProc
from tests.support.client_sync import seq_reached
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient, new_id
from warroom.config import HistorySettings, ServerConfig
from warroom.domain.commands import AddEntry, DeclareIncident, SetPhase
from warroom.domain.phase import Phase
from warroom.domain.projection import replay
from warroom.node import WarroomNode, start_node
from warroom.users import create_user

AddUser = Callable[[str], Awaitable[str]]

SMALL = ServerConfig(history=HistorySettings(snapshot_every=16, idle_minutes=1e-9))
"""Snapshots every 16 events; a closed incident is idle as soon as nobody follows it."""


@pytest.fixture
async def node(db_path: Path) -> AsyncIterator[WarroomNode]:
    async with await start_node(db_path, TEST_SETTINGS, config=SMALL) as running:
        yield running


async def declare(client: WarroomClient, title: str) -> int:
    ack = await client.execute(DeclareIncident(id=new_id(), title=title, severity=3))
    return ack.incident_id


async def close_incident(client: WarroomClient, incident_id: int) -> None:
    """Resolve the incident and mark its post-mortem done: it stops being live."""
    for phase, expected in (
        (Phase.RESOLVED, Phase.DECLARED),
        (Phase.POSTMORTEM_DONE, Phase.RESOLVED),
    ):
        await client.execute(
            SetPhase(id=new_id(), incident_id=incident_id, phase=phase, expected=expected)
        )


async def notes(client: WarroomClient, incident_id: int, count: int, tag: str) -> int:
    acks = await asyncio.gather(
        *(
            client.submit(AddEntry(id=f"{tag}-{n}", incident_id=incident_id, text=f"{tag} {n}"))
            for n in range(count)
        )
    )
    return max(a.seq for a in acks)


async def swept(node: WarroomNode, client: WarroomClient) -> None:
    """Ask the sequencer to drop idle incidents and wait until it has (a later read's reply
    proves every request queued before it was handled)."""
    node.hub.sweep()
    await client.list_incidents()


async def test_only_live_incidents_are_loaded_at_start_and_the_list_has_them_all(
    db_path: Path, add_user: AddUser
) -> None:
    token = await add_user("alice")
    async with await start_node(db_path, TEST_SETTINGS, config=SMALL) as first:
        alice = WarroomClient(first.url, token)
        await alice.start()
        open_id = await declare(alice, "still open")
        closed_id = await declare(alice, "long closed")
        await notes(alice, closed_id, 40, "c")
        await close_incident(alice, closed_id)
        before = await alice.list_incidents()
        await alice.close()

    async with await start_node(db_path, TEST_SETTINGS, config=SMALL) as second:
        assert second.hub.incident_state(open_id) is not None
        assert second.hub.incident_state(closed_id) is None  # not replayed at start
        assert [s.incident.id for s in second.hub.states] == [open_id]
        alice = WarroomClient(second.url, token)
        await alice.start()
        listed = await alice.list_incidents()
        assert listed == before
        assert [(s.id, s.phase) for s in listed] == [
            (open_id, Phase.DECLARED),
            (closed_id, Phase.POSTMORTEM_DONE),
        ]
        # Following the closed incident loads it: snapshot + tail, equal to the whole replay.
        state = await alice.follow(closed_id)
        assert state.model_dump() == replay(await alice.read_log(closed_id)).model_dump()
        assert second.hub.incident_state(closed_id) is not None
        await alice.close()


async def test_a_closed_incident_is_evicted_when_idle_and_loaded_again_mid_session(
    node: WarroomNode, add_user: AddUser
) -> None:
    alice = WarroomClient(node.url, await add_user("alice"))
    bob = WarroomClient(node.url, await add_user("bob"))
    await alice.start()
    await bob.start()
    incident_id = await declare(alice, "closing")
    await close_incident(alice, incident_id)
    seq = await notes(alice, incident_id, 20, "before")
    await bob.follow(incident_id)

    await swept(node, alice)
    assert node.hub.incident_state(incident_id) is not None  # bob follows it: kept
    await bob.unfollow(incident_id)
    await bob.list_incidents()  # answered after bob's unsubscribe, sent on the same connection
    await swept(node, alice)
    assert node.hub.incident_state(incident_id) is None  # nobody uses it: dropped

    # Loaded again by a write, with the sequence carrying on without a gap.
    later = await notes(alice, incident_id, 5, "after")
    assert later == seq + 5
    # bob follows it again and gets it whole.
    state = await bob.follow(incident_id)
    assert state.seq == later
    assert state.model_dump() == replay(await bob.read_log(incident_id)).model_dump()
    await alice.close()
    await bob.close()


async def test_lazy_load_under_concurrent_subscribes_and_writes_stays_gap_free(
    node: WarroomNode, add_user: AddUser
) -> None:
    writer = WarroomClient(node.url, await add_user("alice"))
    await writer.start()
    incident_id = await declare(writer, "closed, then busy again")
    await close_incident(writer, incident_id)
    base = await notes(writer, incident_id, 30, "old")
    await swept(node, writer)
    assert node.hub.incident_state(incident_id) is None

    readers = [WarroomClient(node.url, await add_user(f"r{n}")) for n in range(5)]
    for reader in readers:
        await reader.start()
    # Everyone at once: the first request loads the incident, none sees it half-loaded.
    follows = [asyncio.create_task(r.follow(incident_id)) for r in readers]
    acks = await asyncio.gather(
        *(
            writer.submit(AddEntry(id=f"new-{n}", incident_id=incident_id, text=f"new {n}"))
            for n in range(40)
        )
    )
    await asyncio.gather(*follows)
    assert sorted(a.seq for a in acks) == list(range(base + 1, base + 41))
    final = base + 40
    log = await writer.read_log(incident_id)
    assert [e.seq for e in log] == list(range(1, final + 1))
    expected = replay(log).model_dump()
    for reader in readers:
        await seq_reached(reader, incident_id, final).wait()
        assert reader.states[incident_id].model_dump() == expected
        await reader.close()
    await writer.close()


async def test_a_retry_of_an_evicted_incidents_command_gets_its_original_seq(
    db_path: Path, node: WarroomNode, add_user: AddUser
) -> None:
    token = await add_user("alice")
    peer = await Peer.open(node.url, token)
    incident_id = await peer.declare()
    for phase, expected in (("resolved", "declared"), ("postmortem_done", "resolved")):
        reply = await peer.request(
            {"type": "set_phase", "incident_id": incident_id, "phase": phase, "expected": expected}
        )
        assert reply["type"] == "ack", reply
    write = {"type": "add_entry", "id": "late-note", "incident_id": incident_id, "text": "x"}
    first = await peer.request(dict(write))
    assert first["type"] == "ack"
    alice = WarroomClient(node.url, token)
    await alice.start()
    await swept(node, alice)
    assert node.hub.incident_state(incident_id) is None

    again = await peer.request(dict(write))
    assert again == {**first, "duplicate": True}
    await peer.close()
    await alice.close()
    await node.close()

    # Across a restart too, with the incident not in memory.
    async with await start_node(db_path, TEST_SETTINGS, config=SMALL) as restarted:
        assert restarted.hub.incident_state(incident_id) is None
        peer = await Peer.open(restarted.url, token)
        assert await peer.request(dict(write)) == {**first, "duplicate": True}
        log = await peer.request({"type": "read_log", "incident_id": incident_id})
        assert [e["command_id"] for e in log["events"]].count("late-note") == 1
        await peer.close()


def stored_snapshot(db: Path, incident_id: int) -> int | None:
    connection = sqlite3.connect(db)
    try:
        row = connection.execute(
            "SELECT seq FROM snapshots WHERE incident_id = ?", (incident_id,)
        ).fetchone()
    finally:
        connection.close()
    return None if row is None else int(row[0])


async def test_a_snapshot_written_then_a_crash_before_the_next_loses_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "crash.db"
    token = await create_user(db, "alice")
    server = ServerProc(db, free_port(), tmp_path / "server.log")
    await server.start()
    try:
        alice = WarroomClient(server.url, token, reconnect=False)
        await alice.start()
        incident_id = await declare(alice, "snapshots")
        # Default cadence 256: one snapshot at 256 or so, then 44+ events after it.
        last = await notes(alice, incident_id, 300, "n")
        await alice.close()
        server.kill()
        snapshot_seq = stored_snapshot(db, incident_id)
        assert snapshot_seq is not None
        assert 256 <= snapshot_seq < last

        await server.start()
        bob = WarroomClient(server.url, token)
        await bob.start()
        state = await bob.follow(incident_id)
        assert state.seq == last
        assert state.model_dump() == replay(await bob.read_log(incident_id)).model_dump()
        # The retry of an acknowledged write after the snapshot is still recognised.
        ack = await bob.execute(AddEntry(id="n-299", incident_id=incident_id, text="n 299"))
        assert ack.duplicate
        assert ack.seq <= last
        await bob.close()
    finally:
        server.stop()
