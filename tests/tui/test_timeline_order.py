"""The timeline's sorted order follows a replay's jumps by changing only what differs, and
always equals sorting the entries anew."""

from __future__ import annotations

import random

import pytest
from bench.incident_log import generated_incident

from warroom.domain.replay_index import ReplayIndex
from warroom.domain.timeline import TimelineEntry
from warroom.tui.timeline_format import TimelineOrder, entry_key


def _sorted(timeline: list[TimelineEntry]) -> list[int]:
    return [id(entry) for entry in sorted(timeline, key=entry_key)]


@pytest.mark.parametrize("start", ["last", "first"])
def test_jumps_back_and_forth_and_steps_keep_the_order_equal_to_a_fresh_sort(start: str) -> None:
    # From the first event, the far jumps forward meet lists longer than any seen before.
    index = ReplayIndex(generated_incident(600, seed=3), checkpoint_every=50, fine_every=7)
    order = TimelineOrder(replaced_in_place=True)
    rng = random.Random(4)
    seq = index.last if start == "last" else 1
    for _ in range(150):
        seq = rng.choice((seq - 1, seq + 1, seq - 40, rng.randint(1, index.last)))
        timeline = index.state_at(seq).timeline.built()
        shown = order.update(timeline)
        # By identity: an amended entry's copy, not the version of another step, is shown.
        assert [id(entry) for entry in shown] == _sorted(timeline), f"at {seq}"


def test_a_list_of_another_incident_is_sorted_anew() -> None:
    order = TimelineOrder()
    first = ReplayIndex(generated_incident(300, seed=5)).state_at(300).timeline.built()
    other = ReplayIndex(generated_incident(300, seed=6)).state_at(300).timeline.built()
    order.update(first)
    assert [id(entry) for entry in order.update(other)] == _sorted(other)
