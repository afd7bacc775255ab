"""Updates to people outside the war room: internal status updates and IC-approved public ones."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from warroom.domain.instants import as_stored, in_zone


class PublicState(StrEnum):
    """The stage a public update announces; the usual status-page vocabulary."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


PUBLIC_TEMPLATES: dict[PublicState, str] = {
    PublicState.INVESTIGATING: (
        "We are investigating reports of problems with {components}. "
        "We will post an update as soon as we know more."
    ),
    PublicState.IDENTIFIED: (
        "We have identified the cause of the problems with {components} and are working on a fix."
    ),
    PublicState.MONITORING: (
        "A fix has been applied for {components}. We are monitoring the results."
    ),
    PublicState.RESOLVED: "This incident has been resolved. {components} are operating normally.",
}
"""Starting text for a CL's draft; `{components}` is filled with the affected components."""


class DraftStatus(StrEnum):
    PENDING = "pending"
    """Waiting for the IC."""
    APPROVED = "approved"
    """Approved by the IC, and so published."""
    REJECTED = "rejected"
    """Sent back by the IC with a comment."""


class ExternalUpdate(BaseModel):
    """A public update from draft to decision. Only approved ones are ever published."""

    id: int
    """The sequence number of the event that drafted it."""
    title: str
    text: str
    state: PublicState
    components: list[str] = Field(default_factory=list)
    drafted_by: str
    drafted_at: datetime
    status: DraftStatus = DraftStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    comment: str = ""


def fill_template(state: PublicState, components: list[str]) -> str:
    """The template text for `state` naming `components` (or "some services")."""
    named = ", ".join(components) if components else "some services"
    return PUBLIC_TEMPLATES[state].format(components=named)


def compose_status_text(
    status: str, impact: str, actions: str, next_update_at: datetime | None
) -> str:
    """An internal status update as the lines people read in the timeline and in Slack."""
    lines = [f"Status: {status}"]
    if impact:
        lines.append(f"Impact: {impact}")
    if actions:
        lines.append(f"Actions: {actions}")
    if next_update_at is not None:
        utc = in_zone(next_update_at, UTC)
        # A stored time out of range is shown as stored: replaying the log must never fail.
        when = f"{utc:%H:%M UTC}" if utc else as_stored(next_update_at)
        lines.append(f"Next update: {when}")
    return "\n".join(lines)
