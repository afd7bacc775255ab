"""Triage: an alert that fired, waiting for the on-call engineer to declare or dismiss it.

Plan steps 1 and 2. A triage item is not an incident; declaring it makes one (the declarer is
IC) and records how the incident was detected and how long triage took. One item holds one
alert (its Alertmanager fingerprint) unless the server's config groups alerts by labels.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator

from warroom.domain.severity import Severity


class TriageStatus(StrEnum):
    OPEN = "open"
    DECLARED = "declared"
    DISMISSED = "dismissed"


class AlertState(StrEnum):
    """What Alertmanager last said about one alert. Only Alertmanager resolves an alert."""

    FIRING = "firing"
    UNPROCESSED = "unprocessed"
    """Received by Alertmanager but not yet through its silences and inhibitions (it says so
    until the alert's group is first flushed): active, not yet confirmed as firing."""
    SUPPRESSED = "suppressed"
    """Still active in Alertmanager, but silenced or inhibited there."""
    UNCONFIRMED = "unconfirmed"
    """Alertmanager restarted since the alert was last seen and does not list it yet: not known
    to be resolved, waiting for the source to send it again (or for its `endsAt` to pass)."""
    RESOLVED = "resolved"


class TriageAlert(BaseModel):
    """One alert (by Alertmanager fingerprint), as last seen."""

    fingerprint: str
    name: str
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime
    state: AlertState = AlertState.FIRING
    ends_at: datetime | None = None
    """When it resolved (Alertmanager's `endsAt`); None while not resolved."""
    expected_end: datetime | None = None
    """Alertmanager's `endsAt` for the active alert: when it resolves unless the source re-sends
    it. Used once Alertmanager lost the alert in a restart."""
    source_started_at: datetime | None = None
    """When the Alertmanager instance that last listed this alert started (its uptime); a
    different start time means a restart, not a resolution, explains a missing alert."""
    times_fired: int = 1

    @model_validator(mode="before")
    @classmethod
    def _from_firing_flag(cls, data: Any) -> Any:
        # Items saved before alert states had a `firing` flag; read them as the state it meant.
        if isinstance(data, dict) and "firing" in data and "state" not in data:
            data = dict(data)
            data["state"] = AlertState.FIRING if data.pop("firing") else AlertState.RESOLVED
        return data

    @property
    def firing(self) -> bool:
        """Not resolved: Alertmanager has not said this alert is over."""
        return self.state is not AlertState.RESOLVED


class TriageItem(BaseModel):
    """An alert (or a configured group of alerts) under triage, from its first alert to the
    on-call engineer's decision."""

    id: int
    group_key: str
    """`alert:<fingerprint>`, or the configured grouping labels: alerts of one key share an item."""
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

    @property
    def services(self) -> list[str]:
        """The alerts' `service` labels, in first-seen order, without repeats."""
        return list(
            dict.fromkeys(
                a.labels["service"] for a in self.alerts.values() if a.labels.get("service")
            )
        )

    @property
    def resolved_at(self) -> datetime | None:
        """When the last of its alerts resolved; None while any is not resolved."""
        ends = [a.ends_at for a in self.alerts.values()]
        if not ends or self.firing or any(end is None for end in ends):
            return None
        return max(end for end in ends if end is not None)

    def state_words(self) -> str:
        """`firing`, `resolved`, or e.g. `1 firing, 1 unconfirmed` for a mixed item."""
        counts: dict[AlertState, int] = {}
        for alert in self.alerts.values():
            counts[alert.state] = counts.get(alert.state, 0) + 1
        if len(counts) == 1:
            return next(iter(counts)).value
        return ", ".join(f"{n} {state.value}" for state, n in sorted(counts.items()))


class Detection(BaseModel):
    """How an incident was detected, when it came from an alert."""

    triage_id: int
    alert_name: str
    alert_started_at: datetime
    triage_opened_at: datetime

    def time_to_declare(self, declared_at: datetime) -> timedelta:
        """From the alert's start to the declaration (the plan's triage step)."""
        return declared_at - self.alert_started_at


class SourceState(StrEnum):
    """The alert source as the triage desk last heard from it."""

    NOT_CONFIGURED = "not_configured"
    WAITING = "waiting"
    """Configured; no poll or webhook delivery yet."""
    OK = "ok"
    UNREACHABLE = "unreachable"
    """The last poll failed: alerts keep their last known state, nothing is resolved."""
    RESTARTED = "restarted"
    """Alertmanager restarted and has not yet listed every alert it had: those are unconfirmed."""


class AlertSourceStatus(BaseModel):
    """Whether the alert source answered on its last poll; shown in the TUI, never blocking."""

    configured: bool = False
    ok: bool = True
    checked_at: datetime | None = None
    error: str | None = None
    state: SourceState | None = None
    """None from servers older than the states: read `ok` and `error` then."""
    restarted_at: datetime | None = None
    """When Alertmanager last (re)started, as it reports in its status."""
    webhook_at: datetime | None = None
    """When the last webhook delivery from Alertmanager arrived."""


def mark_declared(item: TriageItem, incident_id: int, actor: str, at: datetime) -> None:
    """Record on the item that incident `incident_id` was declared from it (in place: whoever
    holds the item while it awaits sees the decision)."""
    item.status = TriageStatus.DECLARED
    item.incident_id = incident_id
    item.decided_by = actor
    item.decided_at = at


def keep_decision(known: TriageItem, incoming: TriageItem) -> TriageItem:
    """`incoming`, unless it is a copy of the item still open while `known` was decided: a
    decision is final, so a copy made before it (another node's, an alert's update written
    meanwhile) keeps its alerts but takes the decision."""
    if incoming.status is not TriageStatus.OPEN or known.status is TriageStatus.OPEN:
        return incoming
    return incoming.model_copy(
        update={
            "status": known.status,
            "incident_id": known.incident_id,
            "decided_by": known.decided_by,
            "decided_at": known.decided_at,
            "dismiss_reason": known.dismiss_reason,
            "dismiss_request": known.dismiss_request,
        }
    )
