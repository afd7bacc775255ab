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
    # 2: history at any size (issue 13): each incident's line in the list, kept with its events
    # in one transaction, and the latest snapshot of its state. The state is text: written and
    # read whole by the server, never queried, so PostgreSQL need not parse it. And a counter
    # that any change to the users bumps, whichever process made it (`users_version`).
    (
        """
        CREATE TABLE users_version (
            only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
            version  bigint  NOT NULL
        )
        """,
        "INSERT INTO users_version (only_row, version) VALUES (true, 0)",
        """
        CREATE FUNCTION warroom_users_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE users_version SET version = version + 1;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
        FOR EACH STATEMENT EXECUTE FUNCTION warroom_users_changed()
        """,
        """
        CREATE TABLE incident_summaries (
            id          bigint  PRIMARY KEY,
            phase       text    NOT NULL,
            resolved_at text,
            archived    boolean NOT NULL DEFAULT false,
            body        json    NOT NULL
        )
        """,
        """
        CREATE TABLE snapshots (
            incident_id bigint PRIMARY KEY,
            seq         bigint NOT NULL,
            version     text   NOT NULL,
            state       text   NOT NULL
        )
        """,
    ),
    # 3: triage items shared by every node (issue 14): each write of a row numbers it from one
    # sequence under the items' advisory lock ("warrtria", `TRIAGE_ITEMS_LOCK`), so the numbers
    # follow commit order and a node reads what changed since the last number it saw; and
    # notifies the triage channel with the item's id, so the other nodes read it at once.
    (
        "CREATE SEQUENCE triage_changes",
        "ALTER TABLE triage_items ADD COLUMN changed bigint NOT NULL DEFAULT 0",
        "CREATE INDEX triage_items_changed ON triage_items (changed)",
        """
        CREATE FUNCTION warroom_triage_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(8602282599159851361);
            NEW.changed := nextval('triage_changes');
            PERFORM pg_notify('warroom_triage', NEW.id::text);
            RETURN NEW;
        END
        $$
        """,
        """
        CREATE TRIGGER triage_changed BEFORE INSERT OR UPDATE ON triage_items
        FOR EACH ROW EXECUTE FUNCTION warroom_triage_changed()
        """,
    ),
)
