"""Read amplification, fuzzed: a connection that never reads asks for pages of a large incident's
log, any number of times from any point. The server never holds more than its per-connection
byte cap for it, ends it with 1013 when it would, and everyone else is served throughout."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from tests.core.wire import Peer
from tests.faults.support import open_ws, recv_json, small_receive_buffer_socket
from warroom.node import WarroomNode, start_node
from warroom.server.app import ServerSettings
from warroom.server.connection import CLOSE_TOO_SLOW, Connection
from warroom.server.limits import UNLIMITED
from warroom.users import create_user

CAP = 1024 * 1024
"""The per-connection byte cap the node runs with."""
ENTRIES = 100
"""Entries of ~10 KB in the big incident: ~1 MB of log, two pages."""
FUZZ = settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


class BigRoom:
    """A node with a small byte cap, a big incident, a reader that reads, and the most the
    server ever held queued for any connection."""

    def __init__(self, node: WarroomNode, token: str, reader: Peer, incident: int) -> None:
        self.node = node
        self.token = token
        self.reader = reader
        self.incident = incident
        self.most_held = 0


@pytest.fixture
async def room(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BigRoom]:
    token = await create_user(db_path, "alice")
    limits = UNLIMITED.model_copy(update={"send_buffer_bytes": CAP})
    async with await start_node(db_path, ServerSettings(port=0, limits=limits)) as node:
        reader = await Peer.open(node.url, token)
        incident = await reader.declare("Big log")
        for n in range(ENTRIES):
            await reader.send(
                {"type": "add_entry", "incident_id": incident, "text": f"{n} " + "x" * 9_900}
            )
        last = await reader.request({"type": "add_entry", "incident_id": incident, "text": "end"})
        assert last["type"] == "ack", last
        big = BigRoom(node, token, reader, incident)
        real_send = Connection.send

        def watched_send(self: Connection, frame: str) -> None:
            real_send(self, frame)
            big.most_held = max(big.most_held, self.queued_bytes)

        monkeypatch.setattr(Connection, "send", watched_send)
        yield big
        await reader.close()


async def _read_until_closed(ws: Any) -> ConnectionClosed | None:
    for _ in range(1_000):
        try:
            await recv_json(ws)
        except ConnectionClosed as closed:
            return closed
    return None


@FUZZ
@given(afters=st.lists(st.integers(min_value=0, max_value=ENTRIES + 3), min_size=1, max_size=300))
@example(afters=[0] * 300)
async def test_a_connection_that_never_reads_is_held_to_its_byte_cap(
    room: BigRoom, afters: list[int]
) -> None:
    room.most_held = 0
    sleepy = await open_ws(
        room.node.url,
        room.token,
        sock=small_receive_buffer_socket(room.node.port),
        compression=None,
        max_queue=1,
    )
    closed_early = False
    async with asyncio.timeout(60):  # a hang bound
        for n, after in enumerate(afters):
            frame = {"type": "read_log", "id": f"r{n}", "incident_id": room.incident}
            try:
                await sleepy.send(json.dumps({**frame, "after": after}))
            except ConnectionClosed:
                closed_early = True
                break
        # Everyone else is served while (or after) the sleepy one backs up.
        listing = await room.reader.request({"type": "list_incidents"})
        assert listing["type"] == "incidents"
        held_most = room.most_held
        if closed_early or afters == [0] * 300:
            closed = await _read_until_closed(sleepy)
            assert closed is not None, "the server kept a connection over its cap"
            assert closed.rcvd is not None
            assert closed.rcvd.code == CLOSE_TOO_SLOW
        else:
            await sleepy.close()
    # A page is at most ~512 KiB: the cap plus the frame that tipped it is never exceeded.
    assert held_most <= CAP, f"held {held_most} bytes for one connection"
