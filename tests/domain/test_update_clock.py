"""Tests for the internal-update clock: cadence, restarts, severity changes and reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from warroom.domain.events import (
    EntryAdded,
    EntryStruck,
    Event,
    EventBody,
    IncidentDeclared,
    PhaseChanged,
    SeverityChanged,
)
from warroom.domain.incident import IncidentState
from warroom.domain.phase import Phase
from warroom.domain.projection import replay
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind
from warroom.domain.update_clock import (
    DEFAULT_CADENCE,
    UpdateCadence,
    missed_deadline_to_remind,
    next_update_due,
    overdue_reminder_text,
    update_status,
)

T0 = datetime(2024, 5, 1, 14, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """A moment `minutes` after the declaration."""
    return T0 + timedelta(minutes=minutes)


class Log:
    """An incident's event log built by hand, one event per call, in time order."""

    def __init__(self, severity: Severity) -> None:
        self.severity = severity
        self.phase = Phase.DECLARED
        self.events: list[Event] = []
        self._add(
            0,
            IncidentDeclared(
                title="Payments down", severity=severity, channel="#inc", checklist=[]
            ),
            actor="ic",
        )

    def _add(self, minute: float, body: EventBody, actor: str = "cl") -> int:
        seq = len(self.events) + 1
        self.events.append(Event(incident_id=7, seq=seq, at=at(minute), actor=actor, body=body))
        return seq

    def status(self, minute: float, occurred_at: datetime | None = None) -> int:
        return self._add(
            minute, EntryAdded(kind=EntryKind.STATUS, text="update", occurred_at=occurred_at)
        )

    def note(self, minute: float) -> int:
        return self._add(minute, EntryAdded(kind=EntryKind.NOTE, text="looking at the LB"))

    def strike(self, minute: float, entry_id: int) -> None:
        self._add(minute, EntryStruck(entry_id=entry_id, reason="wrong incident"))

    def severity_to(self, minute: float, severity: Severity) -> None:
        self._add(
            minute,
            SeverityChanged(severity=severity, previous=self.severity, reason="impact changed"),
            actor="ic",
        )
        self.severity = severity

    def phase_to(self, minute: float, phase: Phase) -> None:
        self._add(minute, PhaseChanged(phase=phase, previous=self.phase), actor="ic")
        self.phase = phase

    def state_at(self, now: datetime) -> IncidentState:
        """The state as the server sees it at `now`: only events committed by then."""
        return replay([e for e in self.events if e.at <= now])


def reminder_minutes(log: Log, until: int, cadence: UpdateCadence = DEFAULT_CADENCE) -> list[int]:
    """Run the server's reminder check once a minute and list the minutes a reminder was written.

    The server remembers the deadline it last reminded about, as it will in production.
    """
    reminded_for: datetime | None = None
    written: list[int] = []
    for minute in range(until + 1):
        now = at(minute)
        deadline = missed_deadline_to_remind(log.state_at(now), now, reminded_for, cadence)
        if deadline is not None:
            written.append(minute)
            reminded_for = deadline
    return written


def test_sev1_overdue_fires_once_at_minute_15() -> None:
    assert reminder_minutes(Log(Severity.SEV1), until=120) == [15]


def test_sev2_overdue_fires_once_at_minute_30() -> None:
    assert reminder_minutes(Log(Severity.SEV2), until=240) == [30]


def test_deadline_is_reached_at_the_due_second_not_before() -> None:
    state = Log(Severity.SEV1).state_at(at(0))

    before = update_status(state, at(15) - timedelta(seconds=1))
    on_time = update_status(state, at(15))
    late = update_status(state, at(17))

    assert before.due_at == at(15)
    assert (before.overdue, before.remaining) == (False, timedelta(seconds=1))
    assert (on_time.overdue, on_time.remaining) == (True, timedelta(0))
    assert (late.overdue, late.remaining) == (True, timedelta(minutes=-2))
    assert late.since == T0
    assert late.every == timedelta(minutes=15)


def test_status_update_restarts_the_clock() -> None:
    log = Log(Severity.SEV1)
    log.status(10)

    assert next_update_due(log.state_at(at(10))) == at(25)
    assert reminder_minutes(log, until=60) == [25]


def test_update_after_a_reminder_arms_the_next_deadline() -> None:
    log = Log(Severity.SEV1)
    log.status(20)  # five minutes late, after the minute-15 reminder
    log.status(33)

    assert reminder_minutes(log, until=60) == [15, 48]


def test_other_entry_kinds_do_not_restart_the_clock() -> None:
    log = Log(Severity.SEV1)
    log.note(10)

    assert reminder_minutes(log, until=30) == [15]


def test_struck_status_update_restarts_nothing() -> None:
    log = Log(Severity.SEV1)
    entry = log.status(10)
    log.strike(12, entry)

    assert next_update_due(log.state_at(at(12))) == at(15)
    assert reminder_minutes(log, until=30) == [15]


def test_striking_an_update_after_its_deadline_does_not_repeat_a_reminder() -> None:
    log = Log(Severity.SEV1)
    log.status(20)  # reminder at 15, then this update moves the deadline to 35
    entry = log.status(30)  # deadline 45
    log.strike(50, entry)  # deadline falls back to 35, which was never reminded about...

    # ...but the server already reminded at 45 for a later deadline, so 35 is not reminded again.
    assert reminder_minutes(log, until=90) == [15, 45]


def test_back_dated_status_update_counts_from_when_it_was_posted() -> None:
    log = Log(Severity.SEV1)
    log.status(12, occurred_at=at(1))

    assert next_update_due(log.state_at(at(12))) == at(27)


def test_escalation_restarts_the_clock_at_the_new_cadence() -> None:
    log = Log(Severity.SEV2)
    log.severity_to(20, Severity.SEV1)

    # Not "due at 15, already overdue": the new 15 minutes run from the escalation.
    assert next_update_due(log.state_at(at(20))) == at(35)
    assert reminder_minutes(log, until=90) == [35]


def test_update_after_escalation_restarts_from_the_update() -> None:
    log = Log(Severity.SEV2)
    log.severity_to(20, Severity.SEV1)
    log.status(22)

    assert reminder_minutes(log, until=90) == [37]


def test_de_escalation_runs_the_longer_cadence_from_the_change() -> None:
    log = Log(Severity.SEV1)
    log.status(5)
    log.severity_to(10, Severity.SEV2)

    assert next_update_due(log.state_at(at(9))) == at(20)
    assert next_update_due(log.state_at(at(10))) == at(40)
    assert reminder_minutes(log, until=120) == [40]


def test_sev3_never_owes_an_update() -> None:
    log = Log(Severity.SEV3)
    status = update_status(log.state_at(at(600)), at(600))

    assert next_update_due(log.state_at(at(0))) is None
    assert (status.due_at, status.remaining, status.overdue, status.every) == (
        None,
        None,
        False,
        None,
    )
    assert reminder_minutes(log, until=600) == []


def test_sev3_escalated_to_sev2_starts_the_clock_at_the_escalation() -> None:
    log = Log(Severity.SEV3)
    log.severity_to(100, Severity.SEV2)

    assert reminder_minutes(log, until=200) == [130]


def test_downgrade_to_sev3_stops_the_clock() -> None:
    log = Log(Severity.SEV1)
    log.severity_to(10, Severity.SEV3)

    assert reminder_minutes(log, until=120) == []


@pytest.mark.parametrize("final", [Phase.RESOLVED, Phase.POSTMORTEM_DONE])
def test_resolved_incident_never_owes_an_update(final: Phase) -> None:
    log = Log(Severity.SEV1)
    log.phase_to(10, Phase.RESOLVED)
    if final is Phase.POSTMORTEM_DONE:
        log.phase_to(11, Phase.POSTMORTEM_DONE)

    assert next_update_due(log.state_at(at(12))) is None
    assert not update_status(log.state_at(at(500)), at(500)).overdue
    assert reminder_minutes(log, until=500) == []


def test_reopened_incident_restarts_the_clock_at_the_reopening() -> None:
    log = Log(Severity.SEV1)
    log.phase_to(10, Phase.RESOLVED)
    log.phase_to(60, Phase.INVESTIGATING)

    assert next_update_due(log.state_at(at(60))) == at(75)
    assert reminder_minutes(log, until=120) == [75]


def test_configured_sev2_cadence_is_used() -> None:
    cadence = UpdateCadence(sev2_minutes=45)

    assert reminder_minutes(Log(Severity.SEV2), until=120, cadence=cadence) == [45]
    assert reminder_minutes(Log(Severity.SEV1), until=120, cadence=cadence) == [15]


def test_configured_sev1_cadence_may_be_stricter() -> None:
    cadence = UpdateCadence(sev1_minutes=10)

    assert reminder_minutes(Log(Severity.SEV1), until=60, cadence=cadence) == [10]


@pytest.mark.parametrize("minutes", [20, 29, 61, 90])
def test_sev2_cadence_outside_30_to_60_minutes_is_refused(minutes: int) -> None:
    with pytest.raises(ValidationError, match="sev2_minutes"):
        UpdateCadence(sev2_minutes=minutes)


@pytest.mark.parametrize("minutes", [30, 60])
def test_sev2_cadence_bounds_are_inclusive(minutes: int) -> None:
    assert UpdateCadence(sev2_minutes=minutes).every(Severity.SEV2) == timedelta(minutes=minutes)


@pytest.mark.parametrize("minutes", [0, 16, 30])
def test_sev1_cadence_longer_than_the_plan_is_refused(minutes: int) -> None:
    with pytest.raises(ValidationError, match="sev1_minutes"):
        UpdateCadence(sev1_minutes=minutes)


def test_unknown_cadence_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="sev3_minutes"):
        UpdateCadence.model_validate({"sev3_minutes": 60})


def test_default_cadence_matches_the_severity_table() -> None:
    for severity in Severity:
        assert DEFAULT_CADENCE.every(severity) == severity.policy.internal_update_every


def test_reminder_text_names_the_level_deadline_and_cadence() -> None:
    state = Log(Severity.SEV1).state_at(at(16))

    text = overdue_reminder_text(state, at(15))

    assert text == "Internal update overdue: SEV1 update was due at 14:15 UTC (every 15 min)"
