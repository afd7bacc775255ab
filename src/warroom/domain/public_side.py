"""Closing the public side when an incident is resolved: the prepared "resolved" update the
server offers the IC, and whether the console should still remind them of it.

Resolving is an internal decision; what the public was told changes only with the IC's approval.
So the server does not publish on resolve: it drafts the resolved update (same public title,
every component the public was told about, back to operational) and the IC approves it, or
sends it back to say the public side stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from warroom.domain.communications import (
    DraftStatus,
    ExternalUpdate,
    PublicState,
    fill_template,
    latest_approved,
)
from warroom.domain.events import SERVER_ACTOR, ExternalDrafted
from warroom.domain.incident import IncidentState
from warroom.domain.instants import order_key
from warroom.domain.phase import Phase


def open_public_update(state: IncidentState) -> ExternalUpdate | None:
    """The latest published update when it does not say `resolved` (None: nothing to close)."""
    latest = latest_approved(state.external_updates)
    return latest if latest is not None and latest.state is not PublicState.RESOLVED else None


def resolution_draft(state: IncidentState) -> ExternalDrafted | None:
    """The resolved update the server prepares for the IC, or None when none is due.

    Due when the incident is resolved, the public was last told something other than
    `resolved`, no resolved draft already waits for the IC, and the IC has not sent back the one
    prepared since this resolution. It names every component any published update named, so
    all of them are given back as operational. Asking again (after a restart) gives None once
    the draft exists.
    """
    if state.incident.phase is not Phase.RESOLVED:
        return None
    latest = open_public_update(state)
    if latest is None:
        return None
    if any(_waits(u) for u in state.external_updates) or _prepared_since_resolving(state):
        return None
    named = [
        c for u in state.external_updates if u.status is DraftStatus.APPROVED for c in u.components
    ]
    components = list(dict.fromkeys(named))
    return ExternalDrafted(
        title=latest.title,
        text=fill_template(PublicState.RESOLVED, components),
        state=PublicState.RESOLVED,
        components=components,
    )


@dataclass(frozen=True)
class ClosingReminder:
    """The incident is closed but the public page still says it is not."""

    public_state: PublicState
    """What the public was last told."""
    draft_id: int | None
    """The resolved draft that waits for the IC, if there is one."""


def closing_reminder(state: IncidentState) -> ClosingReminder | None:
    """Why the IC should still close the public side, or None once it is closed or declined.

    Reminded while the incident is resolved (or past its post-mortem) and the latest published
    update is not `resolved`, until a resolved update is approved or the IC sends back the one
    the server prepared for this resolution (declining on purpose).
    """
    if state.incident.phase.is_open:
        return None
    latest = open_public_update(state)
    if latest is None:
        return None
    prepared = _prepared_since_resolving(state)
    if any(u.status is DraftStatus.REJECTED for u in prepared):
        return None
    waiting = [u for u in state.external_updates if _waits(u)]
    return ClosingReminder(latest.state, waiting[-1].id if waiting else None)


def _waits(update: ExternalUpdate) -> bool:
    return update.state is PublicState.RESOLVED and update.status is DraftStatus.PENDING


def _prepared_since_resolving(state: IncidentState) -> list[ExternalUpdate]:
    resolved_at = state.incident.resolved_at
    if resolved_at is None:
        return []
    # The draft is written after the phase change commits, so it is never older than it; an
    # earlier resolution's draft (before a reopen) is.
    return [
        u
        for u in state.external_updates
        if u.drafted_by == SERVER_ACTOR
        and u.state is PublicState.RESOLVED
        and order_key(u.drafted_at) >= order_key(resolved_at)
    ]
