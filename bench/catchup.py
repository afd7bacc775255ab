"""Catch-up: resume after 100 missed events, full sync of 2,000 entries, 10,000 events behind."""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import time
from collections.abc import Callable, Coroutine
from functools import partial
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bench import seed, targets
from bench.harness import Results, ServerProcess, Settings, median
from warroom.client.session import WarroomClient
from warroom.domain.incident import IncidentState
from warroom.domain.projection import replay

FRESH_ENTRIES = 2_000
LONG_ENTRIES = 20_000
FRESH, LONG = 1, 2
SCENARIOS = {"resume100": 100, "behind10000": 10_000}
"""Missed events on the long incident; `full2000` is a first sync of the short one."""

CPU_REPEATS = 7
"""The client's CPU for a catch-up is the least of this many runs."""

_FOLLOWS_FROM_HANDSHAKE = "follow" in inspect.signature(WarroomClient.start).parameters
"""Whether the client under measurement can subscribe in its handshake (sync18)."""

Timing = tuple[float, float]
"""(connect ms, sync ms): the websocket handshake, then subscribe until current."""


def run(settings: Settings, workdir: Path, results: Results, peer: bool) -> None:
    print("  catch-up: warroom", flush=True)
    _warroom(settings, workdir / "catchup-warroom", results)
    if peer:
        print("  catch-up: pycrdt-websocket", flush=True)
        _yjs(settings, workdir / "catchup-yjs", results)


def _warroom(settings: Settings, workdir: Path, results: Results) -> None:
    workdir.mkdir()
    db = workdir / "warroom.db"
    token = asyncio.run(targets.make_user(db))
    fresh = seed.incident_events(FRESH, FRESH_ENTRIES, targets.BENCH_USER)
    long = seed.incident_events(LONG, LONG_ENTRIES, targets.BENCH_USER)
    asyncio.run(seed.seed_warroom(db, {FRESH: fresh, LONG: long}))
    behind = {name: replay(long[:-missed]).model_dump_json() for name, missed in SCENARIOS.items()}
    server = ServerProcess.launch("warroom", "bench.serve_warroom", ["--db", str(db)], workdir)
    try:
        url = server.url()
        cases: dict[str, tuple[int, str | None]] = {
            "full2000": (FRESH, None),
            **{name: (LONG, state) for name, state in behind.items()},
        }
        for name, (incident_id, state) in cases.items():
            since = None if state is None else IncidentState.model_validate_json(state).seq
            wire = _repeat(settings, partial(_wire, url, token, incident_id, since))
            applied = _repeat(settings, partial(_applied, url, token, incident_id, state))
            results.put(f"catchup.{name}.warroom.connect_ms", median([c for c, _ in applied]))
            results.put(f"catchup.{name}.warroom.wire_ms", median([s for _, s in wire]))
            results.put(f"catchup.{name}.warroom.applied_ms", median([s for _, s in applied]))
            _put_totals(results, f"catchup.{name}.warroom", applied)
            frames = asyncio.run(_reply_frames(url, token, incident_id, since))
            cpu = [_client_cpu(frames, incident_id, state) for _ in range(CPU_REPEATS)]
            results.put(f"catchup.{name}.warroom.client_cpu_ms", min(cpu))
    finally:
        server.stop()


async def _reply_frames(url: str, token: str, incident_id: int, since: int | None) -> list[bytes]:
    """The frames the server answers a subscribe with, as the client asks for them, as text:
    one `events` (or `compact_events`, or `columnar_events`) frame, or a `snapshot` (or
    `compact_snapshot`) and maybe its tail; undecoded, as the client reads them."""
    headers = {"Authorization": f"Bearer {token}"}
    async with connect(url, additional_headers=headers, max_size=None) as ws:
        welcome = json.loads(await ws.recv())
        frame: dict[str, Any] = {"type": "subscribe", "id": "catch-up", "incident_id": incident_id}
        if since is not None:
            frame["since"] = since
        # (The handshake's answer names the features a welcome cannot: sync18's header, by
        # name, so that this bench also runs over older trees.)
        offered = [*welcome.get("features", []), *_handshake_features(ws)]
        for feature in _ENCODINGS:
            if feature in offered:
                frame[feature] = True  # as the client asks when offered
        await ws.send(json.dumps(frame))
        replies: list[bytes] = []
        while True:
            raw = await ws.recv(decode=False)
            reply = _json_of(raw)
            if reply.get("id") != "catch-up":
                continue
            replies.append(raw)
            snapshot = reply["type"] in (
                "snapshot",
                "compact_snapshot",
                "columnar_snapshot",
                "packed_snapshot",
            )
            if not snapshot or reply.get("head") in (None, reply["seq"]):
                return replies


_ENCODINGS = (
    "compact",
    "compact_snapshot",
    "columnar_snapshot",
    "columnar_events",
    "packed_snapshot",
)
"""The subscribe fields of the encodings a client asks for when they are offered."""


def _json_of(raw: bytes) -> dict[str, Any]:
    """A frame's JSON; of a packed snapshot (a binary message, sync21), its JSON head, read by
    its layout here so that this bench also runs over older trees."""
    if raw[:1] == b"\x00":
        length = int.from_bytes(raw[4:8], "little")
        head: dict[str, Any] = json.loads(raw[8 : 8 + length])
        return head
    frame: dict[str, Any] = json.loads(raw)
    return frame


def _handshake_features(ws: ClientConnection) -> list[str]:
    headers = ws.response.headers.get_all("X-Warroom-Features") if ws.response else []
    return [name.strip() for value in headers for name in value.split(",")]


def _client_cpu(frames: list[bytes], incident_id: int, state_json: str | None) -> float:
    """CPU ms of the real client taking in those frames (decode, validate, apply, collector),
    from the state it held; CPU rather than wall time, so other work on the machine counts less.
    """
    client = WarroomClient("ws://127.0.0.1:1", "unused", reconnect=False)
    client._followed.add(incident_id)  # as `follow` does, without a connection
    if state_json is not None:
        client.states[incident_id] = IncidentState.model_validate_json(state_json)
    gc.collect()
    return asyncio.run(_take_in(client, frames))


async def _take_in(client: WarroomClient, frames: list[bytes]) -> float:
    started = time.process_time()
    for raw in frames:
        await client._dispatch(raw)
    return (time.process_time() - started) * 1e3


def _put_totals(results: Results, key: str, timings: list[Timing]) -> None:
    """The total (connect + sync) as the median and the least of the repeats: the median is
    what the target is held to, the least what the code costs when nothing else got in the way
    (on a shared machine the two can differ by half)."""
    totals = [c + s for c, s in timings]
    results.put(f"{key}.total_ms", median(totals))
    results.put(f"{key}.total_min_ms", min(totals))


def _repeat(settings: Settings, once: Callable[[], Coroutine[Any, Any, Timing]]) -> list[Timing]:
    """Each repeat on a fresh event loop and connection, as a console that comes back would."""
    return [asyncio.run(once()) for _ in range(settings.catchup_repeats)]


async def _wire(url: str, token: str, incident_id: int, since: int | None) -> Timing:
    """Raw websocket: subscribe and decode the answer (JSON), without building models."""
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}"}
    async with connect(url, additional_headers=headers, max_size=None) as ws:
        await ws.recv()  # welcome
        connected = time.perf_counter()
        frame = {"type": "subscribe", "id": "catch-up", "incident_id": incident_id}
        if since is not None:
            frame["since"] = since
        await ws.send(json.dumps(frame))
        while True:
            reply = json.loads(await ws.recv())
            if reply.get("id") == "catch-up":
                break
        done = time.perf_counter()
    return (connected - started) * 1e3, (done - connected) * 1e3


async def _applied(url: str, token: str, incident_id: int, state_json: str | None) -> Timing:
    """The real client: from its last known state (if any) to current, every event applied."""
    client = WarroomClient(url, token, reconnect=False)
    if state_json is not None:
        client.states[incident_id] = IncidentState.model_validate_json(state_json)
    started = time.perf_counter()
    # As the console starts: the incident it opens followed from the handshake on (a tree
    # whose client cannot, for paired runs against older code, subscribes after the welcome).
    if _FOLLOWS_FROM_HANDSHAKE:
        await client.start(follow=[incident_id])
    else:
        await client.start()
    connected = time.perf_counter()
    await client.follow(incident_id)
    done = time.perf_counter()
    await client.close()
    return (connected - started) * 1e3, (done - connected) * 1e3


def _yjs(settings: Settings, workdir: Path, results: Results) -> None:
    workdir.mkdir()
    server = ServerProcess.launch(
        "yjs", "bench.serve_yjs", ["--db", str(workdir / "yjs.db")], workdir
    )
    try:
        asyncio.run(seed.seed_yjs(server.url("/fresh"), FRESH_ENTRIES))
        marks = tuple(LONG_ENTRIES - missed for missed in SCENARIOS.values())
        saved = asyncio.run(seed.seed_yjs(server.url("/long"), LONG_ENTRIES, marks))
        cases: dict[str, tuple[str, bytes | None, int]] = {
            "full2000": ("/fresh", None, FRESH_ENTRIES),
            **{
                name: ("/long", saved[LONG_ENTRIES - missed], LONG_ENTRIES)
                for name, missed in SCENARIOS.items()
            },
        }
        for name, (room, base, length) in cases.items():
            timings = _repeat(settings, partial(_yjs_sync, server.url(room), base, length))
            results.put(f"catchup.{name}.yjs.connect_ms", median([c for c, _ in timings]))
            results.put(f"catchup.{name}.yjs.applied_ms", median([s for _, s in timings]))
            _put_totals(results, f"catchup.{name}.yjs", timings)
    finally:
        server.stop()


async def _yjs_sync(url: str, base: bytes | None, length: int) -> Timing:
    """A Yjs client from `base` (or empty): send its state vector, apply the server's diff."""
    from pycrdt import (
        Array,
        Doc,
        YMessageType,
        YSyncMessageType,
        create_sync_message,
        handle_sync_message,
    )

    doc: Doc[Array[str]] = Doc()
    if base is not None:
        doc.apply_update(base)
    timeline = doc.get("timeline", type=Array)
    started = time.perf_counter()
    async with connect(url, max_size=None) as ws:
        connected = time.perf_counter()
        await ws.send(create_sync_message(doc))
        while len(timeline) < length:
            message = await ws.recv()
            assert isinstance(message, bytes)
            if message[0] != YMessageType.SYNC:
                continue
            reply = handle_sync_message(message[1:], doc)
            if reply is not None and message[1] == YSyncMessageType.SYNC_STEP1:
                await ws.send(reply)
        done = time.perf_counter()
    return (connected - started) * 1e3, (done - connected) * 1e3
