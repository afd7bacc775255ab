"""The timeline's sorted order follows a live client's list and a replay's jumps, and always
equals sorting the entries anew; a replay's rows are found by an entry's id too; a console's
timeline is ordered from its rows without building an entry, which is built when the pane
reads it."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta

import pytest
from bench.incident_log import generated_incident

from warroom.domain.events import EntryAdded, Event
from warroom.domain.incident import IncidentState
from warroom.domain.projection import replay
from warroom.domain.replay_index import ReplayIndex
from warroom.domain.timeline import EntryKind, TimelineEntry
from warroom.protocol.compact import (
    CompactElement,
    apply_compact,
    compact_event_json,
    compact_state_json,
)
from warroom.protocol.frames import SERVER_FRAME_ADAPTER, CompactEvents, CompactSnapshot
from warroom.tui.timeline_format import PositionOrder, TimelineOrder, entry_key


def _sorted(timeline: Sequence[TimelineEntry]) -> list[int]:
    return [id(entry) for entry in sorted(timeline, key=entry_key)]


def _back_dated(events: list[Event], seed: int) -> list[Event]:
    """The log with about one entry in five about a time up to an hour before it was made, so
    entries made later sort before earlier ones."""
    rng = random.Random(seed)
    dated = []
    for event in events:
        body = event.body
        if isinstance(body, EntryAdded) and rng.random() < 0.2:
            earlier = event.at - timedelta(seconds=rng.randint(1, 3600))
            event = event.model_copy(
                update={"body": body.model_copy(update={"occurred_at": earlier})}
            )
        dated.append(event)
    return dated


@pytest.mark.parametrize("start", ["last", "first"])
@pytest.mark.parametrize("back_dating", [False, True])
def test_jumps_back_and_forth_and_steps_keep_the_order_equal_to_a_fresh_sort(
    start: str, back_dating: bool
) -> None:
    # From the first event, the far jumps forward meet lists longer than any seen before.
    events = generated_incident(600, seed=3)
    log = _back_dated(events, seed=8) if back_dating else events
    index = ReplayIndex(log, checkpoint_every=50, fine_every=7)
    order = TimelineOrder(replaced_in_place=True)
    rng = random.Random(4)
    seq = index.last if start == "last" else 1
    for _ in range(150):
        seq = rng.choice((seq - 1, seq + 1, seq - 40, rng.randint(1, index.last)))
        timeline = index.state_at(seq).timeline
        shown = order.update(timeline)
        # By identity: an amended entry's copy, not the version of another step, is shown.
        assert [id(entry) for entry in shown] == _sorted(timeline), f"at {seq}"
        assert isinstance(shown, PositionOrder)
        rows = [shown.row_of(entry.id) for entry in shown]
        assert rows == list(range(len(shown))), f"at {seq}"
        assert shown.row_of(max(entry.id for entry in timeline) + 1) is None


def test_a_replays_rows_are_read_from_either_end_and_in_slices() -> None:
    index = ReplayIndex(_back_dated(generated_incident(300, seed=3), seed=2))
    order = TimelineOrder(replaced_in_place=True)
    order.update(index.state_at(index.last).timeline)
    shown = order.update(index.state_at(150).timeline)
    ordered = sorted(index.state_at(150).timeline, key=entry_key)
    assert shown[-1] is ordered[-1]
    assert shown[0] is ordered[0]
    assert [id(entry) for entry in shown[3:9]] == [id(entry) for entry in ordered[3:9]]
    with pytest.raises(IndexError):
        shown[len(ordered)]


def test_a_list_of_another_incident_is_sorted_anew() -> None:
    order = TimelineOrder()
    first = ReplayIndex(generated_incident(300, seed=5)).state_at(300).timeline
    other = ReplayIndex(generated_incident(300, seed=6)).state_at(300).timeline
    order.update(first)
    assert [id(entry) for entry in order.update(other)] == _sorted(other)


def _as_console_takes_it(events: list[Event]) -> IncidentState:
    """The state after `events` as a console takes it from a compact snapshot: rows."""
    state_json = compact_state_json(replay(events).model_dump_json())
    frame = SERVER_FRAME_ADAPTER.validate_json(
        f'{{"type":"compact_snapshot","incident_id":1,"seq":{len(events)},"state":{state_json}}}'
    )
    assert isinstance(frame, CompactSnapshot)
    return frame.state.to_state()


def test_a_consoles_timeline_is_ordered_from_its_rows_and_builds_only_what_is_read() -> None:
    events = generated_incident(900, seed=7)
    last = events[-1]
    events += [  # back-dated notes, which go among the entries shown rather than after them
        last.model_copy(
            update={
                "seq": last.seq + step,
                "body": EntryAdded(kind=EntryKind.NOTE, text="late", occurred_at=events[n].at),
            }
        )
        for step, n in enumerate((600, 3, 700), start=1)
    ]
    state = _as_console_takes_it(events[:500])
    order = TimelineOrder()
    shown = order.update(state.timeline)
    assert state.timeline.unbuilt == len(state.timeline)  # ordered without building any
    expected = sorted(replay(events[:500]).timeline, key=entry_key)
    drawn = [e.model_dump_json() for e in shown[-3:]]  # the rows a pane at the end draws
    assert state.timeline.unbuilt == len(state.timeline) - 3
    assert drawn == [e.model_dump_json() for e in expected[-3:]]
    assert [e.id for e in shown] == [e.id for e in expected]  # reads (builds) them all

    # A catch-up's rows after it, some of them back-dated: placed as events would place them.
    rows = frame_elements(events[500:])
    apply_compact(state, 1, rows)
    unbuilt = state.timeline.unbuilt
    shown = order.update(state.timeline)
    assert state.timeline.unbuilt == unbuilt
    everything = replay(events)
    assert [e.id for e in shown] == [e.id for e in sorted(everything.timeline, key=entry_key)]


def frame_elements(events: list[Event]) -> list[CompactElement]:
    stored = ",".join(compact_event_json(event.model_dump_json()) for event in events)
    frame = SERVER_FRAME_ADAPTER.validate_json(
        f'{{"type":"compact_events","incident_id":1,"events":[{stored}]}}'
    )
    assert isinstance(frame, CompactEvents)
    return list(frame.events)
