"""Tools for breaking things on purpose: a server process to SIGKILL, a TCP proxy that cuts and
truncates connections, and raw websocket frames."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import socket
import sqlite3
import struct
from pathlib import Path
from typing import Any, Protocol

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.support import processes
from tests.support.node_forker import ForkedNode, NodeForker


async def open_ws(url: str, token: str, **options: Any) -> ClientConnection:
    """A raw websocket with no frame size limit (catch-up frames of big entries are large)."""
    options.setdefault("max_size", None)
    return await connect(url, additional_headers={"Authorization": f"Bearer {token}"}, **options)


async def recv_json(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await ws.recv())
    return frame


async def request(ws: ClientConnection, frame: dict[str, Any]) -> dict[str, Any]:
    """Send `frame` and return the reply carrying its id (other frames are skipped)."""
    await ws.send(json.dumps(frame))
    for _ in range(10_000):
        reply = await recv_json(ws)
        if reply.get("id") == frame["id"]:
            return reply
    raise AssertionError(f"no reply to {frame['id']} within 10,000 frames")


def read_command_ids(db: Path, incident_id: int) -> list[tuple[int, str | None]]:
    """(seq, command id) of every event of an incident, straight from the file (server down)."""
    connection = sqlite3.connect(db)
    try:
        rows = connection.execute(
            "SELECT seq, command_id FROM events WHERE incident_id = ? ORDER BY seq", (incident_id,)
        ).fetchall()
    finally:
        connection.close()
    return [(int(seq), command_id) for seq, command_id in rows]


class ServerProc:
    """`warroom serve` on a SQLite file in a process of its own, its stderr kept in a file (a
    pipe that nobody reads could fill up and stall the server). Forked from a helper that has
    imported warroom already (tests/support/node_forker.py): twenty restarts from a fresh
    interpreter would spend most of their time importing."""

    def __init__(self, db: Path, port: int, log: Path) -> None:
        self.db = db
        self.port = port
        self.log = log
        self.proc: ForkedNode | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> None:
        argv = ["serve", "--port", str(self.port), "--db", str(self.db)]
        self.proc = NodeForker.spawn(argv, self.log)
        await wait_healthy(self.port, self.proc, self.log)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a host losing power."""
        assert self.proc is not None
        processes.kill_now(self.proc)

    def stop(self) -> None:
        processes.stop(self.proc)


class ServerProcess(Protocol):
    """What `wait_healthy` asks of a server process (a `Popen`, or a forked node)."""

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...


async def wait_healthy(port: int, proc: ServerProcess, log: Path, host: str = "127.0.0.1") -> None:
    """Poll /healthz (there is no event to await across processes); bounded to 20 s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    async with httpx.AsyncClient(timeout=2) as http:
        while loop.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited {proc.returncode}: {log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"http://{host}:{port}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.02)  # poll interval of a bounded readiness loop
    raise TimeoutError("server did not become healthy within 20 s")


class ChaosProxy:
    """A TCP proxy in front of the server that can refuse, cut and truncate connections.

    Client-to-server websocket frames are masked, so the proxy cannot read them; it acts on
    the next chunk after being armed. Server-to-client frames are plain text once compression
    is kept off (the proxy drops the client's offer of permessage-deflate from the handshake),
    so it can spot an ack.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.attempts = 0
        self.refuse_attempts = 0
        """Close this many incoming connections right away (the server seems down)."""
        self.lose_next_ack = False
        self.truncate_next_upstream = False
        self.swallow_next_upstream = False
        """Cut the connection on the client's next frame instead of passing it on: the server
        never sees that request, so it is never answered."""
        self.downstream_open = asyncio.Event()
        """Cleared, what the server sends is held (not lost) until it is set again: a client's
        handshake is answered by the server but not yet seen by the client."""
        self.downstream_open.set()
        self.ack_lost = asyncio.Event()
        self.truncated = asyncio.Event()
        self.swallowed = asyncio.Event()
        self.refused_all = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.cut_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def cut_all(self) -> None:
        for pair in list(self._pairs):
            self._cut(pair)

    def _cut(self, pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter]) -> None:
        self._pairs.discard(pair)
        for writer in pair:
            writer.transport.abort()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.attempts += 1
        if self.refuse_attempts > 0:
            self.refuse_attempts -= 1
            if self.refuse_attempts == 0:
                self.refused_all.set()
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        pair = (writer, up_writer)
        self._pairs.add(pair)
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer, pair, upstream=True)),
            asyncio.create_task(self._pump(up_reader, writer, pair, upstream=False)),
        ]
        self._tasks.update(pumps)
        for pump in pumps:
            pump.add_done_callback(self._tasks.discard)

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
        *,
        upstream: bool,
    ) -> None:
        first = upstream
        try:
            while data := await source.read(65536):
                if first:  # the HTTP upgrade request: negotiate no compression
                    first = False
                    data = re.sub(rb"(?im)^Sec-WebSocket-Extensions:[^\r\n]*\r\n", b"", data)
                if upstream and self.truncate_next_upstream:
                    self.truncate_next_upstream = False
                    sink.write(data[: max(1, len(data) // 2)])
                    await sink.drain()
                    self._cut(pair)
                    self.truncated.set()
                    return
                if upstream and self.swallow_next_upstream:
                    self.swallow_next_upstream = False
                    self._cut(pair)
                    self.swallowed.set()
                    return
                if not upstream:
                    await self.downstream_open.wait()
                if not upstream and self.lose_next_ack and b'"type":"ack"' in data:
                    self.lose_next_ack = False
                    self._cut(pair)
                    self.ack_lost.set()
                    return
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if pair in self._pairs:
                self._cut(pair)


def handshake_request(port: int, token: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    ).encode()


def masked_text_frame(payload: bytes) -> bytes:
    """One complete client-to-server text frame (FIN, opcode 1, masked) as RFC 6455 lays it out."""
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x81, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 0x80 | 127, length)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + body


async def raw_upgraded_socket(port: int, token: str) -> tuple[asyncio.StreamReader, Any]:
    """A TCP connection that has completed the websocket handshake by hand."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(handshake_request(port, token))
    await writer.drain()
    async with asyncio.timeout(10):
        head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    return reader, writer


def small_receive_buffer_socket(port: int, size: int = 4096) -> socket.socket:
    """A connected socket whose receive window stays tiny, so a reader that stops reading
    backs up the server quickly."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock
