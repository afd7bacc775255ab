"""The metrics desk: one Prometheus poller per open incident however many people watch, results
pushed to its followers, and the latest snapshot held for `pin_metrics` to write into the
timeline (the sequencer decides and commits the pin like any other command).

Plan step 4 (service dashboards: latency, error rate, saturation). A failing query shows as an
error on that signal only; Prometheus being down shows as errors, never as a stuck war room.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from warroom.domain.errors import DomainError, ErrorCode
from warroom.domain.events import Event
from warroom.domain.incident import IncidentState
from warroom.domain.metrics import MetricsSnapshot
from warroom.integrations.tasks import TaskSet
from warroom.monitoring.poller import Poller, PollFailed, PollOutcome
from warroom.monitoring.signals import MetricsConfig, PromQLClient, take_snapshot
from warroom.protocol.frames import GetMetrics, MetricsReport
from warroom.server.connection import Connection
from warroom.server.hub import error_frame
from warroom.server.sequencer import Sequencer

log = logging.getLogger(__name__)


def services_of(state: IncidentState) -> list[str]:
    """The incident's services plus those its technical leads own."""
    owned = [s for s in state.roster.tls.values() if s]
    return sorted(set(state.incident.services) | set(owned))


class MetricsDesk:
    """Polls Prometheus for the incidents that are open and touch services."""

    def __init__(
        self,
        hub: Sequencer,
        tasks: TaskSet,
        clock: Callable[[], datetime],
        prometheus: PromQLClient | None,
        config: MetricsConfig,
        *,
        interval: float,
        timers: bool,
    ) -> None:
        self._hub = hub
        self._tasks = tasks
        self._clock = clock
        self._prometheus = prometheus
        self._config = config
        self._interval = interval
        self._timers = timers
        self.latest: dict[int, MetricsSnapshot] = {}
        self._pollers: dict[int, Poller[MetricsSnapshot | None]] = {}
        hub.route(GetMetrics, self.on_get_metrics)
        hub.attach_metrics(self)
        hub.on_subscribe(self.on_subscribed)
        hub.add_observer(self.on_events_committed, when=self._polls)

    def start(self) -> None:
        for state in self._hub.states:
            self._keep_polling(state)

    async def stop(self) -> None:
        for poller in self._pollers.values():
            await poller.stop()

    async def refresh(self, incident_id: int) -> MetricsSnapshot | None:
        """Take a snapshot now, keep it as the latest and push it to the incident's followers."""
        state = self._hub.incident_state(incident_id)
        services = services_of(state) if state is not None else []
        if self._prometheus is None or not services:
            return None
        snapshot = await take_snapshot(self._prometheus, services, self._config, self._clock())
        self.latest[incident_id] = snapshot
        report = MetricsReport(incident_id=incident_id, snapshot=snapshot)
        self._hub.send_to_followers(incident_id, report.model_dump_json())
        return snapshot

    # --- reacting to the incident ---------------------------------------------------------------

    def _polls(self) -> bool:
        """Whether this node polls Prometheus at all."""
        return self._timers and self._prometheus is not None

    def on_events_committed(self, events: list[Event]) -> None:
        if not self._polls():
            # No poller is ever wanted: asking for the states would only make a node of a
            # cluster apply other nodes' events at once (`IncidentCache.follow_on`).
            return
        for incident_id in {e.incident_id for e in events}:
            state = self._hub.incident_state(incident_id)
            if state is not None:
                self._keep_polling(state)

    def _keep_polling(self, state: IncidentState) -> None:
        incident_id = state.incident.id
        wanted = (
            self._timers
            and self._prometheus is not None
            and state.incident.phase.is_open
            and bool(services_of(state))
        )
        poller = self._pollers.get(incident_id)
        if wanted and poller is None:
            poller = Poller(
                lambda: self.refresh(incident_id), self._polled, interval=self._interval
            )
            self._pollers[incident_id] = poller
            poller.start(name=f"metrics #{incident_id}")
        elif not wanted and poller is not None:
            del self._pollers[incident_id]
            self._tasks.spawn(poller.stop(), f"stop metrics #{incident_id}")

    def _polled(self, outcome: PollOutcome[MetricsSnapshot | None]) -> None:
        if isinstance(outcome, PollFailed):
            log.warning("metrics poll failed: %s", outcome.error)

    # --- frames ---------------------------------------------------------------------------------

    def on_subscribed(self, conn: Connection, incident_id: int) -> None:
        snapshot = self.latest.get(incident_id)
        if snapshot is not None:
            conn.send(MetricsReport(incident_id=incident_id, snapshot=snapshot).model_dump_json())

    def on_get_metrics(self, conn: Connection, frame: GetMetrics) -> None:
        if self._hub.incident_state(frame.incident_id) is None:
            missing = DomainError(ErrorCode.UNKNOWN_INCIDENT, f"no incident {frame.incident_id}")
            conn.send(error_frame(frame.id, missing))
            return
        self._tasks.spawn(self._answer(conn, frame), f"metrics for {conn.user}")

    async def _answer(self, conn: Connection, frame: GetMetrics) -> None:
        snapshot = self.latest.get(frame.incident_id) or await self.refresh(frame.incident_id)
        conn.send(
            MetricsReport(
                id=frame.id,
                incident_id=frame.incident_id,
                snapshot=snapshot,
                error=None if snapshot else self.why_none(frame.incident_id),
            ).model_dump_json()
        )

    # --- what the sequencer reads when someone pins -----------------------------------------

    def latest_snapshot(self, incident_id: int) -> MetricsSnapshot | None:
        return self.latest.get(incident_id)

    def why_none(self, incident_id: int) -> str:
        if self._prometheus is None:
            return "this server has no Prometheus configured"
        return "the incident lists no services yet; add one to watch its metrics"
