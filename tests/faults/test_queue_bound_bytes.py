"""The bound on a console's outgoing queue is in bytes as they go on the wire: a stuck console
following an incident written in 4-byte characters holds no more than `send_buffer_bytes`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.faults.support import open_ws, recv_json, request, small_receive_buffer_socket
from warroom.node import start_node
from warroom.server.app import ServerSettings
from warroom.server.connection import Connection
from warroom.server.limits import UNLIMITED
from warroom.users import create_user

SEND_BUFFER = 64 * 1024
"""The smallest queue bound the config allows."""
ENTRY = "".join(chr(0x1F600 + n % 64) for n in range(5_000))
"""5,000 characters, 20,000 bytes of UTF-8: counted in characters, four times the bound fits."""


def wire_bytes(conn: Connection) -> int:
    """What the connection's queue holds, measured here rather than by the code under test."""
    return sum(len(f.encode() if isinstance(f, str) else f) for f in conn._queue)


async def test_stuck_console_holds_at_most_the_bound_in_utf8_bytes(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held: list[int] = []
    dropped = asyncio.Event()
    original_send = Connection.send
    original_drop = Connection.drop

    def measured_send(self: Connection, frame: str | bytes) -> None:
        original_send(self, frame)
        if self.user == "sleepy":
            held.append(wire_bytes(self))

    def recorded_drop(self: Connection, reason: str, code: int = 1013) -> None:
        if self.user == "sleepy":
            dropped.set()
        original_drop(self, reason, code)

    monkeypatch.setattr(Connection, "send", measured_send)
    monkeypatch.setattr(Connection, "drop", recorded_drop)
    tokens = {n: await create_user(db_path, n) for n in ("alice", "sleepy")}
    limits = UNLIMITED.model_copy(update={"send_buffer_bytes": SEND_BUFFER})
    settings = ServerSettings(port=0, rate=100_000, burst=100_000, limits=limits)
    async with asyncio.timeout(60), await start_node(db_path, settings) as server:
        writer = await open_ws(server.url, tokens["alice"])
        await recv_json(writer)
        declared = await request(
            writer, {"type": "declare_incident", "id": "d", "title": "Disk", "severity": 2}
        )
        incident = declared["incident_id"]
        sleepy = await open_ws(
            server.url,
            tokens["sleepy"],
            sock=small_receive_buffer_socket(server.port),
            compression=None,
            max_queue=1,
        )
        await sleepy.send(json.dumps({"type": "subscribe", "id": "z", "incident_id": incident}))
        for n in range(200):
            ack = await request(
                writer, {"type": "add_entry", "id": f"w{n}", "incident_id": incident, "text": ENTRY}
            )
            assert ack["type"] == "ack", ack
            if dropped.is_set():
                break
        assert dropped.is_set(), "200 writes of 20 KB did not back up a stuck console"
        assert max(held) <= SEND_BUFFER, f"held {max(held):,} bytes, bound {SEND_BUFFER:,}"
        await writer.close()
        sleepy.transport.abort()
