"""Subscribes carried by the handshake (`X-Warroom-Subscribe`): answered right after the
`welcome`, before any frame the client sends, as if they were its first frames; only after the
token was accepted; read as strictly as frames (anything but a subscribe, or a damaged one, is
refused with an error and changes nothing; too many refuse the handshake). A client started with
incidents to follow sends them there and no subscribe frame, resumes from its seq the same way
after a reconnect, and with a server that does not answer the header (an older one) sends them
after the `welcome` as before. Features a `welcome` cannot name without older clients refusing
it are named in the handshake's answer."""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import InvalidHandshake, InvalidStatus
from websockets.http11 import Request, Response

from tests.core.test_catch_up import AddUser, bearer, write_notes
from tests.core.wire import Peer
from tests.domain.factories import Log
from tests.support.client_sync import until
from tests.support.clients import ClientAs, declare
from warroom.client.session import CommandRefused, WarroomClient
from warroom.node import WarroomNode
from warroom.protocol.frames import Feature
from warroom.protocol.handshake import (
    FEATURES_HEADER,
    MAX_HANDSHAKE_HEADER_LINE,
    MAX_HANDSHAKE_HEADERS,
    MAX_HANDSHAKE_SUBSCRIBES,
    SUBSCRIBE_HEADER,
    SUBSCRIBED_HEADER,
)


def _subscribe(incident_id: int, frame_id: str = "h-1", **more: Any) -> str:
    return json.dumps({"type": "subscribe", "id": frame_id, "incident_id": incident_id, **more})


async def test_a_subscribe_in_the_handshake_is_answered_right_after_the_welcome(
    server: WarroomNode, add_user: AddUser, client_as: ClientAs
) -> None:
    alice = await client_as(server.url, "alice")
    incident_id = await declare(alice, "handshake")
    await write_notes(alice, incident_id, 5)
    headers = [*bearer(await add_user("bob")).items()]
    headers.append((SUBSCRIBE_HEADER, _subscribe(incident_id, columnar_snapshot=True)))
    async with connect(server.url, additional_headers=headers) as ws:
        assert ws.response is not None
        assert ws.response.headers[SUBSCRIBED_HEADER] == "1"
        assert "columnar_snapshot" in ws.response.headers[FEATURES_HEADER].split(",")
        peer = Peer(ws)
        welcome = await peer.recv()
        assert welcome["type"] == "welcome"
        assert "columnar_snapshot" not in welcome["features"]  # older clients refuse new names
        answer = await peer.recv()  # nothing was sent on the connection
        assert (answer["type"], answer["id"]) == ("columnar_snapshot", "h-1")
        assert answer["state"]["timeline"]["text"][-1] == "note 4"  # counted from 0


@pytest.mark.parametrize(
    ("carried", "code"),
    [
        (
            json.dumps({"type": "add_entry", "id": "h-1", "incident_id": 1, "kind": "note"}),
            "invalid",
        ),
        ('{"type": "subscribe", "id": "h-1", "incident_id": "1"}', "invalid"),
        ('{"type": "subscribe", "id": "h-1", ', "bad_frame"),
        (_subscribe(404), "unknown_incident"),
    ],
)
async def test_a_handshake_header_that_is_no_readable_subscribe_is_refused_and_changes_nothing(
    server: WarroomNode, add_user: AddUser, client_as: ClientAs, carried: str, code: str
) -> None:
    alice = await client_as(server.url, "alice")
    incident_id = await declare(alice, "handshake")
    carried = carried.replace('"incident_id": 1,', f'"incident_id": {incident_id},')
    headers = [*bearer(await add_user("bob")).items(), (SUBSCRIBE_HEADER, carried)]
    async with connect(server.url, additional_headers=headers) as ws:
        peer = Peer(ws)
        assert (await peer.recv())["type"] == "welcome"
        refusal = await peer.recv()
        assert refusal["type"] == "error"
        assert refusal["code"] == code
        # The connection goes on: a subscribe sent as a frame is answered as ever.
        snapshot = await peer.request({"type": "subscribe", "incident_id": incident_id})
        assert snapshot["type"] == "snapshot"
    log = await alice.read_log(incident_id)
    assert [event.body.type for event in log] == ["incident_declared"]  # no entry was added


async def test_a_handshake_with_a_bad_token_or_too_many_subscribes_is_refused(
    server: WarroomNode, add_user: AddUser
) -> None:
    carried = (SUBSCRIBE_HEADER, _subscribe(1))
    with pytest.raises(InvalidStatus) as refused:
        await connect(server.url, additional_headers=[*bearer("nope").items(), carried])
    assert refused.value.response.status_code == HTTPStatus.UNAUTHORIZED
    too_many = [
        (SUBSCRIBE_HEADER, _subscribe(1, f"h-{n}")) for n in range(MAX_HANDSHAKE_SUBSCRIBES + 1)
    ]
    with pytest.raises(InvalidStatus) as refused:
        await connect(
            server.url, additional_headers=[*bearer(await add_user("bob")).items(), *too_many]
        )
    assert refused.value.response.status_code == HTTPStatus.BAD_REQUEST


async def test_a_client_started_with_follow_subscribes_in_the_handshake_and_resumes_there(
    server: WarroomNode, add_user: AddUser, client_as: ClientAs
) -> None:
    alice = await client_as(server.url, "alice")
    incident_id = await declare(alice, "handshake")
    await alice.follow(incident_id)
    await write_notes(alice, incident_id, 20)
    bob = WarroomClient(server.url, await add_user("bob"))
    sent: list[str] = []
    bob._send_unlocked = _recording(bob._send_unlocked, sent)  # type: ignore[method-assign]
    try:
        await bob.start(follow=[incident_id])
        state = await bob.follow(incident_id)
        assert state.timeline.unbuilt == len(state.timeline)  # a columnar snapshot's
        assert state.model_dump_json() == alice.states[incident_id].model_dump_json()
        assert Feature.COLUMNAR_SNAPSHOT in bob.features
        held = state.seq
        # Dropped by the server; the client resumes from its seq, in the next handshake.
        for conn in list(server.server._sessions["bob"]):
            conn.drop("test")
        await write_notes(alice, incident_id, 3)
        seq = alice.states[incident_id].seq
        await until(bob, lambda: bob.states[incident_id].seq >= seq, what="the resume")
        assert bob.states[incident_id].seq == seq > held
        assert bob.states[incident_id].model_dump_json() == (
            alice.states[incident_id].model_dump_json()
        )
        await bob.list_incidents()
        assert sent  # the recording sees what the client sends...
        assert not [frame for frame in sent if '"subscribe"' in frame]  # ...no subscribe
    finally:
        await bob.close()


async def test_a_subscribe_in_the_handshake_that_is_refused_refuses_the_follow(
    server: WarroomNode, add_user: AddUser
) -> None:
    bob = WarroomClient(server.url, await add_user("bob"), reconnect=False)
    try:
        await bob.start(follow=[404])
        with pytest.raises(CommandRefused, match="unknown_incident"):
            async with asyncio.timeout(10):
                await bob.follow(404)
        assert 404 not in bob.states
    finally:
        await bob.close()


async def test_a_server_that_ignores_the_header_gets_the_subscribe_after_the_welcome() -> None:
    """A stand-in for an older server: it does not answer `X-Warroom-Subscribed`, offers only
    `compact_snapshot`, and answers subscribe frames with a compact snapshot."""
    log = Log()
    frames: list[dict[str, Any]] = []
    carried: list[list[str]] = []

    def record(conn: ServerConnection, request: Request) -> Response | None:
        carried.append(request.headers.get_all(SUBSCRIBE_HEADER))
        return None

    async def answer(ws: ServerConnection) -> None:
        welcome = {"type": "welcome", "protocol": 2, "server": "old", "user": "bob"}
        await ws.send(json.dumps({**welcome, "features": ["compact_snapshot"]}))
        async for raw in ws:
            frame = json.loads(raw)
            frames.append(frame)
            state = json.loads(log.state.model_dump_json())
            reply = {"type": "snapshot", "id": frame["id"], "incident_id": 1}
            await ws.send(json.dumps({**reply, "seq": log.state.seq, "state": state}))

    async with serve(answer, "127.0.0.1", 0, process_request=record) as old:
        port = old.sockets[0].getsockname()[1]
        client = WarroomClient(f"ws://127.0.0.1:{port}", "token", reconnect=False)
        try:
            await client.start(follow=[1])
            async with asyncio.timeout(10):
                state = await client.follow(1)
            assert state.model_dump_json() == log.state.model_dump_json()
        finally:
            await client.close()
    assert len(carried[0]) == 1  # it was offered in the handshake, and ignored
    [subscribe] = frames
    assert subscribe["type"] == "subscribe"
    assert subscribe.get("compact_snapshot") is True
    assert "columnar_snapshot" not in subscribe  # not offered by this server


def _recording(send: Any, sent: list[str]) -> Any:
    async def recorded(data: str) -> None:
        sent.append(data)
        await send(data)

    return recorded


async def test_a_welcome_naming_features_this_client_does_not_know_still_connects() -> None:
    """A stand-in for a newer server, whose `welcome` names a feature added after this client."""

    async def answer(ws: ServerConnection) -> None:
        welcome = {"type": "welcome", "protocol": 2, "server": "newer", "user": "bob"}
        await ws.send(json.dumps({**welcome, "features": ["compact", "teleport"]}))
        await ws.wait_closed()

    async with serve(answer, "127.0.0.1", 0) as newer:
        port = newer.sockets[0].getsockname()[1]
        client = WarroomClient(f"ws://127.0.0.1:{port}", "token", reconnect=False)
        try:
            async with asyncio.timeout(10):
                await client.start()
            assert client.features == {Feature.COMPACT}
        finally:
            await client.close()


async def test_a_handshake_whose_headers_exceed_the_bound_is_refused_before_its_token(
    server: WarroomNode, add_user: AddUser
) -> None:
    """The websocket library reads 128 header lines of 8 KiB and the server keeps an accepted
    connection's request: 1.25 MiB of memory per open connection before the bound (hostile9).
    The bound leaves room for every subscribe a handshake may carry."""
    token = await add_user("bob")
    junk = [(f"X-Junk-{n}", "a" * 8000) for n in range(5)]
    for credentials in ({"Authorization": "Bearer nope"}, bearer(token)):
        with pytest.raises(InvalidStatus) as refused:
            await connect(server.url, additional_headers=[*credentials.items(), *junk])
        assert refused.value.response.status_code == HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
    most = [
        (SUBSCRIBE_HEADER, _subscribe(2**62, f"{n:032x}", since=2**62, compact=True))
        for n in range(MAX_HANDSHAKE_SUBSCRIBES)
    ]
    async with connect(server.url, additional_headers=[*bearer(token).items(), *most]) as ws:
        assert ws.response is not None
        assert ws.response.headers[SUBSCRIBED_HEADER] == str(MAX_HANDSHAKE_SUBSCRIBES)


@pytest.mark.parametrize(
    "extra",
    [
        [(f"X-Junk-{n}", "a") for n in range(MAX_HANDSHAKE_HEADERS)],
        [("X-Junk", "a" * MAX_HANDSHAKE_HEADER_LINE)],
    ],
    ids=["too many lines", "a line too long"],
)
async def test_a_handshake_is_read_only_up_to_the_bounded_lines(
    server: WarroomNode, add_user: AddUser, extra: list[tuple[str, str]]
) -> None:
    """websockets reads 128 lines of 8 KiB by default: 635 KiB of server memory per handshake
    still being sent, before its token is read (hostile9)."""
    headers = [*bearer(await add_user("bob")).items(), *extra]
    with pytest.raises(InvalidHandshake):
        await connect(server.url, additional_headers=headers)
    async with connect(server.url, additional_headers=headers[:1]) as ws:
        assert (await Peer(ws).recv())["type"] == "welcome"
