"""Builds the integrations a server's configuration asks for, and stops them at shutdown.

In a cluster only the leading node (`warroom.store.leadership`) polls Alertmanager, writes
update-clock reminders and sends anything outside; the others keep their own `/status` page and
Prometheus metrics for their own consoles, and stand by to take over.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from warroom.config import AlertmanagerSettings, ServerConfig
from warroom.integrations.internal_updates import InternalUpdates
from warroom.integrations.metrics import MetricsDesk
from warroom.integrations.mobilization import Mobilizer
from warroom.integrations.reminders import UpdateReminders
from warroom.integrations.status_publisher import StatusPublisher
from warroom.integrations.tasks import TaskSet
from warroom.integrations.triage import TriageDesk
from warroom.monitoring.alertmanager import DEFAULT_SEVERITY_MAP, AlertmanagerClient
from warroom.monitoring.poller import Poller, PollFailed, PollOutcome
from warroom.monitoring.prometheus import PrometheusClient
from warroom.monitoring.signals import MetricsConfig
from warroom.notify.pagerduty import PagerDutyNotifier
from warroom.notify.slack import SlackNotifier
from warroom.notify.statuspage import StatuspageNotifier
from warroom.server.sequencer import Sequencer
from warroom.store.base import EventStore
from warroom.store.leadership import AlwaysLeader, Leadership


@dataclass
class Integrations:
    """The running integrations of one server."""

    http: httpx.AsyncClient | None
    """The one HTTP client of every outside service, made only when one is configured: making
    it loads the CA certificates, a third of a second of every start."""
    tasks: TaskSet
    reminders: UpdateReminders
    status: StatusPublisher
    triage: TriageDesk
    metrics: MetricsDesk
    leadership: Leadership = field(default_factory=AlwaysLeader)
    alert_poller: Poller[None] | None = None
    background: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(
        cls,
        hub: Sequencer,
        store: EventStore,
        config: ServerConfig,
        clock: Callable[[], datetime],
        *,
        timers: bool = True,
        leadership: Leadership | None = None,
    ) -> Integrations:
        """Start what `config` asks for. Without `timers` nothing runs on wall-clock time: the
        caller drives the clock and polls (tests call `reminders.tick()` themselves).

        Args:
            leadership: whether this node runs them now; None: always (a single node).
        """
        leadership = leadership or AlwaysLeader()

        def leading() -> bool:
            return leadership.is_leader

        made: list[httpx.AsyncClient] = []

        def http() -> httpx.AsyncClient:
            if not made:
                made.append(httpx.AsyncClient())
            return made[0]

        tasks = TaskSet()
        pagerduty = PagerDutyNotifier(http(), config.pagerduty) if config.pagerduty else None
        team = SlackNotifier(http(), config.slack_team) if config.slack_team else None
        if pagerduty is not None or team is not None:
            Mobilizer(hub, config, tasks, pagerduty, team, leading)
        if config.slack_incidents is not None:
            InternalUpdates(hub, tasks, SlackNotifier(http(), config.slack_incidents), leading)
        reminders = UpdateReminders(hub, config.updates, clock, leading)
        statuspage = StatuspageNotifier(http(), config.statuspage) if config.statuspage else None
        publisher = StatusPublisher(
            hub, tasks, clock, config.status_page.folder, statuspage, leading
        )
        # After the start, not before it: reading each recently closed incident costs
        # start-up time, and the page is complete a moment later.
        tasks.spawn(publisher.load_recent_closed(), "status page: recently closed incidents")
        triage = TriageDesk(
            hub,
            store,
            tasks,
            clock,
            configured=config.alertmanager is not None,
            severity_map=(
                config.alertmanager.severity_map if config.alertmanager else DEFAULT_SEVERITY_MAP
            ),
            group_by=config.alertmanager.group_by if config.alertmanager else None,
            keep_resolved=timedelta(
                minutes=config.alertmanager.keep_resolved_minutes if config.alertmanager else 60
            ),
        )
        await triage.load()
        prom = config.prometheus
        metrics = MetricsDesk(
            hub,
            tasks,
            clock,
            PrometheusClient(prom.url, http=http()) if prom else None,
            prom.metrics if prom else MetricsConfig(),
            interval=prom.poll_seconds if prom else 60.0,
            timers=timers,
        )
        http_client = made[0] if made else None
        running = cls(http_client, tasks, reminders, publisher, triage, metrics, leadership)
        leadership.on_change(running._on_leadership_changed)
        metrics.start()
        am = config.alertmanager
        if am is not None and am.url is not None and timers:
            running.alert_poller = alert_poller(
                triage, AlertmanagerClient(am.url, http=http()), am, leading
            )
            running.alert_poller.start(name="alertmanager")
        if timers:
            running.background.append(asyncio.create_task(reminders.run(), name="update reminders"))
        return running

    def _on_leadership_changed(self, leading: bool) -> None:
        if not leading:
            return
        # The new leader catches up from the log, never from memory: reminders and resolved
        # drafts already written are there, so nothing is written twice.
        self.reminders.wake()
        self.tasks.spawn(self.status.prepare_resolutions(), "resolved drafts")

    async def idle(self) -> None:
        """Wait until every outbound delivery started so far has finished (for tests)."""
        await self.tasks.drain()

    async def close(self) -> None:
        if self.alert_poller is not None:
            await self.alert_poller.stop()
        await self.metrics.stop()
        for task in self.background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.tasks.cancel()
        if self.http is not None:
            await self.http.aclose()


def alert_poller(
    triage: TriageDesk,
    client: AlertmanagerClient,
    settings: AlertmanagerSettings,
    leading: Callable[[], bool] = lambda: True,
) -> Poller[None]:
    """Poll Alertmanager, finish, reschedule: a slow Alertmanager never piles up requests.
    A node that does not lead skips its turns."""

    async def poll() -> None:
        if not leading():
            return
        taken = triage.turn
        # Silenced and inhibited alerts too: an alert someone silenced is muted, not over.
        groups = await client.alert_groups(settings.receiver, silenced=True, inhibited=True)
        # Asked after the groups: a restart in between shows as one and resolves nothing.
        started = await client.started_at()
        await triage.reconcile(groups, source_started=started, taken=taken)

    def polled(outcome: PollOutcome[None]) -> None:
        if isinstance(outcome, PollFailed):
            triage.source_failed(str(outcome.error))

    return Poller(poll, polled, interval=settings.poll_seconds)
