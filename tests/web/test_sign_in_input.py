"""What a person can type or paste into the browser console's sign-in: a token with escape codes,
markup or line breaks is refused on the screen without being sent or shown back."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from warroom.client.session import WarroomClient
from warroom.tui.app import make_sign_in_app


@pytest.mark.parametrize(
    "typed",
    ["wr_\x1b[31mabc", "wr_abc\r\nX-Evil: 1", "[b]wr_secretish[/b]\x00", "wr_é"],
)
async def test_a_token_with_characters_no_token_has_is_refused_unsent_and_not_echoed(
    typed: str,
) -> None:
    sent: list[str] = []

    async def connect(token: str) -> WarroomClient:
        sent.append(token)
        raise AssertionError("a token that cannot be one was sent to the server")

    app = make_sign_in_app("ws://127.0.0.1:9", connect)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        field = app.screen.query_one("#token", Input)
        field.value = typed
        await pilot.press("enter")
        await pilot.pause()
        error = str(app.screen.query_one("#sign-in-error", Static).content)
        assert sent == []
        assert "not a token" in error
        assert "wr_" not in error
        assert field.value == ""
