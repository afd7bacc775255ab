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
    # 4: a commit of events in one statement (cluster4): the incidents' locks, the check that
    # each incident's events follow on from its last seq, the rows, the summaries and snapshots
    # and the notifications, in one round trip to the database instead of one per step. Arrays
    # of columns in, and the incidents whose events do not follow on out (with the seq each
    # expects next); then nothing was written. Alone it is its own transaction; in a
    # transaction that already holds the locks (the sequencer's `holding`) it takes them again,
    # which costs nothing.
    (
        """
        CREATE FUNCTION warroom_append(
            e_incident bigint[], e_seq bigint[], e_at text[], e_actor text[],
            e_command text[], e_type text[], e_body text[],
            heads bigint[], head_seqs bigint[],
            s_id bigint[], s_phase text[], s_resolved text[], s_body text[],
            n_incident bigint[], n_seq bigint[], n_version text[], n_state text[],
            payloads text[]
        ) RETURNS TABLE (refused_incident bigint, expected_seq bigint)
        LANGUAGE plpgsql AS $$
        #variable_conflict use_column
        BEGIN
            -- In id order (the caller sorts `heads`), so two writers cannot deadlock.
            PERFORM pg_advisory_xact_lock(h) FROM unnest(heads) AS h;
            -- Read after the locks: a competitor's commit shows. One index probe each.
            RETURN QUERY
                SELECT h.i, x.next
                FROM unnest(heads, head_seqs) AS h(i, first),
                LATERAL (SELECT coalesce(greatest(
                    (SELECT max(e.seq) FROM events e WHERE e.incident_id = h.i),
                    (SELECT max(a.seq) FROM archived_events a WHERE a.incident_id = h.i)
                ), 0) + 1 AS next) AS x
                WHERE h.first <> x.next;
            IF FOUND THEN
                RETURN;
            END IF;
            INSERT INTO events (incident_id, seq, at, actor, command_id, type, body)
                SELECT i, s, t, a, c, y, b::json
                FROM unnest(e_incident, e_seq, e_at, e_actor, e_command, e_type, e_body)
                    AS u(i, s, t, a, c, y, b);
            -- A summary saved with new events marks the incident unarchived: those events
            -- are in the live log, and the next archive run moves them too.
            INSERT INTO incident_summaries (id, phase, resolved_at, archived, body)
                SELECT i, p, r, false, b::json
                FROM unnest(s_id, s_phase, s_resolved, s_body) AS u(i, p, r, b)
                ON CONFLICT (id) DO UPDATE SET phase = EXCLUDED.phase,
                    resolved_at = EXCLUDED.resolved_at, archived = false, body = EXCLUDED.body;
            INSERT INTO snapshots (incident_id, seq, version, state)
                SELECT i, s, v, t FROM unnest(n_incident, n_seq, n_version, n_state)
                    AS u(i, s, v, t)
                ON CONFLICT (incident_id) DO UPDATE SET seq = EXCLUDED.seq,
                    version = EXCLUDED.version, state = EXCLUDED.state;
            -- Delivered at commit, and only if it commits.
            PERFORM pg_notify('warroom_events', p) FROM unnest(payloads) AS p;
        END
        $$
        """,
    ),
    # 5: the contended commit in one round trip. A writer that found its copy of an incident
    # out of date holds the incident's session lock (`PostgresStore.holding`) while it reads,
    # decides and commits; this commit takes the transaction's locks (`warroom_append`), then
    # lets the session's go, so the incident stays locked until the commit ends (a session
    # lock and a transaction lock of one session on one key are one lock to other sessions)
    # and the next node waiting for it is let in by the commit itself: no COMMIT or unlock
    # after it, one round trip fewer with the lock held. Not rolled back: an error in here
    # aborts before the unlock, and the caller unlocks.
    (
        """
        CREATE FUNCTION warroom_append_held(
            e_incident bigint[], e_seq bigint[], e_at text[], e_actor text[],
            e_command text[], e_type text[], e_body text[],
            heads bigint[], head_seqs bigint[],
            s_id bigint[], s_phase text[], s_resolved text[], s_body text[],
            n_incident bigint[], n_seq bigint[], n_version text[], n_state text[],
            payloads text[]
        ) RETURNS TABLE (refused_incident bigint, expected_seq bigint)
        LANGUAGE plpgsql AS $$
        BEGIN
            RETURN QUERY SELECT * FROM warroom_append(
                e_incident, e_seq, e_at, e_actor, e_command, e_type, e_body, heads, head_seqs,
                s_id, s_phase, s_resolved, s_body, n_incident, n_seq, n_version, n_state,
                payloads);
            PERFORM pg_advisory_unlock_all();
        END
        $$
        """,
    ),
    # 6: the contended turn's reads in the statement that takes the locks. A writer holding an
    # incident's session lock (`PostgresStore.holding`) read what it missed and looked up its
    # writes' command ids in two more round trips, while every other node writing the incident
    # waited. Here each query runs after the locks are granted and, in a volatile function,
    # on a snapshot of its own: it sees the commit that let the lock go. Event rows have a body;
    # command rows (stream, seq, actor, command id) have none. Not rolled back: an error in here
    # may leave locks taken, and the caller unlocks.
    (
        """
        CREATE FUNCTION warroom_lock_read(
            ids bigint[], afters bigint[], actors text[], command_ids text[], triage bigint
        ) RETURNS TABLE (
            incident_id bigint, seq bigint, at text, actor text, command_id text, body text
        )
        LANGUAGE plpgsql AS $$
        #variable_conflict use_column
        BEGIN
            -- In id order (the caller sorts `ids`), as every writer takes them: no deadlock.
            PERFORM pg_advisory_lock(i) FROM unnest(ids) AS i;
            -- One incident at a time, each query the primary key's range: a join of the arrays
            -- with the tables was planned afresh at every call and cost more than the two
            -- round trips it saved. Archived events first: they are the older ones.
            FOR n IN 1 .. coalesce(array_length(ids, 1), 0) LOOP
                RETURN QUERY
                    SELECT a.incident_id, a.seq, a.at, a.actor, a.command_id, a.body::text
                    FROM archived_events a WHERE a.incident_id = ids[n] AND a.seq > afters[n]
                    ORDER BY a.seq;
                RETURN QUERY
                    SELECT e.incident_id, e.seq, e.at, e.actor, e.command_id, e.body::text
                    FROM events e WHERE e.incident_id = ids[n] AND e.seq > afters[n]
                    ORDER BY e.seq;
            END LOOP;
            IF coalesce(array_length(actors, 1), 0) > 0 THEN
                RETURN QUERY
                    SELECT e.incident_id, e.seq, NULL::text, e.actor, e.command_id, NULL::text
                    FROM events e
                    WHERE (e.actor, e.command_id) IN (SELECT * FROM unnest(actors, command_ids))
                    UNION ALL
                    SELECT a.incident_id, a.seq, NULL::text, a.actor, a.command_id, NULL::text
                    FROM archived_events a
                    WHERE (a.actor, a.command_id) IN (SELECT * FROM unnest(actors, command_ids))
                    UNION ALL
                    SELECT triage, t.seq, NULL::text, t.actor, t.command_id, NULL::text
                    FROM triage_log t
                    WHERE (t.actor, t.command_id) IN (SELECT * FROM unnest(actors, command_ids));
            END IF;
        END
        $$
        """,
    ),
)
