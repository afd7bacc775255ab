"""A real terminal for the end-to-end tests: a detached tmux session read with capture-pane.

A terminal has no event to await, so every wait here polls the screen, bounded by a timeout."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

POLL = 0.2
"""Seconds between two reads of the screen while waiting."""


def warroom_command(home: Path, columns: int, rows: int, *args: str) -> str:
    """`python -m warroom ARGS` in a fresh WARROOM_HOME, sized for a `columns`x`rows` pane."""
    # COLUMNS/LINES as well: started from inside pytest, the console was seen to size itself at
    # 80 columns although the pane had 160, and shutil (which Textual asks) reads these first.
    env = (
        f"WARROOM_HOME={shlex.quote(str(home))} TERM=xterm-256color COLUMNS={columns} LINES={rows}"
    )
    # No redirection: Textual draws on stderr, so the terminal must keep it.
    command = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "warroom", *args))
    return f"env {env} {command}"


class Terminal:
    """A detached tmux session running one command, read with capture-pane."""

    def __init__(self, command: str, columns: int, rows: int) -> None:
        self.name = f"warroom-e2e-{uuid.uuid4().hex[:8]}"
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name,
             "-x", str(columns), "-y", str(rows), command],
            check=True,
        )  # fmt: skip
        # The pane stays after the command exits, so a test can tell "ended" from "crashed".
        subprocess.run(["tmux", "set-option", "-t", self.name, "remain-on-exit", "on"], check=False)
        # A tmux server that was already running may size new windows by its own rules (80
        # columns); pin this window to the size the test reads.
        subprocess.run(
            ["tmux", "set-option", "-t", self.name, "window-size", "manual"], check=False
        )
        subprocess.run(
            ["tmux", "resize-window", "-t", self.name, "-x", str(columns), "-y", str(rows)],
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
        """Poll the screen until `text` shows, bounded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(POLL)  # poll interval of the bounded wait above
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.screen()}")

    def wait_until(self, condition: Callable[[str], bool], what: str, timeout: float = 60.0) -> str:
        """Poll the screen until `condition` holds for it, bounded; `what` names it on failure."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            time.sleep(POLL)  # poll interval of the bounded wait above
        raise AssertionError(f"never {what}; the screen was:\n{self.screen()}")

    def wait_for_line(self, *parts: str, timeout: float = 60.0) -> str:
        """Poll the screen until one row holds every one of `parts`, bounded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if any(all(p in row for p in parts) for row in screen.splitlines()):
                return screen
            time.sleep(POLL)  # poll interval of the bounded wait above
        raise AssertionError(f"no row with {parts!r}; the screen was:\n{self.screen()}")

    def press_until(self, key: str, text: str, *, literal: bool = False, tries: int = 5) -> str:
        """Send `key` until `text` shows: a key sent while the app is still mounting a screen
        can be dropped, and a terminal cannot tell. Only for keys that are harmless to repeat
        once they took effect (moving focus, say)."""
        for _ in range(tries):
            if literal:
                self.type(key)
            else:
                self.keys(key)
            try:
                return self.wait_for(text, timeout=5)
            except AssertionError:
                continue
        raise AssertionError(f"{key!r} never brought {text!r}; the screen was:\n{self.screen()}")

    def focus_scribe_line(self) -> None:
        """Press `i` until the footer shows the input's own keys ("esc Leave"), then empty the
        line (ctrl+u): an `i` that took effect but was drawn after `press_until` gave up on it
        sends another, which the focused line takes as text."""
        self.press_until("i", "esc Leave", literal=True)
        self.keys("C-u")

    def _pane(self, field: str) -> str:
        result = subprocess.run(
            ["tmux", "display-message", "-p", "-t", self.name, f"#{{{field}}}"],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip()

    def ended(self) -> bool:
        """Whether the command in the pane has ended: its terminal is closed (the pane is kept,
        remain-on-exit) and its process is gone or a zombie. tmux 3.3 was seen to leave a
        zombie unreaped, without `pane_dead_status`, so the process is looked at directly."""
        if self._pane("pane_dead") != "1":
            return False
        try:
            stat = Path(f"/proc/{self._pane('pane_pid')}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            return True
        return stat.rpartition(")")[2].split()[0] in ("Z", "X")

    def exit_status(self) -> int | None:
        """The command's exit status, when tmux knows it."""
        status = self._pane("pane_dead_status")
        return int(status) if status else None

    def wait_until_ended(self, timeout: float = 30.0) -> None:
        """Poll until the command in the pane has ended, bounded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ended():
                return
            time.sleep(POLL)  # poll interval of the bounded wait above
        raise AssertionError(f"the console is still running; the screen was:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)

    def paste(self, text: str) -> None:
        """Paste `text` as a terminal does (bracketed, when the app asked for it): the way
        characters no key types, such as control codes, reach a field."""
        buffer = f"{self.name}-paste"
        subprocess.run(["tmux", "set-buffer", "-b", buffer, "--", text], check=True)
        subprocess.run(
            ["tmux", "paste-buffer", "-p", "-d", "-b", buffer, "-t", self.name], check=True
        )

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], check=False)
