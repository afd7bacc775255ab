"""The command-line side of the browser console: `--sign-in` takes no token from the host,
`warroom web` says when it cannot listen, and `warroom demo --web` tells a newcomer how to open
it."""

from __future__ import annotations

import asyncio
import json
import socket
import sys

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.core.serverproc import free_port
from tests.support.cli import warroom


async def test_sign_in_refuses_a_token_from_the_command_line() -> None:
    result = await warroom("--sign-in", "--server", "ws://127.0.0.1:9", "--token", "wr_x")

    assert result.code == 1
    assert "--sign-in asks for the token on screen" in result.err


async def test_sign_in_needs_a_named_server() -> None:
    result = await warroom("--sign-in")

    assert result.code == 1
    assert "--sign-in needs the server to sign in to: pass --server URL" in result.err


async def test_web_on_a_taken_port_says_so_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = await warroom("web", "--server", "ws://127.0.0.1:9", "--port", str(port))

    assert result.code == 1
    assert result.err.strip().splitlines() == [
        f"warroom: cannot serve the web console on 127.0.0.1:{port}: address already in use"
    ]


async def test_demo_web_prints_the_token_and_serves_the_console_page() -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "warroom", "demo", "--web", "--port", str(port),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(30):
            token_line = (await proc.stdout.readline()).decode()
            url_line = (await proc.stdout.readline()).decode()
        assert token_line.startswith("warroom demo: open the address below in a browser; sign in")
        assert token_line.split()[-1].startswith("wr_")
        page_url = f"http://127.0.0.1:{port}"
        assert f"on {page_url} " in url_line

        async with httpx.AsyncClient() as http:
            page = await http.get(page_url)
        assert page.status_code == 200
        assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in page.text
    finally:
        proc.terminate()
        async with asyncio.timeout(20):
            await proc.communicate()


async def test_web_on_every_address_asks_for_the_address_browsers_open() -> None:
    result = await warroom("web", "--host", "0.0.0.0", "--port", "8080")

    assert result.code == 2
    assert "--host 0.0.0.0 needs --public-url, the address browsers open" in result.err


async def test_web_refuses_a_session_past_max_sessions_and_keeps_serving() -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "warroom", "web", "--server", "ws://127.0.0.1:9",
        "--port", str(port), "--max-sessions", "1",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    socket_url = f"ws://127.0.0.1:{port}/ws"
    try:
        async with asyncio.timeout(30):
            assert (await proc.stdout.readline()).startswith(b"warroom web: ")
        async with connect(socket_url) as first:
            with pytest.raises(InvalidStatus) as refused:
                async with connect(socket_url):
                    pass
            assert refused.value.response.status_code == 503
            assert b"the most it runs at once" in refused.value.response.body
            await first.send('["ping", "1"]')
            assert json.loads(await first.recv()) == ["pong", "1"]
    finally:
        proc.terminate()
        async with asyncio.timeout(20):
            await proc.communicate()


async def test_web_refuses_a_bad_server_address_before_serving() -> None:
    result = await warroom("web", "--server", "http://127.0.0.1:8765", "--port", str(free_port()))

    assert result.code == 1
    assert result.err.startswith("warroom: --server: ")
