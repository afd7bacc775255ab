"""The browser console's sign-in screen (`warroom --sign-in`, what `warroom web` runs for each
session) in a real 80x24 terminal: all of it fits, and a pasted token with control codes is
refused with a message, before anything reaches the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.terminal import Terminal, warroom_command

COLUMNS, ROWS = 80, 24
UNUSED_SERVER = "ws://127.0.0.1:9"
"""The discard port: no token in these tests is sent anywhere, and none may need to be."""


@pytest.fixture
def sign_in(tmp_path: Path) -> Iterator[Terminal]:
    command = warroom_command(tmp_path, COLUMNS, ROWS, "--sign-in", "--server", UNUSED_SERVER)
    terminal = Terminal(command, COLUMNS, ROWS)
    yield terminal
    terminal.close()


def _whole_line(screen: str, text: str) -> str:
    """The row holding `text`, asserting it is there and uncut."""
    rows = [row for row in screen.splitlines() if text in row]
    assert rows, f"{text!r} is not on the screen:\n{screen}"
    row = rows[0].strip()
    # Inside the dialog's frame, closed on both sides: nothing ran past its edge.
    assert row.startswith("█"), row
    assert row.endswith("█"), row
    return row


def test_sign_in_screen_fits_80x24_and_refuses_a_token_with_control_codes(
    sign_in: Terminal,
) -> None:
    screen = sign_in.wait_for("Sign in to warroom")
    assert len(screen.splitlines()) <= ROWS
    # Every part, whole: the server, the explanation, the field, the button, the keys.
    _whole_line(screen, f"Server: {UNUSED_SERVER}")
    _whole_line(screen, "Sign in with your own token: the server's admin creates it with")
    _whole_line(screen, "`warroom user add NAME`. It is kept in this session only.")
    _whole_line(screen, "Your warroom token")
    _whole_line(screen, "token")
    _whole_line(screen, "Sign in")
    _whole_line(screen, "Enter signs in · ^q quits")

    # Control codes cannot be typed, but a paste carries them (an escape sequence too).
    sign_in.paste("tok\x01en\x1b[31mZQXW")
    sign_in.wait_for("•••")  # the field holds it, masked
    sign_in.keys("Enter")
    screen = sign_in.wait_for("That is not a token")
    _whole_line(screen, "That is not a token: tokens are letters, digits and - or _.")
    assert "Signing in" not in screen  # refused before any attempt to reach the server
    assert "ZQXW" not in screen  # the pasted text is never shown back
    assert "•" not in screen  # and the field was emptied for another try

    sign_in.keys("C-q")
    sign_in.wait_until_ended()
