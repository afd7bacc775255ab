"""`CommitProbe`: tells at once, without the store's thread, whether anything was committed to a
SQLite file since the last look.

Every handshake asks whether the user table changed (`warroom user revoke` must take effect on a
running server at once). Asked through the store's aiosqlite connection, that is a round trip to
its worker thread: 0.25 ms on a quiet 2-core machine and over 1 ms on a busy one, a tenth to a
third of a console's whole connect (docs/performance.md, sync17). `PRAGMA data_version` on a
connection of its own is a read of the file's shared-memory index: about 20 us, and cheap
enough to run on the event loop. It changes when any other connection commits (the server's own
writes too), so an unchanged number proves the users did not change; a changed one only says to
ask the store as before.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class CommitProbe:
    """A read-only side connection to one SQLite file, asked only for its data version."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = connection

    @classmethod
    def open(cls, path: Path) -> CommitProbe:
        """A probe of the file at `path` (which exists); blocking, so run it in a thread.

        Raises:
            sqlite3.Error: the file cannot be opened.
        """
        # Never waits for a lock (`timeout=0`): a busy moment answers "do not know" at once.
        # Used from the event loop's thread, opened in a worker's.
        # A file URI (for read-only mode) needs an absolute path; the store may be given a
        # relative one (`--db warroom.db`). Its characters are quoted by `as_uri`.
        connection = sqlite3.connect(
            f"{path.absolute().as_uri()}?mode=ro",
            uri=True,
            timeout=0,
            isolation_level=None,
            check_same_thread=False,
        )
        return cls(connection)

    def data_version(self) -> int | None:
        """A number that changes whenever another connection commits to the file; None if it
        cannot be read right now (locked, closed, damaged): then nothing is known."""
        if self._connection is None:
            return None
        try:
            row = self._connection.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return None
        return int(row[0]) if row else None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
