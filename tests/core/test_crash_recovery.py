"""SIGKILL the server during a burst of writes: every acknowledged write survives, exactly once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tests.core.serverproc import ServerProcess, free_port
from tests.core.wire import Peer
from warroom.users import create_user

WRITERS = 3
WRITES_EACH = 400
KILL_AFTER_ACKS = 150


async def _burst(
    peer: Peer, incident: int, tag: str, acked: set[str], enough: asyncio.Event
) -> None:
    """Pipeline writes as fast as the socket takes them; record acks until the server dies."""

    async def send_all() -> None:
        for n in range(WRITES_EACH):
            frame = {"type": "add_entry", "id": f"{tag}-{n}", "incident_id": incident, "text": tag}
            await peer.ws.send(json.dumps(frame))

    sender = asyncio.create_task(send_all())
    try:
        while True:
            reply = json.loads(await peer.ws.recv())
            if reply["type"] == "ack":
                acked.add(reply["id"])
                if len(acked) >= KILL_AFTER_ACKS:
                    enough.set()
    except ConnectionClosed:
        pass
    finally:
        sender.cancel()


@pytest.mark.parametrize("round_", range(3))
async def test_sigkill_during_burst_keeps_every_acknowledged_write(
    tmp_path: Path, round_: int
) -> None:
    db = tmp_path / "crash.db"
    token = await create_user(db, "alice")
    server = ServerProcess(db, free_port())
    await server.start()
    try:
        setup = await Peer.open(server.url, token)
        incident = await setup.declare(severity=1)
        await setup.close()

        acked: set[str] = set()
        enough = asyncio.Event()
        peers = [await Peer.open(server.url, token) for _ in range(WRITERS)]
        bursts = [
            asyncio.create_task(_burst(p, incident, f"w{i}", acked, enough))
            for i, p in enumerate(peers)
        ]
        await enough.wait()
        server.kill()
        await asyncio.gather(*bursts)
        assert len(acked) >= KILL_AFTER_ACKS

        await server.start()
        reader = await Peer.open(server.url, token)
        log = await reader.request({"type": "read_log", "incident_id": incident})
        ids = [e["command_id"] for e in log["events"] if e["seq"] > 1]
        assert len(ids) == len(set(ids)), "a write was stored twice"
        assert acked <= set(ids), f"lost acknowledged writes: {sorted(acked - set(ids))[:5]}"
        assert [e["seq"] for e in log["events"]] == list(range(1, len(log["events"]) + 1))
        await reader.close()
    finally:
        if server.proc is not None and server.proc.poll() is None:
            assert server.terminate() == 0  # SIGTERM shuts down cleanly
