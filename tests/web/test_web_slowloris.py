"""`warroom web` against slow and greedy clients, on real sockets: a connection that sends its
headers a byte at a time, never finishes the websocket upgrade or sits idle is closed after the
header timeout while others are served; connections past the bounds are closed unread; one
address cannot take every browser session, and is told so."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.core.serverproc import free_port
from tests.web.stand_in_console import COMMAND
from warroom.tui.web_server import ConsoleWebServer

HEADER_TIMEOUT = 0.5
"""The test's header timeout: short, so the slow clients are closed within the test."""
MAX_SESSIONS = 4
PER_ADDRESS = 2


class _WebConsole:
    def __init__(self, server: ConsoleWebServer, port: int) -> None:
        self.server = server
        self.port = port
        self.ws_url = f"ws://127.0.0.1:{port}/ws"


@pytest.fixture
async def web_console() -> AsyncIterator[_WebConsole]:
    port = free_port()
    server = ConsoleWebServer(
        COMMAND, server_url="ws://127.0.0.1:9",
        host="127.0.0.1", port=port, public_url=None, max_sessions=MAX_SESSIONS,
        max_sessions_per_address=PER_ADDRESS,
    )  # fmt: skip
    runner = await server.listen("127.0.0.1", port, header_timeout=HEADER_TIMEOUT)
    try:
        yield _WebConsole(server, port)
    finally:
        await runner.cleanup()


async def _closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the connection."""
    async with asyncio.timeout(30):  # against a hang only: the server's timeout is 0.5 s
        return await reader.read()


async def _page_is_served(web: _WebConsole) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", web.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answer = await _closed_by_server(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:80]


UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
)


@pytest.mark.parametrize(
    "sent",
    [b"", b"G", UPGRADE[:40], UPGRADE],  # idle, a byte, half the headers, all but the blank line
    ids=["idle", "one-byte", "half-headers", "upgrade-never-finished"],
)
async def test_a_connection_that_never_finishes_its_request_is_closed_and_others_are_served(
    web_console: _WebConsole, sent: bytes
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", web_console.port)
    writer.write(sent)
    await _page_is_served(web_console)  # served while the slow one hangs
    assert await _closed_by_server(reader) == b"", "closed without an answer"
    writer.close()
    assert web_console.server.sessions == 0
    await _page_is_served(web_console)


async def test_headers_sent_a_byte_at_a_time_do_not_keep_the_connection_open(
    web_console: _WebConsole,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", web_console.port)
    closed = asyncio.ensure_future(_closed_by_server(reader))
    # The upgrade's headers, then header lines without end: never the blank line that ends a
    # request, in lines short enough that no size limit closes the connection instead.
    trickle = itertools.chain(UPGRADE, itertools.cycle(b"X-Pad: " + b"a" * 50 + b"\r\n"))
    give_up = time.monotonic() + 20 * HEADER_TIMEOUT  # the bound of this wait, not a figure
    # A byte each time the server shows it is still there (it answers the page): a timer that
    # counted from the last byte would never end this connection.
    for byte in trickle:
        if closed.done() or time.monotonic() > give_up:
            break
        writer.write(bytes([byte]))
        await _page_is_served(web_console)
    assert closed.done(), "the server kept a request trickling in a byte at a time open"
    assert await closed == b""
    writer.close()


async def test_connections_past_the_bound_are_closed_unread_and_released_ones_count_out(
    web_console: _WebConsole,
) -> None:
    gate = web_console.server.gate
    gate.max_open = 3
    held = [await asyncio.open_connection("127.0.0.1", web_console.port) for _ in range(3)]
    reader, writer = await asyncio.open_connection("127.0.0.1", web_console.port)
    assert await _closed_by_server(reader) == b""
    writer.close()
    assert gate.refused == 1
    for held_reader, held_writer in held:
        held_writer.close()
        await _closed_by_server(held_reader)
    await _page_is_served(web_console)  # all three counted out: there is room again
    assert gate.refused == 1


async def _session(url: str, address: str) -> ClientConnection | tuple[int, bytes]:
    """A browser session as a proxy on this host forwards it for `address`."""
    try:
        ws = await connect(url, additional_headers={"X-Forwarded-For": f"10.9.9.9, {address}"})
    except InvalidStatus as exc:
        return exc.response.status_code, bytes(exc.response.body)
    while (await ws.recv()) != b"ready":
        pass
    return ws


async def test_one_address_cannot_take_every_session_and_is_told_why(
    web_console: _WebConsole,
) -> None:
    greedy = [await _session(web_console.ws_url, "203.0.113.7") for _ in range(PER_ADDRESS + 2)]
    held: list[Any] = [s for s in greedy if isinstance(s, ClientConnection)]
    refused = [s for s in greedy if not isinstance(s, ClientConnection)]
    assert len(held) == PER_ADDRESS
    assert [status for status, _ in refused] == [429, 429]
    assert b"from your address" in refused[0][1]
    # Everyone else still gets in, up to the total.
    other = await _session(web_console.ws_url, "198.51.100.2")
    assert isinstance(other, ClientConnection)
    assert web_console.server.sessions == PER_ADDRESS + 1
    for ws in [*held, other]:
        await ws.close()
