"""`python -m bench.callcount`: what the server's event loop does per write and per frame sent,
counted by cProfile over a fixed number of writes, for this checkout or another one (its own
venv), and two such profiles compared function by function.

Counts do not depend on how busy the machine is, so two trees can be compared on a shared one
(docs/performance.md, "The M = 50 per-delivery cost"). With `--writers 1 --window 1` every write
is its own turn and each count is exactly per write; with more in flight, how many writes a
turn groups depends on timing, and the per-turn and per-frame counts move with it.

    python -m bench.callcount --tree ../other-checkout --out other.prof
    python -m bench.callcount --out this.prof
    python -m bench.callcount --compare other.prof this.prof
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import fanout
from bench.harness import Results, ServerProcess, WorkerPool, share
from bench.targets import BENCH_USER, Target

HERE = Path(__file__).resolve().parent
SEND = "warroom/server/connection.py:send"
"""`Connection.send`: one call per frame queued for a console, in every tree."""


def _make_user(python: Path, tree: Path, db: Path) -> str:
    script = (
        "import asyncio, pathlib, sys; from warroom.users import create_user; "
        "print(asyncio.run(create_user(pathlib.Path(sys.argv[1]), sys.argv[2])))"
    )
    out = subprocess.check_output([python, "-c", script, str(db), BENCH_USER], cwd=tree, text=True)
    return out.strip().splitlines()[-1]


def record(tree: Path, out: Path, clients: int, writers: int, window: int, count: int) -> None:
    """One run of `count` writes per writer against `tree`'s server, profiled during the run;
    writes the stats to `out` and the run's figures beside it (`out` + `.json`)."""
    python = tree / ".venv" / "bin" / "python"
    workdir = Path(tempfile.mkdtemp(prefix="warroom-callcount-"))
    db = workdir / "warroom.db"
    token = _make_user(python, tree, db)
    log = workdir / "server.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            # -P: bench/ must not come first on the path (bench/profile.py is not cProfile's).
            [python, "-P", HERE / "serve_counted.py", "--db", str(db), "--out", str(out.resolve())],
            cwd=tree, stdout=subprocess.PIPE, stderr=stderr, text=True,
        )  # fmt: skip
    assert proc.stdout is not None
    ready = proc.stdout.readline()
    if not ready.startswith("READY "):
        proc.kill()
        raise RuntimeError(f"the server did not start; see {log}")
    server = ServerProcess("warroom", proc, int(ready.split()[1]), log)
    target = Target("warroom", server, db, token)
    pool = WorkerPool(2)
    try:
        stream = target.stream("callcount")
        gids = list(range(clients))
        parts = share(gids, pool.size)
        setup = {**stream, "writers": gids[:writers], "deflate": True}
        pool.ask([("setup", {**setup, "clients": part}) for part in parts], 300)
        time.sleep(1.0)  # the joins' presence frames are sent before counting starts
        os.kill(proc.pid, signal.SIGUSR1)
        spec = {
            "mode": "burst",
            "tag": f"{time.monotonic_ns():x}.",
            "writers": gids[:writers],
            "window": window,
            "count": count,
            "seconds": 3600.0,
            "timeout": 120.0,
        }
        results = Results()
        fanout.run_phase(pool, parts, target, "callcount", clients, spec, None, "run", results)
        os.kill(proc.pid, signal.SIGUSR2)
        if proc.stdout.readline().strip() != "DUMPED":
            raise RuntimeError(f"the server wrote no profile; see {log}")
        pool.ask([("teardown", None)] * len(parts), 120)
    finally:
        pool.close()
        target.stop()
    figures = {k.removeprefix("run."): v for k, v in results.figures.items()}
    Path(f"{out}.json").write_text(json.dumps({"tree": str(tree), "clients": clients, **figures}))
    print(json.dumps(figures))


def calls(path: Path) -> dict[str, int]:
    """Calls by function, named by file (below site-packages, src or the standard library) and
    name, so the same function matches across checkouts."""
    found: dict[str, int] = {}
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    raw = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    for (file, _, name), (_, ncalls, _, _, _) in raw.items():
        file = re.sub(r".*/(site-packages|src|lib/python3\.\d+)/", "", file)
        key = f"{file}:{name}"
        found[key] = found.get(key, 0) + ncalls
    return found


def compare(first: Path, second: Path, top: int) -> None:
    """Calls per write and per frame sent, the functions whose calls per write differ most
    first."""
    counts = [calls(first), calls(second)]
    writes = [float(json.loads(Path(f"{p}.json").read_text())["writes"]) for p in (first, second)]
    frames = [max(1, c.get(SEND, 0)) for c in counts]
    for path, c, w, f in zip((first, second), counts, writes, frames, strict=True):
        total = sum(c.values())
        print(f"{path}: {total / w:,.0f} calls per write, {f / w:.2f} frames sent per write, "
              f"{total / f:.1f} calls per frame")  # fmt: skip
    rows = sorted(
        set(counts[0]) | set(counts[1]),
        key=lambda k: -abs(counts[1].get(k, 0) / writes[1] - counts[0].get(k, 0) / writes[0]),
    )
    print(f"{'function':72} {'per write':>19} {'per frame':>15}")
    for key in rows[:top]:
        a, b = counts[0].get(key, 0), counts[1].get(key, 0)
        print(f"{key[-72:]:72} {a / writes[0]:9.2f} {b / writes[1]:9.2f} "
              f"{a / frames[0]:7.2f} {b / frames[1]:7.2f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.callcount", description=__doc__)
    parser.add_argument("--tree", type=Path, default=HERE.parent, help="a checkout with a .venv")
    parser.add_argument("--out", type=Path, help="where the profile goes")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--window", type=int, default=16, help="writes in flight per writer")
    parser.add_argument("--count", type=int, default=500, help="writes per writer")
    parser.add_argument("--compare", type=Path, nargs=2, metavar="PROFILE")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    if args.compare:
        first, second = args.compare
        compare(first, second, args.top)
        return 0
    if args.out is None:
        parser.error("--out is needed to record a run")
    writers = min(args.writers, args.clients)
    record(args.tree.resolve(), args.out, args.clients, writers, args.window, args.count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
