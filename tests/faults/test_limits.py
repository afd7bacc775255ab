"""Limits under abuse: what one connection may make the server hold (bytes) and parse, what one
user may open, write and declare, what revocation ends, whose forwarded address is believed, and
how repeated log lines are kept from filling a disk."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

import warroom.protocol.parse as parse_module
from tests.core.wire import Peer
from tests.faults.support import open_ws, recv_json, small_receive_buffer_socket
from warroom.client.session import WarroomClient
from warroom.domain.limits import MAX_SERVICES
from warroom.node import WarroomNode, start_node
from warroom.protocol.frames import CLIENT_FRAME_ADAPTER
from warroom.server.app import ServerSettings, WarroomServer, client_address
from warroom.server.connection import CLOSE_POLICY, CLOSE_TOO_SLOW
from warroom.server.hub import READ_LOG_PAGE_BYTES
from warroom.server.limits import UNLIMITED
from warroom.server.logthrottle import RepeatFilter
from warroom.store.open import describe
from warroom.users import create_user, revoke_user


def settings(**limits: Any) -> ServerSettings:
    """Everything lifted but `limits`: these tests reach one limit at a time on purpose."""
    return ServerSettings(
        port=0, rate=100_000, burst=100_000, limits=UNLIMITED.model_copy(update=limits)
    )


async def big_incident(peer: Peer, entries: int) -> int:
    """An incident whose log holds `entries` entries of ~10 KB each."""
    incident = await peer.declare("Big log")
    for n in range(entries):
        await peer.send(
            {"type": "add_entry", "incident_id": incident, "text": f"{n} " + "x" * 9_900}
        )
    last = await peer.request({"type": "add_entry", "incident_id": incident, "text": "end"})
    assert last["type"] == "ack", last
    return incident


async def read_until_closed(ws: Any, received: list[dict[str, Any]]) -> ConnectionClosed:
    for _ in range(500):
        try:
            received.append(await recv_json(ws))
        except ConnectionClosed as closed:
            return closed
    raise AssertionError("the connection was never closed")


# --- memory per connection ----------------------------------------------------------------------


async def test_read_log_is_paged_and_the_client_reads_every_page(db_path: Path) -> None:
    token = await create_user(db_path, "alice")
    async with await start_node(db_path, settings()) as server:
        peer = await Peer.open(server.url, token)
        incident = await big_incident(peer, 120)  # ~1.2 MB of log
        first = await peer.request({"type": "read_log", "incident_id": incident})
        assert first["more"] is True
        assert len(json.dumps(first["events"])) <= READ_LOG_PAGE_BYTES + 20_000
        after = first["events"][-1]["seq"]
        second = await peer.request({"type": "read_log", "incident_id": incident, "after": after})
        assert second["events"][0]["seq"] == after + 1
        await peer.close()

        client = WarroomClient(server.url, token, reconnect=False)
        await client.start()
        try:
            events = await client.read_log(incident)
        finally:
            await client.close()
        assert [e.seq for e in events] == list(range(1, 123))


async def test_a_console_that_never_reads_is_closed_at_its_byte_limit(db_path: Path) -> None:
    """The issue's attack: an observer that never reads asks for a large log again and again."""
    token = await create_user(db_path, "alice")
    limit = 1024 * 1024
    async with (
        asyncio.timeout(60),
        await start_node(db_path, settings(send_buffer_bytes=limit)) as server,
    ):
        writer = await Peer.open(server.url, token)
        incident = await big_incident(writer, 120)
        sleepy = await open_ws(
            server.url,
            token,
            sock=small_receive_buffer_socket(server.port),
            compression=None,
            max_queue=1,
        )
        for n in range(400):
            try:
                await sleepy.send(
                    json.dumps({"type": "read_log", "id": f"r{n}", "incident_id": incident})
                )
            except ConnectionClosed:
                break
        # Whatever the server held for sleepy, it never held more than the limit (plus the one
        # frame on its way to the socket): it closed the connection instead.
        replies: list[dict[str, Any]] = []
        closed = await read_until_closed(sleepy, replies)
        assert closed.rcvd is not None
        assert closed.rcvd.code == CLOSE_TOO_SLOW
        assert len(replies) < 20, "the server queued far more than the limit"
        # Everyone else is fine.
        assert (await writer.request({"type": "list_incidents"}))["type"] == "incidents"


# --- parse cost before the rate limit --------------------------------------------------------


async def test_frames_over_the_byte_budget_are_refused_before_they_are_parsed(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await create_user(db_path, "alice")
    parses: list[int] = []
    real_adapter = CLIENT_FRAME_ADAPTER

    class CountingAdapter:
        """The frame parser, counting what it is given."""

        @staticmethod
        def validate_json(text: str | bytes, **options: Any) -> Any:
            parses.append(len(text))
            return real_adapter.validate_json(text, **options)

    monkeypatch.setattr(parse_module, "CLIENT_FRAME_ADAPTER", CountingAdapter)
    floats = ",".join(["1.5e300"] * 30_000)  # ~240 KB of costly numbers
    frame = f'{{"type":"add_entry","id":"costly-1","incident_id":1,"values":[{floats}]}}'
    budget = settings(bytes_per_second=1024, burst_bytes=256 * 1024)
    async with await start_node(db_path, budget) as server:
        ws = await open_ws(server.url, token)
        await recv_json(ws)
        await ws.send(frame)  # within the burst: parsed, and refused as invalid
        assert (await recv_json(ws))["code"] == "invalid"
        parsed = len(parses)
        for _ in range(5):
            await ws.send(frame.replace("costly-1", "costly-2"))
            refused = await recv_json(ws)
            assert refused["code"] == "rate_limited"
            assert "bytes per second" in refused["message"]
            assert refused["id"] == "costly-2", "the client can still retry it"
        assert len(parses) == parsed, "a refused frame was parsed"
        await ws.close()


async def test_a_new_connection_takes_up_the_byte_allowance_a_closed_one_spent(
    db_path: Path,
) -> None:
    """Reconnecting is no way around the byte budget: the next connection of the same user
    starts where the closed one left off, not with a fresh burst of frames to parse."""
    token = await create_user(db_path, "alice")
    floats = ",".join(["1.5e300"] * 24_000)  # ~190 KB: one fits the burst, two do not
    budget = settings(bytes_per_second=1024, burst_bytes=256 * 1024)
    async with await start_node(db_path, budget) as server:
        first = await open_ws(server.url, token)
        await recv_json(first)
        costly = f'{{"type":"add_entry","id":"c1","incident_id":1,"values":[{floats}]}}'
        await first.send(costly)
        assert (await recv_json(first))["code"] == "invalid", "within the burst: parsed"
        await first.close()
        await server.server.until_connections_at_most(0)

        again = await open_ws(server.url, token)
        await recv_json(again)
        await again.send(costly.replace('"c1"', '"c2"'))
        refused = await recv_json(again)
        assert refused["code"] == "rate_limited", refused
        assert refused["id"] == "c2"
        # Another user's allowance is their own.
        other = await open_ws(server.url, await create_user(db_path, "bob"))
        await recv_json(other)
        await other.send(costly.replace('"c1"', '"b1"'))
        assert (await recv_json(other))["code"] == "invalid"
        await again.close()
        await other.close()


async def test_observers_flooding_costly_frames_do_not_starve_a_writer_or_the_health_check(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's scenario: sixteen observers each send frames of ~256 KiB of `1.5e300,` (slow
    to parse), inside their byte budget, while a writer writes. Asserted as an ordering, not a
    time: the writer's acks and a `/healthz` answer all come while the flood is still being
    parsed (the server takes turns between connections instead of parsing one flood whole)."""
    observers, frames_each = 16, 8
    alice = await create_user(db_path, "alice")
    watcher = await create_user(db_path, "watcher")
    floats = ",".join(["1.5e300"] * 32_000)  # ~250 KiB, just under the largest frame
    processed: list[str] = []
    """Whose frames the server has finished with, in order."""
    underway = asyncio.Event()
    real_receive = WarroomServer._receive

    async def counting_receive(self: WarroomServer, conn: Any, raw: str | bytes) -> None:
        await real_receive(self, conn, raw)
        processed.append(conn.user)
        if processed.count("watcher") >= observers:
            underway.set()

    monkeypatch.setattr(WarroomServer, "_receive", counting_receive)
    budget = UNLIMITED.model_copy(
        update={"bytes_per_second": 256 * 1024, "burst_bytes": frames_each * 256 * 1024}
    )
    async with (
        asyncio.timeout(120),  # a hang bound, not a measurement
        await start_node(db_path, ServerSettings(port=0, limits=budget)) as server,
    ):
        writer = await Peer.open(server.url, alice)
        incident = await writer.declare("Writes during a parse flood")
        flooders = [await open_ws(server.url, watcher) for _ in range(observers)]
        for ws in flooders:
            await recv_json(ws)  # welcome

        async def flood(n: int, ws: Any) -> None:
            for k in range(frames_each):
                await ws.send(f'{{"type":"list_incidents","id":"o{n}-{k}","pad":[{floats}]}}')

        async def replies(ws: Any) -> list[str]:
            return [(await recv_json(ws))["code"] for _ in range(frames_each)]

        sending = [asyncio.create_task(flood(n, ws)) for n, ws in enumerate(flooders)]
        answers = [asyncio.create_task(replies(ws)) for ws in flooders]
        await underway.wait()

        ids = [
            await writer.send({"type": "add_entry", "incident_id": incident, "text": f"w{n}"})
            for n in range(5)
        ]
        acks = [await writer.reply_to(frame_id) for frame_id in ids]
        parsed_meanwhile = processed.count("watcher")
        async with httpx.AsyncClient(timeout=60) as http:  # a hang bound, not a measurement
            health = await http.get(f"http://127.0.0.1:{server.port}/healthz")
        parsed_by_health = processed.count("watcher")

        assert [ack["type"] for ack in acks] == ["ack"] * 5
        assert parsed_meanwhile < observers * frames_each, "the writer waited for the whole flood"
        assert health.status_code == 200
        assert parsed_by_health < observers * frames_each, "/healthz waited for the whole flood"
        await asyncio.gather(*sending)
        assert all(codes == ["invalid"] * frames_each for codes in await asyncio.gather(*answers))
        for ws in flooders:
            await ws.close()
        print(f"observer frames parsed before the writer's 5 acks: {parsed_meanwhile}, before "
              f"/healthz: {parsed_by_health}, of {observers * frames_each}")  # fmt: skip


# --- per user ---------------------------------------------------------------------------------


async def test_connections_per_user_are_capped_with_429(db_path: Path) -> None:
    alice = await create_user(db_path, "alice")
    bob = await create_user(db_path, "bob")
    async with await start_node(db_path, settings(connections_per_user=2)) as server:
        held = [await Peer.open(server.url, alice) for _ in range(2)]
        with pytest.raises(InvalidStatus) as refused:
            await Peer.open(server.url, alice)
        assert refused.value.response.status_code == 429
        assert b"alice already has 2 connections" in refused.value.response.body
        other = await Peer.open(server.url, bob)  # another user is not affected
        await other.close()
        await held[0].close()
        await held[0].ws.wait_closed()
        again = await Peer.open(server.url, alice)  # a freed slot is usable at once
        for peer in (again, held[1]):
            await peer.close()


async def test_writes_per_user_are_limited_over_all_their_connections(db_path: Path) -> None:
    token = await create_user(db_path, "alice")
    limits = settings(writes_per_second_per_user=0.001, write_burst_per_user=3)
    async with await start_node(db_path, limits) as server:
        first, second = Peer(await open_ws(server.url, token)), None
        await first.recv()
        incident = await first.declare()
        second = await Peer.open(server.url, token)
        ok = await second.request({"type": "add_entry", "incident_id": incident, "text": "a"})
        assert ok["type"] == "ack"
        ok = await first.request({"type": "add_entry", "incident_id": incident, "text": "b"})
        assert ok["type"] == "ack"
        refused = await second.request({"type": "add_entry", "incident_id": incident, "text": "c"})
        assert refused["code"] == "rate_limited"
        assert "writes per second by alice" in refused["message"]
        reads = await second.request({"type": "read_log", "incident_id": incident})
        assert [e["body"].get("text") for e in reads["events"][1:]] == ["a", "b"]


async def test_declarations_per_user_per_minute_are_limited(db_path: Path) -> None:
    token = await create_user(db_path, "alice")
    async with await start_node(db_path, settings(declarations_per_minute_per_user=2)) as server:
        peer = await Peer.open(server.url, token)
        for n in range(2):
            await peer.declare(f"Outage {n}", severity=1)
        refused = await peer.request({"type": "declare_incident", "title": "Third", "severity": 1})
        assert refused["code"] == "rate_limited"
        assert "declared more than 2 incidents in a minute" in refused["message"]
        listed = await peer.request({"type": "list_incidents"})
        assert len(listed["incidents"]) == 2


async def test_an_incident_lists_a_bounded_number_of_services(server: WarroomNode) -> None:
    token = await create_user(describe(server.store), "alice")
    peer = await Peer.open(server.url, token)
    incident = await peer.declare()
    for n in range(MAX_SERVICES):
        ack = await peer.request(
            {"type": "add_service", "incident_id": incident, "service": f"s{n}"}
        )
        assert ack["type"] == "ack", ack
    refused = await peer.request(
        {"type": "add_service", "incident_id": incident, "service": "one-more"}
    )
    assert refused["code"] == "too_large"
    assert f"at most {MAX_SERVICES} services" in refused["message"]
    state = server.hub.incident_state(incident)
    assert state is not None
    assert len(state.incident.services) == MAX_SERVICES


# --- connections per server -----------------------------------------------------------------


async def test_handshakes_over_the_connection_cap_get_503(db_path: Path) -> None:
    token = await create_user(db_path, "alice")
    async with await start_node(db_path, settings(max_connections=3)) as server:
        held = [await Peer.open(server.url, token) for _ in range(3)]
        with pytest.raises(InvalidStatus) as refused:
            await Peer.open(server.url, token)
        assert refused.value.response.status_code == 503
        assert refused.value.response.headers["Retry-After"]
        await held[0].close()
        await held[0].ws.wait_closed()
        replacement = await Peer.open(server.url, token)
        for peer in (replacement, *held[1:]):
            await peer.close()


# --- revocation -------------------------------------------------------------------------------


async def test_revoking_a_user_ends_their_open_connections(db_path: Path) -> None:
    alice = await create_user(db_path, "alice")
    bob = await create_user(db_path, "bob")
    async with (
        asyncio.timeout(30),
        await start_node(db_path, settings(user_check_seconds=0.05)) as server,
    ):
        consoles = [await Peer.open(server.url, alice) for _ in range(2)]
        other = await Peer.open(server.url, bob)
        await revoke_user(db_path, "alice")
        for console in consoles:
            await console.ws.wait_closed()
            assert console.ws.close_code == CLOSE_POLICY
            assert console.ws.close_reason == "user alice was revoked"
        assert (await other.request({"type": "list_incidents"}))["type"] == "incidents"
        with pytest.raises(InvalidStatus):
            await Peer.open(server.url, alice)


async def test_a_revoked_users_write_already_queued_is_not_committed(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alice's second write waits in the sequencer behind her first one's commit while her
    revocation is noticed: it is refused when its turn comes, not committed after her
    connections were ended."""
    alice = await create_user(db_path, "alice")
    bob = await create_user(db_path, "bob")
    async with (
        asyncio.timeout(30),
        await start_node(db_path, settings(user_check_seconds=0.05)) as server,
    ):
        revoked = await Peer.open(server.url, alice)
        incident = await revoked.declare("Queued behind a commit")  # alice is its IC
        reader = await Peer.open(server.url, bob)

        committing, release = asyncio.Event(), asyncio.Event()
        real_append = server.store.append

        async def held_append(*args: Any, **kwargs: Any) -> Any:
            committing.set()
            await release.wait()
            return await real_append(*args, **kwargs)

        queued = asyncio.Event()
        real_submit = server.hub.submit

        def noting_submit(conn: Any, frame: Any) -> None:
            real_submit(conn, frame)
            if conn.user == "alice":
                queued.set()

        monkeypatch.setattr(server.store, "append", held_append)
        monkeypatch.setattr(server.hub, "submit", noting_submit)
        await revoked.send({"type": "add_entry", "incident_id": incident, "text": "in flight"})
        await committing.wait()
        await revoked.send({"type": "add_entry", "incident_id": incident, "text": "alice late"})
        await queued.wait()
        await revoke_user(db_path, "alice")
        await revoked.ws.wait_closed()
        assert revoked.ws.close_code == CLOSE_POLICY
        monkeypatch.setattr(server.store, "append", real_append)
        release.set()

        log = await reader.request({"type": "read_log", "incident_id": incident})
        texts = [e["body"].get("text") for e in log["events"]]
        assert "in flight" in texts, "decided before the revocation: committed"
        assert "alice late" not in texts


# --- behind a reverse proxy ---------------------------------------------------------------------


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    from ipaddress import ip_network

    proxies = (ip_network("10.0.0.0/24"),)
    # From a client directly: its own header means nothing.
    assert client_address("203.0.113.9", ["1.2.3.4"], proxies) == "203.0.113.9"
    # From the proxy: the address it saw, not what the client wrote before it.
    assert client_address("10.0.0.2", ["1.2.3.4, 198.51.100.7"], proxies) == "198.51.100.7"
    # Through two trusted proxies.
    assert client_address("10.0.0.2", ["198.51.100.7", "10.0.0.3"], proxies) == "198.51.100.7"
    # Garbage from the proxy chain: the proxy itself is all we know.
    assert client_address("10.0.0.2", ["not-an-ip"], proxies) == "10.0.0.2"
    assert client_address("10.0.0.2", [], proxies) == "10.0.0.2"
    # No proxies configured: never believed.
    assert client_address("10.0.0.2", ["198.51.100.7"], ()) == "10.0.0.2"


async def test_the_handshake_throttle_counts_forwarded_addresses_from_a_trusted_proxy(
    db_path: Path,
) -> None:
    from ipaddress import ip_network

    await create_user(db_path, "alice")
    behind = ServerSettings(port=0, trusted_proxies=(ip_network("127.0.0.1/32"),))
    async with await start_node(db_path, behind) as server:
        for address in ("198.51.100.1", "198.51.100.2", "198.51.100.2"):
            with pytest.raises(InvalidStatus):
                await forwarded_handshake(server.url, address)
        assert server.auth.throttle.tracked == 4, "two addresses, one console each"
    async with await start_node(db_path, ServerSettings(port=0)) as server:
        for address in ("198.51.100.1", "198.51.100.2"):
            with pytest.raises(InvalidStatus):
                await forwarded_handshake(server.url, address)
        assert server.auth.throttle.tracked == 2, "an untrusted peer's header was believed"


async def forwarded_handshake(url: str, address: str) -> None:
    headers = {"Authorization": "Bearer wr_wrong", "X-Forwarded-For": address}
    async with connect(url, additional_headers=headers):
        pass


# --- logs -------------------------------------------------------------------------------------


def test_repeated_log_lines_are_let_through_a_few_per_window() -> None:
    now = [0.0]
    repeat = RepeatFilter(burst=5, window=60, monotonic=lambda: now[0])

    def record(msg: str) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, msg, None, None)

    passed = [
        repeat.filter(record("socket.accept() out of system resource")) for _ in range(10_000)
    ]
    assert passed.count(True) == 5
    assert repeat.filter(record("something else"))
    now[0] = 61.0
    later = record("socket.accept() out of system resource")
    assert repeat.filter(later)
    assert "[9995 identical lines suppressed]" in later.getMessage()


# --- configuration ----------------------------------------------------------------------------


def test_limits_and_trusted_proxies_are_read_from_the_config_file(tmp_path: Path) -> None:
    from ipaddress import ip_network

    from warroom.config import ConfigError, load_config

    path = tmp_path / "warroom.toml"
    path.write_text(
        'trusted_proxies = ["127.0.0.1", "10.0.0.0/24"]\n'
        "[limits]\nconnections_per_user = 4\nsend_buffer_bytes = 1048576\n"
    )
    config = load_config(path)
    assert config.limits.connections_per_user == 4
    assert config.limits.send_buffer_bytes == 1024 * 1024
    assert config.trusted_proxies == [ip_network("127.0.0.1/32"), ip_network("10.0.0.0/24")]
    path.write_text('trusted_proxies = ["proxy.example"]\n[limits]\nconnections_per_user = 0\n')
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    lines = refused.value.problems
    assert len(lines) == 2
    assert any("limits.connections_per_user" in line for line in lines)
    assert any("trusted_proxies.0" in line for line in lines)
