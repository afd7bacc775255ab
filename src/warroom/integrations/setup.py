"""Builds the integrations a server's configuration asks for, and stops them at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from warroom.config import ServerConfig
from warroom.integrations.internal_updates import InternalUpdates
from warroom.integrations.mobilization import Mobilizer
from warroom.integrations.reminders import UpdateReminders
from warroom.integrations.status_publisher import StatusPublisher
from warroom.integrations.tasks import TaskSet
from warroom.notify.pagerduty import PagerDutyNotifier
from warroom.notify.slack import SlackNotifier
from warroom.notify.statuspage import StatuspageNotifier
from warroom.server.hub import Hub


@dataclass
class Integrations:
    """The running integrations of one server."""

    http: httpx.AsyncClient
    tasks: TaskSet
    reminders: UpdateReminders
    status: StatusPublisher
    background: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def start(
        cls, hub: Hub, config: ServerConfig, clock: Callable[[], datetime], *, timers: bool = True
    ) -> Integrations:
        """Start what `config` asks for. Without `timers` nothing runs on wall-clock time: the
        caller drives the clock (tests call `reminders.tick()` themselves)."""
        http = httpx.AsyncClient()
        tasks = TaskSet()
        pagerduty = PagerDutyNotifier(http, config.pagerduty) if config.pagerduty else None
        team = SlackNotifier(http, config.slack_team) if config.slack_team else None
        if pagerduty is not None or team is not None:
            Mobilizer(hub, config, tasks, pagerduty, team)
        if config.slack_incidents is not None:
            InternalUpdates(hub, tasks, SlackNotifier(http, config.slack_incidents))
        reminders = UpdateReminders(hub, config.updates, clock)
        statuspage = StatuspageNotifier(http, config.statuspage) if config.statuspage else None
        publisher = StatusPublisher(hub, tasks, clock, config.status_page.folder, statuspage)
        running = cls(http, tasks, reminders, publisher)
        if timers:
            running.background.append(asyncio.create_task(reminders.run(), name="update reminders"))
        return running

    async def idle(self) -> None:
        """Wait until every outbound delivery started so far has finished (for tests)."""
        await self.tasks.drain()

    async def close(self) -> None:
        for task in self.background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.tasks.cancel()
        await self.http.aclose()
