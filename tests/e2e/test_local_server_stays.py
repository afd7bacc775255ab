"""Two consoles on one user's private local server: quitting the console that started the
server (in its own process) must not stop it under the other one. The process stays, says why on
its terminal, and ends when the last other console has quit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.terminal import Terminal, warroom_command

COLUMNS, ROWS = 80, 24


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    return home


@pytest.fixture
def first(home: Path) -> Iterator[Terminal]:
    terminal = Terminal(warroom_command(home, COLUMNS, ROWS), COLUMNS, ROWS)
    yield terminal
    terminal.close()


@pytest.fixture
def second(home: Path, first: Terminal) -> Iterator[Terminal]:
    # Started once the first console runs the server, so this one connects to it.
    first.wait_for("no incidents yet: declare one below")
    terminal = Terminal(warroom_command(home, COLUMNS, ROWS), COLUMNS, ROWS)
    yield terminal
    terminal.close()


def test_quitting_the_first_console_keeps_the_server_for_the_others(
    first: Terminal, second: Terminal
) -> None:
    second.wait_for("no incidents yet: declare one below")

    # The first console quits.
    first.keys("C-q")
    screen = first.wait_for("warroom: 1 other console uses the local server started here.")
    assert "warroom: it keeps serving until they quit; Ctrl+C stops it now." in screen
    assert not first.ended()

    # The second console still has its server: it declares an incident and stays connected.
    second.type("Checkout down")
    second.wait_for("Enter declares")
    second.keys("Enter")
    screen = second.wait_for_line("SYSTEM", "declared the incident")
    assert "cannot reach" not in screen
    second.wait_for("● connected")

    # When the last other console quits, the first process stops the server and ends.
    second.keys("C-q")
    second.wait_until_ended()
    first.wait_for("the last console left; the local server stopped")
    first.wait_until_ended()
    assert first.exit_status() in (0, None)
