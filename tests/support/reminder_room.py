"""A war room on a frozen clock for the update-clock tests: a node whose time only moves when
the test moves it, the IC's client, and the overdue reminders the server wrote."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient, new_id
from warroom.domain.commands import Command, DeclareIncident, PostStatusUpdate
from warroom.domain.events import SERVER_ACTOR
from warroom.domain.severity import Severity
from warroom.domain.update_clock import OVERDUE_REMINDER_TEXT
from warroom.node import WarroomNode, start_node
from warroom.users import create_user


class FrozenClock:
    """Server time that only moves when the test moves it."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, minutes: float) -> None:
        self.now = self.start + timedelta(minutes=minutes)


@dataclass
class Room:
    """A server on a frozen clock and the IC's client."""

    server: WarroomNode
    client: WarroomClient
    clock: FrozenClock

    async def declare(self, severity: int) -> int:
        ack = await self.client.execute(
            DeclareIncident(id=new_id(), title="Payments", severity=severity)
        )
        return ack.incident_id

    async def incident_with_update(self, severity: Severity, next_in: timedelta) -> int:
        """Declared at the start, an internal update a minute later promising the next in
        `next_in`."""
        incident_id = await self.declare(severity)
        self.clock.at(1)
        await self.client.execute(
            PostStatusUpdate(
                id=new_id(), incident_id=incident_id, status="rolling back",
                next_update_at=self.clock.now + next_in,
            )
        )  # fmt: skip
        return incident_id

    async def do(self, command: Command) -> None:
        await self.client.execute(command)

    async def tick_at(self, minutes: float) -> int:
        """Move the clock and let the reminders look; returns how many were written."""
        self.clock.at(minutes)
        return await self.server.integrations.reminders.tick()

    def reminders(self, incident_id: int) -> list[str]:
        state = self.server.hub.incident_state(incident_id)
        assert state is not None
        return [
            e.text
            for e in state.timeline
            if e.author == SERVER_ACTOR and e.text.startswith(OVERDUE_REMINDER_TEXT)
        ]


@asynccontextmanager
async def open_room(db_path: Path, start: datetime) -> AsyncIterator[Room]:
    """A node on `db_path` whose clock stands at `start`, with alice's client connected."""
    clock = FrozenClock(start)
    token = await create_user(db_path, "alice")
    async with await start_node(db_path, TEST_SETTINGS, clock=clock) as server:
        client = WarroomClient(server.url, token)
        await client.start()
        try:
            yield Room(server, client, clock)
        finally:
            await client.close()
