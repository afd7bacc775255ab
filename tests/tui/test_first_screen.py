"""The first screen: "declare one below" takes typing at once, and Tab follows the form."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Button, Input, Select, Static

from warroom.domain.severity import Severity

from .harness import Warroom, settle


async def test_typing_on_the_empty_picker_goes_into_the_title(warroom: Warroom) -> None:
    app = await warroom.app("alice", None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("D", "B", "space", "d", "o", "w", "n")
        await pilot.pause()
        assert app.screen.query_one("#declare-title", Input).value == "DB down"


async def test_tab_goes_title_severity_summary_declare(warroom: Warroom) -> None:
    app = await warroom.app("alice", None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.screen.query_one("#declare-title", Input).focus()
        order = []
        for _ in range(3):
            await pilot.press("tab")
            order.append(app.focused)
        assert isinstance(order[0], Select)
        assert isinstance(order[1], Input)
        assert order[1].id == "declare-summary"
        assert isinstance(order[2], Button)
        assert order[2].id == "declare"


def _hint(app: object) -> str:
    assert isinstance(app, App)
    return str(app.screen.query_one("#declare-hint", Static).render())


async def test_the_form_says_what_enter_and_tab_do_in_each_field(warroom: Warroom) -> None:
    """The footer lists the screen's keys, not the form's: how to pick the severity and how to
    declare is on the form itself, for the field that has focus."""
    app = await warroom.app("alice", None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("D", "B")
        await pilot.pause()
        assert "Enter declares" in _hint(app)
        assert "Tab: choose the severity" in _hint(app)

        await pilot.press("tab")
        await pilot.pause()
        assert "↑↓ lists severities, Enter picks" in _hint(app)
        await pilot.press("up")  # the list opens; its own part has focus now
        await pilot.pause()
        assert "Enter picks" in _hint(app)
        await pilot.press("up", "enter")  # SEV2 is preselected: one up is SEV1
        await pilot.pause()
        assert app.screen.query_one("#declare-severity", Select).value is Severity.SEV1

        await pilot.press("tab")
        await pilot.pause()
        assert _hint(app) == "Enter declares"


async def test_on_the_empty_picker_the_title_box_has_the_focus_and_q_is_a_letter(
    warroom: Warroom,
) -> None:
    """With nothing to pick, every key is the title's from the first one: typing from the list
    raced the focus in a real terminal and lost a fast typist's letters."""
    app = await warroom.app("alice", None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        title = app.screen.query_one("#declare-title", Input)
        assert app.focused is title
        await pilot.press("q", "u", "e")
        await pilot.pause()
        assert title.value == "que"
        assert app.return_code is None


async def test_q_on_the_picker_with_incidents_quits(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("alice", None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.focused is app.screen.query_one("#incident-list")
        await pilot.press("q")
        await pilot.pause()
        assert app.screen.query_one("#declare-title", Input).value == ""
        assert app.return_code == 0


async def test_once_the_title_is_being_typed_q_is_a_letter(warroom: Warroom) -> None:
    app = await warroom.app("alice", None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("S", "q", "l", "ctrl+n")
        await pilot.pause()
        assert app.screen.query_one("#declare-title", Input).value == "Sql"
        assert app.return_code is None
