"""Builds incident states for rule tests by replaying events, the only way state is ever made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from warroom.domain.checklist import PLAN_MITIGATIONS
from warroom.domain.events import Event, EventBody, IncidentDeclared, RoleAssigned
from warroom.domain.incident import IncidentState
from warroom.domain.projection import apply_event, start_state
from warroom.domain.roles import Role
from warroom.domain.severity import Severity

T0 = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
"""The server's time when the rule tests decide: an hour after the declaration."""
USERS = frozenset({"ic", "cl", "tl", "scribe", "observer", "newbie"})


class Log:
    """An incident declared by `ic` with one person in each role; `add` appends more events."""

    def __init__(self, severity: Severity = Severity.SEV3) -> None:
        self._seq = count(1)
        self._minute = count(0)
        declared = IncidentDeclared(
            title="Checkout errors",
            severity=severity,
            channel="#incident-2026-11-29-checkout-errors",
            checklist=list(PLAN_MITIGATIONS),
        )
        self.events = [self._event("ic", declared)]
        self.state: IncidentState = start_state(self.events[0])
        self.add("ic", RoleAssigned(role=Role.CL, user="cl"))
        self.add("ic", RoleAssigned(role=Role.TL, user="tl", service="payments-api"))
        self.add("ic", RoleAssigned(role=Role.SCRIBE, user="scribe"))

    def _event(self, actor: str, body: EventBody) -> Event:
        return Event(
            incident_id=1,
            seq=next(self._seq),
            at=T0 + timedelta(minutes=next(self._minute)),
            actor=actor,
            body=body,
        )

    def add(self, actor: str, body: EventBody) -> Event:
        event = self._event(actor, body)
        apply_event(self.state, event)
        self.events.append(event)
        return event
