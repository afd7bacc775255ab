"""Each pane of the incident screen shows the seeded incident as the plan describes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.widgets import Static

from warroom.domain.timeline import EntryKind, TimelineEntry
from warroom.tui.time_format import deadline_time, duration
from warroom.tui.widgets.checklist_pane import ChecklistPane
from warroom.tui.widgets.metrics_pane import NO_SNAPSHOT, MetricsPane

from .harness import APP_NOW, Warroom, settle, static_text, timeline_lines, until


async def test_at_80_columns_the_second_header_line_shows_whole_parts_never_a_cut_one(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        meta = app.screen.query_one("#header-meta", Static)
        whole = str(meta.content)
        drawn = "".join(segment.text for segment in meta.render_line(0)).rstrip()
        assert "…" not in drawn
        # Each part drawn is a whole part of the line; the IC's name fits after the phase
        # where the long channel name does not.
        assert drawn == "declared  ·  IC alice"
        assert all(part in whole.split("  ·  ") for part in drawn.split("  ·  "))


async def test_header_shows_title_badge_phase_channel_clock_and_connection(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert static_text(app, "#header-title") == (
            f"#{incident} Payment processing down  ·  Card payments fail at checkout"
        )
        badge = app.screen.query_one("#sev-badge")
        assert str(badge.content) == "SEV1"  # type: ignore[attr-defined]
        assert badge.has_class("sev1")
        meta = static_text(app, "#header-meta")
        assert "declared" in meta
        assert "#incident-2024-05-02-payment-processing-down" in meta
        assert "IC alice" in meta
        state = app.client.states[incident]
        elapsed = duration(APP_NOW - state.incident.declared_at)
        assert static_text(app, "#header-elapsed") == f"elapsed {elapsed} · you: IC"
        # Raised to SEV1 seconds after 14:00; a SEV1 owes an update every 15 minutes.
        raised = state.severity_history[-1].at
        late = duration(APP_NOW - raised - timedelta(minutes=15))
        update = app.screen.query_one("#header-update")
        assert late.startswith("04:5")
        assert static_text(app, "#header-update") == f"⚠ UPDATE OVERDUE by {late}"
        assert update.has_class("-overdue")
        assert static_text(app, "#header-connection") == "● connected"


async def test_header_counts_down_before_the_update_is_due(warroom: Warroom, incident: int) -> None:
    client = await warroom.client("alice")
    from warroom.tui.app import make_app

    app = make_app(client, incident_id=incident, clock=lambda: APP_NOW - timedelta(minutes=10))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        raised = client.states[incident].severity_history[-1].at
        left = duration(raised + timedelta(minutes=15) - (APP_NOW - timedelta(minutes=10)))
        assert left.startswith("05:0")
        assert static_text(app, "#header-update") == f"next update in {left}"
        assert not app.screen.query_one("#header-update").has_class("-overdue")


async def test_severity_pane_explains_the_level_from_the_plan(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        text = static_text(app, "#severity-pane")
        assert text.startswith(
            "What is wrong: Card payments fail at checkout\n\n SEV1  Critical Impact"
        )
        assert "System-wide outage" in text
        assert "Response: Immediate 24/7 Response." in text
        assert "Escalation: PagerDuty alert to the on-call rotation" in text
        assert "Internal updates: every 15 min" in text
        assert "by alice: all card payments failing" in text
        assert app.screen.query_one("#severity-pane").has_class("sev1")


async def test_roster_shows_roles_presence_and_observers(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        erin = await warroom.client("erin")
        await erin.follow(incident)
        await until(app.client, lambda: {"alice", "erin"} <= _online(app, incident))
        await settle(pilot)
        lines = static_text(app, "#roster-pane").splitlines()
        assert lines[:5] == [
            "IC        ● alice (you)",
            "CL        ○ bob",
            "TL        ○ carol (payments-api)",
            "Scribe    ○ dave",
            "Observers ● erin",
        ]


def hhmmss(moment: datetime) -> str:
    return f"{moment:%H:%M:%S}"  # the tests' app clock is in UTC, like the server's times


def _online(app: object, incident: int) -> set[str]:
    client = app.client  # type: ignore[attr-defined]
    return {u.user for u in client.presence.get(incident, [])}


async def test_timeline_shows_kind_time_author_and_correlation_id(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        lines = timeline_lines(app)
        entries = app.client.states[incident].timeline
        decision = next(e for e in entries if e.kind is EntryKind.DECISION)
        assert lines[0] == (
            f"{hhmmss(entries[0].at)}  SYSTEM   alice        alice declared the incident as SEV2"
        )
        assert (
            f"{hhmmss(decision.at)}  DECISION alice        "
            "cid:req-8f3a Roll back payments-api to v2.3.1"
        ) in lines
        assert lines[-1].startswith(f"{hhmmss(entries[-1].at)}  SYSTEM   alice        Checklist 1")
        assert len(lines) == len(entries)


async def test_metrics_pane_says_plainly_when_there_is_no_snapshot(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        # No Prometheus on this server: the pane says why, and which services it would watch.
        assert static_text(app, "#metrics-text").splitlines() == [
            NO_SNAPSHOT,
            "",
            "this server has no Prometheus configured",
            "",
            "payments-api",
        ]
        # Without a live snapshot the latest pinned one stands in; give the pane a state that
        # has two, the newest with text that must stay literal.
        pane = app.screen.query_one(MetricsPane)
        state = app.client.states[incident].model_copy(deep=True)
        at = state.timeline[-1].at
        for text in ("p99 2.1s", "error rate 41% [red]\np99 3.4s"):
            state.timeline.append(
                TimelineEntry(id=state.seq + 1, kind=EntryKind.METRICS, text=text,
                              author="warroom", at=at)
            )  # fmt: skip
            state.seq += 1
        pane.state = state
        await pilot.pause()
        assert static_text(app, "#metrics-text").splitlines() == [
            "error rate 41% [red]",
            "p99 3.4s",
            "",
            "payments-api",
        ]
        assert pane.border_subtitle == f"pinned {hhmmss(at)}"


async def test_checklist_shows_state_owner_and_who_changed_it_when(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ChecklistPane)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        changed_at = app.client.states[incident].checklist[0].changed_at
        assert changed_at is not None
        assert rows[0] == [
            "◐ in progress",
            "—",
            f"alice {changed_at:%H:%M}",
            "Roll back the last deployment for the failing service",
        ]
        assert rows[1][:3] == ["○ to do", "—", "—"]
        assert table.row_count == 4


def test_a_deadline_within_days_is_named_by_weekday_and_a_far_one_by_date() -> None:
    now = datetime(2024, 5, 2, 14, 20, tzinfo=UTC)  # a Thursday
    assert deadline_time(now + timedelta(hours=48), now, UTC) == "Sat 14:20"
    assert deadline_time(now + timedelta(days=9), now, UTC) == "2024-05-11 14:20"
    # At 80 columns the header's clock column is 27 cells: the whole line fits.
    assert len(f"post-mortem due {deadline_time(now + timedelta(hours=48), now, UTC)}") <= 27
