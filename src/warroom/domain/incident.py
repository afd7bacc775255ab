"""The projected state of one incident: what every pane of the war room shows."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from warroom.domain.checklist import ChecklistItem
from warroom.domain.communications import ExternalUpdate
from warroom.domain.phase import Phase
from warroom.domain.roles import Roster
from warroom.domain.severity import Severity
from warroom.domain.timeline import TimelineEntry
from warroom.domain.timeline_list import Timeline
from warroom.domain.triage import Detection

POSTMORTEM_DUE_AFTER = timedelta(hours=48)
"""Plan step 7: the blameless post-mortem is held within 48 hours of resolution."""


class SeverityChange(BaseModel):
    severity: Severity
    at: datetime
    by: str
    reason: str = ""


class PhaseChange(BaseModel):
    phase: Phase
    at: datetime
    by: str
    reason: str = ""


class Incident(BaseModel):
    """The incident's header fields."""

    id: int
    title: str
    summary: str = ""
    severity: Severity
    phase: Phase = Phase.DECLARED
    channel: str
    declared_by: str
    declared_at: datetime
    mitigated_at: datetime | None = None
    """When the team first moved to mitigation."""
    resolved_at: datetime | None = None
    postmortem_due: datetime | None = None
    postmortem_done_at: datetime | None = None
    services: list[str] = Field(default_factory=list)
    """Services the incident touches; their metrics are polled and their links offered."""
    detection: Detection | None = None
    """Set when the incident was declared from an alert's triage item."""


class IncidentSummary(BaseModel):
    """One line of the incident list."""

    id: int
    title: str
    severity: Severity
    phase: Phase
    channel: str
    ic: str
    declared_at: datetime
    resolved_at: datetime | None = None
    seq: int


class IncidentState(BaseModel):
    """Everything known about one incident after applying its events up to `seq`."""

    incident: Incident
    seq: int
    roster: Roster
    timeline: Timeline = Field(default_factory=Timeline)
    """In the order recorded; validated and dumped as a list of entries, and may hold a compact
    catch-up's rows, each built into its entry when first read (`domain.timeline_list`)."""
    checklist: list[ChecklistItem] = Field(default_factory=list)
    severity_history: list[SeverityChange] = Field(default_factory=list)
    phase_history: list[PhaseChange] = Field(default_factory=list)
    external_updates: list[ExternalUpdate] = Field(default_factory=list)
    last_status_at: datetime | None = None
    """When the latest internal status update (not struck) was recorded; kept by the projection
    so the update clock never has to scan the timeline."""
    next_update_promised: datetime | None = None
    """The time that update promised the next one for ("Next update: 14:45"), if it named one."""

    def entry(self, entry_id: int) -> TimelineEntry | None:
        """The timeline entry with this id; ids are increasing so a binary search finds it."""
        index = self.timeline.index_of(entry_id)
        return None if index is None else self.timeline[index]

    def external_update(self, draft_id: int) -> ExternalUpdate | None:
        """The public update drafted by event `draft_id`."""
        return next((u for u in self.external_updates if u.id == draft_id), None)

    def item(self, item_id: int) -> ChecklistItem | None:
        """The checklist item with this id."""
        return next((i for i in self.checklist if i.id == item_id), None)

    def summary(self) -> IncidentSummary:
        """The incident's line in a list."""
        inc = self.incident
        return IncidentSummary(
            id=inc.id,
            title=inc.title,
            severity=inc.severity,
            phase=inc.phase,
            channel=inc.channel,
            ic=self.roster.ic,
            declared_at=inc.declared_at,
            resolved_at=inc.resolved_at,
            seq=self.seq,
        )
