"""The public status document and how it is derived from incidents: approved updates only."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from warroom.domain.communications import DraftStatus, ExternalUpdate, PublicState
from warroom.domain.incident import IncidentState
from warroom.domain.instants import order_key
from warroom.domain.severity import Severity


class OverallStatus(StrEnum):
    """The one-word answer at the top of the page: is everything working?"""

    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    MAJOR_OUTAGE = "major_outage"


class PublicUpdate(BaseModel):
    """One published update, exactly as the IC approved it."""

    model_config = ConfigDict(frozen=True)

    text: str
    state: PublicState
    components: list[str]
    published_at: datetime
    """When the IC approved it, which is when it went public."""


class PublicIncident(BaseModel):
    """An incident as the public sees it: nothing here comes from outside its approved updates,
    except `id` and whether the war room still has it open."""

    model_config = ConfigDict(frozen=True)

    id: int
    title: str
    """The title of the latest approved update; the internal incident title is never shown."""
    state: PublicState
    """The state the latest approved update announced."""
    components: list[str]
    """The components the latest approved update names as affected."""
    active: bool
    """True while the incident is open and its latest approved update is not `resolved`."""
    updates: list[PublicUpdate]
    """Every approved update, newest first."""


class PublicStatus(BaseModel):
    """The whole public status page, served as `status.json` and rendered as `index.html`."""

    model_config = ConfigDict(frozen=True)

    generated_at: datetime
    status: OverallStatus
    incidents: list[PublicIncident]
    """Active incidents first, then the rest; each group most recently updated first."""


def build_public_status(
    states: Iterable[IncidentState],
    *,
    generated_at: datetime,
    closed: Iterable[PublicIncident] = (),
) -> PublicStatus:
    """The public view of all incidents on the server.

    Only drafts the IC approved are read. Pending and rejected drafts, internal status updates,
    the timeline and the internal title are never looked at, and an incident with no approved
    update is left out entirely, so nothing internal can reach the page by accident.

    The overall status follows from the active incidents (see `PublicIncident.active`): any active
    SEV1 means `major_outage`, any other active incident means `degraded`, none means
    `operational`. An incident whose latest public word is "resolved" no longer counts, even
    before the war room closes it, because that is what the public has been told.

    Args:
        states: The incidents the server holds, in any order.
        generated_at: The time stamped on the document.
        closed: Public faces of closed incidents (post-mortem done) to list as well; they are
            never active. An incident given in `states` too is taken from its state.
    """
    incidents: list[PublicIncident] = []
    severities: dict[int, Severity] = {}
    for state in states:
        public = public_incident(state)
        if public is not None:
            incidents.append(public)
            severities[public.id] = state.incident.severity
    incidents += [face for face in closed if face.id not in severities and not face.active]
    incidents.sort(
        key=lambda i: (i.active, order_key(i.updates[0].published_at), i.id), reverse=True
    )
    active = [severities[i.id] for i in incidents if i.active]
    if Severity.SEV1 in active:
        overall = OverallStatus.MAJOR_OUTAGE
    elif active:
        overall = OverallStatus.DEGRADED
    else:
        overall = OverallStatus.OPERATIONAL
    return PublicStatus(generated_at=generated_at, status=overall, incidents=incidents)


def public_incident(state: IncidentState) -> PublicIncident | None:
    """The public face of one incident, or None while the IC has approved nothing for it."""
    approved = [u for u in state.external_updates if u.status is DraftStatus.APPROVED]
    if not approved:
        return None
    updates = sorted(
        ((_published_at(u), u.id, u) for u in approved),
        key=lambda item: (order_key(item[0]), item[1]),
        reverse=True,
    )
    latest = updates[0][2]
    return PublicIncident(
        id=state.incident.id,
        title=latest.title,
        state=latest.state,
        components=list(latest.components),
        active=state.incident.phase.is_open and latest.state is not PublicState.RESOLVED,
        updates=[
            PublicUpdate(text=u.text, state=u.state, components=list(u.components), published_at=at)
            for at, _, u in updates
        ],
    )


def _published_at(update: ExternalUpdate) -> datetime:
    # The projection always stamps an approval; the draft time only guards a hand-made state.
    return update.decided_at or update.drafted_at
