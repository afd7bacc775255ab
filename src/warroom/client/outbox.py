"""Writes not yet acknowledged, kept on disk so nothing typed is lost to a crash or an outage."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class Outbox:
    """An append-only journal of pending write frames: `add` lines and `done` lines.

    Each change is flushed and fsynced before the call returns, because the whole point is that a
    Scribe's entry survives the laptop dying while the network is down.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pending: dict[str, dict[str, Any]] = {}
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if path.exists():
            self._load()
        self._rewrite()

    @property
    def pending(self) -> list[dict[str, Any]]:
        """Unacknowledged frames, oldest first."""
        return list(self._pending.values())

    def add(self, frame: dict[str, Any]) -> None:
        self._pending[frame["id"]] = frame
        self._append({"op": "add", "frame": frame})

    def done(self, frame_id: str) -> None:
        if self._pending.pop(frame_id, None) is not None:
            self._append({"op": "done", "id": frame_id})
            if not self._pending:
                self._rewrite()  # keep the journal from growing forever

    def _load(self) -> None:
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line torn by a crash mid-write was never acknowledged as saved
            if record.get("op") == "add":
                self._pending[record["frame"]["id"]] = record["frame"]
            elif record.get("op") == "done":
                self._pending.pop(record.get("id"), None)

    def _rewrite(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for frame in self._pending.values():
                f.write(json.dumps({"op": "add", "frame": frame}) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def _append(self, record: dict[str, Any]) -> None:
        fd = os.open(self.path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
            os.fsync(f.fileno())
