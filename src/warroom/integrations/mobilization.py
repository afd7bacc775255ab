"""Mobilization: SEV1/SEV2 page the on-call rotation, SEV3 tells the owning team, resolve unpages.

Plan section 3 ("Response") and step 3. Every delivery and its outcome lands on the timeline.
"""

from __future__ import annotations

from warroom.config import ServerConfig
from warroom.domain.events import (
    EntryAdded,
    Event,
    IncidentDeclared,
    PhaseChanged,
    SeverityChanged,
)
from warroom.domain.phase import Phase
from warroom.domain.severity import NotificationRoute, Severity
from warroom.domain.timeline import EntryKind
from warroom.integrations.tasks import TaskSet
from warroom.notify.pagerduty import PagerDutyNotifier
from warroom.notify.retry import DeliveryOutcome
from warroom.notify.slack import (
    SlackNotifier,
    incident_declared_message,
    incident_resolved_message,
)
from warroom.server.sequencer import Sequencer


def outcome_text(what: str, outcome: DeliveryOutcome) -> str:
    """A timeline line for one delivery: what was sent and how it went."""
    tries = f"{outcome.attempts} attempt{'s' if outcome.attempts != 1 else ''}"
    if outcome.ok:
        return f"{what}: delivered ({tries})"
    reason = f"HTTP {outcome.status}" if outcome.status else (outcome.error or "no response")
    return f"{what}: FAILED after {tries} ({reason})"


class Mobilizer:
    """Pages or notifies on declaration and escalation, and resolves the page on resolution."""

    def __init__(
        self,
        hub: Sequencer,
        config: ServerConfig,
        tasks: TaskSet,
        pagerduty: PagerDutyNotifier | None,
        team_slack: SlackNotifier | None,
    ) -> None:
        self._hub = hub
        self._config = config
        self._tasks = tasks
        self._pagerduty = pagerduty
        self._team_slack = team_slack
        hub.add_observer(self.on_events_committed)

    def on_events_committed(self, events: list[Event]) -> None:
        for event in events:
            body = event.body
            if isinstance(body, IncidentDeclared):
                self._mobilize(event.incident_id, body.severity, escalation=False)
            elif isinstance(body, SeverityChanged) and body.severity < body.previous:
                self._mobilize(event.incident_id, body.severity, escalation=True)
            elif isinstance(body, PhaseChanged) and body.phase is Phase.RESOLVED:
                self._tasks.spawn(
                    self._stand_down(event.incident_id), f"resolve #{event.incident_id}"
                )

    def _mobilize(self, incident_id: int, severity: Severity, *, escalation: bool) -> None:
        route = severity.policy.route
        self._tasks.spawn(self._notify(incident_id, route, escalation), f"mobilize #{incident_id}")

    async def _notify(self, incident_id: int, route: NotificationRoute, escalation: bool) -> None:
        state = self._hub.incident_state(incident_id)
        if state is None:
            return
        incident = state.incident.model_copy()
        call_link = self._config.call_link_for(incident.id, incident.channel)
        verb = "Escalation" if escalation else "Declaration"
        if route is NotificationRoute.PAGE_ON_CALL and self._pagerduty is not None:
            outcome = await self._pagerduty.trigger(incident, call_link=call_link)
            await self._note(
                incident_id,
                outcome_text(
                    f"{verb}: paged on-call via PagerDuty ({incident.severity.label}, "
                    f"{incident.channel})",
                    outcome,
                ),
            )
        elif route is NotificationRoute.NOTIFY_OWNING_TEAM and self._team_slack is not None:
            message = incident_declared_message(incident, call_link=call_link)
            outcome = await self._team_slack.post(message, target="slack team")
            await self._note(
                incident_id,
                outcome_text(
                    f"{verb}: notified the owning team on Slack ({incident.channel})", outcome
                ),
            )

    async def _stand_down(self, incident_id: int) -> None:
        state = self._hub.incident_state(incident_id)
        if state is None:
            return
        was_paged = any(
            h.severity.policy.route is NotificationRoute.PAGE_ON_CALL
            for h in state.severity_history
        )
        if was_paged and self._pagerduty is not None:
            outcome = await self._pagerduty.resolve(incident_id)
            await self._note(incident_id, outcome_text("Resolved the PagerDuty page", outcome))
        elif self._team_slack is not None:
            message = incident_resolved_message(state.incident.model_copy())
            outcome = await self._team_slack.post(message, target="slack team")
            await self._note(incident_id, outcome_text("Told the owning team on Slack", outcome))

    async def _note(self, incident_id: int, text: str) -> None:
        await self._hub.record(incident_id, EntryAdded(kind=EntryKind.SYSTEM, text=text))
