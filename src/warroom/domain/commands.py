"""Writes a person can ask for. Each states an intent ("set item 3 to done"), never a toggle.

Every command carries `id`, a client-made idempotency key: the server applies a command id once
per user, however often it is retried. Commands that change a single field carry `expected`, the
value the sender last saw; if it changed meanwhile the sender gets a conflict, not an overwrite.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from warroom.domain.checklist import ItemState
from warroom.domain.communications import PublicState
from warroom.domain.instants import ClientTime
from warroom.domain.limits import (
    MAX_REASON,
    MAX_TAGS,
    CorrelationId,
    EntryText,
    Reason,
    ServiceName,
    Summary,
    Tag,
    Title,
    UserName,
)
from warroom.domain.phase import Phase
from warroom.domain.roles import Role
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind

CommandId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


def _integer_level(value: object) -> object:
    # pydantic takes `true` and `2.0` for an IntEnum even when strict: refuse them here, so that
    # `"severity": true` is an error and not a SEV1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("severity_type", "Input should be the integer 1, 2 or 3")
    return value


Level = Annotated[Severity, BeforeValidator(_integer_level)]
"""A severity as a client sends it: the integer 1, 2 or 3, nothing that looks like one."""


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: CommandId


class _IncidentCommand(_Command):
    incident_id: int = Field(ge=1)


class DeclareIncident(_Command):
    type: Literal["declare_incident"] = "declare_incident"
    title: Title
    severity: Level
    summary: Summary = ""
    triage_id: int | None = None
    """Declare from this triage item: its alerts go to the new incident's timeline."""


class DismissTriage(_Command):
    """Dismiss a triage item as noise; the reason is kept in the triage log."""

    type: Literal["dismiss_triage"] = "dismiss_triage"
    triage_id: int
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON)]


class SetTitle(_IncidentCommand):
    type: Literal["set_title"] = "set_title"
    title: Title
    expected: str


class SetSummary(_IncidentCommand):
    type: Literal["set_summary"] = "set_summary"
    summary: Summary
    expected: str


class SetSeverity(_IncidentCommand):
    type: Literal["set_severity"] = "set_severity"
    severity: Level
    expected: Level
    reason: Reason
    typed_at: ClientTime | None = None
    """When the person made the change, by their console's clock: like an entry's `typed_at`, a
    change made while the server was unreachable keeps that moment, not its arrival."""


class SetPhase(_IncidentCommand):
    type: Literal["set_phase"] = "set_phase"
    phase: Phase
    expected: Phase
    reason: Reason = ""


class AssignRole(_IncidentCommand):
    """Name someone CL, TL or Scribe; for IC this makes an offer the receiver must accept."""

    type: Literal["assign_role"] = "assign_role"
    role: Literal[Role.IC, Role.CL, Role.TL, Role.SCRIBE]
    user: UserName
    service: ServiceName | None = None


class UnassignRole(_IncidentCommand):
    type: Literal["unassign_role"] = "unassign_role"
    role: Literal[Role.CL, Role.TL, Role.SCRIBE]
    user: UserName


class AcceptIc(_IncidentCommand):
    type: Literal["accept_ic"] = "accept_ic"


class DeclineIc(_IncidentCommand):
    """The receiver declines an IC offer, or the IC withdraws it."""

    type: Literal["decline_ic"] = "decline_ic"


class AddEntry(_IncidentCommand):
    type: Literal["add_entry"] = "add_entry"
    kind: EntryKind = EntryKind.NOTE
    text: EntryText
    occurred_at: ClientTime | None = None
    correlation_id: CorrelationId | None = None
    tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] = []
    typed_at: ClientTime | None = None
    """When the person typed it, by their console's clock: an entry typed while the server was
    unreachable waits in the outbox and reaches the server later. A client time, like
    `occurred_at`; unlike it, a fact about the writing, not a claim about the incident."""


class AmendEntry(_IncidentCommand):
    type: Literal["amend_entry"] = "amend_entry"
    entry_id: int
    text: EntryText


class StrikeEntry(_IncidentCommand):
    type: Literal["strike_entry"] = "strike_entry"
    entry_id: int
    reason: Reason = ""


class AddChecklistItem(_IncidentCommand):
    type: Literal["add_checklist_item"] = "add_checklist_item"
    title: Title


class SetItemState(_IncidentCommand):
    type: Literal["set_item_state"] = "set_item_state"
    item_id: int
    state: ItemState
    expected: ItemState


class SetItemOwner(_IncidentCommand):
    type: Literal["set_item_owner"] = "set_item_owner"
    item_id: int
    owner: UserName | None


class AddService(_IncidentCommand):
    type: Literal["add_service"] = "add_service"
    service: ServiceName


class RemoveService(_IncidentCommand):
    type: Literal["remove_service"] = "remove_service"
    service: ServiceName


class PostStatusUpdate(_IncidentCommand):
    """The structured internal update the plan asks the CL for on the clock."""

    type: Literal["post_status_update"] = "post_status_update"
    status: EntryText
    impact: Summary = ""
    actions: Summary = ""
    next_update_at: ClientTime | None = None
    typed_at: ClientTime | None = None
    """When the person posted it, by their console's clock: like an entry's `typed_at`, an
    update posted while the server was unreachable is timed when it was written, not when it
    got through."""


class DraftExternalUpdate(_IncidentCommand):
    """A public update for the status page; it waits for the IC's approval."""

    type: Literal["draft_external_update"] = "draft_external_update"
    title: Title | None = None
    """Public name of the incident. Required until an update was published; then None keeps
    the published one. The incident's own title is never used."""
    text: EntryText
    state: PublicState
    components: Annotated[list[ServiceName], Field(max_length=MAX_TAGS)] = []


class ApproveExternalUpdate(_IncidentCommand):
    type: Literal["approve_external_update"] = "approve_external_update"
    draft_id: int


class RejectExternalUpdate(_IncidentCommand):
    type: Literal["reject_external_update"] = "reject_external_update"
    draft_id: int
    comment: Annotated[str, Field(min_length=1, max_length=MAX_REASON)]


class PinMetrics(_IncidentCommand):
    """Write the latest metrics snapshot's values and queries into the timeline."""

    type: Literal["pin_metrics"] = "pin_metrics"


IncidentCommand = (
    SetTitle
    | SetSummary
    | SetSeverity
    | SetPhase
    | AssignRole
    | UnassignRole
    | AcceptIc
    | DeclineIc
    | AddEntry
    | AmendEntry
    | StrikeEntry
    | AddChecklistItem
    | SetItemState
    | SetItemOwner
    | PostStatusUpdate
    | DraftExternalUpdate
    | ApproveExternalUpdate
    | RejectExternalUpdate
    | AddService
    | RemoveService
    | PinMetrics
)
Command = DeclareIncident | DismissTriage | IncidentCommand
