"""Triage: an alert group that fired, waiting for the on-call engineer to declare or dismiss it.

Plan steps 1 and 2. A triage item is not an incident; declaring it makes one (the declarer is
IC) and records how the incident was detected and how long triage took.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from warroom.domain.severity import Severity


class TriageStatus(StrEnum):
    OPEN = "open"
    DECLARED = "declared"
    DISMISSED = "dismissed"


class TriageAlert(BaseModel):
    """One alert (by Alertmanager fingerprint) of the group, as last seen."""

    fingerprint: str
    name: str
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime
    firing: bool = True
    times_fired: int = 1


class TriageItem(BaseModel):
    """An alert group under triage, from its first alert to the on-call engineer's decision."""

    id: int
    group_key: str
    """Receiver plus the group's labels: alerts of one group land on one item."""
    title: str
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime
    opened_at: datetime
    proposed_severity: Severity
    alerts: dict[str, TriageAlert] = Field(default_factory=dict)
    status: TriageStatus = TriageStatus.OPEN
    decided_by: str | None = None
    decided_at: datetime | None = None
    dismiss_reason: str = ""
    dismiss_request: str | None = None
    """The id of the frame that dismissed it, so a resent dismissal is answered, not refused."""
    incident_id: int | None = None
    note: str = ""
    """Context for the engineer, e.g. that the same alerts were dismissed before."""

    @property
    def firing(self) -> bool:
        return any(a.firing for a in self.alerts.values())

    @property
    def runbook_url(self) -> str | None:
        return self.annotations.get("runbook_url")


class Detection(BaseModel):
    """How an incident was detected, when it came from an alert."""

    triage_id: int
    alert_name: str
    alert_started_at: datetime
    triage_opened_at: datetime

    def time_to_declare(self, declared_at: datetime) -> timedelta:
        """From the alert's start to the declaration (the plan's triage step)."""
        return declared_at - self.alert_started_at


class AlertSourceStatus(BaseModel):
    """Whether the alert source answered on its last poll; shown in the TUI, never blocking."""

    configured: bool = False
    ok: bool = True
    checked_at: datetime | None = None
    error: str | None = None
