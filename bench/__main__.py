"""`python -m bench`: run every benchmark on loopback and print the results table."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import catchup, cluster, fanout, history, replay, report, resources, targets, tui
from bench.harness import Results, Settings, WorkerPool, busy_seconds, machine, source_version

FAMILIES = ("fanout", "catchup", "memory", "tui", "history", "cluster", "replay")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer clients, shorter runs (<1 min)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every figure here")
    parser.add_argument(
        "--only", default=",".join(FAMILIES), help=f"comma-separated subset of {','.join(FAMILIES)}"
    )
    parser.add_argument("--clients", help="comma-separated M values, e.g. 2,10,50,200")
    parser.add_argument("--no-peer", action="store_true", help="skip pycrdt-websocket")
    parser.add_argument(
        "--no-deflate", action="store_true", help="load clients do not offer permessage-deflate"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (DBs, logs)")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each family, wait up to this long for other work on the machine to stop",
    )
    return parser.parse_args(argv)


QUIET = 0.25
"""Cores busy with other work above which the figures are flagged as skewed."""


def background_load(seconds: float = 0.5) -> float:
    """Cores busy on this machine while the bench is idle: other work skews every figure."""
    before = busy_seconds()
    time.sleep(seconds)
    return (busy_seconds() - before) / seconds


def wait_for_quiet(patience: float, results: Results, family: str) -> None:
    deadline = time.monotonic() + patience
    load = background_load()
    while load > QUIET and time.monotonic() < deadline:
        load = background_load(2.0)
    results.meta[f"{family}_background_cores"] = round(load, 2)
    if load > QUIET:
        results.note(f"{family}: {load:.2f} cores busy with other work; its figures are skewed")


def describe(settings: Settings) -> str:
    mode = "QUICK (fewer clients, shorter runs; not comparable to full)"
    if not settings.quick:
        mode = "full"
    sizes = ", ".join(f"{n:,}" for n in settings.tui_sizes)
    return (
        f"mode: {mode}; M = {', '.join(map(str, settings.clients))}; "
        f"paced {settings.paced_rate:g}/s for {settings.paced_seconds:g} s; "
        f"burst {settings.burst_seconds:g} s with {settings.max_writers} writers x "
        f"{settings.window} in flight; {settings.workers} load processes; "
        f"{settings.idle_clients} idle clients; TUI sizes {sizes}"
        + ("" if settings.deflate else "; clients WITHOUT permessage-deflate")
    )


def run_family(
    family: str,
    settings: Settings,
    pool: WorkerPool,
    workdir: Path,
    kinds: list[str],
    results: Results,
) -> None:
    if family == "fanout":
        fanout.run(settings, pool, workdir, kinds, results)
    elif family == "catchup":
        catchup.run(settings, workdir, results, peer="yjs" in kinds)
    elif family == "memory":
        resources.run(settings, pool, workdir, kinds, results)
    elif family == "history":
        history.run(settings, workdir, results)
    elif family == "cluster":
        cluster.run(settings, workdir, results)
    elif family == "replay":
        replay.run(settings, results)
    else:
        tui.run(settings, pool, workdir, results)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = Settings.quick_mode() if args.quick else Settings.full()
    if args.clients:
        settings = dataclasses.replace(
            settings, clients=tuple(int(m) for m in args.clients.split(","))
        )
    if args.no_deflate:
        settings = dataclasses.replace(settings, deflate=False)
    families = [f for f in args.only.split(",") if f]
    unknown = set(families) - set(FAMILIES)
    if unknown:
        print(f"unknown benchmark family: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    results = Results()
    results.meta.update(
        machine=machine(),
        source=source_version(),
        settings=dataclasses.asdict(settings),
        families=families,
    )
    print(describe(settings), flush=True)
    kinds = ["warroom", "floor"]
    if args.no_peer:
        results.note("peer skipped (--no-peer)")
    elif targets.peer_available():
        kinds.append("yjs")
    else:
        results.note(
            "peer unavailable: pycrdt-websocket is not installed "
            "(pip install pycrdt-websocket); peer columns are empty"
        )
    workdir = Path(tempfile.mkdtemp(prefix="warroom-bench-"))
    started = time.perf_counter()
    pool = WorkerPool(settings.workers)
    try:
        for family in families:
            wait_for_quiet(args.wait_quiet, results, family)
            began = time.perf_counter()
            try:
                run_family(family, settings, pool, workdir, kinds, results)
            except Exception as exc:  # one broken family must not hide the others' figures
                results.note(f"{family} failed: {type(exc).__name__}: {exc}")
            results.meta[f"{family}_s"] = round(time.perf_counter() - began, 1)
    finally:
        pool.close()
        if args.keep:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results.meta["duration_s"] = round(time.perf_counter() - started, 1)
    print()
    print(describe(settings))
    print(report.render(settings, results))
    for note in results.notes:
        print(f"note: {note}")
    print(f"finished in {results.meta['duration_s']:.0f} s (source {results.meta['source']})")
    if args.json:
        args.json.write_text(json.dumps(results.as_json(), indent=2) + "\n")
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
