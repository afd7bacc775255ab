"""`python -m bench.sync_pair SRC_A SRC_B`: the fresh full sync of two trees' servers, in pairs.

On a shared machine two bench runs in turns measure the load as much as the code (sync18-20: a
median moved 30-50 % between runs of one tree). This starts one warroom server per tree (`src`
folders; `PYTHONPATH` points each at its own, as for the bench), each on a copy of one database
holding the catch-up family's 2,000-entry incident, and follows them alternately with one
client (this tree's), the order swapped every round, so a burst of other work falls on both
alike. Prints each tree's median, least and quartiles of the total (start until `follow`
returns), ms. The servers differ; the client is the same one.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import catchup, seed, targets
from warroom.client.session import WarroomClient

WARM_UP = 3
"""Rounds not counted: the first follows load the incident and convert its snapshot."""


async def _follow(url: str, token: str) -> float:
    client = WarroomClient(url, token, reconnect=False)
    started = time.perf_counter()
    await client.start(follow=[catchup.FRESH])
    await client.follow(catchup.FRESH)
    done = time.perf_counter()
    await client.close()
    return (done - started) * 1e3


def _launch(tree: Path, db: Path) -> tuple[subprocess.Popen[str], str]:
    bench_tree = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{bench_tree}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.serve_warroom", "--port", "0", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert server.stdout is not None
    return server, f"ws://127.0.0.1:{server.stdout.readline().split()[1]}/"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sync_pair", description=__doc__)
    parser.add_argument("trees", nargs=2, type=Path, help="two `src` folders")
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="warroom-sync-pair-"))
    db = workdir / "warroom.db"
    token = asyncio.run(targets.make_user(db))
    events = seed.incident_events(catchup.FRESH, catchup.FRESH_ENTRIES, targets.BENCH_USER)
    asyncio.run(seed.seed_warroom(db, {catchup.FRESH: events}))
    servers: list[tuple[Path, subprocess.Popen[str], str]] = []
    try:
        for n, tree in enumerate(args.trees):
            copy = workdir / f"warroom-{n}.db"
            shutil.copy(db, copy)
            servers.append((tree, *_launch(tree, copy)))
        totals: dict[Path, list[float]] = {tree: [] for tree in args.trees}
        for round_ in range(args.rounds + WARM_UP):
            order = servers if round_ % 2 == 0 else servers[::-1]
            for tree, _, url in order:
                gc.collect()
                total = asyncio.run(_follow(url, token))
                if round_ >= WARM_UP:
                    totals[tree].append(total)
    finally:
        for _, server, _ in servers:
            server.terminate()
            server.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"fresh full sync of {catchup.FRESH_ENTRIES:,} entries, {args.rounds} pairs, ms")
    for tree, values in totals.items():
        quartiles = statistics.quantiles(values, n=4)
        print(
            f"  {tree!s:40s} median {statistics.median(values):6.2f}  least {min(values):6.2f}"
            f"  quartiles {quartiles[0]:6.2f} {quartiles[2]:6.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
