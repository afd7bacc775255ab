"""Tests for deriving the public status document from incident states."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.status_page.incidents import T0, IncidentLog
from warroom.domain.communications import PublicState
from warroom.domain.phase import Phase
from warroom.domain.severity import Severity
from warroom.status_page import (
    OverallStatus,
    PublicIncident,
    PublicUpdate,
    build_public_status,
    public_incident,
)

NOW = T0 + timedelta(hours=2)


def test_an_approved_update_becomes_a_public_incident() -> None:
    log = IncidentLog(42, "db-primary-3 OOM killed by runaway batch job")
    approved = log.publish(
        "We are investigating failed card payments.",
        title="Card payments failing",
        components=["payments", "checkout"],
    )

    status = build_public_status([log.state()], generated_at=NOW)

    assert status.generated_at == NOW
    assert status.incidents == [
        PublicIncident(
            id=42,
            title="Card payments failing",
            state=PublicState.INVESTIGATING,
            components=["payments", "checkout"],
            active=True,
            updates=[
                PublicUpdate(
                    text="We are investigating failed card payments.",
                    state=PublicState.INVESTIGATING,
                    components=["payments", "checkout"],
                    published_at=log.at(approved),
                )
            ],
        )
    ]


def test_updates_are_newest_first_and_the_latest_sets_title_state_and_components() -> None:
    log = IncidentLog(1, "internal")
    first = log.publish("first", title="Payments slow", components=["payments"])
    # Drafted before the second update but approved after it: publication order is what counts.
    late_draft = log.draft("third", title="Payments fixed", state=PublicState.MONITORING)
    second = log.publish("second", title="Payments down", state=PublicState.IDENTIFIED)
    third = log.approve(late_draft)

    incident = public_incident(log.state())

    assert incident is not None
    assert [(u.text, u.published_at) for u in incident.updates] == [
        ("third", log.at(third)),
        ("second", log.at(second)),
        ("first", log.at(first)),
    ]
    assert (incident.title, incident.state, incident.components) == (
        "Payments fixed",
        PublicState.MONITORING,
        [],
    )


def test_pending_and_rejected_drafts_are_not_public() -> None:
    log = IncidentLog(1, "internal")
    log.draft("pending text")
    log.reject(log.draft("rejected text"))
    log.publish("approved text")

    incident = public_incident(log.state())

    assert incident is not None
    assert [u.text for u in incident.updates] == ["approved text"]


def test_an_incident_with_nothing_approved_is_left_out() -> None:
    quiet = IncidentLog(1, "Credential leak in build logs")
    quiet.draft("pending")
    quiet.reject(quiet.draft("rejected"))
    public = IncidentLog(2, "internal")
    public.publish("approved")

    status = build_public_status([quiet.state(), public.state()], generated_at=NOW)

    assert public_incident(quiet.state()) is None
    assert [i.id for i in status.incidents] == [2]


def test_active_incidents_come_first_then_most_recently_updated() -> None:
    logs = [IncidentLog(n, f"internal {n}", Severity.SEV2) for n in range(1, 5)]
    # Incident 1 was publicly resolved, 2 was closed by the war room without saying so publicly.
    logs[0].publish("over", state=PublicState.RESOLVED)
    logs[1].publish("looking")
    logs[1].move(Phase.DECLARED, Phase.RESOLVED)
    logs[2].publish("looking")
    logs[3].draft("padding")  # pushes incident 4's publication later than incident 3's
    logs[3].publish("looking")

    status = build_public_status([log.state() for log in logs], generated_at=NOW)

    assert [(i.id, i.active) for i in status.incidents] == [
        (4, True),
        (3, True),
        (2, False),
        (1, False),
    ]


def _incident(
    incident_id: int,
    severity: Severity,
    *states: PublicState,
    approve: bool = True,
    phase: Phase | None = None,
) -> IncidentLog:
    log = IncidentLog(incident_id, "internal", severity)
    for state in states:
        draft = log.draft(f"update {state}", state=state)
        if approve:
            log.approve(draft)
    if phase is not None:
        log.move(Phase.DECLARED, phase)
    return log


@pytest.mark.parametrize(
    ("logs", "expected"),
    [
        pytest.param([], OverallStatus.OPERATIONAL, id="no incidents"),
        pytest.param(
            [_incident(1, Severity.SEV1, PublicState.INVESTIGATING)],
            OverallStatus.MAJOR_OUTAGE,
            id="open SEV1 with an approved update",
        ),
        pytest.param(
            [_incident(1, Severity.SEV2, PublicState.IDENTIFIED)],
            OverallStatus.DEGRADED,
            id="open SEV2",
        ),
        pytest.param(
            [_incident(1, Severity.SEV3, PublicState.MONITORING)],
            OverallStatus.DEGRADED,
            id="open SEV3",
        ),
        pytest.param(
            [
                _incident(1, Severity.SEV3, PublicState.INVESTIGATING),
                _incident(2, Severity.SEV1, PublicState.INVESTIGATING),
            ],
            OverallStatus.MAJOR_OUTAGE,
            id="the worst open incident wins",
        ),
        pytest.param(
            [_incident(1, Severity.SEV1, PublicState.INVESTIGATING, approve=False)],
            OverallStatus.OPERATIONAL,
            id="SEV1 with only a pending draft",
        ),
        pytest.param(
            [_incident(1, Severity.SEV1, PublicState.INVESTIGATING, PublicState.RESOLVED)],
            OverallStatus.OPERATIONAL,
            id="SEV1 whose latest approved update is resolved",
        ),
        pytest.param(
            [_incident(1, Severity.SEV1, PublicState.INVESTIGATING, phase=Phase.RESOLVED)],
            OverallStatus.OPERATIONAL,
            id="SEV1 closed by the war room",
        ),
        pytest.param(
            [
                _incident(1, Severity.SEV1, PublicState.RESOLVED),
                _incident(2, Severity.SEV2, PublicState.MONITORING),
            ],
            OverallStatus.DEGRADED,
            id="resolved SEV1 beside an open SEV2",
        ),
    ],
)
def test_overall_status_rule(logs: list[IncidentLog], expected: OverallStatus) -> None:
    status = build_public_status([log.state() for log in logs], generated_at=NOW)

    assert status.status is expected
