"""The client's bound on what one message from a server may make it hold: a server gone wrong
(or somebody else's) sending a message past `max_frame_mib` gets the connection closed, and the
console a line saying what happened and what to change, instead of a reconnection loop that
reads the same message again each time. A message refused for a great many bad values is
refused at a cost its size bounds, not its count of errors."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import struct
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from warroom.client.session import ClientError, WarroomClient
from warroom.client.updates import ConnectionStatus
from warroom.console_config import load_console_config
from warroom.protocol.packed import MAGIC as PACKED_MAGIC
from warroom.settings import ConfigError

MIB = 2**20


async def _connect_to_a_server_welcoming_in(size: int, connections: list[WarroomClient]) -> None:
    """Start a reconnecting client (the console's kind) limited to 1 MiB against a server whose
    welcome is padded with spaces (still one JSON frame) to `size` bytes. `connections` gets
    the client once per connection the server saw."""
    client = WarroomClient("ws://127.0.0.1:0", "token", max_frame_mib=1)

    async def answer(ws: ServerConnection) -> None:
        connections.append(client)
        welcome = json.dumps(
            {"type": "welcome", "protocol": 2, "server": "stand-in", "user": "bob"}
        )
        await ws.send(welcome.ljust(size).encode())
        with contextlib.suppress(ConnectionClosed):
            await ws.wait_closed()

    async with serve(answer, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        client.urls = [f"ws://127.0.0.1:{port}"]
        try:
            async with asyncio.timeout(10):
                await client.start()
        finally:
            await client.close()


async def test_a_message_past_the_limit_ends_the_connection_with_a_line_saying_what_to_raise() -> (
    None
):
    connections: list[WarroomClient] = []
    with pytest.raises(ClientError, match=r"over this console's limit of 1 MiB.*max_frame_mib"):
        await _connect_to_a_server_welcoming_in(MIB + 1, connections)
    # Given up, not reconnected to read the same message again and again.
    [client] = connections
    assert client.status is ConnectionStatus.CLOSED


async def test_a_message_within_the_limit_is_read() -> None:
    connections: list[WarroomClient] = []
    await _connect_to_a_server_welcoming_in(MIB - 16, connections)
    [client] = connections
    assert client.user == "bob"


def test_the_limit_is_set_in_console_toml_within_bounds(tmp_path: Path) -> None:
    config = tmp_path / "console.toml"
    assert load_console_config(config).max_frame_mib == 64
    config.write_text("max_frame_mib = 1024\n")
    assert load_console_config(config).max_frame_mib == 1024
    for bad in ("0", "5000", '"lots"'):
        config.write_text(f"max_frame_mib = {bad}\n")
        with pytest.raises(ConfigError, match="max_frame_mib"):
            load_console_config(config)


def _presence_of_bad_users(count: int) -> bytes:
    users = ",".join(["0"] * count)
    return f'{{"type":"presence","incident_id":1,"users":[{users}]}}'.encode()


def _packed_with_a_bad_head(count: int) -> bytes:
    state = {"checklist": [0] * count}
    head = json.dumps({"type": "packed_snapshot", "incident_id": 1, "seq": 1, "state": state})
    return PACKED_MAGIC + struct.pack("<I", len(head)) + head.encode()


@pytest.mark.parametrize(
    "message", [_presence_of_bad_users, _packed_with_a_bad_head], ids=["frame", "packed"]
)
async def test_a_message_with_a_hundred_thousand_bad_values_is_refused_without_describing_each(
    message: Callable[[int], bytes], caplog: pytest.LogCaptureFixture
) -> None:
    # Each validation error described (its dict, its line) is made as Python objects: a few
    # MB of hostile list cost a console a gigabyte and seconds to log (review24).
    raw = message(100_000)
    client = WarroomClient("ws://127.0.0.1:9", "token")
    tracemalloc.start()
    try:
        await client._dispatch_frame(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert re.search(r"1000\d\d values are not what the protocol says", caplog.text)
    # pydantic keeps each error it finds (about 35 bytes, the message's "0, " being 3): a small
    # multiple of the message. Described each as a dict and a line, it was 250-500 times it.
    assert peak < 20 * len(raw)
