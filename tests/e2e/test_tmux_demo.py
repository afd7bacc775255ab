"""The whole console in a real terminal: `warroom demo` under tmux, type an entry, see it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.terminal import Terminal, warroom_command

COLUMNS, ROWS = 160, 45


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Terminal]:
    terminal = Terminal(warroom_command(tmp_path, COLUMNS, ROWS, "demo"), COLUMNS, ROWS)
    yield terminal
    terminal.close()


def test_demo_opens_and_a_typed_entry_appears(demo: Terminal) -> None:
    demo.wait_for("Payment processing down")
    screen = demo.wait_for("● connected")  # the client is live and the bindings are mounted
    assert "SEV1" in screen
    assert "Mitigation checklist" in screen

    demo.focus_scribe_line()
    marker = f"e2e-{os.getpid()}"
    demo.type(f"/decision fail over to eu-west [red]{marker}[/red]")
    demo.keys("Enter")
    # The typed text is on screen in the Scribe line before Enter is handled: wait for the
    # timeline row, which is the one that carries the kind.
    screen = demo.wait_for_line(marker, "DECISION")
    line = next(row for row in screen.splitlines() if marker in row and "DECISION" in row)
    assert "DECISION" in line
    assert f"[red]{marker}[/red]" in line  # markup shows literally, it does not style
