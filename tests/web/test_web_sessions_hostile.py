"""`warroom web` under a hostile browser: many sessions opened at once from one address get no
more console processes than `--max-sessions`, a session that ends (closed, or sending frames
that are not textual-serve's) gives its place back, and the web server keeps serving."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.core.serverproc import free_port
from tests.web.stand_in_console import COMMAND, STUBBORN_COMMAND
from warroom.tui import web_server
from warroom.tui.web_server import ConsoleWebServer

MAX_SESSIONS = 3


class _CountedWebServer(ConsoleWebServer):
    """Says when its last session has ended, its console process stopped."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.idle = asyncio.Condition()

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        try:
            return await super().handle_websocket(request)
        finally:
            async with self.idle:
                self.idle.notify_all()

    async def all_ended(self) -> None:
        async with self.idle:
            await self.idle.wait_for(lambda: self.sessions == 0)


@pytest.fixture
def console_command() -> str:
    return COMMAND


@pytest.fixture
async def web_console(console_command: str) -> AsyncIterator[tuple[_CountedWebServer, str]]:
    port = free_port()
    server = _CountedWebServer(
        console_command, server_url="ws://127.0.0.1:9",
        host="127.0.0.1", port=port, public_url=None, max_sessions=MAX_SESSIONS,
    )  # fmt: skip
    runner = web.AppRunner(await server._make_app(), handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield server, f"ws://127.0.0.1:{port}/ws"
    finally:
        await runner.cleanup()


async def _ready(ws: ClientConnection) -> None:
    while (await ws.recv()) != b"ready":
        pass


async def _try_session(url: str) -> ClientConnection | int:
    try:
        ws = await connect(url)
    except InvalidStatus as exc:
        return exc.response.status_code
    await _ready(ws)
    return ws


async def test_many_sessions_at_once_get_at_most_max_sessions_processes(
    web_console: tuple[_CountedWebServer, str],
) -> None:
    server, url = web_console
    results = await asyncio.gather(*(_try_session(url) for _ in range(12)))
    sessions = [r for r in results if isinstance(r, ClientConnection)]
    assert len(sessions) == MAX_SESSIONS
    assert sorted(r for r in results if isinstance(r, int)) == [503] * (12 - MAX_SESSIONS)
    assert server.sessions == MAX_SESSIONS
    for ws in sessions:
        await ws.close()
    await server.all_ended()


@pytest.mark.parametrize(
    "frame", ["not json", "[]", '{"stdin": 1}', '["stdin", 5]', '["resize", null]', "7"]
)
async def test_a_session_ended_by_a_malformed_frame_gives_its_place_back(
    web_console: tuple[_CountedWebServer, str], frame: str
) -> None:
    server, url = web_console
    held = [await _try_session(url) for _ in range(MAX_SESSIONS)]
    hostile = held[0]
    assert isinstance(hostile, ClientConnection)
    await hostile.send(frame)
    await hostile.wait_closed()  # the web server ended the session
    # Its place is free again: a new browser gets a session, and the limit still holds.
    again = await _try_session(url)
    assert isinstance(again, ClientConnection)
    assert await _try_session(url) == 503
    assert server.sessions == MAX_SESSIONS
    for ws in [*held[1:], again]:
        assert isinstance(ws, ClientConnection)
        await ws.close()
    await server.all_ended()


@pytest.mark.parametrize("console_command", [STUBBORN_COMMAND])
async def test_a_console_that_hangs_on_after_its_session_is_killed_before_its_place_frees(
    web_console: tuple[_CountedWebServer, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_server, "CONSOLE_EXIT_TIMEOUT", 0.1)
    server, url = web_console
    async with connect(url) as ws:
        while isinstance(said := await ws.recv(), str):
            pass
        pid = int(said)
    await server.all_ended()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone, and reaped: not even a zombie is left
