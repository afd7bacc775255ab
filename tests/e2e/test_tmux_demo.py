"""The whole console in a real terminal: `warroom demo` under tmux, type an entry, see it."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

COLUMNS, ROWS = 160, 45


class Terminal:
    """A detached tmux session running one command, read with capture-pane."""

    def __init__(self, command: str) -> None:
        self.name = f"warroom-e2e-{uuid.uuid4().hex[:8]}"
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                str(COLUMNS),
                "-y",
                str(ROWS),
                command,
            ],
            check=True,
        )
        # A tmux server that was already running may size new windows by its own rules (80
        # columns); pin this window to the size the test reads.
        subprocess.run(
            ["tmux", "set-option", "-t", self.name, "window-size", "manual"], check=False
        )
        subprocess.run(
            ["tmux", "resize-window", "-t", self.name, "-x", str(COLUMNS), "-y", str(ROWS)],
            check=False,
        )

    def screen(self) -> str:
        result = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        """Poll the screen until `text` shows (a terminal has no event to await), bounded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)  # poll interval of the bounded wait above
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.screen()}")

    def wait_for_line(self, *parts: str, timeout: float = 60.0) -> str:
        """Poll the screen until one row holds every one of `parts`, bounded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if any(all(p in row for p in parts) for row in screen.splitlines()):
                return screen
            time.sleep(0.2)  # poll interval of the bounded wait above
        raise AssertionError(f"no row with {parts!r}; the screen was:\n{self.screen()}")

    def focus_scribe_line(self) -> None:
        """Press `i` until the footer shows the input's own keys ("esc Leave"): a key sent while
        the app is still mounting its screen can be dropped, and a terminal cannot tell."""
        for _ in range(5):
            self.keys("i")
            try:
                self.wait_for("esc Leave", timeout=5)
                return
            except AssertionError:
                continue
        raise AssertionError(f"the Scribe line never took focus:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], check=False)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Terminal]:
    # COLUMNS/LINES as well: started from inside pytest, the console was seen to size itself at
    # 80 columns although the pane had 160, and shutil (which Textual asks) reads these first.
    env = (
        f"WARROOM_HOME={shlex.quote(str(tmp_path))} TERM=xterm-256color "
        f"COLUMNS={COLUMNS} LINES={ROWS}"
    )
    # No redirection: Textual draws on stderr, so the terminal must keep it.
    terminal = Terminal(f"env {env} {shlex.quote(sys.executable)} -m warroom demo")
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
