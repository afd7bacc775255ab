"""Severity levels SEV1-SEV3 as data, straight from the incident response plan.

Everything that depends on a severity (badge colour name, paging route, update cadence, the text
shown in the severity pane, reminders and exports) reads this one table.
"""

from __future__ import annotations

from datetime import timedelta
from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict


class Severity(IntEnum):
    """An incident's severity; a lower number is worse."""

    SEV1 = 1
    SEV2 = 2
    SEV3 = 3

    @property
    def label(self) -> str:
        """The short name people say on the call: "SEV1"."""
        return f"SEV{self.value}"

    @property
    def policy(self) -> SeverityPolicy:
        """What the plan says about this level."""
        return SEVERITY_POLICIES[self]


class NotificationRoute(StrEnum):
    """How a severity mobilises people (plan section 3, "Response")."""

    PAGE_ON_CALL = "page_on_call"
    """PagerDuty alert to the on-call rotation."""
    NOTIFY_OWNING_TEAM = "notify_owning_team"
    """Slack notification to the owning team's channel."""


class SeverityPolicy(BaseModel):
    """One row of the plan's severity table plus its internal update cadence."""

    model_config = ConfigDict(frozen=True)

    severity: Severity
    title: str
    definition: str
    examples: tuple[str, ...]
    response: str
    route: NotificationRoute
    internal_update_every: timedelta | None
    """How often the CL owes an internal update; None where the plan asks for none."""


SEVERITY_POLICIES: dict[Severity, SeverityPolicy] = {
    Severity.SEV1: SeverityPolicy(
        severity=Severity.SEV1,
        title="Critical Impact",
        definition=(
            "System-wide outage, core financial transaction failure (e.g., payments), "
            "data loss, or major security breach."
        ),
        examples=(
            "Payment processing is down.",
            "API Gateway is returning 5xx errors for >50% of traffic.",
            "Confirmed data breach.",
        ),
        response="Immediate 24/7 Response. All hands on deck. PagerDuty alert to on-call rotation.",
        route=NotificationRoute.PAGE_ON_CALL,
        internal_update_every=timedelta(minutes=15),
    ),
    Severity.SEV2: SeverityPolicy(
        severity=Severity.SEV2,
        title="Significant Impact",
        definition=(
            "A major non-critical service is down (e.g., marketplace search), or a core service "
            "is severely degraded. Significant user impact."
        ),
        examples=(
            "User login/registration is failing.",
            "A single microservice is down, causing errors in one part of the app.",
            "High latency across multiple services.",
        ),
        response=(
            "Immediate Response within business hours, best-effort after hours. "
            "PagerDuty alert to on-call rotation."
        ),
        route=NotificationRoute.PAGE_ON_CALL,
        # The plan allows 30-60 minutes; 30 is the default and deployments may configure up to 60.
        internal_update_every=timedelta(minutes=30),
    ),
    Severity.SEV3: SeverityPolicy(
        severity=Severity.SEV3,
        title="Minor Impact",
        definition=(
            "A non-critical feature is failing or a service is experiencing intermittent issues. "
            "Minimal user impact."
        ),
        examples=(
            "A background job is failing but has a retry mechanism.",
            "Increased error rate in a single, non-critical service.",
            "A third-party integration is slow.",
        ),
        response=(
            "Response during business hours. Slack notification to the owning team's channel."
        ),
        route=NotificationRoute.NOTIFY_OWNING_TEAM,
        internal_update_every=None,
    ),
}
