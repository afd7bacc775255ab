"""Turns the event log into incident state: `apply_event` is the only writer of `IncidentState`
(`apply_events` is the same rule over many events at once, for catch-up and loading).

The server and every client run this same function over the same events, so they cannot disagree.
Every change of severity, phase, role or checklist item also lands on the timeline as a `system`
entry whose id is the event's sequence number.

Timeline entries are built with `TimelineEntry.trusted`: every value comes from an event that was
validated when it was decided or received, and validating each entry again was most of what a
client catching up on thousands of events spent applying them (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import islice

from warroom.domain.checklist import ChecklistItem
from warroom.domain.communications import DraftStatus, ExternalUpdate, compose_status_text
from warroom.domain.events import (
    ChecklistItemAdded,
    ChecklistItemChanged,
    ChecklistItemOwnerSet,
    EntryAdded,
    EntryAmended,
    EntryStruck,
    Event,
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
from warroom.domain.incident import (
    POSTMORTEM_DUE_AFTER,
    Incident,
    IncidentState,
    PhaseChange,
    SeverityChange,
)
from warroom.domain.instants import LATEST
from warroom.domain.phase import Phase
from warroom.domain.roles import IcOffer, Role, RoleTenure, Roster
from warroom.domain.timeline import (
    EntryKind,
    EntryRevision,
    TimelineEntry,
    entry_when,
    find_mentions,
)
from warroom.domain.timeline_columns import TimelineColumns, time_of_micros
from warroom.domain.timeline_list import Row, new_entry

PROJECTION_VERSION = 1
"""Bump whenever `apply_event` builds a different state from the same events: stored snapshots
of an older version are then ignored and rebuilt from the log (the schema of `IncidentState` is
compared on its own)."""

_LAST_DUE_FROM = LATEST - POSTMORTEM_DUE_AFTER
"""The latest resolution time whose post-mortem due date can be computed."""


class ProjectionError(Exception):
    """An event does not fit the state: a gap, a repeat, or a log that was not made by the rules."""


def replay(events: list[Event]) -> IncidentState:
    """Build an incident's state from its whole log."""
    if not events:
        raise ProjectionError("an incident log cannot be empty")
    state = start_state(events[0])
    apply_events(state, islice(events, 1, None))
    return state


def start_state(event: Event) -> IncidentState:
    """The state right after the declaration, which is always event 1."""
    body = event.body
    if event.seq != 1 or not isinstance(body, IncidentDeclared):
        raise ProjectionError(f"incident {event.incident_id} must start with incident_declared")
    incident = Incident(
        id=event.incident_id,
        title=body.title,
        summary=body.summary,
        severity=body.severity,
        channel=body.channel,
        declared_by=event.actor,
        declared_at=event.at,
        detection=body.detection,
    )
    roster = Roster(
        ic=event.actor,
        history=[RoleTenure(role=Role.IC, user=event.actor, assumed_at=event.at)],
    )
    state = IncidentState(
        incident=incident,
        seq=1,
        roster=roster,
        checklist=[ChecklistItem(id=n, title=t) for n, t in enumerate(body.checklist, start=1)],
        severity_history=[SeverityChange(severity=body.severity, at=event.at, by=event.actor)],
        phase_history=[PhaseChange(phase=Phase.DECLARED, at=event.at, by=event.actor)],
    )
    how = f" from alert {body.detection.alert_name}" if body.detection else ""
    _system(state, event, f"{event.actor} declared the incident as {body.severity.label}{how}")
    return state


def apply_event(state: IncidentState, event: Event) -> None:
    """Apply one committed event in place. Events must arrive in sequence, without gaps.

    An event that does not fit raises before it changes anything: every case below looks up and
    builds what it needs first and only then writes to `state`. (The sequencer does not rely on
    this alone: a turn that fails for any reason rebuilds the incidents it touched.)
    """
    if event.seq != state.seq + 1:
        raise ProjectionError(f"expected seq {state.seq + 1}, got {event.seq}")
    _apply_body(state, event)
    state.seq = event.seq


def apply_events(state: IncidentState, events: Iterable[Event]) -> None:
    """Apply consecutive committed events in place, in order: exactly the state `apply_event`
    makes applied to each in turn, including when one does not fit (the events before it stay
    applied, it changes nothing, and it raises).

    A client catching up applies thousands at once, nearly all of them timeline entries; those
    take a short path here (no per-event dispatch or attribute write through pydantic), the rest
    go through `apply_event`. Both build entries with the same `_add_entry`.
    """
    seq = state.seq
    try:
        for event in events:
            body = event.body
            if type(body) is EntryAdded and event.seq == seq + 1:
                _add_entry(state, event, body)
                seq += 1
            else:
                if state.seq != seq:
                    state.seq = seq  # `apply_event` checks the order against the state
                apply_event(state, event)
                seq = event.seq
    finally:
        if state.seq != seq:
            state.seq = seq


def add_entry_rows(state: IncidentState, rows: list[Row]) -> None:
    """Apply validated added-entry rows (`timeline_list.ADDED_ROW_FIELDS`) of consecutive
    `entry_added` events right after the state's seq, in place: the state `apply_events` makes
    of those events, with each entry built only when it is first read (`Timeline`).

    Raises:
        ProjectionError: a row's seq is not the next one; the rows before it stay applied.
    """
    # Comprehensions, not a loop with a test per row: a catch-up brings ten thousand.
    seqs = [row[0] for row in rows]
    fitting = len(rows)
    if seqs != list(range(state.seq + 1, state.seq + 1 + fitting)):
        fitting = (
            next(n for n, seq in enumerate(seqs, start=state.seq + 1) if seq != n) - state.seq - 1
        )
    fits = rows if fitting == len(rows) else rows[:fitting]
    kinds = [row[4] for row in fits]
    state.timeline.extend_rows(fits)
    if EntryKind.STATUS in kinds:
        last = len(kinds) - 1 - kinds[::-1].index(EntryKind.STATUS)
        state.last_status_at = fits[last][1]
        state.next_update_promised = None
    state.seq += fitting
    if fitting < len(rows):
        raise ProjectionError(f"expected seq {state.seq + 1}, got {rows[fitting][0]}")


def add_entry_columns(state: IncidentState, columns: TimelineColumns) -> None:
    """Apply the validated columns of consecutive `entry_added` events (`from_events`, ids the
    events' seqs) right after the state's seq, in place: the state `apply_events` makes of
    those events, each entry built from the columns only when it is first read (`Timeline`).

    Raises:
        ProjectionError: the first seq is not the next one; nothing is applied.
    """
    if not columns.from_events:
        raise ValueError("columns of entry_added events expected")
    if not len(columns):
        return
    if columns.ids[0] != state.seq + 1:
        raise ProjectionError(f"expected seq {state.seq + 1}, got {columns.ids[0]}")
    state.timeline.extend_columns(columns)
    last = _last_status_update(columns)
    if last is not None:
        state.last_status_at = time_of_micros(columns.at[last])
        state.next_update_promised = None
    state.seq += len(columns)


def _last_status_update(columns: TimelineColumns) -> int | None:
    """The place of the last status update in the columns, in one pass over each list: the
    list of kinds may name `status` many times (a hostile server's run), and a search of the
    codes for each of those names cost a console minutes for a frame of a few MB (hostile10)."""
    status_codes = {n for n, kind in enumerate(columns.kinds) if kind is EntryKind.STATUS}
    if not status_codes:
        return None
    codes = columns.kind_codes
    return next(
        (place for place in range(len(codes) - 1, -1, -1) if codes[place] in status_codes), None
    )


def _add_entry(state: IncidentState, event: Event, body: EntryAdded) -> None:
    _record_entry(
        state,
        new_entry(
            event.seq,
            event.at,
            event.actor,
            body.kind,
            body.text,
            body.occurred_at,
            body.correlation_id,
            body.tags,
            body.typed_at,
        ),
    )


def _record_entry(state: IncidentState, entry: TimelineEntry) -> None:
    state.timeline.append(entry)
    if entry.kind is EntryKind.STATUS:
        state.last_status_at = entry.at
        state.next_update_promised = None


def _apply_body(state: IncidentState, event: Event) -> None:
    body = event.body
    inc = state.incident
    match body:
        case EntryAdded():
            _add_entry(state, event, body)
        case EntryAmended():
            entry = _entry(state, body.entry_id)
            entry.revisions.append(
                EntryRevision(text=entry.text, changed_by=event.actor, changed_at=event.at)
            )
            entry.text = body.text
            entry.mentions = find_mentions(body.text)
        case EntryStruck():
            entry = _entry(state, body.entry_id)
            entry.struck = True
            entry.struck_reason = body.reason
            entry.revisions.append(
                EntryRevision(text=entry.text, changed_by=event.actor, changed_at=event.at)
            )
            if entry.kind is EntryKind.STATUS:
                _refresh_last_status(state)  # rare: only a struck status update rescans
        case SeverityChanged():
            inc.severity = body.severity
            # When it was made, as for an entry typed offline: its place among the entries.
            made_at = entry_when(event.at, None, body.typed_at)
            state.severity_history.append(
                SeverityChange(
                    severity=body.severity, at=made_at, by=event.actor, reason=body.reason
                )
            )
            _system(
                state,
                event,
                f"Severity {body.previous.label} -> {body.severity.label}"
                + (f": {body.reason}" if body.reason else ""),
                typed_at=body.typed_at,
            )
        case PhaseChanged():
            _apply_phase(state, event, body)
        case TitleChanged():
            inc.title = body.title
            _system(state, event, f'Title changed to "{body.title}"')
        case SummaryChanged():
            inc.summary = body.summary
            _system(state, event, "Summary updated")
        case RoleAssigned():
            _assign(state.roster, event, body)
            detail = f" ({body.service})" if body.service else ""
            _system(state, event, f"{body.user} is {body.role.full_name}{detail}")
        case RoleUnassigned():
            _unassign(state.roster, event, body)
            _system(state, event, f"{body.user} is no longer {body.role.full_name}")
        case IcOffered():
            state.roster.ic_offer = IcOffer(to_user=body.to_user, by=event.actor, at=event.at)
            _system(state, event, f"{event.actor} offered the IC role to {body.to_user}")
        case IcOfferClosed():
            state.roster.ic_offer = None
            text = (
                f"{body.to_user} declined the IC role"
                if body.declined
                else f"IC offer to {body.to_user} withdrawn"
            )
            _system(state, event, text)
        case IcAccepted():
            roster = state.roster
            _close_tenure(roster, Role.IC, body.previous, event)
            roster.ic = body.user
            roster.ic_offer = None
            roster.history.append(RoleTenure(role=Role.IC, user=body.user, assumed_at=event.at))
            _system(
                state, event, f"{body.user} took over as Incident Commander from {body.previous}"
            )
        case ChecklistItemAdded():
            state.checklist.append(ChecklistItem(id=body.item_id, title=body.title, custom=True))
            _system(state, event, f"Checklist item {body.item_id} added: {body.title}")
        case ChecklistItemChanged():
            item = _item(state, body.item_id)
            item.state = body.state
            item.changed_by = event.actor
            item.changed_at = event.at
            _system(state, event, f"Checklist {body.item_id} '{item.title}': {body.state.value}")
        case ChecklistItemOwnerSet():
            item = _item(state, body.item_id)
            item.owner = body.owner
            item.changed_by = event.actor
            item.changed_at = event.at
            who = body.owner or "nobody"
            _system(state, event, f"Checklist {body.item_id} '{item.title}' owned by {who}")
        case ServiceAdded():
            inc.services.append(body.service)
            _system(state, event, f"Service {body.service} added")
        case ServiceRemoved():
            if body.service not in inc.services:
                raise ProjectionError(f"service {body.service} is not listed")
            inc.services.remove(body.service)
            _system(state, event, f"Service {body.service} removed")
        case StatusUpdatePosted():
            # The text first: composing it is what can fail, and the clock must not have moved.
            text = compose_status_text(body.status, body.impact, body.actions, body.next_update_at)
            state.timeline.append(
                TimelineEntry.trusted(
                    id=event.seq,
                    kind=EntryKind.STATUS,
                    text=text,
                    author=event.actor,
                    at=event.at,
                    next_update_at=body.next_update_at,
                    mentions=find_mentions(text),
                )
            )
            state.last_status_at = event.at
            state.next_update_promised = body.next_update_at
        case ExternalDrafted():
            state.external_updates.append(
                ExternalUpdate(
                    id=event.seq,
                    title=body.title,
                    text=body.text,
                    state=body.state,
                    components=list(body.components),
                    drafted_by=event.actor,
                    drafted_at=event.at,
                )
            )
            _system(
                state,
                event,
                f"{event.actor} drafted public update #{event.seq} ({body.state.value}) "
                "for the IC's approval",
            )
        case ExternalApproved():
            draft = _draft(state, body.draft_id)
            # The timeline records the public text exactly as it was published.
            published = TimelineEntry.trusted(
                id=event.seq,
                kind=EntryKind.EXTERNAL,
                text=draft.text,
                author=draft.drafted_by,
                at=event.at,
                tags=[f"approved-by:{event.actor}", f"state:{draft.state.value}"],
            )
            draft.status = DraftStatus.APPROVED
            draft.decided_by = event.actor
            draft.decided_at = event.at
            state.timeline.append(published)
        case ExternalRejected():
            draft = _draft(state, body.draft_id)
            draft.status = DraftStatus.REJECTED
            draft.decided_by = event.actor
            draft.decided_at = event.at
            draft.comment = body.comment
            _system(
                state, event, f"{event.actor} sent back public update #{draft.id}: {body.comment}"
            )
        case IncidentDeclared():
            raise ProjectionError("incident_declared can only be event 1")


def _refresh_last_status(state: IncidentState) -> None:
    latest = next(
        (e for e in state.timeline.newest_of_kind(EntryKind.STATUS) if not e.struck), None
    )
    state.last_status_at = latest.at if latest is not None else None
    state.next_update_promised = latest.next_update_at if latest is not None else None


def _apply_phase(state: IncidentState, event: Event, body: PhaseChanged) -> None:
    inc = state.incident
    inc.phase = body.phase
    if body.phase is Phase.MITIGATING and inc.mitigated_at is None:
        inc.mitigated_at = event.at
    if body.phase is Phase.RESOLVED:
        inc.resolved_at = event.at
        # A log read from a file may be stamped in the calendar's last days; the due date then
        # stops at the last time there is rather than overflowing while the log is folded.
        inc.postmortem_due = min(event.at, _LAST_DUE_FROM) + POSTMORTEM_DUE_AFTER
    if body.phase is Phase.INVESTIGATING and body.previous is Phase.RESOLVED:
        inc.resolved_at = None  # reopened: the incident is no longer resolved
        inc.postmortem_due = None
    if body.phase is Phase.POSTMORTEM_DONE:
        inc.postmortem_done_at = event.at
    state.phase_history.append(
        PhaseChange(phase=body.phase, at=event.at, by=event.actor, reason=body.reason)
    )
    reason = f": {body.reason}" if body.reason else ""
    _system(state, event, f"Phase {body.previous.value} -> {body.phase.value}{reason}")


def _assign(roster: Roster, event: Event, body: RoleAssigned) -> None:
    if body.role is Role.CL:
        if roster.cl:
            _close_tenure(roster, Role.CL, roster.cl, event)
        roster.cl = body.user
    elif body.role is Role.SCRIBE:
        if roster.scribe:
            _close_tenure(roster, Role.SCRIBE, roster.scribe, event)
        roster.scribe = body.user
    elif body.role is Role.TL:
        if body.user in roster.tls:
            _close_tenure(roster, Role.TL, body.user, event)
        roster.tls[body.user] = body.service
    else:
        raise ProjectionError(f"role {body.role} cannot be assigned directly")
    roster.history.append(
        RoleTenure(role=body.role, user=body.user, service=body.service, assumed_at=event.at)
    )


def _unassign(roster: Roster, event: Event, body: RoleUnassigned) -> None:
    if body.role not in {Role.CL, Role.SCRIBE, Role.TL}:
        raise ProjectionError(f"role {body.role} cannot be unassigned")
    _close_tenure(roster, body.role, body.user, event)
    if body.role is Role.CL:
        roster.cl = None
    elif body.role is Role.SCRIBE:
        roster.scribe = None
    else:
        roster.tls.pop(body.user, None)


def _close_tenure(roster: Roster, role: Role, user: str, event: Event) -> None:
    for index in range(len(roster.history) - 1, -1, -1):
        tenure = roster.history[index]
        if tenure.role is role and tenure.user == user and tenure.renounced_at is None:
            # Replaced, not changed in place: the replay's checkpoints share tenures with the
            # states folded on from them (`domain.replay_index`).
            roster.history[index] = tenure.model_copy(update={"renounced_at": event.at})
            return


def _system(
    state: IncidentState, event: Event, text: str, typed_at: datetime | None = None
) -> None:
    state.timeline.append(
        TimelineEntry.trusted(
            id=event.seq,
            kind=EntryKind.SYSTEM,
            text=text,
            author=event.actor,
            at=event.at,
            typed_at=typed_at,
        )
    )


def _entry(state: IncidentState, entry_id: int) -> TimelineEntry:
    entry = state.entry(entry_id)
    if entry is None:
        raise ProjectionError(f"no timeline entry {entry_id}")
    return entry


def _draft(state: IncidentState, draft_id: int) -> ExternalUpdate:
    draft = state.external_update(draft_id)
    if draft is None:
        raise ProjectionError(f"no public update draft {draft_id}")
    return draft


def _item(state: IncidentState, item_id: int) -> ChecklistItem:
    item = state.item(item_id)
    if item is None:
        raise ProjectionError(f"no checklist item {item_id}")
    return item
