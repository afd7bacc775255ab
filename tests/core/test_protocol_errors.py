"""Bad input of every kind gets a clear error, changes nothing, and the server keeps serving."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.core.wire import Peer
from warroom.domain.limits import MAX_ENTRY_TEXT, MAX_FRAME_BYTES
from warroom.node import WarroomNode, start_node
from warroom.server.app import ServerSettings
from warroom.users import create_user

AddUser = Callable[[str], Awaitable[str]]


async def test_connection_without_token_is_refused_at_handshake(server: WarroomNode) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(server.url)
    assert refused.value.response.status_code == 401


async def test_connection_with_bad_token_is_refused_at_handshake(
    server: WarroomNode, add_user: AddUser
) -> None:
    await add_user("alice")
    with pytest.raises(InvalidStatus) as refused:
        await connect(server.url, additional_headers={"Authorization": "Bearer wr_not-a-token"})
    assert refused.value.response.status_code == 401


async def test_identity_comes_from_the_token_not_from_the_frame(
    server: WarroomNode, add_user: AddUser
) -> None:
    peer = await Peer.open(server.url, await add_user("alice"))
    incident = await peer.declare()
    reply = await peer.request(
        {"type": "add_entry", "incident_id": incident, "text": "hi", "actor": "bob"}
    )
    assert reply["code"] == "invalid"  # there is no field to claim a name with
    log = await peer.request({"type": "read_log", "incident_id": incident})
    assert {e["actor"] for e in log["events"]} == {"alice"}


async def test_health_check_answers_plain_http(server: WarroomNode) -> None:
    import httpx

    async with httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{server.port}/healthz")
    assert response.status_code == 200
    assert response.text == "ok\n"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "bad_frame"),
        ("[1, 2]", "bad_frame"),
        ('{"id": "x"}', "unknown_type"),
        ('{"type": "drop_tables", "id": "x"}', "unknown_type"),
        ('{"type": "add_entry", "id": "x", "incident_id": "one", "text": "a"}', "invalid"),
        ('{"type": "set_severity", "id": "x", "incident_id": 1, "severity": 9}', "invalid"),
        (
            json.dumps(
                {
                    "type": "add_entry",
                    "id": "x",
                    "incident_id": 1,
                    "text": "a" * (MAX_ENTRY_TEXT + 1),
                }
            ),
            "too_large",
        ),
        ('{"type": "add_entry", "id": "x", "incident_id": 999, "text": "a"}', "unknown_incident"),
        (
            '{"type": "declare_incident", "id": "x", "title": "a\\u001b[2J", "severity": 1}',
            "invalid",
        ),
    ],
)
async def test_malformed_frames_get_errors_and_the_connection_stays_usable(
    server: WarroomNode, add_user: AddUser, raw: str, code: str
) -> None:
    peer = await Peer.open(server.url, await add_user("alice"))
    await peer.ws.send(raw)
    error = await peer.recv()
    assert error["type"] == "error"
    assert error["code"] == code
    assert error["message"]
    listing = await peer.request({"type": "list_incidents"})
    assert listing == {"type": "incidents", "id": listing["id"], "incidents": []}


async def test_binary_frame_is_refused(server: WarroomNode, add_user: AddUser) -> None:
    peer = await Peer.open(server.url, await add_user("alice"))
    await peer.ws.send(b'{"type": "list_incidents", "id": "x"}')
    assert (await peer.recv())["code"] == "bad_frame"


async def test_oversized_frame_closes_only_that_connection(
    server: WarroomNode, add_user: AddUser
) -> None:
    token = await add_user("alice")
    bystander = await Peer.open(server.url, token)
    offender = await Peer.open(server.url, token)
    await offender.ws.send("x" * (MAX_FRAME_BYTES + 1))
    with pytest.raises(ConnectionClosed) as closed:
        await offender.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009  # message too big
    incident = await bystander.declare()
    assert incident == 1


async def test_flood_is_rate_limited_per_connection(db_path: Path) -> None:
    settings = ServerSettings(port=0, rate=1, burst=5)
    async with await start_node(db_path, settings) as limited_server:
        token = await create_user(db_path, "alice")
        flooder = await Peer.open(limited_server.url, token)
        calm = await Peer.open(limited_server.url, token)
        for n in range(10):
            await flooder.send({"type": "list_incidents", "id": f"f{n}"})
        replies = {r["id"]: r for r in [await flooder.recv() for _ in range(10)]}
        assert all(replies[f"f{n}"]["type"] == "incidents" for n in range(5))  # the burst
        limited = [r for r in replies.values() if r.get("code") == "rate_limited"]
        assert len(limited) >= 4  # at most one token refills while the flood is read
        assert (await calm.request({"type": "list_incidents"}))["type"] == "incidents"
