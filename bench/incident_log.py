"""A generated incident log of any length that uses every kind of event, made deterministically
from a seed: for the replay benchmark, and for the tests that fold it step by step.

Each event is chosen from what the incident holds at that point (the projection folds along), so
amendments name entries that exist, the IC hands over to someone, drafts are decided once.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from warroom.domain.checklist import PLAN_MITIGATIONS, ItemState
from warroom.domain.communications import DraftStatus, PublicState
from warroom.domain.events import (
    ChecklistItemAdded,
    ChecklistItemChanged,
    ChecklistItemOwnerSet,
    EntryAdded,
    EntryAmended,
    EntryStruck,
    Event,
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
from warroom.domain.phase import PHASE_TRANSITIONS
from warroom.domain.projection import apply_event, start_state
from warroom.domain.roles import Role
from warroom.domain.severity import Severity
from warroom.domain.timeline import USER_KINDS, EntryKind

START = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
PEOPLE = ("ana", "ben", "chloe", "dev", "emil", "fay")
SERVICES = ("payments-api", "api-gateway", "ledger", "auth")
_WRITTEN_KINDS = [*sorted(USER_KINDS - {EntryKind.STATUS}), EntryKind.METRICS, EntryKind.ALERT]


def generated_incident(events: int, *, seed: int = 15, incident_id: int = 1) -> list[Event]:
    """`events` events of one incident: mostly timeline entries, with every other kind mixed in.

    Events are 0 to 20 seconds apart, so 100,000 events span about twelve days of incident time.
    """
    rng = random.Random(seed)
    at = START
    declared = IncidentDeclared(
        title="Generated incident: checkout errors",
        severity=Severity.SEV2,
        channel="#inc-generated",
        checklist=list(PLAN_MITIGATIONS),
    )
    log = [Event(incident_id=incident_id, seq=1, at=at, actor=PEOPLE[0], body=declared)]
    state = start_state(log[0])
    while len(log) < events:
        at += timedelta(seconds=rng.randint(0, 20))
        body = _next_body(rng, state)
        event = Event(
            incident_id=incident_id,
            seq=len(log) + 1,
            at=at,
            actor=state.roster.ic if rng.random() < 0.5 else rng.choice(PEOPLE),
            body=body,
        )
        apply_event(state, event)
        log.append(event)
    return log


def _next_body(rng: random.Random, state: IncidentState) -> EventBody:
    roll = rng.random()
    if roll < 0.80:
        return EntryAdded(
            kind=rng.choice(_WRITTEN_KINDS),
            text=f"finding {state.seq + 1}: {rng.choice(SERVICES)} p99 {rng.randint(80, 900)} ms",
            correlation_id=f"cid-{rng.randint(1, 50)}" if rng.random() < 0.2 else None,
        )
    if roll < 0.86:
        return _change_entry(rng, state)
    if roll < 0.90:
        return _change_checklist(rng, state)
    if roll < 0.93:
        return _change_roles(rng, state)
    if roll < 0.96:
        return _communicate(rng, state)
    return _change_incident(rng, state)


def _change_entry(rng: random.Random, state: IncidentState) -> EventBody:
    written = [e for e in state.timeline[-200:] if e.kind in USER_KINDS and not e.struck]
    if not written:
        return EntryAdded(kind=EntryKind.NOTE, text="nothing to amend yet")
    entry = rng.choice(written)
    if rng.random() < 0.7:
        return EntryAmended(entry_id=entry.id, text=f"{entry.text} (corrected)")
    return EntryStruck(entry_id=entry.id, reason="wrong service")


def _change_checklist(rng: random.Random, state: IncidentState) -> EventBody:
    roll = rng.random()
    if roll < 0.2 or not state.checklist:
        return ChecklistItemAdded(item_id=len(state.checklist) + 1, title="Drain the retry queue")
    item = rng.choice(state.checklist)
    if roll < 0.4:
        return ChecklistItemOwnerSet(item_id=item.id, owner=rng.choice([*PEOPLE, None]))
    wanted = rng.choice([s for s in ItemState if s is not item.state])
    return ChecklistItemChanged(item_id=item.id, state=wanted, previous=item.state)


def _change_roles(rng: random.Random, state: IncidentState) -> EventBody:
    roster = state.roster
    if roster.ic_offer is not None:
        offer = roster.ic_offer
        if rng.random() < 0.6:
            return IcAccepted(user=offer.to_user, previous=roster.ic)
        return IcOfferClosed(to_user=offer.to_user, declined=rng.random() < 0.5)
    roll = rng.random()
    if roll < 0.25:
        return IcOffered(to_user=rng.choice([p for p in PEOPLE if p != roster.ic]))
    if roll < 0.45 and (roster.cl or roster.scribe or roster.tls):
        holders = [(Role.CL, roster.cl), (Role.SCRIBE, roster.scribe)]
        holders += [(Role.TL, user) for user in roster.tls]
        role, user = rng.choice([(r, u) for r, u in holders if u])
        assert user is not None
        return RoleUnassigned(role=role, user=user)
    role = rng.choice([Role.CL, Role.TL, Role.SCRIBE])
    service = rng.choice(SERVICES) if role is Role.TL else None
    return RoleAssigned(role=role, user=rng.choice(PEOPLE), service=service)


def _communicate(rng: random.Random, state: IncidentState) -> EventBody:
    pending = [u for u in state.external_updates if u.status is DraftStatus.PENDING]
    if pending and rng.random() < 0.6:
        draft = rng.choice(pending)
        if rng.random() < 0.7:
            return ExternalApproved(draft_id=draft.id)
        return ExternalRejected(draft_id=draft.id, comment="say which regions")
    if rng.random() < 0.5:
        return StatusUpdatePosted(
            status="Card payments failing for some users",
            impact="~20% of checkouts",
            next_update_at=state.timeline[-1].at + timedelta(minutes=15),
        )
    public = rng.choice(list(PublicState))
    return ExternalDrafted(
        title="Checkout problems", text=f"We are {public.value}.", state=public, components=["API"]
    )


def _change_incident(rng: random.Random, state: IncidentState) -> EventBody:
    inc = state.incident
    roll = rng.random()
    if roll < 0.35:
        severity = rng.choice([s for s in Severity if s is not inc.severity])
        return SeverityChanged(severity=severity, previous=inc.severity, reason="impact changed")
    if roll < 0.6:
        # Never past the post-mortem: an incident there takes no more phase changes.
        moves = sorted(PHASE_TRANSITIONS[inc.phase] - {inc.phase.POSTMORTEM_DONE})
        if moves:
            return PhaseChanged(phase=rng.choice(moves), previous=inc.phase, reason="progress")
    if roll < 0.8:
        missing = [s for s in SERVICES if s not in inc.services]
        if missing and (rng.random() < 0.6 or not inc.services):
            return ServiceAdded(service=rng.choice(missing))
        if inc.services:
            return ServiceRemoved(service=rng.choice(inc.services))
    if roll < 0.9:
        return TitleChanged(title=f"{inc.title.split(' #')[0]} #{state.seq}", previous=inc.title)
    return SummaryChanged(summary=f"Summary as of event {state.seq + 1}")
