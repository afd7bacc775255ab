"""The first screen: "declare one below" takes typing at once, and Tab follows the form."""

from __future__ import annotations

from textual.widgets import Button, Input, Select

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
