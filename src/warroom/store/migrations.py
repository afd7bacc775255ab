"""The SQLite schema as numbered migrations; `PRAGMA user_version` records how far a file is."""

from typing import Final

MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 1: the event log and users.
    (
        """
        CREATE TABLE events (
            incident_id INTEGER NOT NULL,
            seq         INTEGER NOT NULL,
            at          TEXT    NOT NULL,
            actor       TEXT    NOT NULL,
            command_id  TEXT,
            type        TEXT    NOT NULL,
            body        TEXT    NOT NULL,
            PRIMARY KEY (incident_id, seq)
        ) WITHOUT ROWID
        """,
        # A retried write is applied once: the (actor, command id) pair can appear only once.
        "CREATE UNIQUE INDEX events_command ON events (actor, command_id) "
        "WHERE command_id IS NOT NULL",
        """
        CREATE TABLE users (
            name       TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        )
        """,
    ),
    # 2: alert triage items (not incidents: no event log of their own, one row each).
    (
        """
        CREATE TABLE triage_items (
            id        INTEGER PRIMARY KEY,
            group_key TEXT NOT NULL,
            body      TEXT NOT NULL
        )
        """,
    ),
    # 3: the triage log: who dismissed which triage item, when, why, by which command.
    (
        """
        CREATE TABLE triage_log (
            seq        INTEGER PRIMARY KEY,
            at         TEXT    NOT NULL,
            actor      TEXT    NOT NULL,
            command_id TEXT    NOT NULL,
            body       TEXT    NOT NULL,
            UNIQUE (actor, command_id)
        )
        """,
    ),
    # 4: history at any size. A summary per incident (its line in the list, kept with its events
    # in one transaction), the latest snapshot of its state, and the archive of closed incidents'
    # events. Databases written before it get their summaries and snapshots from their events
    # once, when they are first opened (`SqliteStore._backfill`).
    (
        """
        CREATE TABLE incident_summaries (
            id          INTEGER PRIMARY KEY,
            phase       TEXT    NOT NULL,
            resolved_at TEXT,
            archived    INTEGER NOT NULL DEFAULT 0,
            body        TEXT    NOT NULL
        )
        """,
        """
        CREATE TABLE snapshots (
            incident_id INTEGER PRIMARY KEY,
            seq         INTEGER NOT NULL,
            version     TEXT    NOT NULL,
            state       TEXT    NOT NULL
        )
        """,
        """
        CREATE TABLE archived_events (
            incident_id INTEGER NOT NULL,
            seq         INTEGER NOT NULL,
            at          TEXT    NOT NULL,
            actor       TEXT    NOT NULL,
            command_id  TEXT,
            type        TEXT    NOT NULL,
            body        TEXT    NOT NULL,
            PRIMARY KEY (incident_id, seq)
        ) WITHOUT ROWID
        """,
        # A retry of a command of an archived incident is still answered with its seq.
        "CREATE UNIQUE INDEX archived_events_command ON archived_events (actor, command_id) "
        "WHERE command_id IS NOT NULL",
    ),
)
