"""What the triage view says about Alertmanager: a restart is its own state, never "OK"."""

from __future__ import annotations

from datetime import UTC, datetime

from warroom.domain.triage import AlertSourceStatus, SourceState
from warroom.tui.triage_format import source_status

AT = datetime(2026, 3, 1, 14, 5, tzinfo=UTC)


def test_a_restarted_alertmanager_is_shown_as_restarted_not_ok() -> None:
    source = AlertSourceStatus(
        configured=True, ok=True, checked_at=AT, state=SourceState.RESTARTED, restarted_at=AT
    )
    words, css = source_status(source, UTC)
    assert words.startswith("Alertmanager: RESTARTED; some alerts unconfirmed")
    assert "none resolved" in words
    assert css == "-down"


def test_a_running_alertmanager_is_ok() -> None:
    source = AlertSourceStatus(configured=True, ok=True, checked_at=AT, state=SourceState.OK)
    assert source_status(source, UTC) == ("Alertmanager: OK as of 14:05", "-ok")
