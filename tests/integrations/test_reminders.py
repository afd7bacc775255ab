"""The server's update clock: "internal update overdue" lands once per missed deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import TEST_SETTINGS
from warroom.client.session import WarroomClient, new_id
from warroom.domain.commands import DeclareIncident, PostStatusUpdate, SetSeverity
from warroom.domain.events import SERVER_ACTOR
from warroom.domain.update_clock import OVERDUE_REMINDER_TEXT
from warroom.server.app import WarroomServer
from warroom.users import create_user

T0 = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)


class FrozenClock:
    """Server time that only moves when the test moves it."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, minutes: float) -> None:
        self.now = T0 + timedelta(minutes=minutes)


def reminders(server: WarroomServer, incident_id: int) -> list[str]:
    state = server.hub.incident_state(incident_id)
    assert state is not None
    return [
        e.text
        for e in state.timeline
        if e.author == SERVER_ACTOR and e.text.startswith(OVERDUE_REMINDER_TEXT)
    ]


async def test_sev1_overdue_fires_once_at_fifteen_minutes_and_restarts_on_update(
    db_path: Path,
) -> None:
    clock = FrozenClock()
    token = await create_user(db_path, "alice")
    async with await WarroomServer.start(db_path, TEST_SETTINGS, clock=clock) as server:
        client = WarroomClient(server.url, token)
        await client.start()
        incident = (
            await client.execute(DeclareIncident(id=new_id(), title="Payments", severity=1))
        ).incident_id
        tick = server.integrations.reminders.tick

        clock.at(14.99)
        assert await tick() == 0
        clock.at(15)
        assert await tick() == 1
        assert reminders(server, incident) == [
            "Internal update overdue: SEV1 update was due at 14:15 UTC (every 15 min)"
        ]
        clock.at(20)
        assert await tick() == 0  # once per missed deadline

        clock.at(21)
        await client.execute(PostStatusUpdate(id=new_id(), incident_id=incident, status="ok"))
        clock.at(35.9)
        assert await tick() == 0
        clock.at(36)
        assert await tick() == 1
        assert reminders(server, incident)[-1].endswith("was due at 14:36 UTC (every 15 min)")
        await client.close()


async def test_sev2_cadence_is_thirty_minutes_and_follows_escalation(db_path: Path) -> None:
    clock = FrozenClock()
    token = await create_user(db_path, "alice")
    async with await WarroomServer.start(db_path, TEST_SETTINGS, clock=clock) as server:
        client = WarroomClient(server.url, token)
        await client.start()
        incident = (
            await client.execute(DeclareIncident(id=new_id(), title="Login", severity=2))
        ).incident_id
        tick = server.integrations.reminders.tick
        clock.at(29)
        assert await tick() == 0
        clock.at(30)
        assert await tick() == 1
        clock.at(32)
        await client.execute(
            SetSeverity(id=new_id(), incident_id=incident, severity=1, expected=2, reason="worse")
        )
        clock.at(46)
        assert await tick() == 0
        clock.at(47)
        assert await tick() == 1
        assert reminders(server, incident)[-1].startswith(
            "Internal update overdue: SEV1 update was due at 14:47"
        )
        await client.close()


async def test_sev3_owes_no_updates(db_path: Path) -> None:
    clock = FrozenClock()
    token = await create_user(db_path, "alice")
    async with await WarroomServer.start(db_path, TEST_SETTINGS, clock=clock) as server:
        client = WarroomClient(server.url, token)
        await client.start()
        await client.execute(DeclareIncident(id=new_id(), title="Slow job", severity=3))
        clock.at(600)
        assert await server.integrations.reminders.tick() == 0
        await client.close()


async def test_reminder_is_not_repeated_after_a_server_restart(db_path: Path) -> None:
    clock = FrozenClock()
    token = await create_user(db_path, "alice")
    async with await WarroomServer.start(db_path, TEST_SETTINGS, clock=clock) as server:
        client = WarroomClient(server.url, token)
        await client.start()
        incident = (
            await client.execute(DeclareIncident(id=new_id(), title="Payments", severity=1))
        ).incident_id
        await client.close()
        clock.at(16)
        assert await server.integrations.reminders.tick() == 1
    async with await WarroomServer.start(db_path, TEST_SETTINGS, clock=clock) as restarted:
        clock.at(17)
        assert await restarted.integrations.reminders.tick() == 0
        assert len(reminders(restarted, incident)) == 1
