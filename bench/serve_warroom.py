"""Launcher: the warroom server in its own process with the per-connection rate limit lifted."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import signal
from pathlib import Path

from bench import delivery_trace
from warroom.gc_pause import settle_started_process
from warroom.node import start_node
from warroom.server.app import ServerSettings
from warroom.server.http_endpoints import HttpSettings
from warroom.server.limits import UNLIMITED as UNLIMITED_LIMITS

UNLIMITED = 1_000_000_000
"""The default 50 msg/s per connection (and the per-user limits: every bench client is one user)
would throttle the burst writers, not the server."""


async def serve(db: str, settings: ServerSettings) -> None:
    """Serve until SIGTERM, announcing the websocket port and the port of `/metrics` (which
    the bench reads commits from) on stdout once listening."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    http = HttpSettings(host="127.0.0.1", port=0)
    async with await start_node(db, settings, http=http) as server:
        assert server.http is not None
        settle_started_process()
        print(f"READY {server.port} {server.http.port}", flush=True)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--db", required=True, help="a SQLite path or a postgresql:// URL")
    parser.add_argument("--profile", type=Path, help="write cProfile stats here on exit")
    parser.add_argument(
        "--trace", type=Path, help="write when each paced write passed each stage here on exit"
    )
    args = parser.parse_args()
    if args.trace is not None:
        delivery_trace.install(args.trace)
    logging.basicConfig(level=logging.WARNING)
    settings = ServerSettings(
        host="127.0.0.1", port=args.port, rate=UNLIMITED, burst=UNLIMITED, limits=UNLIMITED_LIMITS
    )
    run = serve(args.db, settings)
    if args.profile is None:
        asyncio.run(run)
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        asyncio.run(run)
    finally:
        profiler.disable()
        profiler.dump_stats(args.profile)


if __name__ == "__main__":
    main()
