"""A browser session left at the sign-in screen ends after `--sign-in-timeout` without typing: its
console process exits, the browser's socket closes, and its place is free for someone else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from textual.widgets import Input
from websockets.asyncio.client import connect

from tests.core.serverproc import free_port
from warroom.cli.parser import WEB_SIGN_IN_TIMEOUT, build_parser
from warroom.client.session import WarroomClient
from warroom.tui.app import make_sign_in_app
from warroom.tui.web_server import ConsoleWebServer, session_command

HANG_GUARD = 60.0
"""Seconds after which a test that should have ended gives up instead of hanging the suite."""


async def _never_signs_in(token: str) -> WarroomClient:
    raise AssertionError(f"nobody typed a token, yet {token!r} was tried")


async def test_a_sign_in_screen_nobody_types_into_ends_the_console(
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = make_sign_in_app("ws://127.0.0.1:9", _never_signs_in, idle_timeout=0.2)
    async with asyncio.timeout(HANG_GUARD):
        await app.run_async(headless=True, size=(100, 30))
    assert app.return_code == 0
    assert "nobody signed in for 0.2 s; session ended" in capsys.readouterr().err


async def test_typing_keeps_the_sign_in_screen_open() -> None:
    app = make_sign_in_app("ws://127.0.0.1:9", _never_signs_in, idle_timeout=3600)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for key in "wr_":
            await pilot.press(key)
        await pilot.pause()
        assert app.screen.query_one("#token", Input).value == "wr_"
        assert app.is_running


def test_warroom_web_times_sign_in_out_by_default_and_says_so_in_each_session() -> None:
    args = build_parser().parse_args(["web"])
    assert args.sign_in_timeout == WEB_SIGN_IN_TIMEOUT
    command = session_command("ws://h:1", theme=None, incident_id=None, sign_in_timeout=42)
    assert "--sign-in --server ws://h:1 --sign-in-timeout 42" in command
    assert build_parser().parse_args(["--sign-in"]).sign_in_timeout is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["web", "--sign-in-timeout", "0"])


async def test_an_absurd_sign_in_timeout_is_taken_and_the_screen_still_works() -> None:
    # A number no timer could reach (10**30 s) must neither crash the console nor end it.
    seconds = build_parser().parse_args(["web", "--sign-in-timeout", str(10**30)]).sign_in_timeout
    app = make_sign_in_app("ws://127.0.0.1:9", _never_signs_in, idle_timeout=seconds)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("w")
        await pilot.pause()
        assert app.screen.query_one("#token", Input).value == "w"
        assert app.is_running


class _CountedWebServer(ConsoleWebServer):
    """Says when its sessions have ended."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.ended = asyncio.Condition()

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        try:
            return await super().handle_websocket(request)
        finally:
            async with self.ended:
                self.ended.notify_all()


@pytest.fixture
async def web_console() -> AsyncIterator[tuple[_CountedWebServer, str]]:
    """The web server running the real sign-in console per session, timing out after 1 s."""
    port = free_port()
    command = session_command("ws://127.0.0.1:9", theme=None, incident_id=None, sign_in_timeout=1)
    server = _CountedWebServer(
        command, server_url="ws://127.0.0.1:9",
        host="127.0.0.1", port=port, public_url=None, max_sessions=1,
    )  # fmt: skip
    runner = await server.listen("127.0.0.1", port)
    try:
        yield server, f"ws://127.0.0.1:{port}/ws?width=80&height=24"
    finally:
        await runner.cleanup()


async def test_a_browser_left_at_sign_in_loses_its_session_and_frees_the_place(
    web_console: tuple[_CountedWebServer, str],
) -> None:
    server, url = web_console
    async with asyncio.timeout(HANG_GUARD):
        ws = await connect(url)
        # The console draws its sign-in screen; the browser then sends nothing at all.
        async for message in ws:
            if isinstance(message, bytes) and b"Sign in" in message:
                break
        assert server.sessions == 1
        await ws.wait_closed()
        async with server.ended:
            await server.ended.wait_for(lambda: server.sessions == 0)
        # The place is free again: a second browser gets a session of its own.
        again = await connect(url)
        assert server.sessions == 1
        await again.close()
