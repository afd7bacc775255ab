"""Launcher for `bench.callcount`: a warroom server whose event loop is profiled only between
SIGUSR1 and SIGUSR2, so the counts cover a run and not its set-up.

Run as a script by any checkout's own Python (`<tree>/.venv/bin/python bench/serve_counted.py`):
it imports only `warroom`, so it serves that tree's server, also one from before this launcher.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import signal
from pathlib import Path

from warroom.node import start_node
from warroom.server.app import ServerSettings

UNLIMITED = 1_000_000_000
"""No rate limits: every bench client is one user, and the limits would throttle the writers."""


def settings_for(port: int) -> ServerSettings:
    try:
        from warroom.server.limits import UNLIMITED as UNLIMITED_LIMITS
    except ImportError:  # a tree from before the limits of issue 10
        return ServerSettings(host="127.0.0.1", port=port, rate=UNLIMITED, burst=UNLIMITED)
    return ServerSettings(
        host="127.0.0.1", port=port, rate=UNLIMITED, burst=UNLIMITED, limits=UNLIMITED_LIMITS
    )


async def serve(db: Path, settings: ServerSettings, out: Path) -> None:
    """Serve until SIGTERM; print READY and the port, then DUMPED once the stats are written."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    profiler = cProfile.Profile()

    def dump() -> None:
        profiler.disable()
        profiler.dump_stats(out)
        print("DUMPED", flush=True)

    loop.add_signal_handler(signal.SIGUSR1, profiler.enable)
    loop.add_signal_handler(signal.SIGUSR2, dump)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with await start_node(db, settings) as server:
        print(f"READY {server.port}", flush=True)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="cProfile stats of the run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(args.db, settings_for(args.port), args.out))


if __name__ == "__main__":
    main()
