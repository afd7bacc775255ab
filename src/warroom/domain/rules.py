"""The rules: decide which event a command becomes, or refuse it with a `DomainError`.

Only the server runs these; clients learn the outcome from the events it broadcasts.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from datetime import datetime

from warroom.domain.checklist import PLAN_MITIGATIONS
from warroom.domain.commands import (
    AcceptIc,
    AddChecklistItem,
    AddEntry,
    AddService,
    AmendEntry,
    ApproveExternalUpdate,
    AssignRole,
    DeclareIncident,
    DeclineIc,
    DismissTriage,
    DraftExternalUpdate,
    IncidentCommand,
    PinMetrics,
    PostStatusUpdate,
    RejectExternalUpdate,
    RemoveService,
    SetItemOwner,
    SetItemState,
    SetPhase,
    SetSeverity,
    SetSummary,
    SetTitle,
    StrikeEntry,
    UnassignRole,
)
from warroom.domain.communications import DraftStatus, draft_title
from warroom.domain.errors import DomainError, ErrorCode
from warroom.domain.events import (
    ChecklistItemAdded,
    ChecklistItemChanged,
    ChecklistItemOwnerSet,
    EntryAdded,
    EntryAmended,
    EntryStruck,
    EventBody,
    ExternalApproved,
    ExternalDrafted,
    ExternalRejected,
    IcAccepted,
    IcOfferClosed,
    IcOffered,
    IncidentDeclared,
    PhaseChanged,
    RoleAssigned,
    RoleUnassigned,
    ServiceAdded,
    ServiceRemoved,
    SeverityChanged,
    StatusUpdatePosted,
    SummaryChanged,
    TitleChanged,
)
from warroom.domain.incident import IncidentState
from warroom.domain.limits import MAX_CHECKLIST_ITEMS, MAX_SERVICES
from warroom.domain.metrics import MetricsSnapshot
from warroom.domain.naming import channel_name
from warroom.domain.permissions import Permission, allows
from warroom.domain.phase import PHASE_TRANSITIONS, Phase
from warroom.domain.roles import Role
from warroom.domain.time_window import (
    check_next_update_at,
    check_occurred_at,
    plausible_typed_at,
)
from warroom.domain.timeline import RECORD_KINDS, USER_KINDS, EntryKind, TimelineEntry
from warroom.domain.triage import Detection, TriageItem, TriageStatus
from warroom.domain.triage_log import TriageDismissed


def decide_declaration(
    command: DeclareIncident, now: datetime, detection: Detection | None = None
) -> IncidentDeclared:
    """Anyone may declare; the declarer becomes IC (applied by the projection)."""
    return IncidentDeclared(
        title=command.title,
        summary=command.summary,
        severity=command.severity,
        channel=channel_name(now.date(), command.title),
        checklist=list(PLAN_MITIGATIONS),
        detection=detection,
    )


NO_SNAPSHOT = "there is no metrics snapshot to pin yet"


def decide(
    state: IncidentState,
    command: IncidentCommand,
    actor: str,
    users: Container[str],
    metrics: MetricsSnapshot | None = None,
    *,
    now: datetime,
    no_metrics: str = NO_SNAPSHOT,
) -> EventBody:
    """The event `command` from `actor` becomes, given the incident as it stands.

    Deciding reads `state` and never changes it: applying the event is the projection's job,
    once the caller has it.

    Args:
        state: the incident after every committed (or already accepted) event.
        command: what the person asked for.
        actor: the authenticated user name; never taken from the command.
        users: the names of known users, to refuse roles for people who do not exist.
        metrics: the incident's latest metrics snapshot, which `PinMetrics` writes down; the
            server takes snapshots, the rules only read the one they are given.
        now: the server's time, which bounds the times a client may send (`time_window`).
        no_metrics: why there is no snapshot, told to someone pinning without one.
    """
    roles = state.roster.roles_of(actor)
    match command:
        case SetSeverity() | SetPhase() | SetTitle() | SetSummary():
            return _decide_details(state, command, roles, now)
        case AssignRole() | UnassignRole() | AcceptIc() | DeclineIc():
            return _decide_roster(state, command, actor, roles, users)
        case AddEntry() | AmendEntry() | StrikeEntry():
            return _decide_timeline(state, command, actor, roles, now)
        case PinMetrics():
            _require(roles, Permission.PIN_METRICS, "pin metrics to the timeline")
            if metrics is None:
                raise DomainError(ErrorCode.INVALID, no_metrics)
            return EntryAdded(kind=EntryKind.METRICS, text=metrics.to_text())
        case AddChecklistItem() | SetItemState() | SetItemOwner():
            return _decide_checklist(state, command, roles, users)
        case AddService():
            _require(roles, Permission.EDIT_SERVICES, "change the incident's services")
            if command.service in state.incident.services:
                raise DomainError(ErrorCode.INVALID, f"{command.service} is already listed")
            if len(state.incident.services) >= MAX_SERVICES:
                raise DomainError(
                    ErrorCode.TOO_LARGE, f"an incident lists at most {MAX_SERVICES} services"
                )
            return ServiceAdded(service=command.service)
        case RemoveService():
            _require(roles, Permission.EDIT_SERVICES, "change the incident's services")
            if command.service not in state.incident.services:
                raise DomainError(ErrorCode.INVALID, f"{command.service} is not listed")
            return ServiceRemoved(service=command.service)
        case (
            PostStatusUpdate()
            | DraftExternalUpdate()
            | ApproveExternalUpdate()
            | RejectExternalUpdate()
        ):
            return _decide_communications(state, command, roles, now)


def decide_dismissal(item: TriageItem | None, command: DismissTriage) -> TriageDismissed:
    """Anyone may dismiss an open triage item as noise; the reason goes into the triage log."""
    if item is None:
        raise DomainError(ErrorCode.UNKNOWN_ENTRY, f"no triage item {command.triage_id}")
    if item.status is not TriageStatus.OPEN:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"triage item {item.id} was already {item.status.value}",
            current=item.status.value,
        )
    return TriageDismissed(triage_id=item.id, reason=command.reason)


def _decide_details(
    state: IncidentState,
    command: SetSeverity | SetPhase | SetTitle | SetSummary,
    roles: frozenset[Role],
    now: datetime,
) -> EventBody:
    match command:
        case SetSeverity():
            _require(roles, Permission.CHANGE_SEVERITY, "change the severity")
            _expect(state.incident.severity, command.expected, "severity")
            if command.severity == state.incident.severity:
                raise DomainError(
                    ErrorCode.INVALID, f"severity is already {command.severity.label}"
                )
            return SeverityChanged(
                severity=command.severity,
                previous=state.incident.severity,
                reason=command.reason,
                # Bounded like an entry's typing time: a wrong clock keeps the change, untimed.
                typed_at=plausible_typed_at(command.typed_at, state.incident.declared_at, now),
            )
        case SetPhase():
            return _decide_phase(state, command, roles)
        case SetTitle():
            _require(roles, Permission.EDIT_DETAILS, "change the title")
            _expect(state.incident.title, command.expected, "title")
            return TitleChanged(title=command.title, previous=state.incident.title)
        case SetSummary():
            _require(roles, Permission.EDIT_DETAILS, "change the summary")
            _expect(state.incident.summary, command.expected, "summary")
            return SummaryChanged(summary=command.summary)


def _decide_roster(
    state: IncidentState,
    command: AssignRole | UnassignRole | AcceptIc | DeclineIc,
    actor: str,
    roles: frozenset[Role],
    users: Container[str],
) -> EventBody:
    match command:
        case AssignRole():
            return _decide_assign(state, command, roles, users)
        case UnassignRole():
            _require(roles, Permission.ASSIGN_ROLES, "change roles")
            if command.user not in state.roster.holders(command.role):
                raise DomainError(
                    ErrorCode.INVALID, f"{command.user} is not {command.role.full_name}"
                )
            return RoleUnassigned(role=command.role, user=command.user)
        case AcceptIc():
            offer = state.roster.ic_offer
            if offer is None or offer.to_user != actor:
                raise DomainError(ErrorCode.FORBIDDEN, "there is no IC offer for you to accept")
            return IcAccepted(user=actor, previous=state.roster.ic)
        case DeclineIc():
            offer = state.roster.ic_offer
            if offer is None:
                raise DomainError(ErrorCode.INVALID, "there is no pending IC offer")
            if actor not in {offer.to_user, state.roster.ic}:
                raise DomainError(
                    ErrorCode.FORBIDDEN, "only the receiver or the IC can close an IC offer"
                )
            return IcOfferClosed(to_user=offer.to_user, declined=actor == offer.to_user)


def _decide_timeline(
    state: IncidentState,
    command: AddEntry | AmendEntry | StrikeEntry,
    actor: str,
    roles: frozenset[Role],
    now: datetime,
) -> EventBody:
    match command:
        case AddEntry():
            _decide_entry_kind(command.kind, roles)
            if command.occurred_at is not None:
                check_occurred_at(command.occurred_at, state.incident.declared_at, now)
            return EntryAdded(
                kind=command.kind,
                text=command.text,
                occurred_at=command.occurred_at,
                correlation_id=command.correlation_id,
                tags=list(command.tags),
                typed_at=plausible_typed_at(command.typed_at, state.incident.declared_at, now),
            )
        case AmendEntry():
            entry = _editable_entry(state, command.entry_id, actor, roles)
            return EntryAmended(entry_id=entry.id, text=command.text)
        case StrikeEntry():
            entry = _editable_entry(state, command.entry_id, actor, roles)
            if entry.struck:
                raise DomainError(ErrorCode.INVALID, f"entry {entry.id} is already struck")
            return EntryStruck(entry_id=entry.id, reason=command.reason)


def _decide_checklist(
    state: IncidentState,
    command: AddChecklistItem | SetItemState | SetItemOwner,
    roles: frozenset[Role],
    users: Container[str],
) -> EventBody:
    _require(roles, Permission.CHANGE_CHECKLIST, "change the checklist")
    if isinstance(command, AddChecklistItem):
        if len(state.checklist) >= MAX_CHECKLIST_ITEMS:
            raise DomainError(ErrorCode.TOO_LARGE, "the checklist is full")
        next_id = max((i.id for i in state.checklist), default=0) + 1
        return ChecklistItemAdded(item_id=next_id, title=command.title)
    item = state.item(command.item_id)
    if item is None:
        raise DomainError(ErrorCode.UNKNOWN_ITEM, f"no checklist item {command.item_id}")
    if isinstance(command, SetItemState):
        _expect(item.state, command.expected, f"item {item.id}")
        if command.state == item.state:
            raise DomainError(ErrorCode.INVALID, f"item {item.id} is already {item.state}")
        return ChecklistItemChanged(item_id=item.id, state=command.state, previous=item.state)
    if command.owner is not None and command.owner not in users:
        raise DomainError(ErrorCode.UNKNOWN_USER, f"no user named {command.owner}")
    return ChecklistItemOwnerSet(item_id=item.id, owner=command.owner)


def _decide_communications(
    state: IncidentState,
    command: PostStatusUpdate | DraftExternalUpdate | ApproveExternalUpdate | RejectExternalUpdate,
    roles: frozenset[Role],
    now: datetime,
) -> EventBody:
    match command:
        case PostStatusUpdate():
            _require(roles, Permission.POST_STATUS, "post status updates")
            if command.next_update_at is not None:
                check_next_update_at(command.next_update_at, now)
            return StatusUpdatePosted(
                status=command.status,
                impact=command.impact,
                actions=command.actions,
                next_update_at=command.next_update_at,
                # Bounded like an entry's typing time: a wrong clock keeps the update, untimed.
                typed_at=plausible_typed_at(command.typed_at, state.incident.declared_at, now),
            )
        case DraftExternalUpdate():
            _require(roles, Permission.DRAFT_EXTERNAL, "draft public updates")
            return ExternalDrafted(
                # Never the incident's title: that one is written for the war room only.
                title=draft_title(state.external_updates, command.title, command.components),
                text=command.text,
                state=command.state,
                components=list(command.components),
            )
        case ApproveExternalUpdate():
            _require(roles, Permission.APPROVE_EXTERNAL, "approve public updates")
            _pending_draft(state, command.draft_id)
            return ExternalApproved(draft_id=command.draft_id)
        case RejectExternalUpdate():
            _require(roles, Permission.APPROVE_EXTERNAL, "send back public updates")
            _pending_draft(state, command.draft_id)
            return ExternalRejected(draft_id=command.draft_id, comment=command.comment)


def _pending_draft(state: IncidentState, draft_id: int) -> None:
    draft = state.external_update(draft_id)
    if draft is None:
        raise DomainError(ErrorCode.UNKNOWN_ENTRY, f"no public update draft {draft_id}")
    if draft.status is not DraftStatus.PENDING:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"draft {draft_id} was already {draft.status.value}",
            current=draft.status.value,
        )


def _require(roles: frozenset[Role], permission: Permission, doing: str) -> None:
    if not allows(roles, permission):
        held = ", ".join(sorted(r.value for r in roles))
        raise DomainError(ErrorCode.FORBIDDEN, f"your role ({held}) may not {doing}")


def _expect(current: object, expected: object, field: str) -> None:
    if current != expected:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"{field} was changed by someone else meanwhile",
            current=current,
        )


def _decide_phase(state: IncidentState, command: SetPhase, roles: frozenset[Role]) -> PhaseChanged:
    doing = "resolve the incident" if command.phase is Phase.RESOLVED else "change the phase"
    _require(roles, Permission.CHANGE_PHASE, doing)
    current = state.incident.phase
    _expect(current, command.expected, "phase")
    if command.phase not in PHASE_TRANSITIONS[current]:
        raise DomainError(
            ErrorCode.INVALID_TRANSITION,
            f"cannot move from {current.value} to {command.phase.value}",
            current=current,
        )
    return PhaseChanged(phase=command.phase, previous=current, reason=command.reason)


def _decide_assign(
    state: IncidentState, command: AssignRole, roles: frozenset[Role], users: Container[str]
) -> EventBody:
    _require(roles, Permission.ASSIGN_ROLES, "assign roles")
    if command.user not in users:
        raise DomainError(ErrorCode.UNKNOWN_USER, f"no user named {command.user}")
    roster = state.roster
    if command.role is Role.IC:
        if command.user == roster.ic:
            raise DomainError(ErrorCode.INVALID, f"{command.user} is already the IC")
        return IcOffered(to_user=command.user)
    if command.user in roster.holders(command.role) and command.role is not Role.TL:
        raise DomainError(ErrorCode.INVALID, f"{command.user} is already {command.role.full_name}")
    return RoleAssigned(role=command.role, user=command.user, service=command.service)


def _decide_entry_kind(kind: EntryKind, roles: frozenset[Role]) -> None:
    if kind not in USER_KINDS:
        raise DomainError(
            ErrorCode.INVALID, f"{kind.value} entries are written by warroom, not posted directly"
        )
    if kind is EntryKind.STATUS:
        _require(roles, Permission.POST_STATUS, "post status updates")
    else:
        _require(roles, Permission.WRITE_TIMELINE, "write to the timeline")


def entry_change_refusal(
    entry: TimelineEntry, actor: str, roles: Iterable[Role]
) -> DomainError | None:
    """Why `actor` may not amend or strike `entry`, or None if they may. The server refuses with
    it; the console asks it before offering the keys."""
    if entry.kind in RECORD_KINDS:
        return DomainError(
            ErrorCode.INVALID, f"{entry.kind.value} entries are a record and cannot be changed"
        )
    if entry.struck:
        return DomainError(ErrorCode.INVALID, f"entry {entry.id} is struck and cannot be changed")
    if entry.author != actor and not allows(roles, Permission.EDIT_ANY_ENTRY):
        return DomainError(
            ErrorCode.FORBIDDEN, "only the author, the Scribe or the IC may change an entry"
        )
    return None


def may_change_entry(entry: TimelineEntry, actor: str, roles: Iterable[Role]) -> bool:
    return entry_change_refusal(entry, actor, roles) is None


def _editable_entry(
    state: IncidentState, entry_id: int, actor: str, roles: frozenset[Role]
) -> TimelineEntry:
    entry = state.entry(entry_id)
    if entry is None:
        raise DomainError(ErrorCode.UNKNOWN_ENTRY, f"no timeline entry {entry_id}")
    refusal = entry_change_refusal(entry, actor, roles)
    if refusal is not None:
        raise refusal
    return entry
