"""`python -m bench.sync_trace`: where a fresh full sync's milliseconds go, marked on both sides.

The catch-up family times a follow as a whole. This starts the warroom server in its own process
with marks (`time.perf_counter`, CLOCK_MONOTONIC, which both processes share) on its handshake,
handler, subscribe and socket writes, follows the bench's 2,000-entry incident with the real
client, marked the same way, and prints each phase's least and median over the repeats. The
marks cost a microsecond or two each: read the phases, and the totals of `python -m bench`.
`PYTHONPATH` chooses the tree measured, as for the bench (the server inherits it).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import functools
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from asyncio import selector_events
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import catchup, seed, targets

Mark = tuple[float, str, int]
"""(perf_counter seconds, what, a size in bytes or 0)."""
MARKS: list[Mark] = []


def mark(name: str, size: int = 0) -> None:
    MARKS.append((time.perf_counter(), name, size))


def _around(cls: type, attr: str, name: str, size: Callable[..., int] | None = None) -> None:
    """Marks `name<` and `name>` around `cls.attr`, a coroutine function or a plain one."""
    original = getattr(cls, attr)
    if asyncio.iscoroutinefunction(original):

        @functools.wraps(original)
        async def marked_async(*args: Any, **kwargs: Any) -> Any:
            mark(f"{name}<")
            try:
                return await original(*args, **kwargs)
            finally:
                mark(f"{name}>")

        setattr(cls, attr, marked_async)
        return

    @functools.wraps(original)
    def marked(*args: Any, **kwargs: Any) -> Any:
        mark(f"{name}<", size(*args) if size else 0)
        try:
            return original(*args, **kwargs)
        finally:
            mark(f"{name}>")

    setattr(cls, attr, marked)


def _mark_sockets(side: str) -> None:
    """Every socket write (and what the kernel did not take at once) and every chunk read."""
    from websockets.asyncio.connection import Connection

    transport: Any = getattr(selector_events, "_SelectorSocketTransport")  # noqa: B009 (private)
    write = transport.write

    def marked_write(self: Any, data: Any) -> None:
        mark(f"{side}.write<", len(data))
        write(self, data)
        mark(f"{side}.write>", self.get_write_buffer_size())

    transport.write = marked_write
    received = Connection.data_received

    def marked_received(self: Connection, data: bytes) -> None:
        mark(f"{side}.data", len(data))
        received(self, data)

    Connection.data_received = marked_received  # type: ignore[method-assign]


def serve(argv: list[str]) -> None:
    """The server's side: `bench.serve_warroom` with marks, written to `--marks` at exit."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--marks", type=Path, required=True)
    args, rest = parser.parse_known_args(argv)
    from websockets.asyncio.server import ServerConnection

    from bench import serve_warroom
    from warroom.server import app, connection

    _mark_sockets("s")
    _around(app.WarroomServer, "_process_request", "s.process_request")
    _around(app.WarroomServer, "_handle", "s.handle")
    _around(app.WarroomServer, "_receive", "s.receive")
    _around(connection.Connection, "send", "s.queue", lambda _, frame: len(frame))
    _around(ServerConnection, "send", "s.ws_send")
    atexit.register(lambda: args.marks.write_text(json.dumps(MARKS)))
    sys.argv = [sys.argv[0], *rest]
    serve_warroom.main()


async def _follow(url: str, token: str) -> None:
    from warroom.client.session import WarroomClient

    client = WarroomClient(url, token, reconnect=False)
    mark("c.start")
    await client.start(follow=[catchup.FRESH])
    await client.follow(catchup.FRESH)
    mark("c.followed")
    await client.close()


def _mark_client() -> None:
    from websockets.asyncio.client import ClientConnection

    from warroom.client.session import WarroomClient

    _mark_sockets("c")
    _around(ClientConnection, "handshake", "c.handshake")
    _around(WarroomClient, "_dispatch", "c.dispatch")
    _around(asyncio.BaseEventLoop, "create_connection", "c.tcp")


def phases(client: list[Mark], server: list[Mark]) -> Iterator[tuple[str, float]]:
    """The phases of one follow, ms, in the order they happen (the snapshot is the frame of
    more than 64 KB)."""
    both = sorted(client + server)

    def at(name: str, after: float = 0.0, larger: int = -1) -> float:
        return next(t for t, n, size in both if n == name and t >= after and size > larger)

    start = at("c.start")
    tcp, connected = at("c.tcp<"), at("c.tcp>")
    request = at("c.write<", connected)
    arrived = at("s.data", request)
    checked, checked_end = at("s.process_request<", arrived), at("s.process_request>", arrived)
    answered = at("s.write<", checked_end)
    handled = at("s.handle<", checked_end)
    handshake_done = at("c.handshake>", connected)
    subscribe, subscribe_end = at("s.receive<", handled), at("s.receive>", handled)
    # Answered within `_receive` when the sequencer waits (sync21), else by its turn after.
    queued = at("s.queue<", subscribe, 64 * 1024)
    received = min(subscribe_end, queued)
    written, written_end = at("s.write<", queued), at("s.write>", queued)
    first_bytes = at("c.data", written)
    followed = at("c.followed")
    # The snapshot's is the longest dispatch before the follow returns: the welcome's may come
    # after the snapshot's first bytes, and a presence frame before `follow` resumes.
    dispatches = [
        (at("c.dispatch>", t), t) for t, n, _ in both if n == "c.dispatch<" and t < followed
    ]
    dispatched_end, dispatched = max(dispatches, key=lambda span: span[0] - span[1])
    last_bytes = max(t for t, n, _ in both if n == "c.data" and first_bytes <= t < dispatched)
    yield "client: start until its TCP connect", tcp - start
    yield "TCP connect", connected - tcp
    yield "client: websocket request built and written", request - connected
    yield "server: request read, parsed", checked - arrived
    yield "server: _process_request (token, headers)", checked_end - checked
    yield "server: 101 built and written", answered - checked_end
    yield "client: 101 arrives, handshake done", handshake_done - answered
    yield "server: 101 written until _handle", handled - answered
    yield "server: _handle until the subscribe", subscribe - handled
    yield "server: the handshake's subscribe received", received - subscribe
    yield "server: subscribe until snapshot queued", queued - received
    yield "server: snapshot queued until written", written - queued
    yield "server: socket write of the snapshot", written_end - written
    yield "client: write until its first bytes", first_bytes - written
    yield "client: first until last bytes", last_bytes - first_bytes
    yield "client: last bytes until dispatch", dispatched - last_bytes
    yield "client: snapshot validated and applied", dispatched_end - dispatched
    yield "total (start until followed)", followed - start


def main() -> int:
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.sync_trace", description=__doc__)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="warroom-sync-trace-"))
    db, marks = workdir / "warroom.db", workdir / "server-marks.json"
    token = asyncio.run(targets.make_user(db))
    events = seed.incident_events(catchup.FRESH, catchup.FRESH_ENTRIES, targets.BENCH_USER)
    asyncio.run(seed.seed_warroom(db, {catchup.FRESH: events}))
    command = [sys.executable, "-m", "bench.sync_trace", "--serve", "--marks", str(marks)]
    server = subprocess.Popen(
        [*command, "--port", "0", "--db", str(db)], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    url = f"ws://127.0.0.1:{server.stdout.readline().split()[1]}/"
    _mark_client()
    follows: list[list[Mark]] = []
    try:
        for repeat in range(args.repeats + 2):  # two to warm up
            MARKS.clear()
            gc.collect()
            asyncio.run(_follow(url, token))
            if repeat >= 2:
                follows.append(list(MARKS))
    finally:
        server.terminate()
        server.wait(30)
    server_marks: list[Mark] = [(t, n, size) for t, n, size in json.loads(marks.read_text())]
    table: dict[str, list[float]] = {}
    for client in follows:
        begin, end = client[0][0], client[-1][0]
        theirs = [m for m in server_marks if begin <= m[0] <= end]
        for name, seconds in phases(client, theirs):
            table.setdefault(name, []).append(seconds * 1e3)
    print(f"{len(follows)} follows of {catchup.FRESH_ENTRIES:,} entries, ms: least, median")
    for name, values in table.items():
        print(f"  {name:46s} {min(values):6.3f} {statistics.median(values):7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
