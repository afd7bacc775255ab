"""The CL's chosen time for the next update is the deadline, within the plan's bounds: the
server's overdue reminder fires then, and the post-mortem records it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.reminder_room import Room, open_room
from warroom.domain.projection import replay
from warroom.domain.severity import Severity
from warroom.domain.update_clock import next_update_due
from warroom.export.markdown import render_markdown

T0 = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


@pytest.fixture
async def room(db_path: Path) -> AsyncIterator[Room]:
    async with open_room(db_path, T0) as room:
        yield room


async def test_the_reminder_fires_at_the_time_the_cl_chose(room: Room) -> None:
    incident = await room.incident_with_update(Severity.SEV1, timedelta(minutes=1))
    assert await room.tick_at(1.99) == 0
    assert await room.tick_at(2) == 1
    assert room.reminders(incident) == [
        "Internal update overdue: SEV1 update was due at 04:02 UTC "
        "(the time the last update promised)"
    ]
    events = await room.client.read_log(incident)
    markdown = render_markdown(replay(events), events, tz=UTC, generated_at=room.clock.now)
    assert "SEV1 update was due at 04:02 UTC" in markdown


async def test_a_chosen_time_beyond_the_plan_is_held_to_the_plan(room: Room) -> None:
    # A SEV1 owes an update every 15 minutes whatever the update promised.
    incident = await room.incident_with_update(Severity.SEV1, timedelta(minutes=40))
    assert await room.tick_at(15.9) == 0
    assert await room.tick_at(16) == 1
    assert room.reminders(incident) == [
        "Internal update overdue: SEV1 update was due at 04:16 UTC "
        "(the plan's longest wait, 15 min)"
    ]


async def test_a_sev2_may_promise_up_to_an_hour(room: Room) -> None:
    incident = await room.incident_with_update(Severity.SEV2, timedelta(minutes=45))
    state = room.server.hub.incident_state(incident)
    assert state is not None
    assert next_update_due(state) == T0 + timedelta(minutes=46)
    assert await room.tick_at(45.9) == 0
    assert await room.tick_at(46) == 1


async def test_a_time_already_past_names_no_deadline(room: Room) -> None:
    incident = await room.incident_with_update(Severity.SEV1, timedelta(minutes=-5))
    state = room.server.hub.incident_state(incident)
    assert state is not None
    assert next_update_due(state) == T0 + timedelta(minutes=16)  # the cadence
