"""`warroom replay --file` in a real 80x24 terminal: it opens on an export, steps, and jumps to
the next severity change, which the header's badge shows."""

from __future__ import annotations

from collections.abc import Iterator
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
    replay.press_until("Right", "event 2 of")
    change = next(e.seq for e in scripted_incident()[1] if isinstance(e.body, SeverityChanged))
    replay.type("s")
    screen = replay.wait_for(f"event {change} of")
    assert "SEV1" in _header(screen)
    assert "SEV2" not in _header(screen)
    replay.type("q")
    replay.wait_until_ended()
    assert replay.exit_status() in (0, None)
