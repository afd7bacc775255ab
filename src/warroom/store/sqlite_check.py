"""SQLite's integrity check, sized so that start-up does not grow with the history in the file.

`PRAGMA quick_check` reads every page: about 7 ms per MB on the reference machine, five seconds
for a million events. A file up to `CHECK_AT_OPEN_BYTES` is checked whole before it is used, as
always. A larger one gets the check of what start-up reads whole (the summaries, users and
triage tables with their indexes) before it is used, and the whole-file check on its own
connection in a background thread afterwards. A problem found there is logged as an error and
the server goes on, as it would after damage found while running (a read that meets a damaged
page is refused then, as at any time); closing the store stops the check.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CHECK_AT_OPEN_BYTES = 32 * 1024 * 1024
"""Files up to this size are checked whole before use: a fifth of a second at most."""

READ_AT_START = ("incident_summaries", "users", "triage_items", "triage_log")
"""The small tables start-up reads whole (the events and snapshots of live incidents it reads by
key, a few pages)."""


def needs_background_check(path: Path) -> bool:
    """Too large to check whole before use (see the module's docstring)."""
    return _size(path) > CHECK_AT_OPEN_BYTES


class BackgroundCheck:
    """The whole-file check of a large database, in a thread with its own read-only connection."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._stopped = False
        self.problem: str | None = None
        """What the check found, once it finished; None while running or when all is well."""
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite quick_check", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Interrupt the check (the store is closing); safe from any thread."""
        with self._lock:
            self._stopped = True
            if self._connection is not None:
                self._connection.interrupt()

    def _run(self) -> None:
        try:
            with self._lock:
                if self._stopped:
                    return
                self._connection = sqlite3.connect(
                    f"file:{self._path}?mode=ro", uri=True, check_same_thread=False
                )
            try:
                raise_on_problem(self._connection.execute("PRAGMA quick_check").fetchall())
            finally:
                with self._lock:
                    self._connection.close()
                    self._connection = None
        except sqlite3.OperationalError as exc:
            if not self._stopped:
                self._found(str(exc))
        except sqlite3.DatabaseError as exc:
            self._found(str(exc))
        finally:
            self.done.set()

    def _found(self, problem: str) -> None:
        self.problem = problem
        log.error("%s: %s; restore it from a backup", self._path, problem)


def _size(path: Path) -> int:
    total = 0
    for part in (path, Path(f"{path}-wal")):
        with contextlib.suppress(OSError):
            total += part.stat().st_size
    return total


def raise_on_problem(rows: Iterable[Any]) -> None:
    """Raise `sqlite3.DatabaseError` unless an integrity check answered `ok`."""
    rows = list(rows)
    if [tuple(row) for row in rows] != [("ok",)]:
        raise sqlite3.DatabaseError(f"integrity check failed: {first_problem(rows)}")


def first_problem(rows: Iterable[Any]) -> str:
    """SQLite's integrity report in one line: its first problem and how many more there are (a
    damaged file can list hundreds, one per line, which would bury the one line that matters)."""
    lines = [
        line.strip()
        for row in rows
        for line in str(row[0]).splitlines()
        if line.strip() and not line.startswith("*** in database")
    ]
    if not lines:
        return "no answer"
    more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
    return f"{lines[0][:200]}{more}"
