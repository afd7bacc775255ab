"""Builds incident states for the status-page tests by replaying events, as the server does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warroom.domain.communications import PublicState
from warroom.domain.events import (
    Event,
    EventBody,
    ExternalApproved,
    ExternalDrafted,
    ExternalRejected,
    IncidentDeclared,
    PhaseChanged,
)
from warroom.domain.incident import IncidentState
from warroom.domain.phase import Phase
from warroom.domain.projection import replay
from warroom.domain.severity import Severity

T0 = datetime(2024, 5, 1, 14, 0, tzinfo=UTC)
"""When every scripted incident is declared."""

IC = "alice"
CL = "carol"


class IncidentLog:
    """One incident's event log; each event lands one minute after the previous one."""

    def __init__(
        self, incident_id: int, title: str, severity: Severity = Severity.SEV1, **declared: str
    ) -> None:
        self.incident_id = incident_id
        self.events: list[Event] = []
        self.add(
            IncidentDeclared(
                title=title,
                severity=severity,
                channel=f"#incident-2024-05-01-{incident_id}",
                checklist=[],
                **declared,
            ),
            actor=IC,
        )

    def add(self, body: EventBody, *, actor: str = IC) -> int:
        seq = len(self.events) + 1
        at = T0 + timedelta(minutes=seq - 1)
        self.events.append(
            Event(incident_id=self.incident_id, seq=seq, at=at, actor=actor, body=body)
        )
        return seq

    def at(self, seq: int) -> datetime:
        return self.events[seq - 1].at

    def draft(
        self,
        text: str,
        *,
        title: str = "Degraded service",
        state: PublicState = PublicState.INVESTIGATING,
        components: list[str] | None = None,
    ) -> int:
        body = ExternalDrafted(title=title, text=text, state=state, components=components or [])
        return self.add(body, actor=CL)

    def approve(self, draft_id: int) -> int:
        return self.add(ExternalApproved(draft_id=draft_id))

    def reject(self, draft_id: int, comment: str = "not yet") -> int:
        return self.add(ExternalRejected(draft_id=draft_id, comment=comment))

    def publish(
        self,
        text: str,
        *,
        title: str = "Degraded service",
        state: PublicState = PublicState.INVESTIGATING,
        components: list[str] | None = None,
    ) -> int:
        """Draft and approve; returns the approval's seq, whose time is the publication time."""
        return self.approve(self.draft(text, title=title, state=state, components=components))

    def move(self, previous: Phase, phase: Phase) -> int:
        return self.add(PhaseChanged(phase=phase, previous=previous))

    def state(self) -> IncidentState:
        return replay(self.events)
