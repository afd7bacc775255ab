"""README's first command as a newcomer meets it: a bare `warroom` in a fresh home at 80x24,
then only what the screen says, to a declared incident, a first timeline entry, and out.

Every step follows a hint that is on the screen at that moment, and asserts that hint first: if
the console stops saying how to go on, this test fails where a newcomer would be stuck."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.terminal import Terminal, warroom_command

COLUMNS, ROWS = 80, 24


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Terminal]:
    # No --server: the console starts its own private server under this (empty) home.
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    terminal = Terminal(warroom_command(home, COLUMNS, ROWS), COLUMNS, ROWS)
    yield terminal
    terminal.close()


def test_first_run_declares_an_incident_and_writes_a_first_entry(console: Terminal) -> None:
    marker = f"first-{os.getpid()}"

    # The first screen invites a declaration; typing starts the title wherever focus is.
    console.wait_for("no incidents yet: declare one below")
    console.type("Checkout down")
    console.wait_for("Checkout down")
    console.wait_for("Enter declares · Tab: choose the severity")

    # Choose the severity as the form says: Tab to it, ↑↓ lists them, Enter picks.
    # (The screen is mounted and took the title, so no key is dropped from here on.)
    console.keys("Tab")
    console.wait_for("↑↓ lists severities, Enter picks")
    console.keys("Up")
    console.wait_for("SEV1 · Critical Impact")  # the list is open
    console.keys("Up")
    console.wait_for_line("SEV3 · Minor Impact")  # all three are offered
    console.keys("Enter")
    console.wait_for_line("SEV1 · Critical Impact", "▼")  # picked, the list closed again

    # "Tab: summary", then "Enter declares".
    console.keys("Tab")
    console.wait_for_line("Enter declares", "▔")  # the summary's hint, beside the button
    console.keys("Enter")

    # The incident screen: the title, the SEV, and the declaration on the timeline.
    screen = console.wait_for_line("SEV1", "#1 Checkout down", "elapsed")  # the header
    screen = console.wait_for_line("SYSTEM", "declared the incident as SEV1")
    assert "Declare a new incident" not in screen

    # The footer says `i Write`; the Scribe line's placeholder says what to type.
    screen = console.wait_for("i Write")
    assert "Write to the timeline" in screen
    console.focus_scribe_line()
    console.type(f"Rolled back checkout {marker}")
    console.keys("Enter")
    # The typed text is in the Scribe line before Enter is handled: wait for the timeline row,
    # which is the one that carries the kind and the time.
    screen = console.wait_for_line(f"Rolled back checkout {marker}", "NOTE", ":")
    row = next(r for r in screen.splitlines() if marker in r and "NOTE" in r)
    assert any(part.count(":") == 2 for part in row.split()), row  # HH:MM:SS
    console.wait_for("Timeline · 2 entries")

    # Leave the line as its footer says (`esc Leave`), then quit as the footer says (`q Quit`).
    console.wait_for("esc Leave")
    console.keys("Escape")
    console.wait_for("q Quit")
    console.keys("q")
    console.wait_until_ended()
    assert console.exit_status() in (0, None)  # None: tmux did not learn it (see `ended`)
