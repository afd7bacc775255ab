"""The rules and the projection: phases, IC handoff, entry history, checklist, names."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.domain.factories import NOW, USERS, Log
from warroom.domain.commands import (
    AddEntry,
    AmendEntry,
    AssignRole,
    DeclareIncident,
    SetItemState,
    SetPhase,
    SetSeverity,
)
from warroom.domain.errors import DomainError, ErrorCode
from warroom.domain.events import (
    EntryAdded,
    EntryAmended,
    EntryStruck,
    IcAccepted,
    IcOffered,
    PhaseChanged,
    SeverityChanged,
)
from warroom.domain.naming import channel_name
from warroom.domain.phase import Phase
from warroom.domain.projection import ProjectionError, apply_event, replay
from warroom.domain.roles import Role
from warroom.domain.rules import decide, decide_declaration
from warroom.domain.severity import SEVERITY_POLICIES, Severity
from warroom.domain.timeline import EntryKind, find_mentions


def test_declaration_makes_the_channel_from_date_and_title() -> None:
    body = decide_declaration(
        DeclareIncident(id="d", title="API Gateway: 5xx > 50%!", severity=1),
        Log().events[0].at,
    )
    assert body.channel == "#incident-2026-11-29-api-gateway-5xx-50"
    assert channel_name(date(2023, 10, 27), "API outage") == "#incident-2023-10-27-api-outage"
    assert channel_name(date(2023, 10, 27), "💥") == "#incident-2023-10-27-incident"


def test_declarer_is_ic_and_checklist_is_seeded_from_the_plan() -> None:
    log = Log()
    assert log.state.roster.ic == "ic"
    assert log.state.checklist[0].title.startswith("Roll back the last deployment")
    assert len(log.state.checklist) == 4


def test_severity_table_matches_the_plan() -> None:
    assert SEVERITY_POLICIES[Severity.SEV1].internal_update_every == timedelta(minutes=15)
    assert SEVERITY_POLICIES[Severity.SEV2].internal_update_every == timedelta(minutes=30)
    assert SEVERITY_POLICIES[Severity.SEV3].internal_update_every is None
    assert "Payment processing is down." in SEVERITY_POLICIES[Severity.SEV1].examples


def test_severity_change_lands_on_timeline_and_history() -> None:
    log = Log()
    body = decide(
        log.state,
        SetSeverity(id="s", incident_id=1, severity=1, expected=3, reason="payments down"),
        "ic",
        USERS,
        now=NOW,
    )
    log.add("ic", body)
    assert log.state.incident.severity is Severity.SEV1
    assert [h.severity for h in log.state.severity_history] == [Severity.SEV3, Severity.SEV1]
    last = log.state.timeline[-1]
    assert last.kind is EntryKind.SYSTEM
    assert last.text == "Severity SEV3 -> SEV1: payments down"


def test_phase_transitions_follow_the_workflow() -> None:
    log = Log()
    with pytest.raises(DomainError) as refused:
        decide(
            log.state,
            SetPhase(id="p", incident_id=1, phase=Phase.POSTMORTEM_DONE, expected=Phase.DECLARED),
            "ic",
            USERS,
            now=NOW,
        )
    assert refused.value.code is ErrorCode.INVALID_TRANSITION
    for previous, phase in [
        (Phase.DECLARED, Phase.INVESTIGATING),
        (Phase.INVESTIGATING, Phase.MITIGATING),
        (Phase.MITIGATING, Phase.RESOLVED),
    ]:
        cmd = SetPhase(id="p", incident_id=1, phase=phase, expected=previous)
        log.add("ic", decide(log.state, cmd, "ic", USERS, now=NOW))
    inc = log.state.incident
    assert inc.mitigated_at is not None
    assert inc.resolved_at is not None
    assert inc.postmortem_due == inc.resolved_at + timedelta(hours=48)
    assert [p.phase for p in log.state.phase_history] == [
        Phase.DECLARED,
        Phase.INVESTIGATING,
        Phase.MITIGATING,
        Phase.RESOLVED,
    ]


def test_reopening_clears_the_resolution() -> None:
    log = Log()
    log.add("ic", PhaseChanged(phase=Phase.RESOLVED, previous=Phase.DECLARED))
    log.add("ic", PhaseChanged(phase=Phase.INVESTIGATING, previous=Phase.RESOLVED, reason="back"))
    assert log.state.incident.resolved_at is None
    assert log.state.incident.postmortem_due is None


def test_ic_handoff_is_offered_then_accepted_with_tenures_kept() -> None:
    log = Log()
    offer = decide(
        log.state, AssignRole(id="o", incident_id=1, role="ic", user="tl"), "ic", USERS, now=NOW
    )
    assert isinstance(offer, IcOffered)
    log.add("ic", offer)
    assert log.state.roster.ic == "ic"  # nothing changes until the receiver accepts
    log.add("tl", IcAccepted(user="tl", previous="ic"))
    roster = log.state.roster
    assert roster.ic == "tl"
    assert roster.ic_offer is None
    ic_tenures = [t for t in roster.history if t.role is Role.IC]
    assert [(t.user, t.renounced_at is None) for t in ic_tenures] == [("ic", False), ("tl", True)]
    assert roster.roles_of("tl") == {Role.IC, Role.TL}
    assert roster.roles_of("ic") == {Role.OBSERVER}


def test_assigning_an_unknown_user_is_refused() -> None:
    log = Log()
    with pytest.raises(DomainError) as refused:
        decide(
            log.state,
            AssignRole(id="a", incident_id=1, role="cl", user="ghost"),
            "ic",
            USERS,
            now=NOW,
        )
    assert refused.value.code is ErrorCode.UNKNOWN_USER


def test_amended_and_struck_entries_keep_their_history() -> None:
    log = Log()
    entry = log.add("scribe", EntryAdded(kind=EntryKind.ACTION, text="rolled back v2.14"))
    log.add("scribe", EntryAmended(entry_id=entry.seq, text="rolled back v2.14.0 @tl"))
    log.add("ic", EntryStruck(entry_id=entry.seq, reason="wrong service"))
    stored = log.state.entry(entry.seq)
    assert stored is not None
    assert stored.text == "rolled back v2.14.0 @tl"
    assert stored.mentions == ["tl"]
    assert stored.struck
    assert stored.struck_reason == "wrong service"
    assert [r.text for r in stored.revisions] == ["rolled back v2.14", "rolled back v2.14.0 @tl"]


def test_system_entries_cannot_be_amended() -> None:
    log = Log()
    with pytest.raises(DomainError) as refused:
        decide(log.state, _amend(log.state.timeline[0].id), "ic", USERS, now=NOW)
    assert refused.value.code is ErrorCode.INVALID


def _amend(entry_id: int) -> AmendEntry:
    return AmendEntry(id="a", incident_id=1, entry_id=entry_id, text="x")


def test_checklist_change_with_stale_expectation_conflicts() -> None:
    log = Log()
    log.add(
        "tl",
        decide(
            log.state,
            SetItemState(id="1", incident_id=1, item_id=1, state="in-progress", expected="todo"),
            "tl",
            USERS,
            now=NOW,
        ),
    )
    with pytest.raises(DomainError) as refused:
        decide(
            log.state,
            SetItemState(id="2", incident_id=1, item_id=1, state="done", expected="todo"),
            "ic",
            USERS,
            now=NOW,
        )
    assert refused.value.code is ErrorCode.CONFLICT
    assert refused.value.current == "in-progress"
    item = log.state.item(1)
    assert item is not None
    assert (item.state, item.changed_by) == ("in-progress", "tl")


def test_unknown_checklist_item_is_refused() -> None:
    log = Log()
    with pytest.raises(DomainError) as refused:
        decide(
            log.state,
            SetItemState(id="1", incident_id=1, item_id=99, state="done", expected="todo"),
            "ic",
            USERS,
            now=NOW,
        )
    assert refused.value.code is ErrorCode.UNKNOWN_ITEM


def test_replay_equals_incremental_projection() -> None:
    log = Log()
    log.add("ic", SeverityChanged(severity=Severity.SEV1, previous=Severity.SEV3, reason="r"))
    log.add("cl", EntryAdded(kind=EntryKind.STATUS, text="update"))
    assert replay(log.events).model_dump() == log.state.model_dump()


def test_projection_refuses_gaps_and_leaves_state_untouched() -> None:
    log = Log()
    before = log.state.model_dump()
    bad = log.events[-1].model_copy(update={"seq": log.state.seq + 2})
    with pytest.raises(ProjectionError):
        apply_event(log.state, bad)
    misfit = log.events[-1].model_copy(
        update={"seq": log.state.seq + 1, "body": EntryAmended(entry_id=999, text="x")}
    )
    with pytest.raises(ProjectionError):
        apply_event(log.state, misfit)
    assert log.state.model_dump() == before


def test_mentions_are_found_once_each() -> None:
    assert find_mentions("@sam and @lee, ping @sam. mail a@b.c") == ["sam", "lee"]


def test_published_and_recorded_entries_cannot_be_changed() -> None:
    from warroom.domain.commands import AmendEntry, StrikeEntry

    log = Log()
    for kind in (EntryKind.EXTERNAL, EntryKind.ALERT, EntryKind.METRICS):
        entry = log.add("ic", EntryAdded(kind=kind, text="as published"))
        for command in (
            AmendEntry(id="a", incident_id=1, entry_id=entry.seq, text="rewritten"),
            StrikeEntry(id="s", incident_id=1, entry_id=entry.seq),
        ):
            with pytest.raises(DomainError) as refused:
                decide(log.state, command, "ic", USERS, now=NOW)
            assert refused.value.code is ErrorCode.INVALID


def test_struck_entries_cannot_be_amended() -> None:
    from warroom.domain.commands import AmendEntry

    log = Log()
    entry = log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text="wrong"))
    log.add("scribe", EntryStruck(entry_id=entry.seq, reason="wrong"))
    with pytest.raises(DomainError):
        decide(
            log.state,
            AmendEntry(id="a", incident_id=1, entry_id=entry.seq, text="quietly fixed"),
            "scribe",
            USERS,
            now=NOW,
        )


def test_times_without_a_zone_are_refused() -> None:
    from pydantic import ValidationError

    from warroom.domain.commands import PostStatusUpdate

    with pytest.raises(ValidationError):
        AddEntry(id="a", incident_id=1, text="t", occurred_at="2026-11-29T14:02:00")
    update = PostStatusUpdate(
        id="u", incident_id=1, status="ok", next_update_at="2026-11-29T18:15:00+02:00"
    )
    from warroom.domain.communications import compose_status_text

    text = compose_status_text(update.status, "", "", update.next_update_at)
    assert text.endswith("Next update: 16:15 UTC")
