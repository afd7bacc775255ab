"""The servers under test as the orchestrator sees them: start one, open a stream, count stored."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from bench.harness import ServerProcess

BENCH_USER = "bench"
TARGETS = ("warroom", "floor", "yjs")
LABELS = {"warroom": "warroom", "floor": "floor", "yjs": "pycrdt-websocket"}


def peer_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("pycrdt", "pycrdt.websocket"))


@dataclass
class Target:
    """A running server under test, with what a client needs to reach it."""

    kind: str
    server: ServerProcess
    db: Path | None = None
    token: str | None = None

    def stream(self, label: str) -> dict[str, Any]:
        """A fresh incident (warroom), room (yjs) or broadcast (floor) for one run's clients."""
        spec: dict[str, Any] = {"kind": self.kind, "token": self.token, "incident_id": 1}
        if self.kind == "warroom":
            assert self.token is not None
            spec["incident_id"] = asyncio.run(declare(self.server.url(), self.token, label))
            spec["url"] = self.server.url()
        elif self.kind == "yjs":
            spec["url"] = self.server.url(f"/{label}")
        else:
            spec["url"] = self.server.url()
        return spec

    def stored(self, label: str) -> int | None:
        """How many updates the Yjs store holds for a room; None for the others (their ack
        already means committed, or nothing is stored at all)."""
        if self.kind != "yjs" or self.db is None:
            return None
        with sqlite3.connect(self.db, timeout=5) as db:
            row = db.execute("SELECT count(*) FROM yupdates WHERE path = ?", (f"/{label}",))
            return int(row.fetchone()[0])

    def stop(self) -> None:
        self.server.stop()


def start(kind: str, workdir: Path, profile: Path | None = None) -> Target:
    """Start one server in its own process; warroom gets a fresh database and a bench user."""
    if kind == "warroom":
        db = workdir / "warroom.db"
        token = asyncio.run(make_user(db))
        args = ["--db", str(db)] + (["--profile", str(profile)] if profile else [])
        return Target(
            kind, ServerProcess.launch(kind, "bench.serve_warroom", args, workdir), db, token
        )
    if kind == "yjs":
        db = workdir / "yjs.db"
        return Target(
            kind, ServerProcess.launch(kind, "bench.serve_yjs", ["--db", str(db)], workdir), db
        )
    return Target(kind, ServerProcess.launch(kind, "bench.serve_floor", [], workdir))


async def make_user(db: Path | str, name: str = BENCH_USER) -> str:
    from warroom.users import create_user

    return await create_user(db, name)


async def declare(url: str, token: str, title: str) -> int:
    """Declare an incident as the bench user (who becomes its IC and may write)."""
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        await ws.recv()
        frame_id = uuid.uuid4().hex
        await ws.send(
            json.dumps(
                {
                    "type": "declare_incident",
                    "id": frame_id,
                    "title": f"bench {title}",
                    "severity": 2,
                }
            )
        )
        while True:
            reply = json.loads(await ws.recv())
            if reply.get("id") == frame_id:
                if reply["type"] != "ack":
                    raise RuntimeError(f"cannot declare a bench incident: {reply}")
                return int(reply["incident_id"])
