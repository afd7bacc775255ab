"""A database holding times at the calendar's very ends still opens, exports and renders.

The events are written straight into a real SQLite store with today's code, as a client could
once make the server store them; then a real server opens the file, the `warroom` command line
exports it as a child process, and the status page and the console's time formatting read it.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from tests.support.cli import warroom
from warroom.domain.checklist import ItemState
from warroom.domain.communications import PublicState
from warroom.domain.events import (
    ChecklistItemChanged,
    EntryAdded,
    Event,
    EventBody,
    ExternalApproved,
    ExternalDrafted,
    IncidentDeclared,
    PhaseChanged,
    StatusUpdatePosted,
)
from warroom.domain.instants import OUT_OF_RANGE, in_range
from warroom.domain.phase import Phase
from warroom.domain.projection import replay
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind
from warroom.domain.triage import Detection, TriageItem
from warroom.export.html import render_html
from warroom.export.markdown import render_markdown
from warroom.export.postmortem.clock import Clock, duration_text
from warroom.node import start_node
from warroom.server.app import ServerSettings
from warroom.status_page import build_public_status
from warroom.status_page import render_html as render_status_html
from warroom.status_page import render_json as render_status_json
from warroom.store.sqlite import SqliteStore
from warroom.tui.time_format import clock_time, day_and_time, duration
from warroom.users import create_user

from .parsing import md_tokens

EXTREMES = [
    datetime.fromisoformat(text)
    for text in (
        "0001-01-01T00:00:00+14:00",  # no UTC value at all: it falls in year 0
        "0001-01-01T00:00:00+00:00",  # no value in any zone west of UTC
        "9999-12-31T23:59:59-14:00",  # no UTC value: it falls in year 10000
        "9999-12-31T23:59:59+00:00",  # no value in any zone east of UTC
    )
]
"""Times a timeline writer could store, each of which made `astimezone` overflow somewhere."""

ZONES = [UTC, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("America/Los_Angeles"), None]
"""UTC, the furthest zone east (+14), one west, and this machine's own."""

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SETTINGS = ServerSettings(port=0, rate=100_000, burst=100_000)


def _incident(incident_id: int, detection_start: datetime, resolve: bool) -> list[Event]:
    """A declared incident whose every client-settable time is one of the extremes."""
    bodies: list[EventBody] = [
        IncidentDeclared(
            title=f"Extreme {incident_id}",
            severity=Severity.SEV1,
            channel=f"#incident-2026-03-01-extreme-{incident_id}",
            checklist=["Roll back"],
            detection=Detection(
                triage_id=incident_id,
                alert_name="Alert",
                alert_started_at=detection_start,
                triage_opened_at=detection_start,
            ),
        )
    ]
    for kind in (EntryKind.NOTE, EntryKind.ALERT, EntryKind.METRICS):
        bodies += [EntryAdded(kind=kind, text=f"{kind} at {t}", occurred_at=t) for t in EXTREMES]
    bodies += [StatusUpdatePosted(status="bad", next_update_at=t) for t in EXTREMES]
    bodies += [
        PhaseChanged(phase=Phase.MITIGATING, previous=Phase.DECLARED),
        ChecklistItemChanged(item_id=1, state=ItemState.DONE, previous=ItemState.TODO),
        ExternalDrafted(title="Down", text="We are on it", state=PublicState.IDENTIFIED),
    ]
    drafted = len(bodies)
    bodies.append(ExternalApproved(draft_id=drafted))
    if resolve:
        bodies.append(PhaseChanged(phase=Phase.RESOLVED, previous=Phase.MITIGATING))
    return [
        Event(
            incident_id=incident_id,
            seq=seq,
            at=T0 + timedelta(minutes=seq),
            actor="alice",
            body=body,
        )
        for seq, body in enumerate(bodies, start=1)
    ]


@pytest.fixture
async def extreme_db(tmp_path: Path) -> Path:
    db = tmp_path / "extreme.db"
    store = await SqliteStore.open(db)
    try:
        await store.append(_incident(1, EXTREMES[0], resolve=True))
        await store.append(_incident(2, EXTREMES[2], resolve=False))
        for n, when in enumerate(EXTREMES, start=1):
            await store.save_triage(
                TriageItem(
                    id=10 + n,
                    group_key=f"g{n}",
                    title="Alert",
                    labels={"alertname": "Alert"},
                    starts_at=when,
                    opened_at=when,
                    proposed_severity=Severity.SEV2,
                )
            )
    finally:
        await store.close()
    return db


def _times(value: object) -> Iterator[datetime]:
    """Every datetime anywhere inside a model, list or dict."""
    if isinstance(value, datetime):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _times(getattr(value, name))
    elif isinstance(value, Sequence) and not isinstance(value, str):  # a `Timeline` too
        for item in value:
            yield from _times(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _times(item)


async def test_a_database_with_extreme_times_opens_exports_and_renders(
    extreme_db: Path, tmp_path: Path
) -> None:
    token = await create_user(extreme_db, "alice")
    async with await start_node(extreme_db, SETTINGS) as server:
        listed = await warroom("incidents", server=server, token=token)
        assert (listed.code, listed.err) == (0, "")
        assert [line.split("\t")[0] for line in listed.out.splitlines()] == ["1", "2"]
        for incident in ("1", "2"):
            for fmt in ("json", "markdown", "html"):
                target = tmp_path / f"{incident}.{fmt}"
                args = ("export", incident, "--format", fmt, "-o", str(target))
                exported = await warroom(*args, server=server, token=token)
                assert (exported.code, exported.err) == (0, ""), f"export {incident} as {fmt}"
            events = json.loads((tmp_path / f"{incident}.json").read_text())["events"]
            assert len(events) > 15
            markdown = (tmp_path / f"{incident}.markdown").read_text()
            assert f"0001-01-01T00:00:00+14:00 {OUT_OF_RANGE}" in markdown
            assert f"9999-12-31T23:59:59-14:00 {OUT_OF_RANGE}" in markdown
            # The alert's start is out of range, so every duration from it is unknown.
            assert "- **Time to resolve:** unknown" in markdown or incident == "2"
            assert "- **Time to declare:** unknown" in markdown
            assert "Traceback" not in markdown
            md_tokens(markdown)
            html = (tmp_path / f"{incident}.html").read_text()
            assert f"0001-01-01T00:00:00+14:00 {OUT_OF_RANGE}" in html
        states = [s for s in (server.hub.incident_state(n) for n in (1, 2)) if s is not None]
    assert len(states) == 2
    status = build_public_status(states, generated_at=T0)
    assert render_status_json(status)
    assert "Down" in render_status_html(status)
    store = await SqliteStore.open(extreme_db)
    try:
        triage = await store.load_triage()
    finally:
        await store.close()
    _format_like_the_console([*states, *triage])


def _format_like_the_console(models: Sequence[object]) -> None:
    seen = 0
    for when in _times(models):
        for zone in ZONES:
            for text in (
                clock_time(when, zone),
                clock_time(when, zone, seconds=False),
                day_and_time(when, zone),
                day_and_time(when, zone, seconds=True),
            ):
                assert text
                assert (OUT_OF_RANGE in text) == (not in_range(when))
        assert duration(when - T0)
        seen += 1
    assert seen > 40


def test_posting_the_extremes_in_a_next_update_replays_as_stored() -> None:
    state = replay(_incident(3, T0, resolve=False))
    statuses = [e.text for e in state.timeline if e.kind is EntryKind.STATUS]
    assert statuses[0] == f"Status: bad\nNext update: 0001-01-01T00:00:00+14:00 {OUT_OF_RANGE}"
    assert statuses[3] == f"Status: bad\nNext update: 9999-12-31T23:59:59+00:00 {OUT_OF_RANGE}"


def test_every_export_renders_extreme_times_in_every_zone() -> None:
    events = _incident(4, EXTREMES[1], resolve=True)
    state = replay(events)
    for zone in ZONES:
        for render in (render_markdown, render_html):
            assert "0001-01-01T00:00:00+00:00" in render(state, events, tz=zone, generated_at=T0)


# Wall times from year 1 to 9999 (the default bounds), at any offset a datetime can carry.
aware_times = st.datetimes(
    timezones=st.one_of(
        st.just(UTC),
        st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23))
        .map(lambda offset: offset - timedelta(microseconds=offset.microseconds))
        .map(timezone),
        st.sampled_from([ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12")]),
    ),
)
display_zones = st.sampled_from(ZONES)


@given(when=aware_times, other=aware_times, zone=display_zones)
def test_time_formatting_never_fails_on_any_time(
    when: datetime, other: datetime, zone: ZoneInfo | None
) -> None:
    for text in (clock_time(when, zone), day_and_time(when, zone, seconds=True)):
        assert (OUT_OF_RANGE in text) == (not in_range(when))
    clock = Clock(zone)
    for text in (clock.utc(when), clock.stamp(when), clock.local_only(when), clock.zone_name(when)):
        assert text
    if in_range(when):
        assert clock.utc(when).endswith(" UTC")
    assert duration(when - other)
    assert duration_text(when - other)


async def test_export_to_a_file_is_readable_by_its_owner_only(
    extreme_db: Path, tmp_path: Path
) -> None:
    token = await create_user(extreme_db, "alice")
    existing = tmp_path / "existing.md"
    existing.write_text("old")
    existing.chmod(0o644)
    async with await start_node(extreme_db, SETTINGS) as server:
        for target in (tmp_path / "new.md", existing):
            exported = await warroom(
                "export", "1", "--format", "markdown", "-o", str(target), server=server, token=token
            )
            assert (exported.code, exported.err) == (0, "")
            assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
            assert target.read_text().startswith("# Post-mortem: Extreme 1")
