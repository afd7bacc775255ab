"""`apply_events` folds many events into exactly the state `apply_event` makes one at a time:
on the bench's long generated incident, and on any mix of events cut into any batches, including
logs with an event that does not fit (the same events stay applied, the same error is raised)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from bench import seed
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.domain.factories import Log
from warroom.domain.checklist import ItemState
from warroom.domain.events import (
    ChecklistItemChanged,
    EntryAdded,
    EntryAmended,
    EntryStruck,
    Event,
    EventBody,
    PhaseChanged,
    ServiceAdded,
    ServiceRemoved,
    SeverityChanged,
    StatusUpdatePosted,
)
from warroom.domain.incident import IncidentState
from warroom.domain.phase import Phase
from warroom.domain.projection import (
    ProjectionError,
    apply_event,
    apply_events,
    replay,
)
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind, TimelineEntry
from warroom.domain.timeline_list import new_entry

T1 = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)


def _same_state(a: IncidentState, b: IncidentState) -> None:
    assert a.model_dump_json() == b.model_dump_json()
    assert a == b
    # Which fields were set decides `exclude_unset` dumps; the entries must agree there too.
    assert [e.model_fields_set for e in a.timeline] == [e.model_fields_set for e in b.timeline]


def _one_by_one(start: list[Event], events: list[Event]) -> tuple[IncidentState, str | None]:
    state = replay(start)
    for event in events:
        try:
            apply_event(state, event)
        except ProjectionError as exc:
            return state, str(exc)
    return state, None


def _in_batches(
    start: list[Event], events: list[Event], cuts: list[int]
) -> tuple[IncidentState, str | None]:
    state = replay(start)
    bounds = [0, *sorted(set(cuts)), len(events)]
    try:
        for low, high in pairwise(bounds):
            apply_events(state, events[low:high])
    except ProjectionError as exc:
        return state, str(exc)
    return state, None


def test_the_bench_incident_folded_at_once_equals_one_at_a_time() -> None:
    log = seed.incident_events(2, 3_000, "bench")
    by_one, error = _one_by_one(log[:1000], log[1000:])
    at_once, bulk_error = _in_batches(log[:1000], log[1000:], [])
    assert error is None
    assert bulk_error is None
    _same_state(by_one, at_once)
    assert at_once.seq == 3_001
    _same_state(replay(log), at_once)  # `replay` folds with `apply_events` too


def test_an_added_entry_is_the_entry_its_values_validate_to() -> None:
    """`new_entry` names every field itself, for speed: in the model's order, the same set."""
    made = new_entry(
        7, T1, "alice", EntryKind.STATUS, "ok @bob", T1 - timedelta(minutes=1), "c-1", ["db"], T1
    )
    validated = TimelineEntry(
        id=7,
        kind=EntryKind.STATUS,
        text="ok @bob",
        author="alice",
        at=T1,
        occurred_at=T1 - timedelta(minutes=1),
        typed_at=T1,
        correlation_id="c-1",
        tags=["db"],
        mentions=["bob"],
    )
    assert made.model_dump_json() == validated.model_dump_json()
    assert made.model_fields_set == validated.model_fields_set
    assert made == validated


def test_an_event_that_does_not_fit_keeps_the_ones_before_it_and_changes_nothing() -> None:
    log = Log()
    start = list(log.events)
    added = [log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text=f"n{n}")) for n in range(3)]
    stray = Event(
        incident_id=1,
        seq=added[-1].seq + 1,
        at=T1,
        actor="scribe",
        body=EntryStruck(entry_id=999, reason="no such entry"),
    )
    after = Event(incident_id=1, seq=stray.seq + 1, at=T1, actor="scribe", body=added[0].body)
    state = replay(start)
    with pytest.raises(ProjectionError, match="no timeline entry 999"):
        apply_events(state, [*added, stray, after])
    assert state.seq == added[-1].seq
    _same_state(state, log.state)


def test_a_gap_in_a_batch_is_refused_at_the_gap() -> None:
    log = Log()
    start = list(log.events)
    added = [log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text=f"n{n}")) for n in range(4)]
    state = replay(start)
    with pytest.raises(ProjectionError, match=f"expected seq {added[2].seq}"):
        apply_events(state, [*added[:2], *added[3:]])
    assert state.seq == added[1].seq
    assert [e.text for e in state.timeline[-2:]] == ["n0", "n1"]


_KINDS = st.sampled_from([EntryKind.NOTE, EntryKind.STATUS, EntryKind.DECISION, EntryKind.TODO])


@st.composite
def _bodies(draw: st.DrawFn, last_seq: int) -> EventBody:
    """Any body the projection takes; targets are drawn freely, so some do not fit."""
    target = st.integers(min_value=1, max_value=last_seq + 2)
    choice = draw(st.integers(min_value=0, max_value=9))
    if choice <= 3:
        text = draw(st.sampled_from(["plain", "ping @alice and @bob.", "@carol", ""]))
        tags = draw(st.lists(st.sampled_from(["db", "api"]), max_size=2))
        return EntryAdded(kind=draw(_KINDS), text=text, tags=tags, typed_at=T1)
    if choice == 4:
        return EntryAmended(entry_id=draw(target), text="amended @dave")
    if choice == 5:
        return EntryStruck(entry_id=draw(target), reason="wrong")
    if choice == 6:
        return StatusUpdatePosted(status="better", next_update_at=T1 + timedelta(minutes=30))
    if choice == 7:
        return SeverityChanged(severity=Severity.SEV1, previous=Severity.SEV3, reason="worse")
    if choice == 8:
        service = draw(st.sampled_from(["api", "db"]))
        added = draw(st.booleans())
        return ServiceAdded(service=service) if added else ServiceRemoved(service=service)
    if draw(st.booleans()):
        return PhaseChanged(phase=Phase.MITIGATING, previous=Phase.DECLARED)
    item = draw(st.integers(min_value=1, max_value=6))
    return ChecklistItemChanged(item_id=item, state=ItemState.DONE, previous=ItemState.TODO)


@st.composite
def _logs(draw: st.DrawFn) -> tuple[list[Event], list[Event], list[int]]:
    log = Log()
    start = list(log.events)
    events: list[Event] = []
    seq = start[-1].seq
    for _ in range(draw(st.integers(min_value=0, max_value=40))):
        seq += 1
        # Now and then a seq out of order, which must be refused where it stands.
        shown = seq + draw(st.sampled_from([0] * 30 + [1, -1]))
        body = draw(_bodies(seq))
        events.append(
            Event(incident_id=1, seq=shown, at=T1 + timedelta(seconds=seq), actor="ic", body=body)
        )
    cuts = draw(st.lists(st.integers(min_value=0, max_value=len(events)), max_size=5))
    return start, events, cuts


@settings(max_examples=200, deadline=None)
@given(_logs())
def test_any_log_in_any_batches_folds_to_the_same_state_as_one_at_a_time(
    case: tuple[list[Event], list[Event], list[int]],
) -> None:
    start, events, cuts = case
    by_one, error = _one_by_one(start, events)
    batched, batch_error = _in_batches(start, events, cuts)
    assert batch_error == error
    _same_state(by_one, batched)
