"""Quitting a console closes its connection as a normal closure: the server hears 1000, not
1011 (internal error), which a client cancelled inside websockets' `async with connect` sends;
and a server that never answers the close holds the quit 2 s, not 10."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from warroom.client.session import WarroomClient, new_id
from warroom.client.updates import ConnectionStatus
from warroom.domain.commands import AddEntry
from warroom.protocol.frames import PROTOCOL_VERSION

_WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
"""RFC 6455's constant for the handshake's accept key."""


@asynccontextmanager
async def close_recorder() -> AsyncIterator[tuple[str, asyncio.Future[int | None]]]:
    """A real websocket server on 127.0.0.1 that welcomes one client, reads until it leaves and
    records the close code it received; yields its address and that code's future."""
    received: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()

    async def serve_one(ws: ServerConnection) -> None:
        welcome = {"type": "welcome", "protocol": PROTOCOL_VERSION, "server": "recorder"}
        await ws.send(json.dumps({**welcome, "user": "alice"}))
        with contextlib.suppress(ConnectionClosed):
            async for _ in ws:
                pass
        received.set_result(ws.close_code)

    async with serve(serve_one, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}", received


async def test_quitting_closes_the_connection_with_a_normal_closure() -> None:
    async with close_recorder() as (url, received):
        client = WarroomClient(url, "token", reconnect=False)
        await client.start()
        await client.close()
        async with asyncio.timeout(10):  # a guard: the server hears the close at once
            code = await received
    assert code == CloseCode.NORMAL_CLOSURE
    assert client.status is ConnectionStatus.CLOSED


async def test_a_write_unanswered_at_quit_is_kept_not_failed() -> None:
    """The normal closure a console sends when it quits is not taken for a lost connection:
    a write the server has not answered stays pending (the outbox resends it on the next run),
    instead of failing as unreachable."""
    async with close_recorder() as (url, received):
        client = WarroomClient(url, "token")
        await client.start()
        write = client.submit(AddEntry(id=new_id(), incident_id=1, text="typed before quitting"))
        await client.close()
        async with asyncio.timeout(10):
            assert await received == CloseCode.NORMAL_CLOSURE
    assert not write.done()
    assert [frame["text"] for frame in client.pending_frames] == ["typed before quitting"]
    assert client.status is ConnectionStatus.CLOSED


async def test_quitting_while_the_server_never_answers_the_close_waits_two_seconds_not_ten() -> (
    None
):
    """A server (or a network) that takes the close frame and never answers it: the quit waits
    for the answer `close_timeout` (2 s), not websockets' default 10 s, then drops the socket."""
    quiet = asyncio.Event()

    async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        lines = request.split(b"\r\n")
        key = next(
            line.split(b":", 1)[1].strip()
            for line in lines
            if line.lower().startswith(b"sec-websocket-key")
        )
        accept = base64.b64encode(hashlib.sha1(key + _WEBSOCKET_GUID).digest())
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        welcome = {"type": "welcome", "protocol": PROTOCOL_VERSION, "server": "mute"}
        payload = json.dumps({**welcome, "user": "alice"}).encode()
        assert len(payload) < 126
        writer.write(bytes([0x81, len(payload)]) + payload)  # one unmasked text frame
        await writer.drain()
        while await reader.read(65536):  # the close frame too: read, never answered
            pass
        quiet.set()
        writer.close()

    server = await asyncio.start_server(never_answers, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        client = WarroomClient(f"ws://127.0.0.1:{port}", "token", reconnect=False)
        await client.start()
        # A guard between the 2 s waited for and websockets' default of 10 s.
        async with asyncio.timeout(6):
            await client.close()
            await quiet.wait()  # the client dropped the socket
        assert client.status is ConnectionStatus.CLOSED
    finally:
        server.close()
