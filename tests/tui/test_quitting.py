"""Quitting: at once when everything reached the server; with unsent changes, only after saying
they are kept and sent next time."""

from __future__ import annotations

from textual.widgets import Static

from warroom.client.updates import ConnectionStatus
from warroom.tui.screens.main import MainScreen
from warroom.tui.screens.quit_dialog import QuitDialog
from warroom.tui.screens.severity_dialog import SeverityDialog
from warroom.tui.widgets.scribe_input import ScribeInput

from .harness import Warroom, settle, until


async def test_quitting_with_unsent_entries_asks_and_says_they_are_sent_next_time(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("dave", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await warroom.server.close()
        await until(app.client, lambda: app.client.status is not ConnectionStatus.CONNECTED)
        await pilot.press("i")
        app.screen.query_one(ScribeInput).value = "offline note"
        await pilot.press("enter", "escape")
        await settle(pilot)
        assert app.client.unsent == 1

        await pilot.press("q")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, QuitDialog)
        said = str(dialog.query_one("#quit-dialog Static", Static).content)
        assert said == (
            "1 change has not reached the server yet. They are kept on this machine and sent "
            "the next time you open the console."
        )
        # Stay: the console keeps running, the entry still waiting.
        await pilot.click("#cancel")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.return_code is None  # not asked to exit

        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, QuitDialog)
        await pilot.press("enter")  # "Quit, send later" has the focus
        await pilot.pause()
        assert app.return_code == 0
    assert app.client.unsent == 1  # kept in the outbox for next time


async def test_with_nothing_unsent_q_quits_at_once(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("dave", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.client.unsent == 0
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, QuitDialog)
        assert app.return_code == 0


async def test_ctrl_q_quits_from_inside_a_dialog(warroom: Warroom, incident: int) -> None:
    # Textual's modal screens hide the app's keys; the one "quits anywhere" key must still work.
    app = await warroom.app("alice", incident)  # the IC: "s" opens a dialog
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SeverityDialog)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.return_code == 0
