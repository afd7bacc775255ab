"""Counts the round trips a client makes to PostgreSQL: a loopback proxy in front of the test
server's Unix socket that reads the client's side of the wire protocol as it passes.

A round trip is a message after which the client waits for the server to be ready again: a
simple query (`Q`) or the `Sync` (`S`) that ends an extended-protocol exchange, however many
statements were pipelined before it. Counts are kept per `application_name` (from each
connection's startup message), so a node's pool (`warroom`) is counted apart from its change
feed and its leadership connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from tests.support.postgres import SUPERUSER, PostgresServer

_SSL_REQUEST = 80877103
_GSS_REQUEST = 80877104
_WAITS_FOR_SERVER = (b"Q", b"S")


@dataclass
class RoundTrips:
    """Round trips seen so far by application name, and where clients connect to be counted."""

    port: int = 0
    by_application: Counter[str] = field(default_factory=Counter)

    def url(self, database: str) -> str:
        """A URL through the proxy (the server trusts it: it reaches the server's socket)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"


@contextlib.asynccontextmanager
async def counting_proxy(server: PostgresServer) -> AsyncIterator[RoundTrips]:
    """A proxy to `server` on a free loopback port, counting until the block ends."""
    counts = RoundTrips()
    socket_path = str(server.socket_dir / f".s.PGSQL.{server.port}")
    pumps: set[asyncio.Task[None]] = set()

    async def serve(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_unix_connection(socket_path)
        for pump in (_count_client(client_r, server_w, counts), _copy(server_r, client_w)):
            task = asyncio.create_task(pump)
            pumps.add(task)
            task.add_done_callback(pumps.discard)

    listener = await asyncio.start_server(serve, "127.0.0.1", 0)
    counts.port = listener.sockets[0].getsockname()[1]
    try:
        yield counts
    finally:
        listener.close()
        for task in list(pumps):
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def _count_client(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, counts: RoundTrips
) -> None:
    """Pass the client's messages on, counting those it then waits on."""
    application = ""
    try:
        while True:  # untyped messages until the startup message: SSL/GSS requests first
            head = await reader.readexactly(8)
            length, code = struct.unpack("!ii", head)
            body = await reader.readexactly(length - 8)
            writer.write(head + body)
            if code not in (_SSL_REQUEST, _GSS_REQUEST):
                parameters = body.split(b"\0")
                pairs = dict(zip(parameters[::2], parameters[1::2], strict=False))
                application = pairs.get(b"application_name", b"").decode()
                break
        while True:
            kind = await reader.readexactly(1)
            size = await reader.readexactly(4)
            body = await reader.readexactly(struct.unpack("!i", size)[0] - 4)
            if kind in _WAITS_FOR_SERVER:
                counts.by_application[application] += 1
            writer.write(kind + size + body)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()
