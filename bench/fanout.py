"""Fan-out latency (paced and burst), durable throughput and server CPU per write, for M clients."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bench import seed, targets
from bench.harness import (
    Results,
    ServerProcess,
    Settings,
    WorkerPool,
    busy_seconds,
    own_cpu_seconds,
    percentile,
    share,
    steal_seconds,
)
from bench.targets import Target

LONG_INCIDENT_CLIENTS = 10
"""Clients of the run beside a long incident: few, so the long incident's cost stands out."""
START_DELAY_NS = 300_000_000
"""Writers start together this long after the command, once every worker has it."""


def run(
    settings: Settings, pool: WorkerPool, workdir: Path, kinds: list[str], results: Results
) -> None:
    """Every M for every server, each on a fresh server process and database, so no run pays for
    what an earlier one left behind; then warroom once more beside a long incident."""
    for m in settings.clients:
        for kind in kinds:
            print(f"  fan-out: {kind}, {m} clients", flush=True)
            folder = workdir / f"fanout-{kind}-{m}"
            folder.mkdir()
            _isolated(settings, pool, targets.start(kind, folder), m, kind, results)
    m, entries = LONG_INCIDENT_CLIENTS, settings.long_incident
    print(f"  fan-out: warroom, {m} clients, beside a {entries:,}-entry incident", flush=True)
    folder = workdir / "fanout-long"
    folder.mkdir()
    db = folder / "warroom.db"
    events = seed.incident_events(1, entries, targets.BENCH_USER)
    token = asyncio.run(targets.make_user(db))
    asyncio.run(seed.seed_warroom(db, {1: events}))
    server = ServerProcess.launch("warroom", "bench.serve_warroom", ["--db", str(db)], folder)
    _isolated(settings, pool, Target("warroom", server, db, token), m, "long", results)


def _isolated(
    settings: Settings, pool: WorkerPool, target: Target, m: int, name: str, results: Results
) -> None:
    try:
        _measure(settings, pool, target, m, name, results)
    except (TimeoutError, RuntimeError) as exc:
        results.note(f"fan-out {name} M={m} failed: {exc}")
        pool.ask([("teardown", None)] * pool.size, 120)
    finally:
        target.stop()


def _measure(
    settings: Settings, pool: WorkerPool, target: Target, m: int, name: str, results: Results
) -> None:
    nonce = f"{time.monotonic_ns():x}"
    label = f"fanout-{m}-{nonce}"
    stream = target.stream(label)
    gids = list(range(m))
    writers = gids[: min(m, settings.max_writers)]
    parts = share(gids, pool.size)
    setup = {**stream, "writers": writers, "deflate": settings.deflate}
    specs = [("setup", {**setup, "clients": part}) for part in parts]
    answers = pool.ask(specs, 300)
    key = f"m{m}.{name}"
    results.put(f"connect.{key}.s", max(a["connect_s"] for a in answers))
    time.sleep(settings.settle_seconds)  # let the join notifications (presence) settle

    count = round(settings.paced_rate * settings.paced_seconds)
    paced = {
        "mode": "paced",
        "tag": f"{nonce}.p",  # command ids are unique per user for the server's whole life
        "writers": writers,
        "rate": settings.paced_rate,
        "count": count,
        "timeout": settings.drain_timeout,
    }
    run_phase(pool, parts, target, label, m, paced, count, f"paced.{key}", results)

    burst = {
        "mode": "burst",
        "tag": f"{nonce}.b",
        "writers": writers,
        "window": settings.window,
        "seconds": settings.burst_seconds,
        "timeout": settings.drain_timeout,
    }
    run_phase(pool, parts, target, label, m, burst, None, f"burst.{key}", results)
    pool.ask([("teardown", None)] * len(parts), 120)


def run_phase(
    pool: WorkerPool,
    parts: list[list[int]],
    target: Target,
    label: str,
    m: int,
    spec: dict[str, Any],
    expected: int | None,
    key: str,
    results: Results,
) -> None:
    """One paced or burst run over clients already connected; figures go under `key`."""
    stored_before = target.stored(label)
    commits_before = target.server.commits()
    disk_before = target.server.disk_bytes_written()
    cpu_before = target.server.cpu_seconds()
    harness_before = pool.cpu_seconds() + own_cpu_seconds()
    busy_before = busy_seconds()
    steal_before = steal_seconds()
    start_ns = time.monotonic_ns() + START_DELAY_NS
    spec = {**spec, "start_ns": start_ns}
    runs = pool.ask([("run", spec)] * len(parts), spec.get("seconds", 0) + 120)
    total = sum(r["sent"] for r in runs)
    if expected is not None and total != expected:
        results.note(f"{key}: {total} writes sent, {expected} planned")
    drains = pool.ask([("drain", {"total": total, "timeout": spec["timeout"]})] * len(parts), 180)
    durable_ns = _durable_at(target, label, stored_before, total, spec["timeout"])
    cpu = target.server.cpu_seconds() - cpu_before
    commits_after = target.server.commits()
    disk = target.server.disk_bytes_written() - disk_before
    wall = (time.monotonic_ns() - start_ns) / 1e9
    harness = pool.cpu_seconds() + own_cpu_seconds() - harness_before
    others = busy_seconds() - busy_before - cpu - harness

    errors = [e for d in drains for e in d["errors"]]
    if errors:
        results.note(f"{key}: {len(errors)} client errors, first: {errors[0]}")
    merged: dict[str, list[int]] = {}
    for drain in drains:
        for write, (latency, receivers) in drain["fanout"].items():
            record = merged.setdefault(write, [0, 0])
            record[0] = max(record[0], latency)
            record[1] += receivers
    complete = [lat / 1e6 for lat, receivers in merged.values() if receivers >= m - 1]
    results.put(f"{key}.writes", total)
    results.put(f"{key}.incomplete", total - len(complete))
    results.put(f"{key}.p50_ms", percentile(complete, 50))
    results.put(f"{key}.p99_ms", percentile(complete, 99))
    results.put(f"{key}.max_ms", max(complete, default=None))
    acks = [ns / 1e6 for r in runs for ns in r["ack_ns"]]
    results.put(f"{key}.ack_p50_ms", percentile(acks, 50))
    results.put(f"{key}.frames_per_client_write", _frames_ratio(drains, total, m))
    results.put(f"{key}.server_cpu_ms_per_1000_writes", cpu / total * 1e6 if total else None)
    if commits_before is not None and commits_after is not None and total:
        # Group commit at work: each commit is a turn of the sequencer, whose fixed costs (the
        # command lookup, the transaction, one frame per follower) are shared by its writes.
        results.put(
            f"{key}.commits_per_1000_writes", (commits_after - commits_before) / total * 1e3
        )
    results.put(f"{key}.disk_kb_per_1000_writes", disk / total if total else None)
    results.put(f"{key}.server_cpu_us_per_delivery", cpu / (total * m) * 1e6 if total else None)
    results.put(f"{key}.server_cpu_cores", cpu / wall)
    results.put(f"{key}.harness_cpu_cores", harness / wall)
    results.put(f"{key}.other_cpu_cores", max(0.0, others / wall))
    results.put(f"{key}.steal_cores", (steal_seconds() - steal_before) / wall)
    if spec["mode"] == "burst":
        seen_ns = max(d["last_ns"] for d in drains)
        acked_ns = max(r["last_ack_ns"] for r in runs)
        done_ns = max(seen_ns, acked_ns, durable_ns or 0)
        seconds = (done_ns - start_ns) / 1e9
        results.put(f"{key}.seen_per_s", len(complete) / ((seen_ns - start_ns) / 1e9))
        results.put(f"{key}.durable_per_s", len(complete) / seconds if durable_ns != -1 else None)


def _frames_ratio(drains: list[dict[str, Any]], total: int, m: int) -> float | None:
    frames = sum(d["frames"] for d in drains)
    return frames / (total * m) if total else None


def _durable_at(target: Target, label: str, before: int | None, total: int, timeout: float) -> int:
    """When the Yjs store held every update of the run (polled); 0 when the ack already means
    committed (warroom) or nothing is stored (floor); -1 if the store never caught up."""
    if before is None:
        return 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = target.stored(label)
        if stored is not None and stored - before >= total:
            return time.monotonic_ns()
        time.sleep(0.002)
    return -1
