"""Clients given several nodes of one PostgreSQL-backed war room fail over between them.

Real nodes (`start_node`) on one real PostgreSQL database, real websocket clients and the real
`warroom` command line; a "dead" node is a loopback port nobody listens on.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.core.serverproc import free_port
from tests.support.cli import warroom
from tests.support.client_sync import until
from tests.support.settings import TEST_SETTINGS
from warroom.client.outbox import Outbox
from warroom.client.session import WarroomClient, new_id
from warroom.client.updates import ConnectionStatus
from warroom.console_config import load_console_config
from warroom.domain.commands import AddEntry, DeclareIncident
from warroom.node import start_node
from warroom.protocol.endpoint import BadServerAddress, server_addresses
from warroom.settings import ConfigError
from warroom.users import create_user


def dead_url() -> str:
    return f"ws://127.0.0.1:{free_port()}"


async def test_a_client_whose_first_server_is_down_connects_to_the_next(pg_url: str) -> None:
    token = await create_user(pg_url, "alice")
    async with await start_node(pg_url, TEST_SETTINGS) as node_b:
        client = WarroomClient(f"{dead_url()},{node_b.url}", token, reconnect=False)
        await client.start()
        try:
            assert client.url == node_b.url
            ack = await client.execute(DeclareIncident(id=new_id(), title="Disk full", severity=2))
            assert node_b.hub.incident_state(ack.incident_id) is not None
        finally:
            await client.close()


async def test_a_client_fails_over_when_its_node_stops_and_loses_or_repeats_no_queued_write(
    pg_url: str, tmp_path: Path
) -> None:
    token = await create_user(pg_url, "alice")
    port_b = free_port()
    url_b = f"ws://127.0.0.1:{port_b}"
    node_a = await start_node(pg_url, TEST_SETTINGS)
    outbox = Outbox(tmp_path / "outbox.jsonl")
    client = WarroomClient(f"{node_a.url},{url_b}", token, outbox=outbox, max_backoff=0.2)
    await client.start()
    try:
        incident = (
            await client.execute(DeclareIncident(id=new_id(), title="Failover", severity=1))
        ).incident_id
        await client.follow(incident)
        before = client.states[incident].seq
        await node_a.close()
        await until(client, lambda: client.status is not ConnectionStatus.CONNECTED, what="drop")
        queued = [
            client.submit(AddEntry(id=new_id(), incident_id=incident, text=f"while down {n}"))
            for n in range(5)
        ]
        assert len(outbox.pending) == 5
        # Node B comes up on the same database only now: nothing but the database carries over.
        async with await start_node(
            pg_url, dataclasses.replace(TEST_SETTINGS, port=port_b)
        ) as node_b:
            acks = [await write for write in queued]
            assert client.url == url_b
            assert [a.seq for a in acks] == list(range(before + 1, before + 6))
            await until(
                client,
                lambda: client.states[incident].seq == before + 5,
                what="the resumed incident to show the queued writes",
            )
            log = await client.read_log(incident)
            texts = [e.body.text for e in log if e.body.type == "entry_added"]
            assert [t for t in texts if t.startswith("while down")] == [
                f"while down {n}" for n in range(5)
            ]
            assert [e.seq for e in log] == list(range(1, len(log) + 1))
            assert outbox.pending == []
            state = node_b.hub.incident_state(incident)
            assert state is not None
            assert state.seq == client.states[incident].seq
    finally:
        await client.close()


async def test_the_cli_with_a_dead_first_server_writes_through_the_second(pg_url: str) -> None:
    token = await create_user(pg_url, "alice")
    async with await start_node(pg_url, TEST_SETTINGS) as node_b:
        servers = f"{dead_url()},{node_b.url}"
        declared = await warroom(
            "declare", "--title", "Queue stuck", "--sev", "3", "--server", servers, "--token", token
        )
        assert declared.code == 0, declared.err
        incident = int(declared.out)
        logged = await warroom(
            "log", str(incident), "restarted consumers", "--server", servers, "--token", token
        )
        assert logged.code == 0, logged.err
        state = node_b.hub.incident_state(incident)
        assert state is not None
        assert [e.text for e in state.timeline][-1] == "restarted consumers"


async def test_the_cli_with_every_server_down_fails_with_one_line() -> None:
    servers = f"{dead_url()},{dead_url()}"
    result = await warroom("incidents", "--server", servers, "--token", "wr_x")
    assert result.code == 1
    assert result.err.count("\n") == 1
    assert result.err.startswith("warroom: cannot reach ws://127.0.0.1:")


@pytest.mark.parametrize(
    ("servers", "bad"),
    [
        ("ws://a:1,http://b:2", "'http://b:2'"),
        ("ws://a:1,,ws://c:3", "''"),
        ("ws://:8765", "'ws://:8765'"),
        ("ws://a:99999", "'ws://a:99999'"),
    ],
)
async def test_a_bad_server_address_is_one_line_naming_it(servers: str, bad: str) -> None:
    with pytest.raises(BadServerAddress, match=f"bad server address {bad}"):
        server_addresses(servers)
    result = await warroom("incidents", "--server", servers, "--token", "wr_x")
    assert result.code == 1
    assert result.err == f"warroom: --server: {server_error(servers)}\n"


def server_error(servers: str) -> str:
    try:
        server_addresses(servers)
    except BadServerAddress as exc:
        return str(exc)
    raise AssertionError("valid")


def test_a_bad_server_address_in_the_console_settings_names_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WARROOM_SERVER", "ws://a:1,ftp://b")
    with pytest.raises(ConfigError) as raised:
        load_console_config()
    (problem,) = raised.value.problems
    assert "WARROOM_SERVER" in problem
    assert "'ftp://b'" in problem


def test_several_servers_are_accepted_in_order() -> None:
    assert server_addresses(" ws://a:1 , wss://b.example.org,unix:/run/w.sock") == [
        "ws://a:1",
        "wss://b.example.org",
        "unix:/run/w.sock",
    ]
