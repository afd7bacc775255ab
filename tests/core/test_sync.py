"""Several people on one incident: ordering, idempotent retries, catch-up and conflicts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.core.wire import Peer
from tests.support.client_sync import seq_reached
from warroom.client.outbox import Outbox
from warroom.client.session import CommandRefused, WarroomClient, new_id
from warroom.domain.commands import AddEntry, AssignRole, DeclareIncident, SetSeverity
from warroom.domain.errors import ErrorCode
from warroom.domain.projection import replay
from warroom.domain.roles import Role
from warroom.domain.severity import Severity
from warroom.node import WarroomNode, start_node

AddUser = Callable[[str], Awaitable[str]]


async def test_three_clients_interleaving_hundreds_of_writes_converge(
    server: WarroomNode, add_user: AddUser, tmp_path: Path
) -> None:
    names = ["alice", "bob", "carol"]
    clients = [WarroomClient(server.url, await add_user(n)) for n in names]
    for client in clients:
        await client.start()
    alice = clients[0]
    incident = await alice.execute(DeclareIncident(id=new_id(), title="Payments", severity=1))
    incident_id = incident.incident_id
    await alice.execute(AssignRole(id=new_id(), incident_id=incident_id, role=Role.TL, user="bob"))
    await alice.execute(
        AssignRole(id=new_id(), incident_id=incident_id, role=Role.SCRIBE, user="carol")
    )
    for client in clients:
        await client.follow(incident_id)

    per_client = 300
    futures = [
        client.submit(AddEntry(id=new_id(), incident_id=incident_id, text=f"{client_index}:{n}"))
        for n in range(per_client)
        for client_index, client in enumerate(clients)
    ]
    acks = await asyncio.gather(*futures)
    final_seq = max(a.seq for a in acks)
    assert final_seq == 3 + 3 * per_client
    assert sorted(a.seq for a in acks) == list(range(4, final_seq + 1))  # gap-free, no repeats

    for client in clients:
        await seq_reached(client, incident_id, final_seq).wait()
    states = [c.states[incident_id].model_dump() for c in clients]
    assert states[0] == states[1] == states[2]
    texts = [e.text for e in clients[0].states[incident_id].timeline if e.kind == "note"]
    assert sorted(texts) == sorted(f"{i}:{n}" for i in range(3) for n in range(per_client))
    log = await alice.read_log(incident_id)
    assert [e.seq for e in log] == list(range(1, final_seq + 1))
    assert replay(log).model_dump() == states[0]
    for client in clients:
        await client.close()


async def test_write_retried_after_dropped_connection_is_applied_once(
    server: WarroomNode, add_user: AddUser
) -> None:
    token = await add_user("alice")
    first = await Peer.open(server.url, token)
    incident = await first.declare()
    write = {"type": "add_entry", "id": "retry-1", "incident_id": incident, "text": "rolled back"}
    await first.send(dict(write))
    await first.close()  # dropped before reading the ack

    second = await Peer.open(server.url, token)
    ack = await second.request(dict(write))
    assert ack["type"] == "ack"
    again = await second.request(dict(write))
    assert again == {**ack, "duplicate": True, "id": "retry-1"}
    log = await second.request({"type": "read_log", "incident_id": incident})
    assert [e["body"].get("text") for e in log["events"]].count("rolled back") == 1


async def test_client_resends_unacknowledged_writes_after_reconnect(
    db_path: Path, add_user: AddUser, tmp_path: Path
) -> None:
    from tests.support.settings import TEST_SETTINGS

    server = await start_node(db_path, TEST_SETTINGS)
    port = server.port
    token = await add_user("alice")
    client = WarroomClient(server.url, token, outbox=Outbox(tmp_path / "outbox.jsonl"))
    await client.start()
    ack = await client.execute(DeclareIncident(id=new_id(), title="Login failing", severity=2))
    await client.follow(ack.incident_id)
    await server.close()

    pending = [
        client.submit(AddEntry(id=new_id(), incident_id=ack.incident_id, text=f"offline {n}"))
        for n in range(3)
    ]
    assert client.unsent == 3
    settings = TEST_SETTINGS.__class__(port=port, rate=TEST_SETTINGS.rate, burst=100_000)
    async with await start_node(db_path, settings):
        acks = await asyncio.gather(*pending)
        await seq_reached(client, ack.incident_id, max(a.seq for a in acks)).wait()
        texts = [e.text for e in client.states[ack.incident_id].timeline]
        assert [t for t in texts if t.startswith("offline")] == [f"offline {n}" for n in range(3)]
        assert client.unsent == 0
        await client.close()


async def test_outbox_survives_a_client_restart(
    db_path: Path, add_user: AddUser, tmp_path: Path
) -> None:
    from tests.support.settings import TEST_SETTINGS

    token = await add_user("alice")
    async with await start_node(db_path, TEST_SETTINGS) as server:
        setup = WarroomClient(server.url, token)
        await setup.start()
        incident_id = (
            await setup.execute(DeclareIncident(id=new_id(), title="Search down", severity=2))
        ).incident_id
        await setup.close()
        url = server.url

    outbox_path = tmp_path / "outbox.jsonl"
    offline = WarroomClient(url, token, outbox=Outbox(outbox_path))
    await offline.start(wait=False)
    offline.submit(AddEntry(id="typed-offline", incident_id=incident_id, text="typed offline"))
    await offline.close()  # the laptop dies with the entry unsent

    port = int(url.rsplit(":", 1)[1])
    settings = TEST_SETTINGS.__class__(port=port, rate=100_000, burst=100_000)
    async with await start_node(db_path, settings):
        outbox = Outbox(outbox_path)
        assert [f["id"] for f in outbox.pending] == ["typed-offline"]
        revived = WarroomClient(url, token, outbox=outbox)
        await revived.start()
        state = await revived.follow(incident_id)
        reached = seq_reached(revived, incident_id, 2)
        await reached.wait()
        assert [e.text for e in state.timeline if e.kind == "note"] == ["typed offline"]
        assert outbox.pending == []
        await revived.close()


async def test_reconnect_with_last_seen_seq_gets_exactly_the_missed_events(
    server: WarroomNode, add_user: AddUser
) -> None:
    token = await add_user("alice")
    writer = await Peer.open(server.url, token)
    incident = await writer.declare()
    reader = await Peer.open(server.url, token)
    snapshot = await reader.request({"type": "subscribe", "incident_id": incident})
    assert snapshot["type"] == "snapshot"
    last_seen = snapshot["seq"]
    await reader.close()

    for n in range(5):
        assert (
            await writer.request({"type": "add_entry", "incident_id": incident, "text": f"m{n}"})
        )["type"] == "ack"

    back = await Peer.open(server.url, token)
    catch_up = await back.request(
        {"type": "subscribe", "incident_id": incident, "since": last_seen}
    )
    assert catch_up["type"] == "events"
    assert [e["seq"] for e in catch_up["events"]] == list(range(last_seen + 1, last_seen + 6))
    # Live events continue right after, with no repeat.
    await writer.request({"type": "add_entry", "incident_id": incident, "text": "live"})
    live = await back.recv()
    while live["type"] != "events":
        live = await back.recv()
    assert [e["seq"] for e in live["events"]] == [last_seen + 6]


async def test_subscribe_when_current_returns_no_events(
    server: WarroomNode, add_user: AddUser
) -> None:
    peer = await Peer.open(server.url, await add_user("alice"))
    incident = await peer.declare()
    reply = await peer.request({"type": "subscribe", "incident_id": incident, "since": 1})
    assert reply["type"] == "events"
    assert reply["events"] == []


async def test_two_simultaneous_severity_changes_one_wins_one_conflicts(
    server: WarroomNode, add_user: AddUser
) -> None:
    token = await add_user("alice")
    one, two = await Peer.open(server.url, token), await Peer.open(server.url, token)
    incident = await one.declare(severity=3)
    change = {"type": "set_severity", "incident_id": incident, "expected": 3, "reason": "r"}
    first_id = await one.send({**change, "severity": 1})
    second_id = await two.send({**change, "severity": 2})
    replies = [await one.reply_to(first_id), await two.reply_to(second_id)]
    assert sorted(r["type"] for r in replies) == ["ack", "error"]
    loser = next(r for r in replies if r["type"] == "error")
    winner_sev = 1 if replies[0]["type"] == "ack" else 2
    assert loser["code"] == "conflict"
    assert loser["current"] == winner_sev


async def test_conflict_is_reported_through_the_client_with_the_current_value(
    server: WarroomNode, add_user: AddUser
) -> None:
    client = WarroomClient(server.url, await add_user("alice"))
    await client.start()
    ack = await client.execute(DeclareIncident(id=new_id(), title="x", severity=3))
    await client.execute(
        SetSeverity(id=new_id(), incident_id=ack.incident_id, severity=2, expected=3, reason="r")
    )
    stale = SetSeverity(
        id=new_id(),
        incident_id=ack.incident_id,
        severity=Severity.SEV1,
        expected=Severity.SEV3,
        reason="stale view",
    )
    with pytest.raises(CommandRefused) as refused:
        await client.execute(stale)
    assert refused.value.code is ErrorCode.CONFLICT
    assert refused.value.current == 2
    await client.close()
