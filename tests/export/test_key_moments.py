"""The post-mortem's "Key moments": each with its incident time, seq and replay anchor; user text
in them escaped like everywhere else in the draft."""

from __future__ import annotations

import re
from datetime import timedelta

from warroom.domain.events import (
    ChecklistItemChanged,
    Event,
    IcAccepted,
    PhaseChanged,
    SeverityChanged,
)
from warroom.domain.phase import Phase
from warroom.domain.projection import replay
from warroom.domain.severity import Severity
from warroom.export.html import render_html
from warroom.export.markdown import render_markdown

from .scripted import HOSTILE, T0, declared_only, scripted_incident
from .test_markdown import section

GENERATED = T0.replace(hour=16)


def _seq(events: list[Event], kind: type[object], test: object = None) -> int:
    return next(e.seq for e in events if isinstance(e.body, kind) and (test is None or test(e)))  # type: ignore[operator]


def _rows(markdown: str) -> list[str]:
    return [line for line in section(markdown, "Key moments").splitlines() if line.startswith("|")]


def test_key_moments_list_severity_handoff_first_mitigation_and_resolution_with_seq() -> None:
    state, events = scripted_incident()
    rows = _rows(render_markdown(state, events, tz=None, generated_at=GENERATED))[2:]
    severity = _seq(events, SeverityChanged)
    handoff = _seq(events, IcAccepted)
    mitigation = _seq(events, ChecklistItemChanged, lambda e: e.body.state.value == "done")
    resolved = _seq(events, PhaseChanged, lambda e: e.body.phase is Phase.RESOLVED)
    by_seq = {int(row.split("|")[3].strip()): row for row in rows}
    assert "Severity SEV2 → SEV1 by alice: card payments down" in by_seq[severity]
    assert "+4 min" in by_seq[severity]
    assert "IC handed over from alice to erin" in by_seq[handoff]
    assert "First mitigation applied by carol: Roll back the last deployment" in by_seq[mitigation]
    assert "Resolved by erin" in by_seq[resolved]
    assert [int(row.split("|")[3]) for row in rows] == sorted(by_seq)  # in the order of the log
    for seq, row in by_seq.items():
        assert f"`warroom replay 7 --at {seq}`" in row


def test_hostile_text_in_key_moments_is_escaped_in_markdown_and_html() -> None:
    state, events = scripted_incident(lambda text: f"{text} {HOSTILE}")
    markdown = section(
        render_markdown(state, events, tz=None, generated_at=GENERATED), "Key moments"
    )
    assert "\\<script>alert(1)\\</script>" in markdown
    assert not re.search(r"(?<!\\)<script", markdown)
    assert "\x1b" not in markdown
    assert not re.search(r"(?<!\\)\[link\]", markdown)
    # Every row keeps its five cells: the reason's pipes and line breaks are text.
    rows = [line for line in markdown.splitlines() if line.startswith("|")]
    assert {re.sub(r"\\.", "", row).count("|") for row in rows} == {6}
    html = render_html(state, events, tz=None, generated_at=GENERATED)
    start = html.index("Key moments")
    moments = html[start : html.index("</section>", start)]
    assert "&lt;script&gt;" in moments
    assert "<script>" not in moments
    assert "<code>warroom replay 7 --at " in moments


def test_a_severity_change_made_offline_is_dated_when_it_was_made_like_in_the_timeline() -> None:
    _, events = declared_only()
    made = T0 + timedelta(minutes=3)
    change = SeverityChanged(
        severity=Severity.SEV1, previous=Severity.SEV3, reason="worse", typed_at=made
    )
    arrived = Event(incident_id=7, seq=2, at=T0 + timedelta(minutes=9), actor="alice", body=change)
    events = [*events, arrived]
    rows = _rows(render_markdown(replay(events), events, tz=None, generated_at=GENERATED))[2:]
    (row,) = rows
    assert "+3 min" in row
    assert made.strftime("%H:%M") in row
    assert (T0 + timedelta(minutes=9)).strftime("%H:%M") not in row
