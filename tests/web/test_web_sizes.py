"""`warroom web` bounds the terminal size a browser asks for (in the page's query and in resize
messages), before anyone has signed in: the console process behind a session never lays out a
screen of millions of cells, and a resize that is not numbers does not end the session."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from websockets.asyncio.client import ClientConnection, connect

from tests.core.serverproc import free_port
from warroom.tui.web_server import MAX_COLUMNS, MAX_ROWS, ConsoleWebServer

# A stand-in for the console process, speaking textual-serve's packets: it says the size it was
# started with, then the size of every resize it is told, as data the browser receives.
REPORTER = r"""
import json, os, sys
out, stdin = sys.stdout.buffer, sys.stdin.buffer
def say(text):
    data = text.encode()
    out.write(b"D" + len(data).to_bytes(4, "big") + data)
    out.flush()
out.write(b"__GANGLION__\n")
say(f"start {os.environ['COLUMNS']}x{os.environ['ROWS']}")
while (kind := stdin.read(1)):
    size = int.from_bytes(stdin.read(4), "big")
    meta = json.loads(stdin.read(size))
    if meta.get("type") == "resize":
        say(f"resize {meta['width']}x{meta['height']}")
    if meta.get("type") == "quit":
        break
"""


@pytest.fixture
async def web_url() -> AsyncIterator[str]:
    port = free_port()
    command = shlex.join([sys.executable, "-c", REPORTER])
    server = ConsoleWebServer(
        command, server_url="ws://127.0.0.1:9", host="127.0.0.1", port=port, public_url=None,
        max_sessions=4,
    )  # fmt: skip
    runner = web.AppRunner(await server._make_app(), handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        await runner.cleanup()


async def _said(ws: ClientConnection) -> str:
    while True:
        frame = await ws.recv()
        if isinstance(frame, bytes):
            return frame.decode()


async def test_a_huge_size_in_the_page_query_is_bounded(web_url: str) -> None:
    async with connect(f"{web_url}?width=100000000&height=-5") as ws:
        assert await _said(ws) == f"start {MAX_COLUMNS}x1"


async def test_a_size_that_is_not_a_number_gets_the_default(web_url: str) -> None:
    async with connect(f"{web_url}?width=1e999&height=" + "9" * 5000) as ws:
        assert await _said(ws) == "start 80x24"


async def test_huge_and_malformed_resizes_are_bounded_or_dropped(web_url: str) -> None:
    async with connect(f"{web_url}?width=100&height=30") as ws:
        assert await _said(ws) == "start 100x30"
        await ws.send(json.dumps(["resize", {"width": "wide", "height": [1]}]))
        await ws.send(json.dumps(["resize", {"width": 10**12, "height": 10**12}]))
        assert await _said(ws) == f"resize {MAX_COLUMNS}x{MAX_ROWS}"
        await ws.send(json.dumps(["resize", {"width": 120, "height": 40}]))
        assert await _said(ws) == "resize 120x40"
