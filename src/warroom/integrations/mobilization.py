"""Mobilization: SEV1/SEV2 page the on-call rotation, SEV3 tells the owning team, resolve unpages.

Plan section 3 ("Response") and step 3. Every delivery and its outcome lands on the timeline.

The PagerDuty alert follows the incident: triggered at declaration (or at the escalation that
first makes it SEV2 or worse), acknowledged when the phase leaves `declared` (the team is working
it, so PagerDuty stops escalating to the next on-call level), re-triggered with the new severity
on SEV2 -> SEV1, and resolved at resolution.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from warroom.config import ServerConfig
from warroom.domain.events import (
    EntryAdded,
    Event,
    IncidentDeclared,
    PhaseChanged,
    ServiceAdded,
    SeverityChanged,
)
from warroom.domain.incident import IncidentState
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
        leading: Callable[[], bool] = lambda: True,
    ) -> None:
        """Args:
        leading: says whether this node runs the integrations now (one node of a cluster
            does; see `warroom.store.leadership`); a follower sends nothing.
        """
        self._hub = hub
        self._leading = leading
        self._config = config
        self._tasks = tasks
        self._pagerduty = pagerduty
        self._team_slack = team_slack
        # One lock per incident keeps its deliveries in commit order: an acknowledge that
        # overtook a trigger still being retried would reach PagerDuty before the alert exists.
        self._order: dict[int, asyncio.Lock] = {}
        hub.add_observer(self.on_events_committed, when=leading)

    def on_events_committed(self, events: list[Event]) -> None:
        if not self._leading():
            return
        for event in events:
            body = event.body
            incident_id = event.incident_id
            if isinstance(body, IncidentDeclared):
                work = self._notify(incident_id, body.severity, None, event.at)
                self._spawn(incident_id, work, "mobilize")
            elif isinstance(body, SeverityChanged) and body.severity < body.previous:
                work = self._notify(incident_id, body.severity, body.previous, event.at)
                self._spawn(incident_id, work, "escalate")
            elif isinstance(body, PhaseChanged) and body.phase is Phase.RESOLVED:
                self._spawn(incident_id, self._stand_down(incident_id), "resolve")
            elif isinstance(body, PhaseChanged) and body.previous is Phase.DECLARED:
                self._spawn(incident_id, self._acknowledge(incident_id), "acknowledge")
            elif isinstance(body, ServiceAdded):
                self._spawn(incident_id, self._tell_owner(incident_id, body.service), "owner")

    def _spawn(self, incident_id: int, work: Coroutine[Any, Any, None], what: str) -> None:
        async def in_order() -> None:
            try:
                async with self._order.setdefault(incident_id, asyncio.Lock()):
                    await work
            finally:
                work.close()  # cancelled while waiting its turn: never started, so no warning

        self._tasks.spawn(in_order(), f"{what} #{incident_id}")

    async def _notify(
        self,
        incident_id: int,
        severity: Severity,
        previous: Severity | None,
        at: datetime,
    ) -> None:
        """Declaration (`previous` None) or escalation from `previous` to `severity`."""
        state = self._hub.incident_state(incident_id)
        if state is None:
            return
        # The severity this event set, even if a later change was committed before it is sent.
        incident = state.incident.model_copy(update={"severity": severity})
        call_link = self._config.call_link_for(incident.id, incident.channel)
        verb = "Declaration" if previous is None else "Escalation"
        route = severity.policy.route
        if route is NotificationRoute.PAGE_ON_CALL and self._pagerduty is not None:
            # Already paged at the previous level: the same alert is re-triggered, which PagerDuty
            # logs on it without paging anyone again, so the summary has to say what changed.
            repage = previous is not None and previous.policy.route is route
            outcome = await self._pagerduty.trigger(
                incident,
                call_link=call_link,
                escalated_from=previous if repage else None,
                at=at,
            )
            what = (
                f"re-triggered the PagerDuty alert as {incident.severity.label} "
                "(PagerDuty logs it on the open alert; it does not page again)"
                if repage
                else f"paged on-call via PagerDuty ({incident.severity.label}, {incident.channel})"
            )
            await self._note(incident_id, outcome_text(f"{verb}: {what}", outcome))
        elif route is NotificationRoute.NOTIFY_OWNING_TEAM and self._team_slack is not None:
            message = incident_declared_message(incident, ic=state.roster.ic, call_link=call_link)
            outcome = await self._team_slack.post(
                message, target="slack team", services=incident.services
            )
            await self._note(
                incident_id,
                outcome_text(
                    f"{verb}: notified the owning team on Slack ({incident.channel})", outcome
                ),
            )

    async def _tell_owner(self, incident_id: int, service: str) -> None:
        """A service added to an open SEV3 incident brings in the team that owns it.

        A SEV3 declared by hand lists no service yet, so its declaration went to the default
        team webhook; the owning team hears of it when its service is named.
        """
        state = self._hub.incident_state(incident_id)
        if state is None or self._team_slack is None:
            return
        incident = state.incident.model_copy()
        route = incident.severity.policy.route
        if (
            route is not NotificationRoute.NOTIFY_OWNING_TEAM
            or not incident.phase.is_open
            or not self._team_slack.has_own_webhook(service)
        ):
            return
        call_link = self._config.call_link_for(incident.id, incident.channel)
        message = incident_declared_message(incident, ic=state.roster.ic, call_link=call_link)
        outcome = await self._team_slack.post(message, target="slack team", services=[service])
        await self._note(
            incident_id,
            outcome_text(f"Service {service}: notified its owning team on Slack", outcome),
        )

    async def _acknowledge(self, incident_id: int) -> None:
        """The phase left `declared`: the incident is being worked, so the page is acknowledged.

        Only an incident paged while still `declared` is acknowledged here; one escalated into
        paging later was escalated for want of people, and its page is left for on-call to take.
        """
        state = self._hub.incident_state(incident_id)
        if state is None or self._pagerduty is None or not _was_paged(state, while_declared=True):
            return
        outcome = await self._pagerduty.acknowledge(incident_id)
        await self._note(
            incident_id,
            outcome_text("Acknowledged the PagerDuty page (the incident is being worked)", outcome),
        )

    async def _stand_down(self, incident_id: int) -> None:
        state = self._hub.incident_state(incident_id)
        if state is None:
            return
        if _was_paged(state) and self._pagerduty is not None:
            outcome = await self._pagerduty.resolve(incident_id)
            await self._note(incident_id, outcome_text("Resolved the PagerDuty page", outcome))
        elif self._team_slack is not None:
            incident = state.incident.model_copy()
            outcome = await self._team_slack.post(
                incident_resolved_message(incident),
                target="slack team",
                services=incident.services,
            )
            await self._note(incident_id, outcome_text("Told the owning team on Slack", outcome))

    async def _note(self, incident_id: int, text: str) -> None:
        await self._hub.record(incident_id, EntryAdded(kind=EntryKind.SYSTEM, text=text))


def _was_paged(state: IncidentState, *, while_declared: bool = False) -> bool:
    """Whether the incident ever had a paging severity (before it left `declared`, if asked)."""
    left_declared = next((p.at for p in state.phase_history if p.phase is not Phase.DECLARED), None)
    return any(
        h.severity.policy.route is NotificationRoute.PAGE_ON_CALL
        and not (while_declared and left_declared is not None and h.at > left_declared)
        for h in state.severity_history
    )
