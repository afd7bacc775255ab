"""`python -m bench.profile`: one fan-out run with the warroom server sampled by py-spy."""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import fanout, seed, targets
from bench.harness import Results, ServerProcess, WorkerPool, share
from bench.targets import Target


def top(raw: Path, count: int) -> str:
    """Self and inclusive shares of the busiest functions in py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    within: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        frames = stack.split(";")
        total += int(samples)
        own[frames[-1]] += int(samples)
        for frame in set(frames[1:]):
            within[frame] += int(samples)
    if not total:
        return "no samples"
    lines = [f"{total} samples of the server while busy", "self:"]
    lines += [f"  {n / total:6.1%}  {f}" for f, n in own.most_common(count)]
    lines.append("inclusive (below the event loop):")
    busy = [
        (f, n)
        for f, n in within.most_common()
        if not any(s in f for s in ("asyncio/", "runpy", "bench/serve_", "threading.py"))
    ]
    lines += [f"  {n / total:6.1%}  {f}" for f, n in busy[: count * 2]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--mode", choices=("paced", "burst"), default="burst")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument(
        "--long-incident", type=int, default=0, metavar="N",
        help="also hold an incident of N entries on the server (it is not written to)",
    )  # fmt: skip
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--no-deflate", action="store_true", help="clients refuse compression")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("py-spy is not installed: pip install py-spy", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="warroom-profile-"))
    db = workdir / "warroom.db"
    token = asyncio.run(targets.make_user(db))
    if args.long_incident:
        events = seed.incident_events(1, args.long_incident, targets.BENCH_USER)
        asyncio.run(seed.seed_warroom(db, {1: events}))
    server = ServerProcess.launch("warroom", "bench.serve_warroom", ["--db", str(db)], workdir)
    target = Target("warroom", server, db, token)
    pool = WorkerPool(4)
    raw = workdir / "profile.txt"
    try:
        stream = target.stream("profile")
        gids = list(range(args.clients))
        writers = gids[:4]
        parts = share(gids, pool.size)
        setup = {**stream, "writers": writers, "deflate": not args.no_deflate}
        pool.ask([("setup", {**setup, "clients": p}) for p in parts], 300)
        time.sleep(0.5)
        sampler = subprocess.Popen(
            [spy, "record", "--pid", str(server.pid), "--duration", str(round(args.seconds)),
             "--rate", "250", "--format", "raw", "--nonblocking", "-o", str(raw)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        spec = {
            "mode": args.mode,
            "tag": f"{time.monotonic_ns():x}.",
            "writers": writers,
            "rate": 20.0,
            "window": 16,
            "seconds": args.seconds,
            "timeout": 30.0,
        }
        if args.mode == "paced":
            spec["count"] = round(20 * args.seconds)  # a burst is bounded by time only
        results = Results()
        fanout.run_phase(pool, parts, target, "profile", args.clients, spec, None, "run", results)
        sampler.wait(60)
        pool.ask([("teardown", None)] * len(parts), 120)
    finally:
        pool.close()
        server.stop()
    print({k: v for k, v in results.figures.items() if "p50" in k or "per_s" in k or "cores" in k})
    print(top(raw, args.top))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
