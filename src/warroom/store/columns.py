"""The half of every event store that does not depend on its database: models as the columns the
tables hold and columns back as checked models, and rebuilding an incident's summary from its
snapshot and the events after it. Each backend keeps its own SQL (store/sqlite.py,
store/postgres.py) and hands its rows' columns to these, so both read and write the same rows and
report damage in the same words.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from warroom.domain.events import EVENT_BODY_ADAPTER, Event
from warroom.domain.incident import IncidentState, IncidentSummary
from warroom.domain.projection import ProjectionError, apply_event, replay
from warroom.domain.triage import TriageItem
from warroom.domain.triage_log import TriageDismissed, TriageRecord
from warroom.store.base import STATE_VERSION, CommandKey, StoredSnapshot, StoreError, User

EventRow = tuple[int, int, str, str, str | None, str, str]
"""An event as the events table holds it: incident_id, seq, at, actor, command_id, type, body."""
SummaryRow = tuple[int, str, str | None, str]
"""A summary as incident_summaries holds it (without `archived`): id, phase, resolved_at, body."""
SnapshotRow = tuple[int, int, str, str]
"""A snapshot as the snapshots table holds it: incident_id, seq, version, state."""
TriageRecordRow = tuple[int, str, str, str, str]
"""A triage log record as triage_log holds it: seq, at, actor, command_id, body."""
TriageItemRow = tuple[int, str, str]
"""A triage item as triage_items holds it: id, group_key, body."""
UserRow = tuple[str, str, str]
"""A user as the users table holds it: name, token_hash, created_at."""

_SUMMARIES: TypeAdapter[list[IncidentSummary]] = TypeAdapter(list[IncidentSummary])


def event_row(event: Event) -> EventRow:
    return (
        event.incident_id,
        event.seq,
        event.at.isoformat(),
        event.actor,
        event.command_id,
        event.body.type,
        event.body.model_dump_json(),
    )


def summary_row(summary: IncidentSummary) -> SummaryRow:
    resolved = summary.resolved_at.isoformat() if summary.resolved_at is not None else None
    return (summary.id, summary.phase.value, resolved, summary.model_dump_json())


def snapshot_row(snapshot: StoredSnapshot) -> SnapshotRow:
    """The snapshot stamped with this version of the domain, which alone may read it back."""
    return (snapshot.incident_id, snapshot.seq, STATE_VERSION, snapshot.state_json)


def triage_record_row(record: TriageRecord) -> TriageRecordRow:
    return (
        record.seq,
        record.at.isoformat(),
        record.actor,
        record.command_id,
        record.body.model_dump_json(),
    )


def triage_item_row(item: TriageItem) -> TriageItemRow:
    return (item.id, item.group_key, item.model_dump_json())


def user_row(user: User) -> UserRow:
    return (user.name, user.token_hash, user.created_at.isoformat())


def checked_event(
    where: str,
    incident_id: object,
    seq: object,
    at: object,
    actor: object,
    command_id: object,
    body: object,
) -> Event:
    """An event from its columns (in the events table's order).

    Raises:
        StoreError: the row is not an event this warroom can read; says where and which.
    """
    try:
        return Event(
            incident_id=int(str(incident_id)),
            seq=int(str(seq)),
            at=datetime.fromisoformat(str(at)),
            actor=str(actor),
            command_id=None if command_id is None else str(command_id),
            body=EVENT_BODY_ADAPTER.validate_json(str(body)),
        )
    except ValueError as exc:
        problem = _why_unusable(exc)
    raise StoreError(
        f"{where} is not a usable warroom database (event {incident_id}/{seq}: {problem}); "
        "restore it from a backup"
    )


def event_json(
    incident_id: int, seq: int, at: str, actor: str, command_id: str | None, body: str
) -> str:
    """An event as `Event` JSON straight from its columns, without a model: a closed incident
    opens in milliseconds. The sequencer validates every event it applies; the rest were applied
    (and validated) when the snapshot they follow was made."""
    dumps = json.dumps
    return (
        f'{{"incident_id":{incident_id},"seq":{seq},"at":{dumps(at)},'
        f'"actor":{dumps(actor)},"command_id":{dumps(command_id)},"body":{body}}}'
    )


def events_json(rows: Iterable[Iterable[Any]]) -> list[str]:
    """`event_json` of every row of (incident_id, seq, at, actor, command_id, body), in one loop:
    a call per event would cost a fifth more on a long incident's history."""
    dumps = json.dumps
    return [
        f'{{"incident_id":{incident_id},"seq":{seq},"at":{dumps(at)},'
        f'"actor":{dumps(actor)},"command_id":{dumps(command_id)},"body":{body}}}'
        for incident_id, seq, at, actor, command_id, body in rows
    ]


def checked_summaries(where: str, bodies: Iterable[str]) -> list[IncidentSummary]:
    """Summaries from their JSON bodies, in the order given.

    Raises:
        StoreError: one of them is damaged.
    """
    try:
        # One validation over all of them: a start-up with thousands of closed incidents reads
        # every summary.
        return _SUMMARIES.validate_json(f"[{','.join(bodies)}]")
    except ValidationError as exc:
        raise StoreError(
            f"{where} holds a damaged incident summary "
            f"({exc.errors(include_url=False)[0]['msg']}); restore it from a backup"
        ) from None


def snapshot_state(state_json: str | None) -> IncidentState | None:
    """The state a snapshot of this version holds, or None where there is none or it does not
    read: then the incident is rebuilt from all its events, which are the truth."""
    if state_json is None:
        return None
    with contextlib.suppress(ValidationError):
        return IncidentState.model_validate_json(state_json)
    return None


def rebuilt_state(
    where: str, incident_id: int, state: IncidentState | None, events: Iterable[Event]
) -> IncidentState:
    """`state` (None: from nothing) with the events after it applied.

    Raises:
        StoreError: the events do not apply: the log is damaged.
    """
    try:
        if state is None:
            return replay(list(events))
        for event in events:
            apply_event(state, event)
    except ProjectionError as exc:
        raise StoreError(
            f"{where} holds a damaged event log (incident {incident_id}: {exc}); "
            "restore it from a backup"
        ) from None
    return state


def found_commands(rows: Iterable[Iterable[Any]]) -> dict[CommandKey, tuple[int, int]]:
    """`find_commands`' answer from rows of (actor, command_id, stream, seq)."""
    return {
        (str(actor), str(command_id)): (int(stream), int(seq))
        for actor, command_id, stream, seq in rows
    }


def due_for_archive(rows: Iterable[Iterable[Any]], before: datetime) -> list[int]:
    """The ids, in order, of the rows of (id, resolved_at) resolved before `before`.

    Raises:
        StoreError: a resolution time does not read as a time.
    """
    due: list[int] = []
    for incident_id, resolved_at in rows:
        # Compared as instants, not as text: stored offsets may differ.
        if _stored_time("incident_summaries", "resolved_at", resolved_at) < before:
            due.append(int(incident_id))
    return sorted(due)


def triage_record(
    seq: object, at: object, actor: object, command_id: object, body: object
) -> TriageRecord:
    """A triage log record from its columns.

    Raises:
        StoreError: the row is not one this warroom can read.
    """
    try:
        return TriageRecord(
            seq=int(str(seq)),
            at=_stored_time("triage_log", "at", at),
            actor=str(actor),
            command_id=str(command_id),
            body=TriageDismissed.model_validate_json(str(body)),
        )
    except ValueError as exc:
        problem = _why_unusable(exc)
    raise StoreError(
        f"the triage log holds a damaged record ({_shown(seq)}: {_shown(problem)}); "
        "restore it from a backup"
    )


def user(name: object, token_hash: object, created_at: object) -> User:
    """A user from its columns.

    Raises:
        StoreError: the row's time does not read as a time.
    """
    return User(
        name=str(name),
        token_hash=str(token_hash),
        created_at=_stored_time("users", "created_at", created_at),
    )


def _stored_time(table: str, column: str, value: object) -> datetime:
    """A time column read back; a value that is not one is damage, said as such (a database
    written by hand or by a tampered warroom must not crash whoever reads it)."""
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        raise StoreError(
            f"the {table} table holds a damaged {column} ({_shown(value)} is not a time); "
            "restore it from a backup"
        ) from None
    # Naive times compare with nothing the server writes: stored times are all aware.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _shown(value: object) -> str:
    # Damaged rows may hold anything: quoted short, with every control character escaped.
    text = ascii(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _why_unusable(exc: ValueError) -> str:
    """The first reason a stored value failed to read back (pydantic's, or a parser's)."""
    if isinstance(exc, ValidationError):
        return exc.errors(include_url=False)[0]["msg"]
    return str(exc)
