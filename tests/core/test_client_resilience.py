"""The reference client under pressure: rate limits, unknown frames, revoked tokens."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from warroom.client.session import AuthError, WarroomClient, new_id
from warroom.domain.commands import AddEntry, DeclareIncident
from warroom.node import WarroomNode, start_node
from warroom.server.app import ServerSettings
from warroom.users import create_user, revoke_user

AddUser = Callable[[str], Awaitable[str]]


async def test_rate_limited_writes_are_resent_not_lost(db_path: Path) -> None:
    token = await create_user(db_path, "alice")
    settings = ServerSettings(port=0, rate=20, burst=5)
    async with await start_node(db_path, settings) as server:
        client = WarroomClient(server.url, token, rate_limit_pause=0.05)
        await client.start()
        incident = (
            await client.execute(DeclareIncident(id=new_id(), title="Backlog", severity=2))
        ).incident_id
        pending = [
            client.submit(AddEntry(id=new_id(), incident_id=incident, text=f"typed offline {n}"))
            for n in range(30)  # an outbox drained at once after a long outage
        ]
        acks = await asyncio.gather(*pending)
        assert len({a.seq for a in acks}) == 30
        log = await client.read_log(incident)
        texts = [e.body.text for e in log if e.body.type == "entry_added"]
        assert sorted(texts) == sorted(f"typed offline {n}" for n in range(30))
        await client.close()


async def test_client_skips_frames_it_does_not_know(server: WarroomNode, add_user: AddUser) -> None:
    client = WarroomClient(server.url, await add_user("alice"))
    await client.start()
    await client._dispatch('{"type": "from_the_future", "id": null}')
    ack = await client.execute(DeclareIncident(id=new_id(), title="Still fine", severity=3))
    assert ack.incident_id == 1
    await client.close()


async def test_revoked_token_is_refused_without_a_restart(
    server: WarroomNode, db_path: Path, add_user: AddUser
) -> None:
    token = await add_user("mallory")
    first = WarroomClient(server.url, token, reconnect=False)
    await first.start()
    await first.close()
    await revoke_user(db_path, "mallory")
    again = WarroomClient(server.url, token, reconnect=False)
    with pytest.raises(AuthError):
        await again.start()


async def test_console_started_offline_connects_when_the_server_appears(db_path: Path) -> None:
    from tests.core.serverproc import free_port
    from tests.support.client_sync import seq_reached
    from warroom.client.outbox import Outbox

    token = await create_user(db_path, "alice")
    port = free_port()
    client = WarroomClient(
        f"ws://127.0.0.1:{port}", token, outbox=Outbox(db_path.parent / "o.jsonl"), max_backoff=0.2
    )
    await client.start(wait=False)  # nothing listens yet: the console opens offline
    declared = client.submit(DeclareIncident(id=new_id(), title="Typed offline", severity=2))
    async with await start_node(db_path, ServerSettings(port=port)):
        ack = await declared
        state = await client.follow(ack.incident_id)
        await seq_reached(client, ack.incident_id, 1).wait()
        assert state.incident.title == "Typed offline"
        await client.close()
