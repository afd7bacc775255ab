"""The PostgreSQL schema as numbered migrations; the `schema_migrations` table records which ran.

Times are stored as the ISO 8601 text they were written with (as in SQLite), so every event comes
back exactly as it went in, offsets and out-of-range instants included. Bodies are `json`, not
`jsonb`: checked by the server on the way in, and kept byte for byte.
"""

from typing import Final

MIGRATIONS_TABLE: Final = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""

MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 1: the event log (live and archived), users, triage items and the triage log.
    (
        """
        CREATE TABLE events (
            incident_id bigint NOT NULL,
            seq         bigint NOT NULL CHECK (seq > 0),
            at          text   NOT NULL,
            actor       text   NOT NULL,
            command_id  text,
            type        text   NOT NULL,
            body        json   NOT NULL,
            -- One event per (incident, seq); `append` also refuses gaps under a per-incident lock.
            PRIMARY KEY (incident_id, seq),
            -- A retried write is applied once, whichever node received it (NULLs are distinct).
            CONSTRAINT events_command UNIQUE (actor, command_id)
        )
        """,
        # Closed incidents' events moved out of the live log (issue 13); same shape, same rules.
        """
        CREATE TABLE archived_events (
            incident_id bigint NOT NULL,
            seq         bigint NOT NULL CHECK (seq > 0),
            at          text   NOT NULL,
            actor       text   NOT NULL,
            command_id  text,
            type        text   NOT NULL,
            body        json   NOT NULL,
            PRIMARY KEY (incident_id, seq),
            CONSTRAINT archived_events_command UNIQUE (actor, command_id)
        )
        """,
        """
        CREATE TABLE users (
            name       text PRIMARY KEY,
            token_hash text NOT NULL UNIQUE,
            created_at text NOT NULL
        )
        """,
        """
        CREATE TABLE triage_items (
            id        bigint PRIMARY KEY,
            group_key text   NOT NULL,
            body      json   NOT NULL
        )
        """,
        """
        CREATE TABLE triage_log (
            seq        bigint PRIMARY KEY,
            at         text   NOT NULL,
            actor      text   NOT NULL,
            command_id text   NOT NULL,
            body       json   NOT NULL,
            CONSTRAINT triage_log_command UNIQUE (actor, command_id)
        )
        """,
    ),
)
