"""The big-room view: severity, update clock, roles, latest entries and checklist, large and
live, from a key listed in help; Escape goes back."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pytest_textual_snapshot import SVGImageExtension  # type: ignore[import-untyped]
from rich.console import Console
from syrupy.assertion import SnapshotAssertion
from textual.widgets import Digits, Static

from warroom.client.session import new_id
from warroom.domain.commands import AddEntry, SetSeverity
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind
from warroom.tui.app import WarroomApp
from warroom.tui.screens.help_screen import HelpScreen
from warroom.tui.screens.main import MainScreen
from warroom.tui.screens.projector import ProjectorScreen

from .harness import T0, Warroom, settle, static_text, until, until_state


@pytest.fixture
def svg_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(SVGImageExtension)


def _digits(app: WarroomApp, selector: str) -> str:
    return app.screen.query_one(selector, Digits).value


async def test_v_shows_the_big_room_view_and_escape_leaves_it(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("erin", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ProjectorScreen)
        assert _digits(app, "#projector-sev-level") == "1"
        assert app.screen.query_one("#projector-sev").has_class("sev1")
        # Twenty minutes into a SEV1 whose update was due after fifteen.
        assert static_text(app, "#projector-clock-label").startswith("UPDATE OVERDUE")
        assert _digits(app, "#projector-clock-digits") == "-04:57"
        roster = static_text(app, "#projector-roster")
        assert "IC     ● alice" not in roster  # alice has no console open here
        assert "IC     ○ alice" in roster
        assert "Scribe ○ dave" in roster
        assert "Roll back payments-api to v2.3.1" in static_text(app, "#projector-entries")
        checklist = static_text(app, "#projector-checklist")
        # At 80 columns the mark alone: the words left a title a third of the side column.
        assert "◐ Roll back the last deployment" in checklist

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_the_big_room_view_follows_the_incident_live(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("erin", incident)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        alice = await warroom.client("alice")
        await alice.follow(incident)  # she joins the call
        await alice.execute(
            SetSeverity(
                id=new_id(),
                incident_id=incident,
                severity=Severity.SEV2,
                expected=Severity.SEV1,
                reason="only EU cards fail",
            )
        )
        await alice.execute(
            AddEntry(id=new_id(), incident_id=incident, kind=EntryKind.NOTE, text="EU only")
        )
        await until_state(app.client, incident, lambda s: s.timeline[-1].text == "EU only")
        await until(app.client, lambda: "alice" in {p.user for p in app.client.presence[incident]})
        await settle(pilot)
        assert isinstance(app.screen, ProjectorScreen)
        assert _digits(app, "#projector-sev-level") == "2"
        assert app.screen.query_one("#projector-sev").has_class("sev2")
        assert static_text(app, "#projector-entries").splitlines()[-1].endswith("alice: EU only")
        assert "IC     ● alice" in static_text(app, "#projector-roster")


async def test_help_lists_the_big_room_view(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("erin", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=120, file=io.StringIO(), record=True)
        for static in app.screen.query(".help-table").results(Static):
            console.print(static.content)
        shown = console.export_text()
        assert "Show severity, update clock, roles, latest entries and checklist large" in shown
        assert "Leave the big-room view" in shown


@pytest.mark.parametrize("size", [(80, 24), (160, 45)], ids=["80x24", "160x45"])
async def test_big_room_view_layout(
    warroom: Warroom, incident: int, size: tuple[int, int], svg_snapshot: SnapshotAssertion
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert svg_snapshot == app.export_screenshot(title=f"big room · {size[0]}x{size[1]}")


async def test_the_latest_entries_are_in_time_order_and_the_way_back_is_shown(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("erin", incident)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert app.screen.query_one("#projector-checklist").border_subtitle == (
            "esc: back to the console"
        )
        alice = await warroom.client("alice")
        await alice.follow(incident)
        await alice.execute(
            AddEntry(id=new_id(), incident_id=incident, kind=EntryKind.NOTE, text="EU only")
        )
        # Recorded last, but about a moment before everything else on the timeline.
        await alice.execute(
            AddEntry(
                id=new_id(),
                incident_id=incident,
                kind=EntryKind.NOTE,
                text="paged the DB team",
                occurred_at=T0 - timedelta(minutes=1),
            )
        )
        await until_state(app.client, incident, lambda s: s.timeline[-1].text.startswith("paged"))
        await settle(pilot)
        lines = static_text(app, "#projector-entries").splitlines()
        assert lines[-1].endswith("alice: EU only")
        assert not any("paged the DB team" in line for line in lines[-3:])


async def test_the_big_room_view_at_200x50_gives_its_rows_to_entries_and_checklist(
    warroom: Warroom, incident: int
) -> None:
    # Under the full width the checklist took rows from the entries, and the roles pane
    # beside them stood mostly empty (4 of 40 rows used on a projector at 200x50).
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        top = screen.query_one("#projector-top").region
        entries = screen.query_one("#projector-entries").region
        roster = screen.query_one("#projector-roster").region
        checklist = screen.query_one("#projector-checklist").region
        assert entries.y == top.bottom
        assert entries.bottom == 50  # the entries run to the bottom of the screen
        assert checklist.y == roster.bottom  # under the roles, beside the entries
        assert checklist.bottom == 50
        assert checklist.right <= entries.x
