"""History at any size: start-up, memory and opening a closed incident with a large database.

The database is built straight into the store (events, summaries and snapshots, as the server
writes them): full mode holds 1,000,000 events of closed history (2,500 incidents of 400
entries), quick mode 100,000. Beside them: one closed 2,000-entry incident to open on demand.
Each figure is also taken on an empty database in the same run, for the ratio.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from websockets.asyncio.client import connect

from bench import seed, targets
from bench.harness import Results, ServerProcess, Settings, median
from warroom.domain.events import Event, PhaseChanged
from warroom.domain.phase import Phase
from warroom.domain.projection import replay
from warroom.store.base import StoredSnapshot
from warroom.store.sqlite import SqliteStore

ENTRIES = 400
BIG_ENTRIES = 2_000
BIG = 1
"""The closed 2,000-entry incident opened on demand; history follows from id 2."""
PER_APPEND = 25
"""Incidents per transaction while seeding."""


def closed(incident_id: int, entries: int) -> list[Event]:
    events = seed.incident_events(incident_id, entries, targets.BENCH_USER)
    at = events[-1].at
    for phase, previous in (
        (Phase.RESOLVED, Phase.DECLARED),
        (Phase.POSTMORTEM_DONE, Phase.RESOLVED),
    ):
        events.append(
            Event(
                incident_id=incident_id,
                seq=events[-1].seq + 1,
                at=at,
                actor=targets.BENCH_USER,
                command_id=f"seed-{incident_id}-{phase.value}",
                body=PhaseChanged(phase=phase, previous=previous),
            )
        )
    return events


async def build(db: Path, incidents: int) -> int:
    """Seed `incidents` closed incidents of `ENTRIES` entries plus the big one; returns events."""
    template = closed(2, ENTRIES)
    state = replay(template)
    store = await SqliteStore.open(db)
    written = 0
    try:
        big = closed(BIG, BIG_ENTRIES)
        await store.append(big)
        written += len(big)
        for start in range(2, incidents + 2, PER_APPEND):
            events: list[Event] = []
            summaries = []
            snapshots = []
            for incident_id in range(start, min(start + PER_APPEND, incidents + 2)):
                events += [
                    e.model_copy(
                        update={"incident_id": incident_id, "command_id": f"h{incident_id}-{e.seq}"}
                    )
                    for e in template
                ]
                copy = state.model_copy(
                    update={"incident": state.incident.model_copy(update={"id": incident_id})}
                )
                summaries.append(copy.summary())
                snapshots.append(StoredSnapshot(incident_id, copy.seq, copy.model_dump_json()))
            await store.append(events, summaries, snapshots)
            written += len(events)
    finally:
        await store.close()
    return written


async def open_incident(url: str, token: str, incident_id: int) -> float:
    """ms from subscribing to the answer (the snapshot), on a connection already open."""
    headers = {"Authorization": f"Bearer {token}"}
    async with connect(url, additional_headers=headers, max_size=None) as ws:
        await ws.recv()  # welcome
        started = time.perf_counter()
        await ws.send(json.dumps({"type": "subscribe", "id": "open", "incident_id": incident_id}))
        while json.loads(await ws.recv()).get("id") != "open":
            pass
        return (time.perf_counter() - started) * 1e3


def measure(name: str, db: Path, workdir: Path, token: str, results: Results) -> None:
    started = time.perf_counter()
    server = ServerProcess.launch(
        f"history-{name}", "bench.serve_warroom", ["--db", str(db)], workdir
    )
    try:
        results.put(f"history.{name}.start_s", time.perf_counter() - started)
        time.sleep(0.5)
        results.put(f"history.{name}.rss_mb", server.rss_kb() / 1024)
        if name == "large":
            first = asyncio.run(open_incident(server.url(), token, BIG))
            again = [asyncio.run(open_incident(server.url(), token, BIG)) for _ in range(3)]
            results.put("history.large.open_closed_ms", first)
            results.put("history.large.open_loaded_ms", median(again))
    finally:
        server.stop()


def run(settings: Settings, workdir: Path, results: Results) -> None:
    incidents = 250 if settings.quick else 2_500
    folder = workdir / "history"
    folder.mkdir()
    empty, large = folder / "empty.db", folder / "large.db"
    token = asyncio.run(targets.make_user(empty))
    large_token = asyncio.run(targets.make_user(large))
    print(f"  history: building {incidents} closed incidents", flush=True)
    began = time.perf_counter()
    events = asyncio.run(build(large, incidents))
    results.put("history.large.events", events)
    results.put("history.large.build_s", time.perf_counter() - began)
    results.put("history.large.db_mb", large.stat().st_size / 1e6)
    print("  history: empty database", flush=True)
    measure("empty", empty, folder, token, results)
    print("  history: large database", flush=True)
    measure("large", large, folder, large_token, results)
    large_mb, empty_mb = results.get("history.large.rss_mb"), results.get("history.empty.rss_mb")
    if large_mb is not None and empty_mb is not None:
        results.put("history.large.rss_over_empty_mb", large_mb - empty_mb)
    large_s, empty_s = results.get("history.large.start_s"), results.get("history.empty.start_s")
    if large_s is not None and empty_s is not None:
        # Interpreter start and imports are the same for both; this is what history costs.
        results.put("history.large.start_over_empty_s", large_s - empty_s)
