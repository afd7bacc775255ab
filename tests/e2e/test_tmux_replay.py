"""`warroom replay --file` in a real 80x24 terminal: it opens on an export, steps, and jumps to
the next severity change, which the header's badge shows; played, the header says REPLAY and its
clock runs on the incident's own time."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.e2e.terminal import Terminal, warroom_command
from tests.export.scripted import scripted_incident
from warroom.domain.events import SeverityChanged
from warroom.export.json_export import export_json

COLUMNS, ROWS = 80, 24


@pytest.fixture
def export(tmp_path: Path) -> Path:
    _, events = scripted_incident()
    path = tmp_path / "export.json"
    path.write_text(export_json(events))
    return path


@pytest.fixture
def replay(tmp_path: Path, export: Path) -> Iterator[Terminal]:
    command = warroom_command(tmp_path, COLUMNS, ROWS, "replay", "--file", str(export), "--at", "1")
    terminal = Terminal(command, COLUMNS, ROWS)
    yield terminal
    terminal.close()


def _header(screen: str) -> str:
    return "\n".join(screen.splitlines()[:2])


def test_replay_file_steps_and_jumps_to_the_severity_change_in_the_header(
    replay: Terminal, export: Path
) -> None:
    screen = replay.wait_for("event 1 of")
    assert "REPLAY" in _header(screen)
    assert "SEV2" in _header(screen)
    # One key, then its state awaited: "event 1 of" is drawn by the mounted replay screen, which
    # takes every key from then on. Re-pressing until "event 2 of" showed sent a second Right
    # when the first took effect but was drawn late, and the replay went on to event 3.
    replay.keys("Right")
    replay.wait_for("event 2 of")
    change = next(e.seq for e in scripted_incident()[1] if isinstance(e.body, SeverityChanged))
    replay.type("s")
    screen = replay.wait_for(f"event {change} of")
    assert "SEV1" in _header(screen)
    assert "SEV2" not in _header(screen)
    replay.type("q")
    replay.wait_until_ended()
    assert replay.exit_status() in (0, None)


def _header_clock(screen: str) -> str | None:
    found = re.search(r"\b(\d\d:\d\d:\d\d)\b", _header(screen))
    return found.group(1) if found else None


def test_playing_runs_the_header_clock_on_the_incidents_own_time(replay: Terminal) -> None:
    events = scripted_incident()[1]
    zone = datetime.now().astimezone().tzinfo  # the console's own zone: same machine, same TZ
    first, last = (events[0].at.astimezone(zone), events[-1].at.astimezone(zone))
    stamps = {e.at.astimezone(zone).strftime("%H:%M:%S") for e in events}
    replay.wait_for("event 1 of")
    replay.type(" ")
    screen = replay.wait_for("⏵ REPLAY")
    assert "REPLAY" in _header(screen)

    def between_events(screen: str) -> bool:
        # A time no event has: the clock moves on by itself, a second of incident time a frame.
        clock = _header_clock(screen)
        return clock is not None and clock not in stamps and "⏵ REPLAY" in _header(screen)

    screen = replay.wait_until(between_events, "a header clock between two events")
    clock = _header_clock(screen)
    assert clock is not None
    assert first.strftime("%H:%M:%S") < clock <= last.strftime("%H:%M:%S")
    replay.type(" ")
    screen = replay.wait_for("⏸ REPLAY")
    assert "REPLAY" in _header(screen)
