"""A console that stops reading fills its own queue and is dropped; nobody else waits for it, and
when it comes back with its last seq it gets exactly what it missed."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.faults.support import open_ws, recv_json, request, small_receive_buffer_socket
from warroom.domain.limits import MAX_ENTRY_TEXT
from warroom.node import start_node
from warroom.server.app import ServerSettings
from warroom.server.connection import CLOSE_TOO_SLOW, Connection
from warroom.server.limits import UNLIMITED
from warroom.users import create_user

MAX_WRITES = 600
"""Upper bound on the writes it may take to back the stuck console up (each ~30 KB)."""


def bulky_text(rng: random.Random) -> str:
    """Near the entry limit and incompressible, so each event is ~30 KB on the wire."""
    return "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(MAX_ENTRY_TEXT - 10))


async def read_events(ws: Any, until_seq: int, seqs: list[int]) -> None:
    """Read frames, appending every event seq, until `until_seq` has arrived."""
    while not seqs or seqs[-1] < until_seq:
        frame = await recv_json(ws)
        if frame["type"] == "events":
            seqs.extend(e["seq"] for e in frame["events"])


async def read_until_closed(ws: Any, received: list[dict[str, Any]]) -> ConnectionClosed:
    for _ in range(MAX_WRITES + 10):
        try:
            received.append(await recv_json(ws))
        except ConnectionClosed as closed:
            return closed
    raise AssertionError("the stuck console was never closed")


async def test_stuck_console_is_dropped_without_delaying_others_and_resumes_without_gap(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped: list[str] = []
    was_dropped = asyncio.Event()
    original_drop = Connection.drop

    def record_drop(self: Connection, reason: str) -> None:
        dropped.append(self.user)
        was_dropped.set()
        original_drop(self, reason)

    monkeypatch.setattr(Connection, "drop", record_drop)
    tokens = {n: await create_user(db_path, n) for n in ("alice", "bob", "sleepy")}
    # Only the frame count bounds the queue here (8): the byte limits are lifted.
    settings = ServerSettings(port=0, rate=100_000, burst=100_000, send_queue=8, limits=UNLIMITED)
    async with asyncio.timeout(60), await start_node(db_path, settings) as server:
        writer = await open_ws(server.url, tokens["alice"])
        assert (await recv_json(writer))["type"] == "welcome"
        declared = await request(
            writer, {"type": "declare_incident", "id": "d", "title": "Disk", "severity": 2}
        )
        incident = declared["incident_id"]

        # bob follows and reads everything, as a healthy console does.
        reader = await open_ws(server.url, tokens["bob"])
        await recv_json(reader)
        bob_start = await request(reader, {"type": "subscribe", "id": "s", "incident_id": incident})
        assert bob_start["type"] == "snapshot"
        bob_seqs: list[int] = []

        # sleepy follows, then never reads again: tiny receive window, no compression.
        sleepy = await open_ws(
            server.url,
            tokens["sleepy"],
            sock=small_receive_buffer_socket(server.port),
            compression=None,
            max_queue=1,
        )
        await sleepy.send(json.dumps({"type": "subscribe", "id": "z", "incident_id": incident}))

        rng = random.Random(6)
        last_seq = 1
        for n in range(MAX_WRITES):
            ack = await request(
                writer,
                {
                    "type": "add_entry",
                    "id": f"w{n}",
                    "incident_id": incident,
                    "text": bulky_text(rng),
                },
            )
            assert ack["type"] == "ack", ack
            last_seq = ack["seq"]
            if was_dropped.is_set():
                break
        assert was_dropped.is_set(), f"{MAX_WRITES} writes did not back up a stuck console"
        assert dropped == ["sleepy"], "only the console that stopped reading is dropped"

        # Everyone else got every event, in order, while sleepy was stuck.
        await read_events(reader, last_seq, bob_seqs)
        assert bob_seqs == list(range(2, last_seq + 1))

        # sleepy now reads what reached it: a snapshot, then consecutive events, then 1013.
        received: list[dict[str, Any]] = []
        closed = await read_until_closed(sleepy, received)
        assert closed.rcvd is not None
        assert closed.rcvd.code == CLOSE_TOO_SLOW
        snapshot = next(f for f in received if f["type"] == "snapshot")
        seen = [snapshot["seq"]] + [
            e["seq"] for f in received if f["type"] == "events" for e in f["events"]
        ]
        assert seen == list(range(seen[0], seen[0] + len(seen))), "a gap before the drop"
        last_seen = seen[-1]
        assert last_seen < last_seq, "the drop must have cost sleepy some events"

        # More happens while sleepy is away.
        for n in range(3):
            ack = await request(
                writer,
                {"type": "add_entry", "id": f"away{n}", "incident_id": incident, "text": "x"},
            )
            last_seq = ack["seq"]

        # Back with its last seq: exactly the missed events, then live ones with no repeat.
        back = await open_ws(server.url, tokens["sleepy"])
        await recv_json(back)
        catch_up = await request(
            back, {"type": "subscribe", "id": "again", "incident_id": incident, "since": last_seen}
        )
        assert catch_up["type"] == "events"
        assert [e["seq"] for e in catch_up["events"]] == list(range(last_seen + 1, last_seq + 1))
        await request(
            writer, {"type": "add_entry", "id": "live", "incident_id": incident, "text": "live"}
        )
        live: list[int] = []
        await read_events(back, last_seq + 1, live)
        assert live == [last_seq + 1]
        for ws in (writer, reader, back):
            await ws.close()
