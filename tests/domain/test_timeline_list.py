"""`Timeline` holds validated rows and builds each entry when first read: the entry it builds
is the one the projection makes from the same event, built once and kept (changes made to it
stay), and finding an entry by id or the newest of a kind builds nothing else. Read as a whole
(iterated, compared, dumped, copied), it is the list of entries it stands for."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from tests.domain.factories import Log
from warroom.domain.events import EntryAdded, Event
from warroom.domain.incident import IncidentState
from warroom.domain.projection import ProjectionError, add_entry_rows, replay
from warroom.domain.timeline import EntryKind, TimelineEntry
from warroom.domain.timeline_list import ADDED_ROW_FIELDS, ENTRY_FIELDS, Row, Timeline

T1 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _log_with_notes() -> tuple[list[Event], list[Event]]:
    """A declared incident, then notes of every kind a person posts, one back-dated."""
    log = Log()
    start = list(log.events)
    kinds = [EntryKind.NOTE, EntryKind.STATUS, EntryKind.DECISION, EntryKind.NOTE]
    added = [
        log.add(
            "scribe",
            EntryAdded(
                kind=kind,
                text=f"note {n} @alice",
                occurred_at=T1 - timedelta(minutes=n) if n == 2 else None,
                tags=["db"] if n else [],
                typed_at=T1 if n == 3 else None,
            ),
        )
        for n, kind in enumerate(kinds)
    ]
    return start, added


def _added_row(event: Event) -> Row:
    values = {**event.__dict__, **event.body.__dict__}
    return tuple(values[name] for name in ADDED_ROW_FIELDS)


def _entry_row(entry: TimelineEntry) -> Row:
    return tuple(getattr(entry, name) for name in ENTRY_FIELDS)


def _with_rows() -> tuple[IncidentState, IncidentState]:
    """The same incident folded from events, and from the declaration plus added-entry rows."""
    start, added = _log_with_notes()
    by_events = replay([*start, *added])
    by_rows = replay(start)
    add_entry_rows(by_rows, [_added_row(event) for event in added])
    return by_events, by_rows


def test_added_entry_rows_make_the_state_the_events_make_and_build_entries_only_when_read() -> None:
    by_events, by_rows = _with_rows()
    assert by_rows.timeline.unbuilt == 4
    assert by_rows.seq == by_events.seq
    assert by_rows.last_status_at == by_events.last_status_at  # a status note among the rows
    first = by_rows.timeline[-1]
    assert by_rows.timeline.unbuilt == 3
    assert by_rows.timeline[-1] is first  # built once, then kept
    assert by_rows == by_events
    assert by_rows.model_dump_json() == by_events.model_dump_json()
    assert by_rows.timeline.unbuilt == 0


def test_an_entry_found_by_id_is_the_only_one_built_and_changes_to_it_stay() -> None:
    _, by_rows = _with_rows()
    last_id = by_rows.timeline.index_of(by_rows.seq)
    assert last_id is not None
    entry = by_rows.entry(by_rows.seq)
    assert entry is not None
    assert entry.text == "note 3 @alice"
    assert by_rows.timeline.unbuilt == 3
    assert by_rows.entry(10_000) is None
    entry.struck = True
    assert by_rows.timeline[last_id].struck


def test_the_newest_of_a_kind_builds_only_entries_of_that_kind() -> None:
    _, by_rows = _with_rows()
    [status] = list(by_rows.timeline.newest_of_kind(EntryKind.STATUS))
    assert status.text == "note 1 @alice"
    assert by_rows.timeline.unbuilt == 3
    assert by_rows.timeline.kind_at(-1) is EntryKind.NOTE
    assert by_rows.timeline.unbuilt == 3


def test_entry_rows_build_the_entries_they_were_made_of() -> None:
    by_events, _ = _with_rows()
    entries = list(by_events.timeline)
    rows = Timeline.of_rows([_entry_row(entry) for entry in entries])
    assert rows.unbuilt == len(entries)
    assert [e.model_dump_json() for e in rows] == [e.model_dump_json() for e in entries]
    assert rows == entries
    # As the entries of a snapshot validated from JSON, where every field is given.
    validated = IncidentState.model_validate_json(by_events.model_dump_json()).timeline
    assert [e.model_fields_set for e in rows] == [e.model_fields_set for e in validated]


def test_read_as_a_whole_it_is_the_list_of_its_entries() -> None:
    by_events, by_rows = _with_rows()
    entries = list(by_events.timeline)
    assert by_rows.timeline[1:3] == entries[1:3]
    assert list(reversed(by_rows.timeline)) == entries[::-1]
    copied = by_rows.model_copy(deep=True)
    assert copied == by_events
    assert copy.copy(by_rows.timeline) == entries
    assert IncidentState.model_validate(by_rows.model_dump()) == by_events
    validated = IncidentState.model_validate_json(by_rows.model_dump_json())
    assert isinstance(validated.timeline, Timeline)
    assert validated.timeline == entries


def test_a_row_out_of_sequence_is_refused_where_it_stands_as_an_event_would_be() -> None:
    start, added = _log_with_notes()
    state = replay(start)
    rows = [_added_row(event) for event in added]
    rows[2] = (rows[2][0] + 1, *rows[2][1:])
    with pytest.raises(ProjectionError, match=f"expected seq {added[2].seq}, got"):
        add_entry_rows(state, rows)
    assert state == replay([*start, *added[:2]])


def test_replacing_or_removing_one_entry_builds_no_other_and_copies_are_their_own() -> None:
    by_events, by_rows = _with_rows()
    timeline = by_rows.timeline
    copied = copy.copy(timeline)
    timeline[-1] = by_events.timeline[-1]
    del timeline[-2]
    assert timeline.unbuilt == 2
    assert len(copied) == len(timeline) + 1
    assert copied.unbuilt == 4
    given = IncidentState.model_validate({**by_rows.__dict__, "timeline": copied})
    assert given.timeline is not copied
    assert given.timeline == copied
