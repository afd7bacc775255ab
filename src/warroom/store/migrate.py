"""`warroom migrate`: copy a single-machine war room (SQLite) into PostgreSQL, whole and checked.

Every event keeps its incident, seq, time, actor and command id; users keep their token hashes
(their tokens go on working); triage items and the triage log come along; archived incidents
stay archived. The copy is one
transaction on the target, and is read back and compared before it is reported done.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from warroom.domain.events import Event
from warroom.store.base import StoreError
from warroom.store.postgres import PostgresStore
from warroom.store.sqlite import SqliteStore
from warroom.store.url import PostgresUrl, parse_location


@dataclass(frozen=True)
class Copied:
    """What `migrate` carried over."""

    incidents: int
    events: int
    users: int
    triage_items: int
    triage_records: int


async def migrate(source: str, target: str, *, password_file: Path | None = None) -> Copied:
    """Copy the SQLite war room at `source` (`sqlite:PATH` or a path) into the empty PostgreSQL
    database at `target`.

    Raises:
        StoreError: a location is of the wrong kind or missing, the target is not empty, or the
            copy did not read back identical (then nothing was committed or the message says so).
    """
    source_path = parse_location(source)
    if not isinstance(source_path, Path):
        raise StoreError("--from must be a SQLite file (sqlite:PATH): the war room to copy")
    target_url = parse_location(target)
    if not isinstance(target_url, PostgresUrl):
        raise StoreError("--to must be a postgresql://USER@HOST:PORT/DB URL")
    if not source_path.is_file():
        raise StoreError(f"no SQLite database at {source_path}")

    sqlite = await SqliteStore.open(source_path)
    try:
        summaries = await sqlite.incident_summaries()
        # Every incident's whole log, archived events included; archived incidents stay archived.
        events = [
            _event(line, source_path)
            for summary in summaries
            for line in await sqlite.events_json(summary.id)
        ]
        archived = await sqlite.archived_incidents()
        users = await sqlite.users()
        items = await sqlite.load_triage()
        log = await sqlite.load_triage_log()
    finally:
        await sqlite.close()

    postgres = await PostgresStore.open(target_url, password_file=password_file)
    try:
        await postgres.copy_in(events, users, items, log, archived)
        # The live log holds what was live; an archived incident's log is read from the archive.
        live = [e for e in events if e.incident_id not in set(archived)]
        in_archive = [
            Event.model_validate_json(line)
            for incident_id in archived
            for line in await postgres.events_json(incident_id)
        ]
        same = (
            await postgres.load_events() == live
            and in_archive == [e for e in events if e.incident_id in set(archived)]
            and await postgres.incident_summaries() == summaries
            and await postgres.users() == users
            and await postgres.load_triage() == items
            and await postgres.load_triage_log() == log
        )
    finally:
        await postgres.close()
    if not same:
        raise StoreError(
            f"the copy in {target_url.display} does not read back identical to {source_path}; "
            "drop that database and report this"
        )
    return Copied(
        incidents=len({e.incident_id for e in events}),
        events=len(events),
        users=len(users),
        triage_items=len(items),
        triage_records=len(log),
    )


def _event(line: str, source: Path) -> Event:
    try:
        return Event.model_validate_json(line)
    except ValidationError as exc:
        raise StoreError(
            f"{source} holds a damaged event ({exc.errors(include_url=False)[0]['msg']}); "
            "nothing was copied"
        ) from None
