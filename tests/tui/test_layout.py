"""The console fits the terminal: 80x24 stays usable, a projector-sized screen uses its room.

Snapshots (compared like `test_snapshots.py`) pin the whole screen at both sizes; the other tests
assert the layout decisions themselves, so a failing snapshot is not the only witness.
"""

from __future__ import annotations

import pytest
from pytest_textual_snapshot import SVGImageExtension  # type: ignore[import-untyped]
from syrupy.assertion import SnapshotAssertion
from textual.widgets import Button, Input

from warroom.tui.app import WarroomApp
from warroom.tui.screens.status_update_dialog import StatusUpdateDialog
from warroom.tui.widgets.scribe_input import ScribeInput

from .harness import Warroom, settle, timeline_lines, until


@pytest.fixture
def svg_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(SVGImageExtension)


async def _ready(app: WarroomApp, incident: int) -> None:
    await until(app.client, lambda: bool(app.client.presence.get(incident)))


def _shown(app: WarroomApp, selector: str) -> bool:
    return app.screen.query_one(selector).display


async def test_at_80x24_the_side_column_folds_and_b_brings_it_back(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.has_class("-narrow", "-short")
        assert not _shown(app, "#side")
        # The title in full; the summary after it is cut where the line ends (`b` shows it).
        drawn = app.screen.query_one("#header-title").render_line(0).text
        assert drawn.startswith(f"#{incident} Payment processing down ")
        assert any("Roll back payments-api to v2.3" in line for line in timeline_lines(app))

        await pilot.press("b")
        await pilot.pause()
        assert _shown(app, "#side")
        assert not _shown(app, "#work")
        assert app.screen.query_one("#roster-pane").size.width >= 70

        await pilot.press("b")
        await pilot.pause()
        assert _shown(app, "#work")
        assert not _shown(app, "#side")


async def test_a_big_screen_widens_the_side_column(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(240, 60)) as pilot:
        await settle(pilot)
        assert app.screen.has_class("-wide", "-tall")
        side = app.screen.query_one("#side")
        assert side.display
        assert side.size.width >= 70


async def test_the_status_update_form_reaches_its_button_at_80x24(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("bob", incident)  # the CL posts internal updates
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, StatusUpdateDialog)
        for field in ("#status", "#impact", "#actions", "#next"):
            assert dialog.query_one(field, Input).region.bottom <= 24
        submit = dialog.query_one("#submit", Button)
        submit.focus()
        await pilot.pause()
        assert submit.region.y >= 0
        assert submit.region.bottom <= 24


@pytest.mark.parametrize("size", [(80, 24), (240, 60)], ids=["80x24", "240x60"])
async def test_incident_screen_layout(
    warroom: Warroom, incident: int, size: tuple[int, int], svg_snapshot: SnapshotAssertion
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=size) as pilot:
        await _ready(app, incident)
        await settle(pilot)
        app.screen.query_one(ScribeInput).cursor_blink = False
        await pilot.pause()
        assert svg_snapshot == app.export_screenshot(title=f"warroom · {size[0]}x{size[1]}")


async def test_status_update_form_layout_at_80x24(
    warroom: Warroom, incident: int, svg_snapshot: SnapshotAssertion
) -> None:
    app = await warroom.app("bob", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, incident)
        await settle(pilot)
        await pilot.press("u")
        await pilot.pause()
        app.screen.query_one("#status", Input).cursor_blink = False
        await pilot.pause()
        assert svg_snapshot == app.export_screenshot(title="warroom · update form 80x24")
