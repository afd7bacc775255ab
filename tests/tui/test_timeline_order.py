"""The timeline's sorted order follows a live client's list and a replay's jumps, and always
equals sorting the entries anew; a replay's rows are found by an entry's id too."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from bench.incident_log import generated_incident

from warroom.domain.events import EntryAdded, Event
from warroom.domain.replay_index import ReplayIndex
from warroom.domain.timeline import TimelineEntry
from warroom.tui.timeline_format import PositionOrder, TimelineOrder, entry_key


def _sorted(timeline: list[TimelineEntry]) -> list[int]:
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
