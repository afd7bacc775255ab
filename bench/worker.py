"""A load-generator process: opens its share of the clients and runs the writers it is given."""

from __future__ import annotations

import asyncio
import contextlib
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from bench.clients import BenchClient, JsonClient, Recorder, WarroomBenchClient, YjsBenchClient

CONNECT_CONCURRENCY = 16


@dataclass
class Writer:
    """A client that writes, with its window of unacknowledged writes."""

    client: BenchClient
    window: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))
    pending: dict[str, int] = field(default_factory=dict)
    ack_ns: list[int] = field(default_factory=list)
    last_ack_ns: int = 0
    sent: int = 0
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    """Set while no write is waiting for its acknowledgement."""

    def __post_init__(self) -> None:
        self.settled.set()

    def acked(self, key: str) -> None:
        sent = self.pending.pop(key, None)
        if sent is not None:
            self.last_ack_ns = time.monotonic_ns()
            self.ack_ns.append(self.last_ack_ns - sent)
            self.window.release()
            if not self.pending:
                self.settled.set()

    async def write(self, key: str) -> None:
        self.pending[key] = time.monotonic_ns()
        self.settled.clear()
        self.sent += 1
        await self.client.write(key)

    async def settle(self, within: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self.settled.wait()


class Worker:
    def __init__(self) -> None:
        self.recorder = Recorder()
        self.clients: list[BenchClient] = []
        self.writers: list[Writer] = []

    async def setup(self, spec: dict[str, Any]) -> dict[str, Any]:
        writer_ids = set(spec["writers"])
        for gid in spec["clients"]:
            client: BenchClient
            if spec["kind"] == "warroom":
                client = WarroomBenchClient(
                    gid, spec["url"], self.recorder, spec["incident_id"], spec["token"]
                )
            elif spec["kind"] == "floor":
                client = JsonClient(gid, spec["url"], self.recorder, spec["incident_id"])
            else:
                client = YjsBenchClient(gid, spec["url"], self.recorder, gid in writer_ids)
            client.deflate = spec.get("deflate", True)
            self.clients.append(client)
            if gid in writer_ids:
                writer = Writer(client)
                client.on_ack = writer.acked
                self.writers.append(writer)
        started = time.perf_counter()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def open_one(client: BenchClient) -> None:
            async with gate:
                await client.open()

        async with asyncio.timeout(120):
            await asyncio.gather(*(open_one(c) for c in self.clients))
        return {"connect_s": time.perf_counter() - started}

    async def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        self.recorder.reset()
        for writer in self.writers:
            writer.ack_ns.clear()
            writer.last_ack_ns = 0
            writer.sent = 0
            writer.window = asyncio.Semaphore(spec.get("window", 1))
        if spec["mode"] == "paced":
            jobs = [self._paced(w, spec) for w in self.writers]
        else:
            jobs = [self._burst(w, spec) for w in self.writers]
        await asyncio.gather(*jobs)
        return {
            "sent": sum(w.sent for w in self.writers),
            "unacked": sum(len(w.pending) for w in self.writers),
            "ack_ns": [ns for w in self.writers for ns in w.ack_ns],
            "last_ack_ns": max((w.last_ack_ns for w in self.writers), default=0),
        }

    async def _paced(self, writer: Writer, spec: dict[str, Any]) -> None:
        order: list[int] = spec["writers"]
        period_ns = int(1e9 / spec["rate"])
        mine = order.index(writer.client.gid)
        for k in range(mine, spec["count"], len(order)):
            delay = (spec["start_ns"] + k * period_ns - time.monotonic_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            await writer.write(f"w{writer.client.gid}-{spec['tag']}{k}")
        await writer.settle(spec["timeout"])

    async def _burst(self, writer: Writer, spec: dict[str, Any]) -> None:
        delay = (spec["start_ns"] - time.monotonic_ns()) / 1e9
        if delay > 0:
            await asyncio.sleep(delay)
        deadline = spec["start_ns"] + int(spec["seconds"] * 1e9)
        limit = spec.get("count")
        k = 0
        while time.monotonic_ns() < deadline and (limit is None or k < limit):
            try:
                async with asyncio.timeout(spec["timeout"]):
                    await writer.window.acquire()
            except TimeoutError:
                break
            await writer.write(f"w{writer.client.gid}-{spec['tag']}{k}")
            k += 1
        await writer.settle(spec["timeout"])

    async def drain(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Wait until every client here has applied `total` bench entries (or time is up)."""
        deadline = time.monotonic() + spec["timeout"]
        total = spec["total"]
        counts = self.recorder.counts
        # Polling every 2 ms costs nothing next to the load, and keeps `Recorder.applied` (called
        # for every entry every client applies) free of completion bookkeeping.
        while time.monotonic() < deadline and any(counts[c.gid] < total for c in self.clients):  # noqa: ASYNC110
            await asyncio.sleep(0.002)
        return {
            "fanout": self.recorder.fanout,
            "behind": sum(1 for c in self.clients if counts[c.gid] < total),
            "frames": self.recorder.frames,
            "last_ns": self.recorder.last_ns,
            "errors": self.recorder.errors[:10],
        }

    async def teardown(self) -> dict[str, Any]:
        await asyncio.gather(*(c.close() for c in self.clients), return_exceptions=True)
        self.clients.clear()
        self.writers.clear()
        self.recorder = Recorder()
        return {}


async def _serve(pipe: Connection) -> None:
    worker = Worker()
    loop = asyncio.get_running_loop()
    while True:
        command, payload = await loop.run_in_executor(None, pipe.recv)
        if command == "exit":
            await worker.teardown()
            return
        try:
            answer = await getattr(worker, command)(*([payload] if payload is not None else []))
        except Exception:
            answer = {"error": traceback.format_exc()}
        pipe.send(answer)


def worker_main(pipe: Connection) -> None:
    asyncio.run(_serve(pipe))
