"""The event log's vocabulary: every change to an incident is one of these, in sequence order.

An event is a fact the server has already decided and committed. Replaying an incident's events in
order through `projection.apply_event` gives its state; that is the only way state is made.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from warroom.domain.checklist import ItemState
from warroom.domain.communications import PublicState
from warroom.domain.instants import UtcTime
from warroom.domain.phase import Phase
from warroom.domain.roles import Role
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind
from warroom.domain.triage import Detection


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IncidentDeclared(_Body):
    type: Literal["incident_declared"] = "incident_declared"
    title: str
    summary: str = ""
    severity: Severity
    channel: str
    checklist: list[str]
    detection: Detection | None = None


class TitleChanged(_Body):
    type: Literal["title_changed"] = "title_changed"
    title: str
    previous: str


class SummaryChanged(_Body):
    type: Literal["summary_changed"] = "summary_changed"
    summary: str


class SeverityChanged(_Body):
    type: Literal["severity_changed"] = "severity_changed"
    severity: Severity
    previous: Severity
    reason: str
    typed_at: UtcTime | None = None
    """When it was made (the client's clock, bounded as an entry's); `at` is its arrival."""


class PhaseChanged(_Body):
    type: Literal["phase_changed"] = "phase_changed"
    phase: Phase
    previous: Phase
    reason: str = ""


class RoleAssigned(_Body):
    """A CL, TL or Scribe was named. The IC changes hands only through an accepted offer."""

    type: Literal["role_assigned"] = "role_assigned"
    role: Role
    user: str
    service: str | None = None


class RoleUnassigned(_Body):
    type: Literal["role_unassigned"] = "role_unassigned"
    role: Role
    user: str


class IcOffered(_Body):
    type: Literal["ic_offered"] = "ic_offered"
    to_user: str


class IcOfferClosed(_Body):
    """The pending IC offer was declined by its receiver or withdrawn by the IC."""

    type: Literal["ic_offer_closed"] = "ic_offer_closed"
    to_user: str
    declined: bool


class IcAccepted(_Body):
    type: Literal["ic_accepted"] = "ic_accepted"
    user: str
    previous: str


class EntryAdded(_Body):
    type: Literal["entry_added"] = "entry_added"
    kind: EntryKind
    text: str
    occurred_at: UtcTime | None = None
    correlation_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    typed_at: UtcTime | None = None
    """When it was typed (the client's clock); the event's own `at` is when the server got it."""


class EntryAmended(_Body):
    type: Literal["entry_amended"] = "entry_amended"
    entry_id: int
    text: str


class EntryStruck(_Body):
    type: Literal["entry_struck"] = "entry_struck"
    entry_id: int
    reason: str = ""


class ServiceAdded(_Body):
    """The incident touches this service: its metrics are watched and its links offered."""

    type: Literal["service_added"] = "service_added"
    service: str


class ServiceRemoved(_Body):
    type: Literal["service_removed"] = "service_removed"
    service: str


class StatusUpdatePosted(_Body):
    """A structured internal update from the CL or IC; restarts the update clock."""

    type: Literal["status_update_posted"] = "status_update_posted"
    status: str
    impact: str = ""
    actions: str = ""
    next_update_at: UtcTime | None = None
    typed_at: UtcTime | None = None
    """When it was written (the client's clock), as an entry's; `at` is when the server got it."""


class ExternalDrafted(_Body):
    """A public update drafted for the IC's approval; its id is this event's seq."""

    type: Literal["external_drafted"] = "external_drafted"
    title: str
    text: str
    state: PublicState
    components: list[str] = Field(default_factory=list)


class ExternalApproved(_Body):
    """The IC approved a draft; it is published."""

    type: Literal["external_approved"] = "external_approved"
    draft_id: int


class ExternalRejected(_Body):
    type: Literal["external_rejected"] = "external_rejected"
    draft_id: int
    comment: str


class ChecklistItemAdded(_Body):
    type: Literal["checklist_item_added"] = "checklist_item_added"
    item_id: int
    title: str


class ChecklistItemChanged(_Body):
    type: Literal["checklist_item_changed"] = "checklist_item_changed"
    item_id: int
    state: ItemState
    previous: ItemState


class ChecklistItemOwnerSet(_Body):
    type: Literal["checklist_item_owner_set"] = "checklist_item_owner_set"
    item_id: int
    owner: str | None


EventBody = Annotated[
    IncidentDeclared
    | TitleChanged
    | SummaryChanged
    | SeverityChanged
    | PhaseChanged
    | RoleAssigned
    | RoleUnassigned
    | IcOffered
    | IcOfferClosed
    | IcAccepted
    | EntryAdded
    | EntryAmended
    | EntryStruck
    | ChecklistItemAdded
    | ChecklistItemChanged
    | ChecklistItemOwnerSet
    | StatusUpdatePosted
    | ExternalDrafted
    | ExternalApproved
    | ExternalRejected
    | ServiceAdded
    | ServiceRemoved,
    Field(discriminator="type"),
]


class Event(BaseModel):
    """One committed change to one incident."""

    model_config = ConfigDict(frozen=True)

    incident_id: int
    seq: int
    """Gap-free per incident, starting at 1 with `incident_declared`."""
    at: UtcTime
    """Server time of the commit."""
    actor: str
    """The person whose token made the change, or `warroom` for the server's own events."""
    command_id: str | None = None
    """The client-made id of the write that caused it; retries with the same id apply once."""
    body: EventBody


EVENT_BODY_ADAPTER: TypeAdapter[EventBody] = TypeAdapter(EventBody)


def kinds_of(*bodies: type[_Body]) -> frozenset[str]:
    """The `type` each of these bodies has in JSON: the kinds of event a feature looks at."""
    return frozenset(str(body.model_fields["type"].default) for body in bodies)


SERVER_ACTOR = "warroom"
"""Actor name of events the server writes on its own (alerts, reminders)."""
