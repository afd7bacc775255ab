"""The server's update clock: "internal update overdue" lands once per missed deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.reminder_room import Room, open_room
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import new_id
from warroom.domain.commands import PostStatusUpdate, SetSeverity
from warroom.node import start_node

T0 = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)


@pytest.fixture
async def room(db_path: Path) -> AsyncIterator[Room]:
    async with open_room(db_path, T0) as room:
        yield room


async def test_sev1_overdue_fires_once_at_fifteen_minutes_and_restarts_on_update(
    room: Room,
) -> None:
    incident = await room.declare(1)
    assert await room.tick_at(14.99) == 0
    assert await room.tick_at(15) == 1
    assert room.reminders(incident) == [
        "Internal update overdue: SEV1 update was due at 14:15 UTC (every 15 min)"
    ]
    assert await room.tick_at(20) == 0  # once per missed deadline

    room.clock.at(21)
    await room.do(PostStatusUpdate(id=new_id(), incident_id=incident, status="ok"))
    assert await room.tick_at(35.9) == 0
    assert await room.tick_at(36) == 1
    assert room.reminders(incident)[-1].endswith("was due at 14:36 UTC (every 15 min)")


async def test_sev2_cadence_is_thirty_minutes_and_follows_escalation(room: Room) -> None:
    incident = await room.declare(2)
    assert await room.tick_at(29) == 0
    assert await room.tick_at(30) == 1
    room.clock.at(32)
    await room.do(
        SetSeverity(id=new_id(), incident_id=incident, severity=1, expected=2, reason="worse")
    )
    assert await room.tick_at(46) == 0
    assert await room.tick_at(47) == 1
    assert room.reminders(incident)[-1].startswith(
        "Internal update overdue: SEV1 update was due at 14:47"
    )


async def test_sev3_owes_no_updates(room: Room) -> None:
    await room.declare(3)
    assert await room.tick_at(600) == 0


async def test_reminder_is_not_repeated_after_a_server_restart(room: Room, db_path: Path) -> None:
    incident = await room.declare(1)
    assert await room.tick_at(16) == 1
    await room.client.close()
    await room.server.close()
    clock = room.clock
    async with await start_node(db_path, TEST_SETTINGS, clock=clock) as restarted:
        again = Room(restarted, room.client, clock)
        assert await again.tick_at(17) == 0
        assert len(again.reminders(incident)) == 1


async def test_the_reminders_end_when_the_node_stops_as_a_commit_wakes_them(
    db_path: Path,
) -> None:
    """A node stopping right after a commit woke the update clock must still stop: its task
    once took the wake-up and lost the cancellation (`wait_for` on Python 3.11), and the
    node's shutdown waited for it for ever."""
    async with await start_node(db_path, TEST_SETTINGS) as node:
        (task,) = [t for t in node.integrations.background if t.get_name() == "update reminders"]
        assert not task.done()
        node.integrations.reminders.on_events_committed([])  # a commit wakes it...
        task.cancel()  # ...in the same turn of the loop as the shutdown cancels it
        try:
            async with asyncio.timeout(10):
                await asyncio.wait([task])
        except TimeoutError:
            pytest.fail("the update clock's task did not end when cancelled")
        assert task.cancelled()
