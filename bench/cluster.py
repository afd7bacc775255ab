"""The `cluster` family: one, two and three warroom nodes on one local PostgreSQL, beside a SQLite
single node in the same run: durable burst throughput, paced fan-out latency for a write made
on one node as seen by consoles on the others, and (with three nodes) the failover time: a node
SIGKILLed → every console it served connected to another node and caught up again.

The burst runs twice: every writer on one incident (the worst case for several nodes: each
commit takes that incident's lock in PostgreSQL), then one incident per writer, spread over the
nodes (the case several nodes are for).

Every node is its own process (`bench.serve_warroom`); the clients run in this process, spread
round-robin over the nodes. The PostgreSQL server is a private one, started for the family with
`initdb` + `pg_ctl` in a temporary directory (as the tests do), one fresh database per run.

The paced phase makes 1,000 writes in full mode (after a warm-up), reports its p99 with a
bootstrap interval and per fifth, and times each write stage by stage inside the nodes
(`bench.delivery_trace`), printing where the slowest cross-node deliveries spent their time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from tests.support.client_sync import client_reached
from tests.support.postgres import PostgresServer, running_postgres

from bench import delivery_trace, targets
from bench.clients import Recorder, WarroomBenchClient, writer_of
from bench.harness import (
    CLOCK_TICKS,
    Results,
    ServerProcess,
    Settings,
    busy_seconds,
    cpu_seconds,
    own_cpu_seconds,
    percentile,
)
from warroom.client.session import WarroomClient, new_id
from warroom.client.updates import ConnectionStatus
from warroom.domain.commands import AddEntry
from warroom.store.postgres import CHANGES_CHANNEL

FOLLOWERS = 50
"""Consoles following the incident, spread over the nodes (the issue's target is at 50)."""
WRITER = 10_000
"""The paced writer's client number (no follower has it)."""
RUNS = (("sqlite", 1), ("postgresql", 1), ("postgresql", 2), ("postgresql", 3))
KILLS = 3
"""Node kills for the failover figure (on the three-node run), each replaced by a new node."""
FAILOVER_CONSOLES = 6
"""Consoles on the node to kill, each given every node's address (its own first)."""
PACED_WRITES = 1_000
"""Paced writes per run in full mode (50 s at 20/s): with 200, a p99 over the consoles was decided
by the slowest two or three writes. Quick mode keeps its settings' count (30)."""
WARM_UP = 20
"""Paced writes made, at the same pace, before those measured: the first few after the consoles
joined took 60-100 ms on a two-node run (a fresh node's first commits and sends), a tail of the
start, not of the fan-out."""
BLOCKS = 5
"""Consecutive blocks of the paced writes whose p99s are shown apart, as a spread."""
RESAMPLES = 200
"""Bootstrap resamples of the paced writes (each with all its consoles) for the p99's interval."""
SLOWEST = 5
"""Slowest paced writes (by their last console on another node) shown stage by stage."""


class LatencyRecorder(Recorder):
    """Keeps every receiver's latency, not only the largest per entry, and per entry when the
    last console of each node got it."""

    def __init__(self, node_count: int) -> None:
        super().__init__()
        self.latencies_ns: list[int] = []
        self.by_key: dict[str, list[int]] = {}
        """key -> the latencies of its receivers (ns)."""
        self.last_on: dict[str, dict[int, int]] = {}
        """key -> node -> when its last console there got it (monotonic ns)."""
        self._node_count = node_count
        self.expected = 0
        """How many receptions make the run complete; `all_in` is set on reaching it."""
        self.all_in = asyncio.Event()

    def applied(self, client: int, text: str, now_ns: int) -> None:
        key, _, sent = text.partition(" ")
        if key.startswith("w") and sent.isdigit() and writer_of(key) != client:
            if "-p" not in key:  # the warm-up's and the bursts' writes reach them too
                return
            latency = now_ns - int(sent)
            self.latencies_ns.append(latency)
            self.by_key.setdefault(key, []).append(latency)
            nodes = self.last_on.setdefault(key, {})
            node = client % self._node_count
            nodes[node] = max(nodes.get(node, 0), now_ns)
            if self.expected and len(self.latencies_ns) >= self.expected:
                self.all_in.set()


def run(settings: Settings, workdir: Path, results: Results) -> None:
    breakdowns: list[str] = []
    with running_postgres() as postgres:
        for backend, count in RUNS:
            name = f"{backend}-{count}"
            print(f"  cluster: {count} {backend} node(s)", flush=True)
            folder = workdir / f"cluster-{name}"
            folder.mkdir()
            if backend == "sqlite":
                location = str(folder / "warroom.db")
            else:
                location = asyncio.run(_fresh_database(postgres.server, name.replace("-", "_")))
            token = asyncio.run(targets.make_user(location))
            traces = [folder / f"node{i}.trace" for i in range(count)]
            nodes = [
                ServerProcess.launch(
                    f"node{i}",
                    "bench.serve_warroom",
                    ["--db", location, "--trace", str(traces[i])],
                    folder,
                )
                for i in range(count)
            ]
            stages = _Stages()
            try:
                shared = None if backend == "sqlite" else location
                meter = _CpuMeter(nodes, None if backend == "sqlite" else postgres.data)
                asyncio.run(
                    _measure(settings, nodes, token, name, results, shared, meter, stages, traces)
                )
                if count == 3:
                    failovers = asyncio.run(_failovers(nodes, token, location, folder))
                    results.put("cluster.failover_p50_s", statistics.median(failovers))
                    results.put("cluster.failover_max_s", max(failovers))
            except (TimeoutError, RuntimeError) as exc:
                results.note(f"cluster {name} failed: {exc}")
            finally:
                for node in nodes:
                    node.stop()
            if stages.remote is not None:
                inside = [delivery_trace.read(trace) for trace in traces]
                breakdowns.append(_slowest_writes(name, stages, inside))
    _print(results)
    for breakdown in breakdowns:
        print()
        print(breakdown)


async def _fresh_database(server: PostgresServer, name: str) -> str:
    admin = await asyncpg.connect(server.url("postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    finally:
        await admin.close()
    return server.url(name)


async def _measure(
    settings: Settings,
    nodes: list[ServerProcess],
    token: str,
    name: str,
    results: Results,
    database: str | None,
    meter: _CpuMeter,
    stages: _Stages,
    traces: list[Path],
) -> None:
    incident = await targets.declare(nodes[0].url(), token, f"cluster {name}")
    # With several nodes only consoles on another node than the writer's count: the cross-node
    # path. A single node's consoles are all on the writer's node.
    remote, local = LatencyRecorder(len(nodes)), LatencyRecorder(len(nodes))
    followers = []
    for gid in range(FOLLOWERS):
        node = gid % len(nodes)
        recorder = remote if node != 0 or len(nodes) == 1 else local
        client = WarroomBenchClient(gid, nodes[node].url(), recorder, incident, token)
        client.deflate = settings.deflate
        followers.append(client)
    await asyncio.gather(*(f.open() for f in followers))
    stages.remote = remote
    try:
        async with _notifications_seen(database, stages):
            with meter.phase(results, f"cluster.{name}.cpu_paced"):
                await _paced(settings, nodes, token, incident, remote, stages)
        for process, trace in zip(nodes, traces, strict=True):
            await asyncio.to_thread(delivery_trace.collect, process.pid, trace)
        latencies = [ns / 1e6 for ns in remote.latencies_ns]
        results.put(f"cluster.{name}.fanout_p50_ms", percentile(latencies, 50))
        results.put(f"cluster.{name}.fanout_p99_ms", percentile(latencies, 99))
        low, high, blocks = _p99_spread(remote)
        results.put(f"cluster.{name}.fanout_p99_low_ms", low)
        results.put(f"cluster.{name}.fanout_p99_high_ms", high)
        for b, block in enumerate(blocks):
            results.put(f"cluster.{name}.fanout_p99_block{b}_ms", block)
        results.put(f"cluster.{name}.paced_writes", len(remote.by_key))
        stages.local_ns = remote.latencies_ns if len(nodes) == 1 else local.latencies_ns
        stages.remote_ns = remote.latencies_ns if len(nodes) > 1 else []
        for stage, values in stages.by_name().items():
            if values:
                ms = [ns / 1e6 for ns in values]
                results.put(f"cluster.{name}.stage_{stage}_p50_ms", percentile(ms, 50))
                results.put(f"cluster.{name}.stage_{stage}_p99_ms", percentile(ms, 99))
        with meter.phase(results, f"cluster.{name}.cpu_burst"):
            one_incident = await _burst(settings, nodes, token, [incident])
        results.put(f"cluster.{name}.burst_writes_per_s", one_incident)
        # The case several nodes are for: many incidents at once, each written on one node or
        # another, so the nodes' commits need not wait for each other's locks.
        incidents = [
            await targets.declare(nodes[w % len(nodes)].url(), token, f"cluster {name} w{w}")
            for w in range(_writer_count(settings, nodes))
        ]
        with meter.phase(results, f"cluster.{name}.cpu_many"):
            many_incidents = await _burst(settings, nodes, token, incidents)
        results.put(f"cluster.{name}.burst_many_writes_per_s", many_incidents)
    finally:
        await asyncio.gather(*(f.close() for f in followers))


CPU_PARTS = ("nodes", "postgresql", "bench", "other")
"""Where a run's CPU went: the warroom nodes, the PostgreSQL server (every backend), this
process (the clients), and everything else on the machine (other work, kernel threads)."""


class _CpuMeter:
    """CPU used by each part of a run over a phase, in cores (CPU seconds per wall second): on a
    2-core machine this shows when the nodes, PostgreSQL and the clients have run out of CPU."""

    def __init__(self, nodes: list[ServerProcess], postgres_data: Path | None) -> None:
        self._nodes = nodes
        self._postgres_data = postgres_data

    def _now(self) -> dict[str, float]:
        each = {f"node{i}": cpu_seconds(n.pid) for i, n in enumerate(self._nodes)}
        taken = {
            "nodes": sum(each.values()),
            "postgresql": _postgres_cpu_seconds(self._postgres_data),
            "bench": own_cpu_seconds(),
        }
        taken["other"] = busy_seconds() - sum(taken.values())
        return taken | each

    @contextlib.contextmanager
    def phase(self, results: Results, key: str) -> Iterator[None]:
        """Put `key`_PART_cores for each part and each node (`node0`...), for the block's
        duration."""
        before, started = self._now(), time.monotonic()
        yield
        after, wall = self._now(), time.monotonic() - started
        for part in after:
            results.put(f"{key}_{part}_cores", max(0.0, after[part] - before[part]) / wall)


def _postgres_cpu_seconds(data: Path | None) -> float:
    """The PostgreSQL server's CPU: the postmaster, its live children (the backends, the WAL
    writer...) and those it has reaped (a closed connection's backend)."""
    if data is None:
        return 0.0
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    with open(f"/proc/{postmaster}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    total = sum(int(f) for f in fields[11:15]) / CLOCK_TICKS
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster:
                total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


@dataclass
class _Stages:
    """Where a paced write's time goes, each from the moment the writer sent it (ns)."""

    sent: dict[str, int] = field(default_factory=dict)
    """key -> when the writer sent it (monotonic ns)."""
    acked: dict[str, int] = field(default_factory=dict)
    """key -> when the writer got its ack (monotonic ns)."""
    notified: dict[str, int] = field(default_factory=dict)
    """key -> when the bench's own listener got its NOTIFY (monotonic ns)."""
    remote: LatencyRecorder | None = None
    """The consoles of the paced phase that count (other nodes' with several nodes)."""
    acked_ns: list[int] = field(default_factory=list)
    """The writer's ack: decided, committed (durably), answered."""
    notified_ns: list[int] = field(default_factory=list)
    """Its NOTIFY received by a listener in the bench process (PostgreSQL only)."""
    local_ns: list[int] = field(default_factory=list)
    """Consoles on the writer's node."""
    remote_ns: list[int] = field(default_factory=list)
    """Consoles on the other nodes."""

    def by_name(self) -> dict[str, list[int]]:
        return {
            "ack": self.acked_ns,
            "notify": self.notified_ns,
            "local": self.local_ns,
            "remote": self.remote_ns,
        }


@contextlib.asynccontextmanager
async def _notifications_seen(database: str | None, stages: _Stages) -> AsyncIterator[None]:
    """LISTEN on the changes channel in this process while the block runs, recording when each
    paced write's notification arrives (the nodes' listeners wake up on the same message)."""
    if database is None:
        yield
        return
    conn = await asyncpg.connect(database)

    def seen(_conn: object, _pid: int, _channel: str, payload: object) -> None:
        now = time.monotonic_ns()
        _, _, carried = str(payload).partition(":")[2].partition(":")
        for line in filter(None, carried.split("\n")):
            text = json.loads(line)["body"].get("text", "")
            key, _, sent = str(text).partition(" ")
            if key.startswith(f"w{WRITER}-p") and sent.isdigit():
                stages.notified_ns.append(now - int(sent))
                stages.notified[key] = now

    await conn.add_listener(CHANGES_CHANNEL, seen)
    try:
        yield
    finally:
        await conn.close()


async def _paced(
    settings: Settings,
    nodes: list[ServerProcess],
    token: str,
    incident: int,
    remote: LatencyRecorder,
    stages: _Stages,
) -> None:
    """One writer on the first node at the paced rate; wait until every remote console has every
    entry (bounded by the drain timeout)."""
    writer = WarroomBenchClient(WRITER, nodes[0].url(), Recorder(), incident, token)

    def acked(key: str) -> None:
        if key in stages.sent:
            stages.acked[key] = time.monotonic_ns()
            stages.acked_ns.append(stages.acked[key] - stages.sent[key])

    writer.on_ack = acked
    await writer.open()
    try:
        writes = max(1, int(settings.paced_rate * settings.paced_seconds))
        if not settings.quick:
            writes = PACED_WRITES
        receivers = (
            FOLLOWERS
            if len(nodes) == 1
            else sum(1 for gid in range(FOLLOWERS) if gid % len(nodes) != 0)
        )
        remote.expected = writes * receivers
        interval = 1 / settings.paced_rate
        for n in range(WARM_UP):
            await writer.write(f"w{WRITER}-u{n}")
            await asyncio.sleep(interval)
        start = time.monotonic()
        for n in range(writes):
            stages.sent[f"w{WRITER}-p{n}"] = time.monotonic_ns()
            await writer.write(f"w{WRITER}-p{n}")
            await asyncio.sleep(max(0.0, start + (n + 1) * interval - time.monotonic()))
        with contextlib.suppress(TimeoutError):  # what arrived is reported; the rest is missing
            async with asyncio.timeout(settings.drain_timeout):
                await remote.all_in.wait()
    finally:
        await writer.close()


def _nearest_rank(ordered: list[int], pct: float) -> int:
    return ordered[max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5))) - 1]


def _p99_spread(remote: LatencyRecorder) -> tuple[float | None, float | None, list[float]]:
    """The fan-out p99's 90 % bootstrap interval (the paced writes resampled, each with all its
    consoles: a write's consoles share its stalls) and the p99 of each of `BLOCKS` consecutive
    blocks of writes, in ms."""
    writes = [remote.by_key[key] for key in sorted(remote.by_key, key=_paced_number)]
    if not writes:
        return None, None, []
    draw = random.Random(14)
    resampled = (draw.choices(writes, k=len(writes)) for _ in range(RESAMPLES))
    p99s = sorted(
        _nearest_rank(sorted(itertools.chain.from_iterable(r)), 99) / 1e6 for r in resampled
    )
    size = max(1, len(writes) // BLOCKS)
    blocks = [
        _nearest_rank(sorted(itertools.chain.from_iterable(writes[b : b + size])), 99) / 1e6
        for b in range(0, size * BLOCKS if len(writes) >= BLOCKS else len(writes), size)
    ]
    return _nearest_rank_f(p99s, 5), _nearest_rank_f(p99s, 95), blocks


def _nearest_rank_f(ordered: list[float], pct: float) -> float:
    return ordered[max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5))) - 1]


def _paced_number(key: str) -> int:
    return int(key.rpartition("-p")[2])


MARKS = ("ack", "turn", "published", "NOTIFY", "heard", "applying", "queued", "written", "console")
"""When a paced write passed each stage, ms from its send: the writer's ack; the writer's node's
sequencer starting the turn that decides it; that node publishing it (committed, handed to its
own consoles); the bench's own listener getting the NOTIFY (PostgreSQL wakes every node's listener
with the same message); the other node's listener handing the notification to the hub; that
node's sequencer starting to apply it; the frame queued to every console there; the last of them
written to its socket; the last console there (in the bench process) having it."""


def _marks(
    key: str, stages: _Stages, inside: list[dict[str, dict[str, int]]]
) -> tuple[int, list[float | None]] | None:
    """For one paced write, the node whose last console got it last and when (ms from the send)
    it passed each of `MARKS` on the way there; None if it reached no other node's console."""
    assert stages.remote is not None
    last_on = stages.remote.last_on.get(key)
    sent = stages.sent.get(key)
    if not last_on or sent is None:
        return None
    node = max(last_on, key=lambda n: last_on[n])
    seen = inside[node].get(key, {})
    at = [
        stages.acked.get(key),
        inside[0].get(key, {}).get("turn"),
        inside[0].get(key, {}).get("published"),
        stages.notified.get(key),
        seen.get("heard"),
        seen.get("applying"),
        seen.get("queued"),
        seen.get("written"),
        last_on[node],
    ]
    return node, [None if ns is None else (ns - sent) / 1e6 for ns in at]


def _slowest_writes(name: str, stages: _Stages, inside: list[dict[str, dict[str, int]]]) -> str:
    """Stage by stage, the slowest paced writes of a several-node run (by their last console on
    another node), beside the medians of every write and of the slowest 1 %."""
    assert stages.remote is not None
    worst = {key: max(values) for key, values in stages.remote.by_key.items()}
    ranked = sorted(worst, key=lambda k: worst[k], reverse=True)
    lines = [
        f"{name}: when the slowest cross-node deliveries passed each stage, ms from the send "
        f"({len(ranked)} paced writes; on the node whose last console got it last)",
        f"{'write':<14}{'node':>5}" + "".join(f"{m:>10}" for m in MARKS),
    ]

    def row(title: str, node: str, at: list[float | None]) -> str:
        cells = "".join(f"{'-' if v is None else f'{v:.1f}':>10}" for v in at)
        return f"{title:<14}{node:>5}{cells}"

    measured = {key: _marks(key, stages, inside) for key in ranked}
    for key in ranked[:SLOWEST]:
        found = measured[key]
        if found is not None:
            lines.append(row(key.partition("-")[2], str(found[0]), found[1]))
    for title, keys in (
        ("slowest 1 %", ranked[: max(1, len(ranked) // 100)]),
        ("every write", ranked),
    ):
        found_all = [m[1] for key in keys if (m := measured[key]) is not None]
        medians: list[float | None] = []
        for s in range(len(MARKS)):
            values = [v for at in found_all if (v := at[s]) is not None]
            medians.append(statistics.median(values) if values else None)
        lines.append(row(title, "", medians))
    lines.append(_blame(ranked[: max(1, len(ranked) // 100)], measured))
    return "\n".join(lines)


SEGMENTS = {
    "to turn": (None, "turn"),
    "commit": ("turn", "NOTIFY"),
    "wake-up": ("NOTIFY", "heard"),
    "sequencer": ("heard", "applying"),
    "apply": ("applying", "queued"),
    "send": ("queued", "written"),
    "console": ("written", "console"),
}
"""A cross-node delivery's legs, between two of `MARKS` (None: the send): reaching the writer's
node's sequencer; deciding and committing until PostgreSQL delivers the NOTIFY; the other node
waking to hand it on; its sequencer's queue; applying; its sender tasks writing to every console;
the bench process reading. On one node: commit until published, then send from there."""
ONE_NODE_SEGMENTS = {
    "to turn": (None, "turn"),
    "commit": ("turn", "published"),
    "send": ("published", "written"),
    "console": ("written", "console"),
}


def _blame(slowest: list[str], measured: dict[str, tuple[int, list[float | None]] | None]) -> str:
    """For each of the slowest writes, the leg that took the most beyond its median over every
    write; how many of them each leg was."""
    found = {k: m[1] for k, m in measured.items() if m is not None}
    several = any(at[MARKS.index("heard")] is not None for at in found.values())
    segments = SEGMENTS if several else ONE_NODE_SEGMENTS

    def leg(at: list[float | None], start: str | None, end: str) -> float | None:
        begin = 0.0 if start is None else at[MARKS.index(start)]
        finish = at[MARKS.index(end)]
        return None if begin is None or finish is None else finish - begin

    typical = {}
    for name, (start, end) in segments.items():
        values = [v for at in found.values() if (v := leg(at, start, end)) is not None]
        typical[name] = statistics.median(values) if values else 0.0
    blamed = dict.fromkeys(segments, 0)
    for key in slowest:
        if key not in found:
            continue
        excess = {
            name: v - typical[name]
            for name, (start, end) in segments.items()
            if (v := leg(found[key], start, end)) is not None
        }
        if excess:
            blamed[max(excess, key=lambda n: excess[n])] += 1
    counts = ", ".join(f"{name} {n}" for name, n in blamed.items())
    return f"the leg most over its median, among the slowest 1 %: {counts}"


def _writer_count(settings: Settings, nodes: list[ServerProcess]) -> int:
    return max(settings.max_writers, len(nodes) * 2)


async def _burst(
    settings: Settings, nodes: list[ServerProcess], token: str, incidents: list[int]
) -> float:
    """Writers spread over the nodes, each keeping `window` writes in flight for the burst's
    seconds, writer `w` to `incidents[w % len(incidents)]`; returns acknowledged (committed)
    writes per second."""
    acked = 0
    writers: list[WarroomBenchClient] = []
    keys = itertools.count()
    ends: list[asyncio.Future[None]] = []
    sending: set[asyncio.Task[None]] = set()
    loop = asyncio.get_running_loop()
    for w in range(_writer_count(settings, nodes)):
        gid = 20_000 + w
        node, incident = nodes[w % len(nodes)], incidents[w % len(incidents)]
        client = WarroomBenchClient(gid, node.url(), Recorder(), incident, token)
        writers.append(client)
    await asyncio.gather(*(c.open() for c in writers))
    started = time.monotonic()
    stop_at = started + settings.burst_seconds

    def pump(client: WarroomBenchClient, done: asyncio.Future[None], in_flight: list[int]) -> None:
        def on_ack(_key: str) -> None:
            nonlocal acked
            acked += 1
            in_flight[0] -= 1
            if time.monotonic() < stop_at:
                in_flight[0] += 1
                task = loop.create_task(client.write(f"w{client.gid}-b{next(keys)}"))
                sending.add(task)
                task.add_done_callback(sending.discard)
            elif in_flight[0] == 0 and not done.done():
                done.set_result(None)

        client.on_ack = on_ack

    for client in writers:
        done: asyncio.Future[None] = loop.create_future()
        ends.append(done)
        in_flight = [settings.window]
        pump(client, done, in_flight)
        for _ in range(settings.window):
            await client.write(f"w{client.gid}-b{next(keys)}")
    try:
        async with asyncio.timeout(settings.burst_seconds + settings.drain_timeout):
            await asyncio.gather(*ends)
    finally:
        elapsed = time.monotonic() - started
        await asyncio.gather(*(c.close() for c in writers))
    return acked / elapsed


async def _failovers(
    nodes: list[ServerProcess], token: str, location: str, folder: Path
) -> list[float]:
    """SIGKILL the last node `KILLS` times, each time with consoles following an incident on it
    and a new node started in its place; returns, per kill, the seconds until every one of its
    consoles was connected to another node and had a write made there after the kill (it
    follows the incident again). The consoles use the client's default reconnection settings,
    as people's consoles do."""
    incident = await targets.declare(nodes[0].url(), token, "cluster failover")
    writer = WarroomClient(nodes[0].url(), token)
    await writer.start()
    took: list[float] = []
    try:
        for kill in range(KILLS):
            victim = nodes[-1]
            addresses = ",".join(n.url() for n in [victim, *nodes[:-1]])
            consoles = [WarroomClient(addresses, token) for _ in range(FAILOVER_CONSOLES)]
            try:
                for console in consoles:
                    await console.start()
                    await console.follow(incident)
                killed_at = time.monotonic()
                os.kill(victim.pid, signal.SIGKILL)
                after = await writer.execute(
                    AddEntry(id=new_id(), incident_id=incident, text=f"after kill {kill}")
                )
                resumed = [_resumed(c, victim.url(), incident, after.seq) for c in consoles]
                async with asyncio.timeout(30):
                    await asyncio.gather(*(r.wait() for r in resumed))
                took.append(time.monotonic() - killed_at)
            finally:
                await asyncio.gather(*(c.close() for c in consoles))
                victim.stop()
            nodes[-1] = ServerProcess.launch(
                f"node-after-kill{kill}", "bench.serve_warroom", ["--db", location], folder
            )
    finally:
        await writer.close()
    return took


def _resumed(console: WarroomClient, gone: str, incident: int, seq: int) -> asyncio.Event:
    """Set once the console is connected to another node than `gone` and has `seq`."""
    return client_reached(
        console,
        lambda: (
            console.status is ConnectionStatus.CONNECTED
            and console.url != gone
            and incident in console.states
            and console.states[incident].seq >= seq
        ),
    )


def _print(results: Results) -> None:
    print()
    print("cluster (one local PostgreSQL; clients in the bench process)")
    print(
        f"{'run':<14}{'burst writes/s':>16}{'many incidents':>16}"
        f"{'fan-out p50 ms':>16}{'fan-out p99 ms':>16}"
    )
    for backend, count in RUNS:
        name = f"{backend}-{count}"
        cells = [
            results.get(f"cluster.{name}.{what}")
            for what in (
                "burst_writes_per_s",
                "burst_many_writes_per_s",
                "fanout_p50_ms",
                "fanout_p99_ms",
            )
        ]
        shown = "".join(f"{'-' if c is None else f'{c:,.1f}':>16}" for c in cells)
        print(f"{name:<14}{shown}")
    print(
        "(burst: every writer on one incident; many incidents: one incident per writer, "
        "writers spread over the nodes)"
    )
    print()
    print("fan-out p99, ms: 90 % bootstrap interval over the paced writes, and each fifth's p99")
    for backend, count in RUNS:
        name = f"{backend}-{count}"
        low = results.get(f"cluster.{name}.fanout_p99_low_ms")
        high = results.get(f"cluster.{name}.fanout_p99_high_ms")
        blocks = [results.get(f"cluster.{name}.fanout_p99_block{b}_ms") for b in range(BLOCKS)]
        writes = results.get(f"cluster.{name}.paced_writes")
        if low is None or high is None or writes is None:
            continue
        shown = " ".join(f"{b:.1f}" for b in blocks if b is not None)
        print(f"{name:<14}{low:>8.1f} - {high:<8.1f}  blocks {shown}  ({writes:.0f} writes)")
    print()
    print("where a paced write's time goes, ms from its send, p50 / p99")
    stage_names = {"ack": "writer's ack", "notify": "NOTIFY seen", "local": "writer's node"}
    stage_names["remote"] = "other nodes"
    print(f"{'run':<14}" + "".join(f"{title:>18}" for title in stage_names.values()))
    for backend, count in RUNS:
        name = f"{backend}-{count}"
        spans = []
        for stage in stage_names:
            low = results.get(f"cluster.{name}.stage_{stage}_p50_ms")
            high = results.get(f"cluster.{name}.stage_{stage}_p99_ms")
            spans.append("-" if low is None or high is None else f"{low:.1f} / {high:.1f}")
        print(f"{name:<14}" + "".join(f"{span:>18}" for span in spans))
    print()
    print("CPU used, in cores (the machine has 2), by phase")
    print(f"{'run':<28}" + "".join(f"{part:>12}" for part in CPU_PARTS) + "   each node")
    for backend, count in RUNS:
        name = f"{backend}-{count}"
        for phase, title in (
            ("paced", "paced"),
            ("burst", "burst, 1 inc."),
            ("many", "burst, many inc."),
        ):
            key = f"cluster.{name}.cpu_{phase}"
            parts = [results.get(f"{key}_{part}_cores") for part in CPU_PARTS]
            each = [results.get(f"{key}_node{i}_cores") for i in range(count)]
            used = "".join(f"{'-' if c is None else f'{c:.2f}':>12}" for c in parts)
            shares = " ".join("-" if c is None else f"{c:.2f}" for c in each)
            print(f"{f'{name} {title}':<28}{used}   {shares}")
    print()
    print("the nodes' CPU per acknowledged write, ms (all nodes together), one incident / many")
    for backend, count in RUNS:
        name = f"{backend}-{count}"
        costs = []
        for phase, rate in (("burst", "burst_writes_per_s"), ("many", "burst_many_writes_per_s")):
            cores = results.get(f"cluster.{name}.cpu_{phase}_nodes_cores")
            writes = results.get(f"cluster.{name}.{rate}")
            costs.append("-" if not cores or not writes else f"{cores / writes * 1000:.3f}")
        print(f"{name:<14}{' / '.join(costs):>18}")
    p50, worst = results.get("cluster.failover_p50_s"), results.get("cluster.failover_max_s")
    if p50 is not None and worst is not None:
        print(
            f"failover, 3 nodes (SIGKILL -> its {FAILOVER_CONSOLES} consoles resumed elsewhere, "
            f"{KILLS} kills): p50 {p50:.2f} s, max {worst:.2f} s"
        )
