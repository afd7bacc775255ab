"""Updates to people outside the war room: internal status updates and IC-approved public ones.

The public side has its own title. The incident's title is written by responders for responders
("Checkout 5xx above 5% <!channel>") and is never published: the first public update must be
given a public title, and later drafts keep the one the public already knows unless they change
it on purpose.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from warroom.domain.errors import DomainError, ErrorCode
from warroom.domain.instants import as_stored, in_zone, order_key
from warroom.domain.limits import MAX_TITLE


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


NEUTRAL_TITLE = "Degraded performance"
"""The start of the public title offered when the author has not chosen one."""


def default_public_title(components: Sequence[str]) -> str:
    """A neutral public title from what is affected: `Degraded performance: Checkout`.

    Only an offer for the author to accept or change; it says nothing the public cannot see for
    itself, and never draws on the internal title.
    """
    named = ", ".join(dict.fromkeys(c.strip() for c in components if c.strip()))
    title = f"{NEUTRAL_TITLE}: {named}" if named else NEUTRAL_TITLE
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1].rstrip(", ") + "…"


def latest_approved(updates: Iterable[ExternalUpdate]) -> ExternalUpdate | None:
    """The approved update published last: what the public sees now (None: nothing public)."""
    approved = [u for u in updates if u.status is DraftStatus.APPROVED]
    if not approved:
        return None
    # Ordered as the status page orders them: by approval time, then by draft id.
    return max(approved, key=lambda u: (order_key(u.decided_at or u.drafted_at), u.id))


def public_title(updates: Iterable[ExternalUpdate]) -> str | None:
    """The title the public knows the incident by, or None before anything was published."""
    latest = latest_approved(updates)
    return latest.title if latest is not None else None


def draft_title(
    updates: Iterable[ExternalUpdate], title: str | None, components: Sequence[str]
) -> str:
    """The public title a new draft carries: its own, or else the one already published.

    Raises:
        DomainError: `invalid`, when nothing is public yet and the draft brings no title; the
            message offers a neutral title from `components`.
    """
    if title is not None:
        return title
    known = public_title(updates)
    if known is None:
        offer = default_public_title(components)
        raise DomainError(
            ErrorCode.INVALID,
            "the first public update needs a public title (the incident's own title is never "
            f"published); for example {offer!r}",
        )
    return known


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
