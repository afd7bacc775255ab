"""Volume: a 10,000-entry timeline is one widget; a burst of a thousand updates is one repaint."""

from __future__ import annotations

from warroom.client.session import new_id
from warroom.client.updates import EventsApplied
from warroom.domain.commands import AddEntry
from warroom.domain.timeline import EntryKind
from warroom.server.app import ServerSettings
from warroom.server.limits import UNLIMITED
from warroom.tui.screens.main import MainScreen
from warroom.tui.widgets.timeline_view import TimelineView

from .harness import Warroom, seed_incident, settle, start_warroom, timeline_lines, until_state

ENTRIES = 10_000


async def test_a_ten_thousand_entry_timeline_renders_in_one_widget(tmp_path: object) -> None:
    from pathlib import Path

    # The default limits protect the server from one console; this test is that console.
    warroom: Warroom = await start_warroom(
        Path(str(tmp_path)), ServerSettings(port=0, rate=1e6, burst=1_000_000, limits=UNLIMITED)
    )
    try:
        alice = await warroom.client("alice", outbox=False)
        incident = await seed_incident(alice)
        futures = [
            alice.submit(AddEntry(id=new_id(), incident_id=incident, kind=EntryKind.NOTE,
                                  text=f"entry {n:05d}"))
            for n in range(ENTRIES)
        ]  # fmt: skip
        for future in futures:
            await future
        app = await warroom.app("dave", incident)
        async with app.run_test(size=(160, 40)) as pilot:
            await until_state(app.client, incident, lambda s: len(s.timeline) > ENTRIES)
            await settle(pilot)
            view = app.screen.query_one(TimelineView)
            assert len(app.screen.query(TimelineView)) == 1
            assert view.row_count == len(app.client.states[incident].timeline)
            assert view.virtual_size.height == view.row_count
            assert timeline_lines(app)[-1].endswith(f"entry {ENTRIES - 1:05d}")
            await pilot.press("home")
            assert "declared the incident" in timeline_lines(app)[0]
            await pilot.press("pagedown", "pagedown")
            assert view.cursor > 0
            # Search filters all 10,000 and shows the match.
            await pilot.press("slash", *"entry 04242")
            await settle(pilot)
            assert timeline_lines(app) == [timeline_lines(app)[0]]
            assert timeline_lines(app)[0].endswith("entry 04242")
    finally:
        await warroom.close()


async def test_a_burst_of_a_thousand_updates_is_one_repaint(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        syncs = 0
        original = screen.sync_from_client

        def counting_sync() -> None:
            nonlocal syncs
            syncs += 1
            original()

        screen.sync_from_client = counting_sync  # type: ignore[method-assign]
        # What the client does when a thousand event frames arrive back to back.
        for _ in range(1_000):
            app._relay_client_update(EventsApplied(incident, []))
        await settle(pilot)
        assert 1 <= syncs <= 2
