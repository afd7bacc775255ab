"""Every role against every operation, both ways: allowed succeeds, the rest is forbidden."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.domain.factories import NOW, USERS, Log
from warroom.domain.commands import (
    AcceptIc,
    AddChecklistItem,
    AddEntry,
    AmendEntry,
    AssignRole,
    DeclineIc,
    IncidentCommand,
    SetItemOwner,
    SetItemState,
    SetPhase,
    SetSeverity,
    SetSummary,
    SetTitle,
    StrikeEntry,
    UnassignRole,
)
from warroom.domain.errors import DomainError, ErrorCode
from warroom.domain.events import EntryAdded, IcOfferClosed, IcOffered
from warroom.domain.rules import decide
from warroom.domain.timeline import EntryKind

ROLES = ("ic", "cl", "tl", "scribe", "observer")

# Written out by hand from the plan, not derived from PERMISSION_MATRIX, so the test can disagree.
OPERATIONS: dict[str, tuple[Callable[[Log], IncidentCommand], set[str]]] = {
    "change severity": (
        lambda log: SetSeverity(id="c", incident_id=1, severity=1, expected=3, reason="r"),
        {"ic"},
    ),
    "change phase": (
        lambda log: SetPhase(id="c", incident_id=1, phase="investigating", expected="declared"),
        {"ic"},
    ),
    "resolve": (
        lambda log: SetPhase(id="c", incident_id=1, phase="resolved", expected="declared"),
        {"ic"},
    ),
    "change title": (
        lambda log: SetTitle(id="c", incident_id=1, title="New", expected="Checkout errors"),
        {"ic"},
    ),
    "change summary": (
        lambda log: SetSummary(id="c", incident_id=1, summary="s", expected=""),
        {"ic"},
    ),
    "assign role": (
        lambda log: AssignRole(id="c", incident_id=1, role="tl", user="newbie"),
        {"ic"},
    ),
    "offer IC": (lambda log: AssignRole(id="c", incident_id=1, role="ic", user="cl"), {"ic"}),
    "unassign role": (
        lambda log: UnassignRole(id="c", incident_id=1, role="scribe", user="scribe"),
        {"ic"},
    ),
    "write note": (
        lambda log: AddEntry(id="c", incident_id=1, text="t"),
        {"ic", "cl", "tl", "scribe"},
    ),
    "write decision": (
        lambda log: AddEntry(id="c", incident_id=1, kind="decision", text="t"),
        {"ic", "cl", "tl", "scribe"},
    ),
    "post internal status": (
        lambda log: AddEntry(id="c", incident_id=1, kind="status", text="t"),
        {"ic", "cl"},
    ),
    "amend someone else's entry": (
        lambda log: AmendEntry(id="c", incident_id=1, entry_id=_others_entry(log), text="t2"),
        {"ic", "scribe"},
    ),
    "strike someone else's entry": (
        lambda log: StrikeEntry(id="c", incident_id=1, entry_id=_others_entry(log)),
        {"ic", "scribe"},
    ),
    "tick checklist item": (
        lambda log: SetItemState(id="c", incident_id=1, item_id=1, state="done", expected="todo"),
        {"ic", "tl"},
    ),
    "own checklist item": (
        lambda log: SetItemOwner(id="c", incident_id=1, item_id=1, owner="tl"),
        {"ic", "tl"},
    ),
    "add checklist item": (
        lambda log: AddChecklistItem(id="c", incident_id=1, title="Purge CDN"),
        {"ic", "tl"},
    ),
}


def _others_entry(log: Log) -> int:
    return next(e.id for e in log.state.timeline if e.author == "newbie")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_permission_matrix(role: str, operation: str) -> None:
    log = Log()
    # Written by someone who has since left the call, so it is nobody's own entry here.
    log.add("newbie", EntryAdded(kind=EntryKind.NOTE, text="by a former TL"))
    make, allowed = OPERATIONS[operation]
    if role in allowed:
        decide(log.state, make(log), role, USERS, now=NOW)
    else:
        with pytest.raises(DomainError) as refused:
            decide(log.state, make(log), role, USERS, now=NOW)
        assert refused.value.code is ErrorCode.FORBIDDEN


@pytest.mark.parametrize("role", ["ic", "cl", "tl", "scribe"])
def test_authors_may_amend_and_strike_their_own_entries(role: str) -> None:
    log = Log()
    entry = log.add(role, EntryAdded(kind=EntryKind.NOTE, text="mine"))
    decide(
        log.state,
        AmendEntry(id="a", incident_id=1, entry_id=entry.seq, text="x"),
        role,
        USERS,
        now=NOW,
    )
    decide(log.state, StrikeEntry(id="s", incident_id=1, entry_id=entry.seq), role, USERS, now=NOW)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_offered_person_accepts_the_ic_role(role: str) -> None:
    log = Log()
    log.add("ic", IcOffered(to_user="cl"))
    if role == "cl":
        decide(log.state, AcceptIc(id="a", incident_id=1), role, USERS, now=NOW)
    else:
        with pytest.raises(DomainError) as refused:
            decide(log.state, AcceptIc(id="a", incident_id=1), role, USERS, now=NOW)
        assert refused.value.code is ErrorCode.FORBIDDEN


@pytest.mark.parametrize("role", ROLES)
def test_ic_offer_is_closed_only_by_its_receiver_or_the_ic(role: str) -> None:
    log = Log()
    log.add("ic", IcOffered(to_user="cl"))
    if role in {"cl", "ic"}:
        body = decide(log.state, DeclineIc(id="d", incident_id=1), role, USERS, now=NOW)
        assert isinstance(body, IcOfferClosed)
        assert body.declined is (role == "cl")
    else:
        with pytest.raises(DomainError) as refused:
            decide(log.state, DeclineIc(id="d", incident_id=1), role, USERS, now=NOW)
        assert refused.value.code is ErrorCode.FORBIDDEN


@pytest.mark.parametrize("kind", ["alert", "metrics", "system", "external"])
def test_workflow_entry_kinds_cannot_be_posted_directly(kind: str) -> None:
    log = Log()
    with pytest.raises(DomainError) as refused:
        decide(
            log.state, AddEntry(id="c", incident_id=1, kind=kind, text="t"), "ic", USERS, now=NOW
        )
    assert refused.value.code is ErrorCode.INVALID
