"""Light load-generating clients for the three servers: warroom, the floor and the Yjs peer.

Every client records each bench entry it applies (key and time) in a shared `Recorder`. A bench
entry's text is `<key> <send_ns>`: the key `w<writer>-<tag><n>` names the writer, and `send_ns` is
`time.monotonic_ns()` just before the write left the writer. CLOCK_MONOTONIC is one clock for every
process on a Linux machine, so receivers in other processes subtract it directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


def entry_text(key: str) -> str:
    return f"{key} {time.monotonic_ns()}"


def writer_of(key: str) -> int:
    return int(key[1 : key.index("-")])


@dataclass
class Recorder:
    """What the clients of one worker process have applied."""

    fanout: dict[str, list[int]] = field(default_factory=dict)
    """key -> [largest latency (ns) among this worker's receivers, number of receivers]."""
    counts: dict[int, int] = field(default_factory=dict)
    """client -> bench entries applied (its own included)."""
    frames: int = 0
    errors: list[str] = field(default_factory=list)
    """Refusals and failures seen by this worker's clients (the first few)."""
    last_ns: int = 0
    """When the latest bench entry was applied here."""

    def applied(self, client: int, text: str, now_ns: int) -> None:
        key, _, sent = text.partition(" ")
        if not key.startswith("w") or not sent.isdigit():
            return
        self.counts[client] = self.counts.get(client, 0) + 1
        self.last_ns = max(self.last_ns, now_ns)
        if writer_of(key) == client:
            return
        latency = now_ns - int(sent)
        record = self.fanout.get(key)
        if record is None:
            self.fanout[key] = [latency, 1]
        else:
            record[0] = max(record[0], latency)
            record[1] += 1

    def reset(self) -> None:
        self.fanout.clear()
        self.counts = dict.fromkeys(self.counts, 0)
        self.frames = 0
        self.errors.clear()
        self.last_ns = 0


class BenchClient(ABC):
    """One connection to a server under test."""

    def __init__(self, gid: int, url: str, recorder: Recorder) -> None:
        self.gid = gid
        self.url = url
        self.recorder = recorder
        self.on_ack: Callable[[str], None] = lambda key: None
        self.deflate = True
        """Offer permessage-deflate, as `websockets` (and so warroom's own client) does."""
        self.synced = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None

    async def open(self, headers: dict[str, str] | None = None) -> None:
        self._ws = await connect(
            self.url,
            additional_headers=headers,
            max_size=None,
            compression="deflate" if self.deflate else None,
        )
        self.recorder.counts.setdefault(self.gid, 0)
        await self.hello(self._ws)
        self._reader = asyncio.create_task(self._read(self._ws))
        await self.synced.wait()

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                self.recorder.frames += 1
                self.receive(raw)
        except ConnectionClosed as exc:
            self.recorder.errors.append(f"client {self.gid}: connection closed: {exc}")
        except Exception as exc:  # a bench client must report, not vanish
            self.recorder.errors.append(f"client {self.gid}: {exc!r}")

    async def send(self, data: str | bytes) -> None:
        assert self._ws is not None
        await self._ws.send(data)

    @abstractmethod
    async def hello(self, ws: ClientConnection) -> None:
        """Handshake and subscribe; `synced` is set once the reply has been applied."""

    @abstractmethod
    def receive(self, raw: str | bytes) -> None: ...

    @abstractmethod
    async def write(self, key: str) -> None:
        """Send one bench entry."""


class JsonClient(BenchClient):
    """Speaks warroom's JSON frames; the floor answers the same subset, welcome included."""

    def __init__(self, gid: int, url: str, recorder: Recorder, incident_id: int) -> None:
        super().__init__(gid, url, recorder)
        self.incident_id = incident_id
        self._subscribe_id = f"sub-{gid}-{time.monotonic_ns()}"

    async def hello(self, ws: ClientConnection) -> None:
        # As a warroom console does: the welcome first (it names what the server offers), then
        # the subscribe. The floor greets the same way, so both joins take the same round trips.
        welcome = json.loads(await ws.recv())
        if welcome.get("type") != "welcome":
            raise RuntimeError(f"expected welcome, got {welcome}")
        subscribe = {"type": "subscribe", "id": self._subscribe_id, "incident_id": self.incident_id}
        await ws.send(json.dumps(subscribe))

    def receive(self, raw: str | bytes) -> None:
        frame: dict[str, Any] = json.loads(raw)
        kind = frame.get("type")
        if kind == "events":
            now = time.monotonic_ns()
            for event in frame["events"]:
                text = event["body"].get("text")
                if text is not None:
                    self.recorder.applied(self.gid, text, now)
            if frame.get("id") == self._subscribe_id:
                self.synced.set()
        elif kind == "ack":
            if frame.get("duplicate") and len(self.recorder.errors) < 10:
                self.recorder.errors.append(f"client {self.gid}: duplicate command id {frame}")
            self.on_ack(frame["id"])
        elif kind == "snapshot" and frame.get("id") == self._subscribe_id:
            if frame.get("head", frame["seq"]) <= frame["seq"]:
                self.synced.set()  # else the events after a stored snapshot follow at once
        elif kind == "error" and len(self.recorder.errors) < 10:
            self.recorder.errors.append(f"client {self.gid}: {raw!r}"[:500])

    async def write(self, key: str) -> None:
        frame = {
            "type": "add_entry",
            "id": key,
            "incident_id": self.incident_id,
            "text": entry_text(key),
        }
        await self.send(json.dumps(frame))


class WarroomBenchClient(JsonClient):
    def __init__(self, gid: int, url: str, recorder: Recorder, incident_id: int, token: str):
        super().__init__(gid, url, recorder, incident_id)
        self._token = token

    async def open(self, headers: dict[str, str] | None = None) -> None:
        await super().open({"Authorization": f"Bearer {self._token}"})


class YjsBenchClient(BenchClient):
    """A minimal Yjs websocket provider: one Doc with a `timeline` Y.Array of entry texts.

    Unlike pycrdt's Provider it does not send remote updates back to the server. A writer also
    keeps a mirror Doc fed only from the server, so its own entry coming back through the room
    (the server relays every update to every client) serves as its acknowledgement."""

    def __init__(self, gid: int, url: str, recorder: Recorder, writer: bool) -> None:
        from pycrdt import Array, Doc

        super().__init__(gid, url, recorder)
        self.doc: Doc[Any] = Doc()
        self.timeline: Array[str] = self.doc.get("timeline", type=Array)
        self.mirror: Doc[Any] | None = Doc() if writer else None
        observed = self.timeline
        if self.mirror is not None:
            observed = self.mirror.get("timeline", type=Array)
        self._subscription = observed.observe(self._on_change)
        self._replies: set[asyncio.Task[None]] = set()

    def _on_change(self, event: Any) -> None:
        now = time.monotonic_ns()
        for change in event.delta:
            for text in change.get("insert", ()):
                self.recorder.applied(self.gid, text, now)
                if self.mirror is not None and writer_of(text.partition(" ")[0]) == self.gid:
                    self.on_ack(text.partition(" ")[0])

    async def hello(self, ws: ClientConnection) -> None:
        from pycrdt import create_sync_message

        await ws.send(create_sync_message(self.doc))

    def receive(self, raw: str | bytes) -> None:
        from pycrdt import YMessageType, YSyncMessageType, handle_sync_message

        assert isinstance(raw, bytes)
        if raw[0] != YMessageType.SYNC:
            return  # awareness
        reply = handle_sync_message(raw[1:], self.doc)
        if self.mirror is not None and raw[1] != YSyncMessageType.SYNC_STEP1:
            handle_sync_message(raw[1:], self.mirror)
        if reply is not None:
            task = asyncio.create_task(self.send(reply))
            self._replies.add(task)
            task.add_done_callback(self._replies.discard)
        if raw[1] == YSyncMessageType.SYNC_STEP2:
            self.synced.set()

    async def write(self, key: str) -> None:
        from pycrdt import create_update_message

        before = self.doc.get_state()
        self.timeline.append(entry_text(key))
        await self.send(create_update_message(self.doc.get_update(before)))
