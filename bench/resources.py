"""Server memory per idle client: how much a fresh server process grows as N clients join."""

from __future__ import annotations

import time
from pathlib import Path

from bench import targets
from bench.harness import Results, Settings, WorkerPool, share


def run(
    settings: Settings, pool: WorkerPool, workdir: Path, kinds: list[str], results: Results
) -> None:
    count = settings.idle_clients
    for kind in kinds:
        print(f"  memory: {kind}, {count} idle clients", flush=True)
        folder = workdir / f"memory-{kind}"
        folder.mkdir()
        target = targets.start(kind, folder)
        try:
            stream = target.stream("idle")
            # One client first, so imports, caches and the room itself are not billed to clients.
            stream = {**stream, "writers": [], "deflate": settings.deflate}
            pool.ask([("setup", {**stream, "clients": [0]})], 120)
            time.sleep(settings.settle_seconds)
            before = target.server.rss_kb()
            parts = share(list(range(1, count + 1)), pool.size)
            started = time.perf_counter()
            pool.ask([("setup", {**stream, "clients": p}) for p in parts], 300)
            joined = time.perf_counter() - started
            time.sleep(settings.settle_seconds)
            after = target.server.rss_kb()
            results.put(f"memory.{kind}.kb_per_client", (after - before) / count)
            results.put(f"memory.{kind}.rss_before_kb", before)
            results.put(f"memory.{kind}.rss_after_kb", after)
            results.put(f"memory.{kind}.join_s", joined)
            pool.ask([("teardown", None)] * pool.size, 120)
        finally:
            target.stop()
