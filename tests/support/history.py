"""Closed incidents for history tests: short logs whose post-mortem is done."""

from __future__ import annotations

from datetime import datetime

from tests.domain.factories import Log
from warroom.domain.events import Event, PhaseChanged
from warroom.domain.phase import Phase
from warroom.domain.projection import replay


def closed_log(incident_id: int, resolved_at: datetime) -> list[Event]:
    """A short incident, resolved at `resolved_at` with its post-mortem done."""
    events = [e.model_copy(update={"incident_id": incident_id}) for e in Log().events]
    seq = events[-1].seq
    for phase, previous in (
        (Phase.RESOLVED, events and replay(events).incident.phase),
        (Phase.POSTMORTEM_DONE, Phase.RESOLVED),
    ):
        seq += 1
        events.append(
            Event(
                incident_id=incident_id,
                seq=seq,
                at=resolved_at,
                actor="alice",
                command_id=f"{incident_id}-{phase.value}",
                body=PhaseChanged(phase=phase, previous=previous),
            )
        )
    return events
