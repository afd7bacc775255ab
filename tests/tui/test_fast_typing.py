"""Keys typed faster than the console draws: a terminal delivers a fast typist's keys (or a
paste) in one burst, before the dialog the first key opens has mounted, and before the field a
Tab moves to has focus. Every key must land where it was typed, in order."""

from __future__ import annotations

import unicodedata

from textual import events
from textual.app import App
from textual.widgets import Input

from warroom.tui.screens.status_update_dialog import StatusUpdateDialog

from .harness import Warroom, settle

NAMED = {" ": "space", "\t": "tab", "-": "minus", ",": "comma", "%": "percent_sign"}


def burst(app: App[None], typed: str) -> None:
    """Hand the app every key of `typed` at once, as a terminal's read delivers them; the test
    awaits nothing between two keys (`pilot.press` waits for each to be handled)."""
    driver = app._driver
    assert driver is not None
    for char in typed:
        key = NAMED.get(char, char)
        if key == "percent_sign":
            char_name = unicodedata.lookup("PERCENT SIGN")
            event = events.Key(key, char_name)
        else:
            event = events.Key(key, None if key == "tab" else char)
        event.set_sender(app)
        driver.send_message(event)


async def test_keys_typed_before_the_update_form_opened_are_typed_into_it(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("bob", incident)  # bob is the CL
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # `u` opens the form; the rest was read in the same burst, before the form existed.
        burst(app, "uRollback 60% done\tEU card payments fail\t")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, StatusUpdateDialog)
        fields = {f.id: f.value for f in dialog.query(Input)}
        assert fields["status"] == "Rollback 60% done"
        assert fields["impact"] == "EU card payments fail"
        assert dialog.query_one("#actions", Input).has_focus
        # ...and nothing else happened on the incident screen beneath (`R`, `l`, `b` are keys).
        assert len(app.screen_stack) == 3


async def test_an_update_typed_fast_with_tabs_lands_in_its_fields(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("bob", incident)  # bob is the CL
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        burst(app, "Rollback 60% done\tEU card payments fail\tscaling payments-api\t")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, StatusUpdateDialog)
        fields = {f.id: f.value for f in dialog.query(Input)}
        assert fields["status"] == "Rollback 60% done"
        assert fields["impact"] == "EU card payments fail"
        assert fields["actions"] == "scaling payments-api"
        assert dialog.query_one("#next", Input).has_focus


async def test_a_title_typed_in_one_burst_on_the_empty_incident_list_lands_whole(
    warroom: Warroom,
) -> None:
    """A fast typist's burst on the first screen goes whole into the title, spaces and the
    letters the list binds (q) too."""
    app = await warroom.app("alice", None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, "Checkout down, queue stuck")
        await settle(pilot)
        assert app.screen.query_one("#declare-title", Input).value == "Checkout down, queue stuck"
        assert app.return_code is None
