"""Snapshots of the incident screen in each shipped theme (server and app clocks are frozen).

pytest-textual-snapshot's `snap_compare` runs the app with `App.run()`, which starts a fresh event
loop, while `make_app` takes a client already started on the test's loop (as the CLI does). So
these tests take the screenshot inside `run_test()` and compare it with the same syrupy SVG
extension and `__snapshots__` layout that `snap_compare` uses; update with `--snapshot-update`
after looking at the new SVGs.
"""

from __future__ import annotations

import pytest
from pytest_textual_snapshot import SVGImageExtension  # type: ignore[import-untyped]
from syrupy.assertion import SnapshotAssertion

from warroom.tui.widgets.scribe_input import ScribeInput

from .harness import Warroom, settle, until


@pytest.fixture
def svg_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(SVGImageExtension)


@pytest.mark.parametrize("theme", ["warroom-dark", "warroom-light", "warroom-contrast"])
async def test_incident_screen(
    warroom: Warroom, incident: int, theme: str, svg_snapshot: SnapshotAssertion
) -> None:
    app = await warroom.app("alice", incident, theme=theme)
    async with app.run_test(size=(150, 44)) as pilot:
        await until(app.client, lambda: bool(app.client.presence.get(incident)))
        await settle(pilot)
        app.screen.query_one(ScribeInput).cursor_blink = False
        await pilot.pause()
        assert svg_snapshot == app.export_screenshot(title=f"warroom · {theme}")
