"""`#incidents`, the plan's source of truth, hears the lifecycle and every internal status update.

Declarations (SEV, title, IC, channel), severity changes, IC handoffs and resolutions (with the
post-mortem due time) are announced as they are committed, as are internal status updates. Each
delivery's outcome is noted on the incident's timeline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from warroom.domain.events import (
    EntryAdded,
    Event,
    IcAccepted,
    IncidentDeclared,
    PhaseChanged,
    SeverityChanged,
    StatusUpdatePosted,
)
from warroom.domain.incident import IncidentState
from warroom.domain.phase import Phase
from warroom.domain.timeline import EntryKind
from warroom.integrations.mobilization import outcome_text
from warroom.integrations.tasks import TaskSet
from warroom.notify.slack import (
    SlackNotifier,
    escape_mrkdwn,
    ic_handoff_message,
    incident_declared_message,
    incident_resolved_message,
    severity_changed_message,
    slack_message,
)
from warroom.server.sequencer import Sequencer

Message = dict[str, Any]
Compose = Callable[[IncidentState], tuple[str, Message] | None]
"""Builds one announcement from the incident's state when it is sent: what the timeline note
calls it, and the webhook body. None when there is nothing left to say."""


def status_message(state: IncidentState, text: str, author: str) -> dict[str, object]:
    inc = state.incident
    headline = (
        f"*{inc.severity.label} update:* {escape_mrkdwn(inc.title)} (#{inc.id}, "
        f"{escape_mrkdwn(inc.channel)}) from {escape_mrkdwn(author)}"
    )
    return slack_message(f"{headline}\n{escape_mrkdwn(text)}")


class InternalUpdates:
    """Sends the lifecycle and every internal status update to Slack and notes the outcome."""

    def __init__(
        self,
        hub: Sequencer,
        tasks: TaskSet,
        slack: SlackNotifier,
        leading: Callable[[], bool] = lambda: True,
    ) -> None:
        """Args:
        leading: says whether this node runs the integrations now (one node of a cluster
            does; see `warroom.store.leadership`); a follower sends nothing.
        """
        self._hub = hub
        self._leading = leading
        self._tasks = tasks
        self._slack = slack
        # Per incident, announcements leave in commit order ("escalated" never before "declared").
        self._order: dict[int, asyncio.Lock] = {}
        hub.add_observer(self.on_events_committed, when=leading)

    def on_events_committed(self, events: list[Event]) -> None:
        if not self._leading():
            return
        for event in events:
            compose = _composer(event)
            if compose is not None:
                self._tasks.spawn(
                    self._send(event.incident_id, compose), f"slack #incidents #{event.incident_id}"
                )

    async def _send(self, incident_id: int, compose: Compose) -> None:
        async with self._order.setdefault(incident_id, asyncio.Lock()):
            state = self._hub.incident_state(incident_id)
            composed = compose(state) if state is not None else None
            if state is None or composed is None:
                return
            what, message = composed
            outcome = await self._slack.post(
                message, target="slack #incidents", services=state.incident.services
            )
            text = outcome_text(f"{what} sent to #incidents", outcome)
            await self._hub.record(incident_id, EntryAdded(kind=EntryKind.SYSTEM, text=text))


def _composer(event: Event) -> Compose | None:
    """What to announce for one committed event, if anything."""
    body = event.body
    if isinstance(body, StatusUpdatePosted) or (
        isinstance(body, EntryAdded) and body.kind is EntryKind.STATUS
    ):

        def update(state: IncidentState) -> tuple[str, Message] | None:
            entry = state.entry(event.seq)
            if entry is None:
                return None
            return f"Internal update {event.seq}", status_message(state, entry.text, event.actor)

        return update
    if isinstance(body, IncidentDeclared):
        # As declared, even if the message leaves after a change; that change is announced next.
        # The declarer is the first IC.
        return lambda state: (
            "Declaration",
            incident_declared_message(
                state.incident.model_copy(update={"severity": body.severity, "title": body.title}),
                ic=event.actor,
            ),
        )
    if isinstance(body, SeverityChanged):
        return lambda state: (
            f"Severity change to {body.severity.label}",
            severity_changed_message(
                state.incident, body.previous, by=event.actor, reason=body.reason
            ),
        )
    if isinstance(body, IcAccepted):
        return lambda state: (
            f"IC handoff to {body.user}",
            ic_handoff_message(state.incident, new_ic=body.user, previous_ic=body.previous),
        )
    if isinstance(body, PhaseChanged) and body.phase is Phase.RESOLVED:
        return lambda state: ("Resolution", incident_resolved_message(state.incident))
    return None
