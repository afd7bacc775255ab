"""Connections that break at the worst moment: mid-write, mid-frame, during a restart, in a flap.

The client reconnects with growing delays, resends what was not acknowledged (applied once), and
resumes its incidents from the last seq it saw rather than starting over.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.core.serverproc import free_port
from tests.core.wire import Peer
from tests.faults.support import ChaosProxy, masked_text_frame, raw_upgraded_socket
from tests.support.client_sync import client_reached, drained, seq_reached
from tests.support.settings import TEST_SETTINGS
from warroom.client.outbox import Outbox
from warroom.client.session import WarroomClient, new_id
from warroom.client.updates import ClientUpdate, ConnectionStatus, StateReplaced, StatusChanged
from warroom.domain.commands import AddEntry, DeclareIncident
from warroom.domain.events import Event
from warroom.domain.projection import replay
from warroom.node import WarroomNode, start_node
from warroom.protocol.frames import Ack
from warroom.server.app import ServerSettings

AddUser = Callable[[str], Awaitable[str]]


@pytest.fixture
async def proxy(server: WarroomNode) -> AsyncIterator[ChaosProxy]:
    chaos = ChaosProxy(server.port)
    await chaos.start()
    yield chaos
    await chaos.close()


async def log_of(url: str, token: str, incident_id: int) -> list[Event]:
    peer = await Peer.open(url, token)
    reply = await peer.request({"type": "read_log", "incident_id": incident_id})
    await peer.close()
    return [Event.model_validate(e) for e in reply["events"]]


def snapshots_of(client: WarroomClient) -> list[int]:
    """Incident ids for which the client was sent a whole snapshot, from now on."""
    replaced: list[int] = []

    def record(update: ClientUpdate) -> None:
        if isinstance(update, StateReplaced):
            replaced.append(update.incident_id)

    client.add_listener(record)
    return replaced


async def connected_client(url: str, token: str, **options: Any) -> tuple[WarroomClient, int]:
    """A client that has declared an incident and follows it."""
    client = WarroomClient(url, token, max_backoff=0.2, **options)
    await client.start()
    ack = await client.execute(DeclareIncident(id=new_id(), title="Queue backlog", severity=2))
    await client.follow(ack.incident_id)
    return client, ack.incident_id


def texts(client: WarroomClient, incident_id: int) -> list[str]:
    return [e.text for e in client.states[incident_id].timeline if e.kind == "note"]


async def test_write_whose_ack_is_lost_is_resent_and_applied_once(
    server: WarroomNode, proxy: ChaosProxy, add_user: AddUser
) -> None:
    token = await add_user("alice")
    client, incident = await connected_client(proxy.url, token)
    replaced = snapshots_of(client)
    async with asyncio.timeout(20):
        proxy.lose_next_ack = True  # the server commits, then the line dies before the ack
        future = client.submit(AddEntry(id="mid-write", incident_id=incident, text="restarted db"))
        await proxy.ack_lost.wait()
        ack = await future  # the client reconnected by itself and sent it again
        assert ack.duplicate, "the resend must be recognised as the write already committed"
        log = await log_of(server.url, token, incident)
        assert [e.command_id for e in log].count("mid-write") == 1
        await seq_reached(client, incident, ack.seq).wait()
        assert texts(client, incident) == ["restarted db"]
        assert client.states[incident].model_dump() == replay(log).model_dump()
        assert replaced == [], "the client resumed by seq, it was not sent a snapshot"
    await client.close()


async def test_half_written_frame_is_discarded_and_the_write_resent_once(
    server: WarroomNode, proxy: ChaosProxy, add_user: AddUser
) -> None:
    token = await add_user("alice")
    client, incident = await connected_client(proxy.url, token)
    async with asyncio.timeout(20):
        proxy.truncate_next_upstream = True  # half the frame reaches the server, then nothing
        future = client.submit(AddEntry(id="torn", incident_id=incident, text="x" * 2000))
        await proxy.truncated.wait()
        ack = await future
        assert not ack.duplicate, "half a frame must never have been applied"
        log = await log_of(server.url, token, incident)
        assert [e.command_id for e in log].count("torn") == 1
        assert [e.seq for e in log] == list(range(1, len(log) + 1))
    await client.close()


@pytest.mark.parametrize(
    "damage",
    ["half frame then FIN", "half frame then RST", "header claims 1 TB", "header only"],
)
async def test_raw_broken_frame_on_a_socket_changes_nothing_and_server_keeps_serving(
    server: WarroomNode, add_user: AddUser, damage: str
) -> None:
    token = await add_user("alice")
    peer = await Peer.open(server.url, token)
    incident = await peer.declare()
    payload = json.dumps(
        {"type": "add_entry", "id": "broken", "incident_id": incident, "text": "never"}
    ).encode()
    frame = masked_text_frame(payload)
    _, writer = await raw_upgraded_socket(server.port, token)
    sock = writer.get_extra_info("socket")
    if damage.startswith("half frame"):
        writer.write(frame[: len(frame) // 2])
    elif damage == "header claims 1 TB":
        writer.write(struct.pack("!BBQ", 0x81, 0x80 | 127, 2**40) + b"\0\0\0\0" + payload)
    else:
        writer.write(frame[:2])
    await writer.drain()
    if damage.endswith("RST"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()

    # The server still answers others, and the broken write never happened.
    log = await peer.request({"type": "read_log", "incident_id": incident})
    assert "broken" not in [e["command_id"] for e in log["events"]]
    ack = await peer.request(
        {"type": "add_entry", "id": "after", "incident_id": incident, "text": "fine"}
    )
    assert ack["type"] == "ack"
    assert ack["seq"] == len(log["events"]) + 1
    await peer.close()


async def test_reconnect_delays_grow_and_reset_after_success(
    server: WarroomNode, proxy: ChaosProxy, add_user: AddUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client's waits between attempts are recorded instead of slept (no real waiting)."""
    real_sleep = asyncio.sleep
    delays: list[float] = []

    async def recording_sleep(delay: float, result: Any = None) -> Any:
        task = asyncio.current_task()
        if task is not None and task.get_name().startswith("warroom-client"):
            delays.append(delay)
            return await real_sleep(0, result)
        return await real_sleep(delay, result)

    monkeypatch.setattr(asyncio, "sleep", recording_sleep)
    token = await add_user("alice")
    client = WarroomClient(proxy.url, token, max_backoff=0.5)
    await client.start()
    ack = await client.execute(DeclareIncident(id=new_id(), title="Flaky LB", severity=3))
    welcomes = asyncio.Event()
    connections = [0]

    def count(update: ClientUpdate) -> None:
        if isinstance(update, StatusChanged) and update.status is ConnectionStatus.CONNECTED:
            connections[0] += 1
            welcomes.set()

    client.add_listener(count)
    async with asyncio.timeout(20):
        for outage in range(1, 3):
            delays.clear()
            proxy.refuse_attempts = 4  # the next four attempts find the server "down"
            proxy.cut_all()
            while connections[0] < outage:  # each pass is one reconnection; bounded by the timeout
                welcomes.clear()
                await welcomes.wait()
            assert proxy.refuse_attempts == 0
            # One wait before each of the five attempts, growing, each at most the cap.
            assert len(delays) == 5, delays
            assert all(0 < d <= 0.5 for d in delays), delays
            assert delays[0] <= 0.05, "the first retry after a working connection is quick"
            bases = [min(0.5, 0.05 * 2**n) for n in range(len(delays))]
            for n in range(len(delays) - 1):
                if bases[n + 1] == 2 * bases[n]:  # jitter takes off at most half: growth shows
                    assert delays[n + 1] >= delays[n], delays
            assert delays[4] >= 4 * delays[0], delays
        ack2 = await client.execute(AddEntry(id=new_id(), incident_id=ack.incident_id, text="ok"))
        assert ack2.seq == 2
    await client.close()


async def test_server_restart_client_reconnects_resends_and_resumes_by_seq(
    db_path: Path, add_user: AddUser, tmp_path: Path
) -> None:
    first = await start_node(db_path, TEST_SETTINGS)
    port = first.port
    token = await add_user("alice")
    client, incident = await connected_client(
        first.url, token, outbox=Outbox(tmp_path / "outbox.jsonl")
    )
    await client.execute(AddEntry(id="before", incident_id=incident, text="before"))
    replaced = snapshots_of(client)
    await first.close()

    async with asyncio.timeout(20):
        offline = client.submit(AddEntry(id="during", incident_id=incident, text="during"))
        settings = ServerSettings(port=port, rate=TEST_SETTINGS.rate, burst=TEST_SETTINGS.burst)
        async with await start_node(db_path, settings) as second:
            ack = await offline
            assert not ack.duplicate
            peer = await Peer.open(second.url, token)
            after = await peer.request(
                {"type": "add_entry", "id": "after", "incident_id": incident, "text": "after"}
            )
            await peer.close()
            await seq_reached(client, incident, after["seq"]).wait()
            assert texts(client, incident) == ["before", "during", "after"]
            log = await log_of(second.url, token, incident)
            assert client.states[incident].model_dump() == replay(log).model_dump()
            assert replaced == [], "the client resumed by seq, it was not sent a snapshot"
            assert client.unsent == 0
            assert Outbox(tmp_path / "outbox.jsonl").pending == []
            await client.close()


async def test_client_started_while_server_is_down_connects_when_it_comes_up(
    db_path: Path, add_user: AddUser, tmp_path: Path
) -> None:
    """The console opens offline (`start(wait=False)`, as the TUI does when nothing answers) and
    must keep trying in the background until the server is back, then send what was typed."""
    token = await add_user("alice")
    port = free_port()
    async with await start_node(db_path, ServerSettings(port=port)) as setup:
        peer = await Peer.open(setup.url, token)
        incident = await peer.declare()
        await peer.close()

    client = WarroomClient(
        f"ws://127.0.0.1:{port}", token, outbox=Outbox(tmp_path / "outbox.jsonl"), max_backoff=0.2
    )
    failed_once = client_reached(client, lambda: client.status is not ConnectionStatus.CONNECTING)
    await client.start(wait=False)
    typed = client.submit(AddEntry(id="typed-offline", incident_id=incident, text="offline"))
    async with asyncio.timeout(20):
        await failed_once.wait()
        assert client.status is ConnectionStatus.RECONNECTING, (
            f"after one failed attempt the client is {client.status.value}; "
            "it gave up instead of retrying in the background"
        )
        async with await start_node(db_path, ServerSettings(port=port)):
            ack = await typed
            assert ack.seq == 2
    await client.close()


async def test_network_flapping_during_bursts_from_two_clients_loses_and_repeats_nothing(
    server: WarroomNode, proxy: ChaosProxy, add_user: AddUser, tmp_path: Path
) -> None:
    tokens = [await add_user("alice"), await add_user("bob")]
    alice, incident = await connected_client(
        proxy.url, tokens[0], outbox=Outbox(tmp_path / "a.jsonl")
    )
    peer = await Peer.open(server.url, tokens[0])
    assigned = await peer.request(
        {"type": "assign_role", "incident_id": incident, "role": "tl", "user": "bob"}
    )
    assert assigned["type"] == "ack"
    await peer.close()
    bob = WarroomClient(proxy.url, tokens[1], outbox=Outbox(tmp_path / "b.jsonl"), max_backoff=0.2)
    await bob.start()
    await bob.follow(incident)
    clients = [alice, bob]

    cuts = 0
    acked = 0

    def flap(_: asyncio.Future[Ack]) -> None:
        # Cut every connection on every 15th ack, in the middle of the burst.
        nonlocal cuts, acked
        acked += 1
        if acked % 15 == 0 and cuts < 5:
            cuts += 1
            proxy.cut_all()

    futures: list[asyncio.Future[Ack]] = []
    async with asyncio.timeout(30):
        for n in range(60):
            for name, client in zip(("a", "b"), clients, strict=True):
                cid = f"flap-{name}{n}"
                futures.append(client.submit(AddEntry(id=cid, incident_id=incident, text=cid)))
                futures[-1].add_done_callback(flap)
            if n % 4 == 3:
                await futures[-1]
        acks = await asyncio.gather(*futures)
        for client in clients:
            await drained(client).wait()
        log = await log_of(server.url, tokens[0], incident)
        ids = [e.command_id for e in log if e.command_id and e.command_id.startswith("flap-")]
        assert sorted(ids) == sorted(f"flap-{x}{n}" for x in "ab" for n in range(60))
        assert [e.seq for e in log] == list(range(1, len(log) + 1))
        assert cuts == 5
        assert sorted(a.seq for a in acks) == sorted(e.seq for e in log if e.command_id in ids)
        for client in clients:
            await seq_reached(client, incident, len(log)).wait()
            assert client.states[incident].model_dump() == replay(log).model_dump()
    for client in clients:
        await client.close()


async def test_client_close_is_prompt_even_with_unread_frames_waiting(
    server: WarroomNode, add_user: AddUser
) -> None:
    """Quitting a console in a busy moment must not hang: frames it will never read sit in front
    of the server's close frame, and a client that stopped reading there (a bounded queue, in
    the websockets of the time this was found) ended the closing handshake only at its close
    timeout, 10 s later, with the server's answer never read."""
    alice = WarroomClient(server.url, await add_user("alice"))
    bob = WarroomClient(server.url, await add_user("bob"))
    for client in (alice, bob):
        await client.start()
    for _ in range(20):
        ack = await alice.execute(DeclareIncident(id=new_id(), title="Busy", severity=3))
        for client in (alice, bob):
            await client.follow(ack.incident_id)
    await alice.close()  # the server tells bob, once per incident, that alice left
    socket = bob._ws
    assert socket is not None
    # A guard, not a measure: close() swallows the cancellation, so a close still waiting for
    # the server's close frame when it fires returns with the handshake cut short, which the
    # socket then tells (no close frame received).
    async with asyncio.timeout(5):
        await bob.close()
    if socket.protocol.close_rcvd is None:
        socket.transport.abort()  # spare the server's shutdown the same 10 s wait
    assert socket.protocol.close_rcvd is not None, "the closing handshake never got its answer"
