"""Replay's fold to any event equals a straight fold of the log up to it, wherever it jumps from."""

from __future__ import annotations

import random

import pytest
from bench.incident_log import generated_incident

from warroom.domain import replay_index
from warroom.domain.events import Event
from warroom.domain.incident import IncidentState
from warroom.domain.projection import ProjectionError, apply_event, replay, start_state
from warroom.domain.replay_index import ChangeKind, ReplayIndex, change_kind

EVENTS = 500
EVERY = 20
"""Checkpoints every 20 events, so the 500-event log crosses twenty-five of them."""
FINE = 3
"""Finer checkpoints every 3 events in the window stepped back through (20 is no multiple)."""


@pytest.fixture(scope="module")
def log() -> list[Event]:
    return generated_incident(EVENTS, seed=7)


@pytest.fixture(scope="module")
def straight(log: list[Event]) -> list[dict[str, object]]:
    """The state after every event, folded straight through, as plain data."""
    state = start_state(log[0])
    dumps = [state.model_dump()]
    for event in log[1:]:
        apply_event(state, event)
        dumps.append(state.model_dump())
    return dumps


def test_the_generated_log_uses_every_kind_of_event(log: list[Event]) -> None:
    kinds = {event.body.type for event in log}
    assert len(kinds) == 22, sorted(kinds)


def test_stepping_forward_then_back_over_every_event_equals_the_straight_fold(
    log: list[Event], straight: list[dict[str, object]]
) -> None:
    index = ReplayIndex(log, checkpoint_every=EVERY, fine_every=FINE)
    for seq in range(1, EVENTS + 1):
        assert index.state_at(seq).model_dump() == straight[seq - 1], f"forward at {seq}"
    for seq in range(EVENTS, 0, -1):
        assert index.state_at(seq).model_dump() == straight[seq - 1], f"back at {seq}"


def test_random_jumps_equal_the_straight_fold_and_leave_the_checkpoints_as_they_were(
    log: list[Event], straight: list[dict[str, object]]
) -> None:
    index = ReplayIndex(log, checkpoint_every=EVERY, fine_every=FINE)
    rng = random.Random(15)
    for _ in range(300):
        # Now and then a few steps back, so finer checkpoints are made and jumped from too.
        seq = rng.randint(1, EVENTS)
        for back in range(rng.choice((0, 0, 4))):
            earlier = max(1, seq - back)
            assert index.state_at(earlier).model_dump() == straight[earlier - 1], f"{earlier}"
        assert index.state_at(seq).model_dump() == straight[seq - 1], f"jump to {seq}"
    # A checkpoint changed by an earlier fold would show here, on the way back over all of them.
    for seq in range(1, EVENTS + 1, EVERY):
        assert index.state_at(seq).model_dump() == straight[seq - 1], f"checkpoint {seq}"


def test_after_the_first_step_back_in_a_window_each_step_back_folds_fewer_than_fine_every(
    log: list[Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    index = ReplayIndex(log, checkpoint_every=100, fine_every=10)
    folded = 0

    def counting(state: IncidentState, event: Event) -> None:
        nonlocal folded
        folded += 1
        apply_event(state, event)

    monkeypatch.setattr(replay_index, "apply_event", counting)
    index.state_at(301)  # the first event past the window 201..300
    index.state_at(300)
    assert folded == 99  # the first step back folds from the window's checkpoint (event 201)
    for seq in range(299, 200, -1):
        folded = 0
        assert index.state_at(seq).seq == seq
        assert folded < 10, f"step back to {seq} folded {folded}"


def test_the_last_step_is_the_incident_as_it_stands(log: list[Event]) -> None:
    index = ReplayIndex(log)
    assert index.last == EVENTS
    assert index.state_at(EVENTS + 10).model_dump() == replay(log).model_dump()
    assert index.state_at(-3).seq == 1


def test_change_jumps_land_on_the_next_and_previous_change_of_that_kind(log: list[Event]) -> None:
    index = ReplayIndex(log, checkpoint_every=EVERY)
    for kind in ChangeKind:
        changes = [e.seq for e in log if change_kind(e.body) is kind]
        assert changes, kind
        assert index.next_change(1, kind) == changes[0]
        assert index.next_change(changes[0], kind) == (changes[1] if len(changes) > 1 else None)
        assert index.previous_change(changes[-1], kind) == (
            changes[-2] if len(changes) > 1 else None
        )
        assert index.next_change(changes[-1], kind) is None
        assert index.previous_change(changes[0], kind) is None


def test_a_minute_jump_moves_at_least_one_event_and_at_most_a_minute_of_incident_time(
    log: list[Event],
) -> None:
    index = ReplayIndex(log)
    seq = EVENTS // 2
    later = index.minute_later(seq)
    assert later > seq
    assert later == seq + 1 or (index.at(later) - index.at(seq)).total_seconds() <= 60
    earlier = index.minute_later(seq, -1)
    assert earlier < seq
    assert earlier == seq - 1 or (index.at(seq) - index.at(earlier)).total_seconds() >= 60
    assert index.minute_later(1, -1) == 1


def test_an_empty_or_broken_log_is_refused_with_a_projection_error(log: list[Event]) -> None:
    with pytest.raises(ProjectionError):
        ReplayIndex([])
    with pytest.raises(ProjectionError):
        ReplayIndex([log[0], log[2]])
