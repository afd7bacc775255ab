"""File descriptors: a server started with a low RLIMIT_NOFILE, flooded with idle TCP connections
that never finish a handshake, keeps its descriptors below the limit, logs no accept() errors,
drops the idle connections when their handshake times out, and serves consoles afterwards. A
burst of connections waits in the kernel's queue for the server rather than being dropped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import select
import socket
import subprocess
import sys
from pathlib import Path

from tests.core.serverproc import free_port
from tests.core.wire import Peer
from tests.faults.support import wait_healthy
from warroom.node import WarroomNode
from warroom.server.app import ACCEPT_BATCH
from warroom.users import create_user

NOFILE = 160
"""The child server's file descriptor limit; the issue's server had 200."""
IDLE = 200
"""Idle connections opened against it: more than it has descriptors."""


def low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


PARTIAL_REQUEST = b"GET / HTTP/1.1\r\n"
"""What each idle connection sends, as a slowloris does. A flood overflows the listen backlog,
and the kernel then completes handshakes with SYN cookies that it may drop on the final ACK:
a client that never sends a byte would wait forever on a connection the server never saw,
while one that has data outstanding retransmits it until the server accepts the connection."""


async def closed_by_server(reader: asyncio.StreamReader) -> None:
    """Returns once the server has closed (or reset) the connection."""
    with contextlib.suppress(ConnectionError):
        await reader.read(1)


async def test_idle_connections_past_the_fd_limit_neither_exhaust_nor_flood_the_log(
    tmp_path: Path,
) -> None:
    db = tmp_path / "warroom.db"
    token = await create_user(db, "alice")
    config = tmp_path / "warroom.toml"
    config.write_text("[limits]\nhandshake_timeout_seconds = 2\n")
    log = tmp_path / "server.log"
    port = free_port()
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "warroom",
                "serve",
                "--port",
                str(port),
                "--db",
                str(db),
                "--config",
                str(config),
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
            preexec_fn=low_fd_limit,
        )
    writers: list[asyncio.StreamWriter] = []
    try:
        await wait_healthy(port, proc, log)
        async with asyncio.timeout(150):  # a hang bound, not a speed target
            connections = await asyncio.gather(
                *(asyncio.open_connection("127.0.0.1", port) for _ in range(IDLE))
            )
            writers = [writer for _, writer in connections]
            for writer in writers:
                writer.write(PARTIAL_REQUEST)
            used = len(os.listdir(f"/proc/{proc.pid}/fd"))
            assert used < NOFILE, f"the server holds {used} of its {NOFILE} descriptors"
            # Over the cap a socket is closed at accept; the rest when the handshake times out.
            await asyncio.gather(*(closed_by_server(reader) for reader, _ in connections))
            assert proc.poll() is None, "the server died"
            console = await Peer.open(f"ws://127.0.0.1:{port}", token)
            assert (await console.request({"type": "list_incidents"}))["type"] == "incidents"
            await console.close()
    finally:
        for writer in writers:
            writer.close()
        proc.terminate()
        proc.wait(timeout=20)
    text = log.read_text()
    assert "out of system resource" not in text
    assert "Too many open files" not in text
    assert len(text.splitlines()) < 20, text[-2000:]


def _waiting_to_be_accepted(port: int) -> int:
    """Connections the kernel completed and holds for the listening socket on `port` (its accept
    queue, the `rx_queue` of a listening socket in /proc/net/tcp)."""
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            local, state, queues = fields[1], fields[3], fields[4]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                return int(queues.split(":")[1], 16)
    raise AssertionError(f"nothing listens on port {port}")


async def test_a_burst_of_connections_waits_for_the_server_rather_than_being_dropped(
    server: WarroomNode,
) -> None:
    """asyncio's listen backlog is its accept batch, 16: over it the kernel dropped handshakes,
    which their consoles retried a second later (200 consoles joining took a second longer)."""
    burst = 8 * ACCEPT_BATCH
    sockets: list[socket.socket] = []
    try:
        # The server runs on this test's event loop, which accepts nothing until the test awaits:
        # every connection of the burst has to wait in the kernel's queue.
        for _ in range(burst):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", server.port))
            sockets.append(sock)
        connecting = list(sockets)
        while connecting:  # the kernel's handshakes, on loopback
            _, connected, _ = select.select([], connecting, [], 10)
            if not connected:
                break  # dropped: retried only after seconds, never while this loop blocks
            connecting = [s for s in connecting if s not in connected]
        assert _waiting_to_be_accepted(server.port) == burst
    finally:
        for sock in sockets:
            sock.close()
