"""A probe for the bench's nodes: when each paced write passes each stage inside a node, so the
cluster family can say where a slow cross-node delivery spent its time.

Installed by `bench.serve_warroom --trace FILE` before the node starts (it wraps three methods of
the hub's class in that process only; nothing in the tree knows of it). For every event whose
text is a paced bench entry (`w<writer>-p<n> <sent_ns>`) it records, on the same monotonic clock
as the bench's clients:

- `turn`: the writer's node's sequencer starts the turn that decides it;
- `published`: the writer's node has committed it and hands it to its own consoles;
- `heard`: the change listener of another node handed its notification on to the hub;
- `applying`: that node's sequencer took it from its queue and starts applying it;
- `queued`: the frame is queued to every console following it on that node;
- `written`: the last of those consoles' sender tasks has written it to its socket.

SIGUSR1 writes the records to FILE, one `key stage ns` line each, and takes the wrappers off (the
bench sends it once the paced writes are in, so the bursts run unprobed; a node SIGKILLed by the
failover measurement leaves its file all the same); so does the node's exit.
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from websockets.asyncio.connection import Connection as WebSocket

from warroom.domain.events import Event
from warroom.server.hub import Hub

PACED_KEY = re.compile(r'"text":"(w[0-9]+-p[0-9]+) ')
"""A paced bench entry's key inside an event's JSON."""


def install(path: Path) -> None:
    """Record the stages of paced writes in this process and write them to `path` at exit."""
    records: list[tuple[str, str, int]] = []

    def note(stage: str, keys: Iterable[str]) -> None:
        now = time.monotonic_ns()
        records.extend((key, stage, now) for key in keys)

    def keys_in(frames: Iterable[str]) -> list[str]:
        return [m[1] for frame in frames for m in PACED_KEY.finditer(frame)]

    changed_elsewhere = Hub.changed_elsewhere
    apply_others_events = Hub._apply_others_events
    publish = Hub._publish
    turn = Hub._turn
    send = WebSocket.send

    def heard(
        self: Hub, incident_id: int | None = None, seq: int = 0, frames: tuple[str, ...] = ()
    ) -> None:
        note("heard", keys_in(frames))
        changed_elsewhere(self, incident_id, seq, frames)

    async def applying(self: Hub, incident_id: int, record: Any, frames: list[str]) -> None:
        keys = keys_in(frames)
        note("applying", keys)
        await apply_others_events(self, incident_id, record, frames)
        note("queued", keys)

    async def turning(self: Hub, batch: list[Any]) -> None:
        texts = (str(getattr(getattr(r, "frame", None), "text", "")) for r in batch)
        note("turn", (t.partition(" ")[0] for t in texts if "-p" in t.partition(" ")[0]))
        await turn(self, batch)

    def published(self: Hub, events: list[Event]) -> None:
        texts = (getattr(event.body, "text", "") for event in events)
        note("published", (t.partition(" ")[0] for t in texts if "-p" in t.partition(" ")[0]))
        publish(self, events)

    async def written(self: WebSocket, message: Any, *, text: bool | None = None) -> None:
        await send(self, message, text=text)
        if isinstance(message, str) and "-p" in message:
            note("written", keys_in((message,)))

    Hub.changed_elsewhere = heard  # type: ignore[method-assign]
    Hub._apply_others_events = applying  # type: ignore[method-assign]
    Hub._publish = published  # type: ignore[method-assign]
    Hub._turn = turning  # type: ignore[method-assign]
    WebSocket.send = written  # type: ignore[method-assign]

    def dump(*_: object) -> None:
        Hub.changed_elsewhere = changed_elsewhere  # type: ignore[method-assign]
        Hub._apply_others_events = apply_others_events  # type: ignore[method-assign]
        Hub._publish = publish  # type: ignore[method-assign]
        Hub._turn = turn  # type: ignore[method-assign]
        WebSocket.send = send  # type: ignore[method-assign]
        if records:
            path.write_text("".join(f"{key} {stage} {ns}\n" for key, stage, ns in records))
            records.clear()

    signal.signal(signal.SIGUSR1, dump)
    atexit.register(dump)


def read(path: Path) -> dict[str, dict[str, int]]:
    """key -> stage -> ns (the latest, for a stage passed once per console), from a file
    `install` wrote (empty if the node left none)."""
    stages: dict[str, dict[str, int]] = {}
    if not path.exists():
        return stages
    for line in path.read_text().splitlines():
        key, stage, ns = line.split()
        at = stages.setdefault(key, {})
        at[stage] = max(at.get(stage, 0), int(ns))
    return stages


def collect(pid: int, path: Path, timeout: float = 10.0) -> None:
    """Ask the node `pid` to write its records to `path` and stop recording; wait for the file
    (a node that recorded nothing writes none: give up after `timeout` seconds)."""
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
