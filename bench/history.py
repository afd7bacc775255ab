"""History at any size: start-up, memory and opening a closed incident with a large database.

The database is built straight into the store (events, summaries and snapshots, as the server
writes them): full mode holds 1,000,000 events of closed history (2,500 incidents of 400
entries), quick mode 100,000. Beside them: one closed 2,000-entry incident to open on demand.
Each figure is also taken on an empty database in the same run, for the ratio.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

from websockets.asyncio.client import connect

from bench import seed, targets
from bench.harness import Results, ServerProcess, Settings, median
from warroom.domain.events import Event, PhaseChanged
from warroom.domain.phase import Phase
from warroom.domain.projection import replay
from warroom.store.base import STATE_VERSION
from warroom.store.columns import summary_row
from warroom.store.sqlite import SqliteStore

ENTRIES = 400
BIG_ENTRIES = 2_000
BIG = 1
"""The closed 2,000-entry incident opened on demand; history follows from id 2."""


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


PER_TRANSACTION = 250
"""Incidents per transaction while seeding (about 100,000 rows)."""
AGE = timedelta(days=400)
"""How long ago the closed history happened: older than the status page's recent incidents."""


async def build(db: Path, incidents: int) -> int:
    """Seed `incidents` closed incidents of `ENTRIES` entries plus the big one; returns events.

    The store makes the schema and writes the big incident; the history is then written straight
    into its tables, rows the store would write for the same events (one template incident,
    copied under new ids), with executemany in large transactions: a million events in well
    under a minute instead of building a million models.
    """
    store = await SqliteStore.open(db)
    try:
        big = closed(BIG, BIG_ENTRIES)
        await store.append(big)
    finally:
        await store.close()
    template = [e.model_copy(update={"at": e.at - AGE}) for e in closed(2, ENTRIES)]
    state = replay(template)
    rows = [
        (e.seq, e.at.isoformat(), e.actor, e.body.type, e.body.model_dump_json()) for e in template
    ]
    state_json = state.model_dump_json()
    summary = state.summary()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA synchronous = OFF")  # a bench fixture: rebuilt if the run dies
        for start in range(2, incidents + 2, PER_TRANSACTION):
            ids = range(start, min(start + PER_TRANSACTION, incidents + 2))
            with conn:
                conn.executemany(
                    "INSERT INTO events (incident_id, seq, at, actor, command_id, type, body) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        (i, seq, at, actor, f"h{i}-{seq}", kind, body)
                        for i in ids
                        for seq, at, actor, kind, body in rows
                    ),
                )
                conn.executemany(
                    "INSERT INTO incident_summaries (id, phase, resolved_at, archived, body) "
                    "VALUES (?, ?, ?, 0, ?)",
                    (summary_row(summary.model_copy(update={"id": i})) for i in ids),
                )
                conn.executemany(
                    "INSERT INTO snapshots (incident_id, seq, version, state) VALUES (?, ?, ?, ?)",
                    (
                        (i, state.seq, STATE_VERSION, _with_id(state_json, state.incident.id, i))
                        for i in ids
                    ),
                )
    return len(big) + incidents * len(rows)


def _with_id(state_json: str, old: int, new: int) -> str:
    """The template's snapshot as incident `new`'s (the incident's id opens the JSON)."""
    prefix = f'{{"incident":{{"id":{old},'
    assert state_json.startswith(prefix)
    return f'{{"incident":{{"id":{new},' + state_json[len(prefix) :]


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
