"""An incident declared from an alert's triage says so, with its time to declare."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warroom.domain.events import Event, IncidentDeclared
from warroom.domain.projection import replay
from warroom.domain.severity import Severity
from warroom.domain.triage import Detection
from warroom.export.markdown import render_markdown

T0 = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)


def declared_from_alert(
    alert_name: str, *, started: timedelta, triaged: timedelta, title: str, severity: Severity
) -> tuple[Detection, Event]:
    """An incident declared at T0 from the triage of an alert that started `started` before
    and reached triage `triaged` before."""
    detection = Detection(
        triage_id=7,
        alert_name=alert_name,
        alert_started_at=T0 - started,
        triage_opened_at=T0 - triaged,
    )
    declared = Event(
        incident_id=1,
        seq=1,
        at=T0,
        actor="oncall",
        body=IncidentDeclared(
            title=title,
            severity=severity,
            channel="#incident-2026-11-29-declared",
            checklist=[],
            detection=detection,
        ),
    )
    return detection, declared


def test_time_to_declare_comes_from_the_alert_start() -> None:
    _, declared = declared_from_alert(
        "HighErrorRate <b>",
        started=timedelta(minutes=6),
        triaged=timedelta(minutes=5),
        title="Ledger errors",
        severity=Severity.SEV1,
    )
    state = replay([declared])
    text = render_markdown(state, [declared], tz=UTC, generated_at=T0)
    assert (
        "Declared by oncall at 2026-11-29 14:00:00 UTC from the triage of alert "
        "HighErrorRate \\<b>, which started at 2026-11-29 13:54:00 UTC." in text
    )
    assert "Declared manually" not in text
    assert "- **Time to detect:** 1 min\n" in text
    assert "- **Time to declare:** 6 min\n" in text
    assert "- **Time to mitigate:** _not yet_\n" in text
    assert "**Duration:** 6 min from the first alert so far, not resolved" in text


def test_time_to_declare_is_the_domains_measure() -> None:
    """The export shows `Detection.time_to_declare`, the one place that computes it."""
    detection, declared = declared_from_alert(
        "Slow",
        started=timedelta(minutes=95),
        triaged=timedelta(minutes=90),
        title="Slow",
        severity=Severity.SEV2,
    )
    state = replay([declared])
    took = detection.time_to_declare(T0)
    assert took == timedelta(minutes=95)
    text = render_markdown(state, [declared], tz=UTC, generated_at=T0)
    assert "- **Time to declare:** 1 h 35 min\n" in text
