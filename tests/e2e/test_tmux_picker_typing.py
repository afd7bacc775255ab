"""A title typed on a list that has incidents, in a real 80x24 terminal: every letter lands, in
order. A terminal hands a typist's keys over as they come, some alone and some together, while
the console moves the focus from the list to the title box; in-process tests hand them over in
one piece and never saw the race (review ux7: only the "C" of a title landed)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.serverproc import free_port
from tests.e2e.terminal import POLL, Terminal, warroom_command

COLUMNS, ROWS = 80, 24
TITLE = "Checkout down for EU card users, queue stuck"


def _warroom(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WARROOM_HOME": str(home)}
    command = [sys.executable, "-m", "warroom", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


@pytest.fixture
def picker(tmp_path: Path) -> Iterator[Terminal]:
    """alice's console on a server with one incident: the list has the focus."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    db = tmp_path / "warroom.db"
    token_file = tmp_path / "token"
    token_file.write_text(_warroom(home, "user", "add", "alice", "--db", str(db)).stdout)
    token_file.chmod(0o600)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "warroom", "serve", "--port", str(port), "--db", str(db)],
        env={**os.environ, "WARROOM_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"ws://127.0.0.1:{port}"
    auth = ("--server", url, "--token-file", str(token_file))
    deadline = time.monotonic() + 30
    while _warroom(home, *auth, "declare", "--title", "Search slow", "--sev", "2").returncode:
        assert time.monotonic() < deadline, "the server never took the declaration"
        time.sleep(POLL)  # poll interval of the bounded wait for the server above
    terminal = Terminal(warroom_command(home, COLUMNS, ROWS, *auth), COLUMNS, ROWS)
    try:
        terminal.wait_for("1 incident · Enter opens one")
        yield terminal
    finally:
        terminal.close()
        server.terminate()
        server.wait(timeout=30)


def test_a_title_typed_key_by_key_on_a_list_of_incidents_lands_whole(picker: Terminal) -> None:
    for letter in TITLE:  # each its own write, as fast as tmux sends them: a fast typist
        picker.type(letter)
    picker.wait_for_line(TITLE)
    picker.wait_for("Enter declares · Tab: choose the severity")  # the title box has the focus


def test_a_title_sent_in_one_burst_on_a_list_of_incidents_lands_whole(picker: Terminal) -> None:
    picker.type(TITLE)  # one write: a paste, or keys read together while the console was busy
    picker.wait_for_line(TITLE)
    picker.wait_for("Enter declares · Tab: choose the severity")
